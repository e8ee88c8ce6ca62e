#include "eventstore/rocks_event_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "eventstore/event_codec.h"
#include "eventstore/log_format.h"
#include "eventstore/sha256.h"

namespace crm::eventstore {
namespace {

namespace lf = log_format;

const std::string kZeroHash(lf::kHashSize, '\0');
constexpr size_t kMaxStreamName = 200;

Error StorageError(const rocksdb::Status& s, std::string_view what) {
  return Unavailable(std::string(what) + ": " + s.ToString());
}

size_t BucketOf(uint64_t v, std::initializer_list<uint64_t> bounds) {
  size_t i = 0;
  for (uint64_t b : bounds) {
    if (v <= b) return i;
    ++i;
  }
  return i;
}

class RocksEventStore;

// A batch in the making: the writer's view of the log plus what earlier submissions of
// the batch staged.
class Staging final : public WriterView {
 public:
  Staging(const RocksEventStore& store, Time now) : store_(store), now_(now) {}

  Time now() const override { return now_; }
  uint64_t StreamVersion(std::string_view stream) const override;
  std::optional<std::string> UniqueOwner(std::string_view scope,
                                         std::string_view key) const override;

  // stream → its version as this batch sees it (stored, or staged by the batch).
  mutable std::unordered_map<std::string, uint64_t> versions;
  // scoped key → owner, or nullopt when released in this batch.
  std::unordered_map<std::string, std::optional<std::string>> unique;
  std::unordered_map<std::string, std::string> idempotency;  // scoped key → stored value
  // Set when a read of the stored log failed: decisions made on it cannot be trusted.
  mutable std::optional<Error> read_error;

 private:
  const RocksEventStore& store_;
  Time now_;
};

class RocksEventStore final : public EventStore {
 public:
  RocksEventStore(const StoreOptions& options, rocksdb::DB* db,
                  std::vector<rocksdb::ColumnFamilyHandle*> handles)
      : options_(options),
        db_(db),
        default_cf_(handles[0]),
        log_cf_(handles[1]),
        streams_cf_(handles[2]),
        unique_cf_(handles[3]),
        idem_cf_(handles[4]),
        handles_(std::move(handles)) {
    if (!options_.clock) options_.clock = &system_clock_;
    stats_.batch_size_buckets.assign(5, 0);
    stats_.fsync_micros_buckets.assign(6, 0);
  }

  ~RocksEventStore() override {
    Close();
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    delete db_;
  }

  Status Recover() {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), default_cf_, lf::kHeadKey, &value);
    uint64_t head = 0;
    head_hash_ = kZeroHash;
    if (s.ok()) {
      if (value.size() != 8 + lf::kHashSize) return Internal("the log head record is corrupt");
      head = lf::GetU64(value);
      head_hash_ = value.substr(8);
    } else if (!s.IsNotFound()) {
      return StorageError(s, "reading the log head");
    }
    // The head is written in the same batch as the events, so the last log key agrees.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
    it->SeekToLast();
    uint64_t last = it->Valid() ? lf::GetU64(it->key().ToStringView()) : 0;
    if (!it->status().ok()) return StorageError(it->status(), "reading the log");
    if (last != head && !options_.read_only) {
      // A writer must not go on from here; a reader (crmctl verify) opens it to say what
      // is wrong.
      return Internal("the log is inconsistent: head says " + std::to_string(head) +
                      ", last event is " + std::to_string(last) + "; run crmctl verify");
    }
    if (it->Valid()) {
      EnvelopeHeader h;
      domain::Event e;
      std::string_view v = it->value().ToStringView();
      if (v.size() < lf::kHashSize) return Internal("the last event is corrupt");
      CRM_RETURN_IF_ERROR(DecodeEnvelope(v.substr(lf::kHashSize), &h, &e));
      last_at_ = h.at;
    }
    head_.store(head);
    return Status::Ok();
  }

  void Start() {
    if (!options_.read_only) writer_ = std::thread([this] { WriterLoop(); });
  }

  void Submit(Submission sub) override {
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      if (!closing_ && !options_.read_only) {
        queue_.push_back(std::move(sub));
        queue_cv_.notify_one();
        return;
      }
    }
    sub.done(Unavailable("the event store is closed"), CommitInfo{});
  }

  void SetObserver(WriteObserver* observer) override { observer_ = observer; }

  uint64_t Head() const override { return head_.load(); }

  Result<std::vector<RecordedEvent>> ReadAll(uint64_t from, size_t max_count) const override {
    std::vector<RecordedEvent> out;
    uint64_t head = head_.load();
    if (from == 0) from = 1;
    if (from > head || max_count == 0) return out;
    rocksdb::ReadOptions ro;
    std::string upper = lf::PositionKey(head + 1);
    rocksdb::Slice upper_slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_cf_));
    uint64_t expect = from;
    for (it->Seek(lf::PositionKey(from)); it->Valid() && out.size() < max_count; it->Next()) {
      uint64_t pos = lf::GetU64(it->key().ToStringView());
      if (pos != expect) return Internal("the log has a gap at " + std::to_string(expect));
      CRM_ASSIGN_OR_RETURN(RecordedEvent ev, Parse(it->value().ToStringView()));
      out.push_back(std::move(ev));
      ++expect;
    }
    if (!it->status().ok()) return StorageError(it->status(), "reading the log");
    return out;
  }

  Result<std::vector<RecordedEvent>> ReadStream(std::string_view stream, uint64_t from_version,
                                                size_t max_count) const override {
    std::vector<RecordedEvent> out;
    std::string prefix(stream);
    prefix.push_back('\0');
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
    for (it->Seek(lf::StreamKey(stream, std::max<uint64_t>(from_version, 1)));
         it->Valid() && out.size() < max_count && it->key().starts_with(prefix); it->Next()) {
      uint64_t pos = lf::GetU64(it->value().ToStringView());
      if (pos > head_.load()) break;  // staged by the writer, not yet durable
      CRM_ASSIGN_OR_RETURN(RecordedEvent ev, ReadAt(pos));
      out.push_back(std::move(ev));
    }
    if (!it->status().ok()) return StorageError(it->status(), "reading a stream");
    return out;
  }

  Result<std::vector<RecordedEvent>> ReadStreamBetween(std::string_view stream,
                                                       uint64_t after_position,
                                                       uint64_t up_to_position) const override {
    std::vector<RecordedEvent> out;
    up_to_position = std::min(up_to_position, head_.load());  // later ones are not durable
    if (up_to_position <= after_position) return out;
    CRM_ASSIGN_OR_RETURN(uint64_t last, StoredStreamVersion(stream));
    // Positions grow with versions: find the first version past `after_position`.
    uint64_t lo = 1, hi = last + 1;
    while (lo < hi) {
      uint64_t mid = lo + (hi - lo) / 2;
      CRM_ASSIGN_OR_RETURN(uint64_t pos, StoredPositionOf(stream, mid));
      if (pos > after_position) hi = mid; else lo = mid + 1;
    }
    for (uint64_t version = lo; version <= last; ++version) {
      CRM_ASSIGN_OR_RETURN(uint64_t pos, StoredPositionOf(stream, version));
      if (pos > up_to_position) break;
      CRM_ASSIGN_OR_RETURN(RecordedEvent ev, ReadAt(pos));
      out.push_back(std::move(ev));
    }
    return out;
  }

  Result<uint64_t> StreamVersion(std::string_view stream) const override {
    return StoredStreamVersion(stream);
  }

  Result<uint64_t> PositionAt(Time t) const override {
    // Timestamps never decrease along the log, so the answer is a binary search.
    uint64_t lo = 0, hi = head_.load();
    while (lo < hi) {
      uint64_t mid = lo + (hi - lo + 1) / 2;
      CRM_ASSIGN_OR_RETURN(RecordedEvent ev, ReadAt(mid));
      if (ev.at <= t) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  uint64_t WaitForHead(uint64_t after, std::chrono::milliseconds timeout) const override {
    std::unique_lock<std::mutex> lock(head_mu_);
    head_cv_.wait_for(lock, timeout, [&] { return head_.load() > after || closed_; });
    return head_.load();
  }

  void AddListener(std::function<void(uint64_t)> listener) override {
    std::lock_guard<std::mutex> lock(listeners_mu_);
    listeners_.push_back(std::move(listener));
  }

  VerifyReport Verify() const override {
    VerifyReport r;
    std::string hash = kZeroHash;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
    uint64_t expect = 1;
    auto fail = [&](uint64_t pos, std::string detail) {
      r.ok = false;
      r.first_bad_position = pos;
      r.detail = std::move(detail);
      return r;
    };
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++expect) {
      std::string_view key = it->key().ToStringView();
      if (key.size() != 8 || lf::GetU64(key) != expect) {
        return fail(expect, "position " + std::to_string(expect) + " is missing");
      }
      std::string_view v = it->value().ToStringView();
      if (v.size() < lf::kHashSize) return fail(expect, "the record is truncated");
      std::string_view body = v.substr(lf::kHashSize);
      hash = Sha256(hash, body);
      if (hash != v.substr(0, lf::kHashSize)) {
        return fail(expect, "the hash chain breaks at position " + std::to_string(expect));
      }
      EnvelopeHeader h;
      domain::Event e;
      if (!DecodeEnvelope(body, &h, &e).ok() || h.position != expect) {
        return fail(expect, "the event at position " + std::to_string(expect) +
                                " is not a valid envelope for its position");
      }
      ++r.events;
    }
    if (!it->status().ok()) return fail(expect, it->status().ToString());
    r.head_position = r.events;
    r.head_hash = ToHex(hash);
    // The chain is whole; it must end where the stored head says, with its hash: events
    // cut off the end, rewritten at the end (hash and all), or added behind the writer's
    // back all show here and nowhere else.
    std::string head;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), default_cf_, lf::kHeadKey, &head);
    if (s.IsNotFound()) {
      if (r.events == 0) return r;
      return fail(1, "the log has events but no head record");
    }
    if (!s.ok() || head.size() != 8 + lf::kHashSize) {
      return fail(r.events + 1, "the head record cannot be read: " + s.ToString());
    }
    uint64_t stored = lf::GetU64(head);
    if (stored > r.events) {
      return fail(r.events + 1, "the head says " + std::to_string(stored) + " but the log ends at " +
                                    std::to_string(r.events) + ": events were cut off the end");
    }
    if (stored < r.events) {
      return fail(stored + 1, "events after the head (" + std::to_string(stored) +
                                  ") were added behind the writer's back");
    }
    if (head.substr(8) != hash) {
      return fail(r.events, "the last event does not hash to the stored head: it was rewritten");
    }
    return r;
  }

  WriterStats Stats() const override {
    std::lock_guard<std::mutex> lock(stats_mu_);
    return stats_;
  }

  void Close() override {
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      if (closing_) return;
      closing_ = true;
      queue_cv_.notify_all();
    }
    if (writer_.joinable()) writer_.join();
    {
      std::lock_guard<std::mutex> lock(head_mu_);
      closed_ = true;
    }
    head_cv_.notify_all();
    if (!options_.read_only) db_->FlushWAL(true).PermitUncheckedError();
  }

  // ---- used by Staging ------------------------------------------------------------------
  Result<uint64_t> StoredStreamVersion(std::string_view stream) const {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
    it->SeekForPrev(lf::StreamKey(stream, UINT64_MAX));
    if (!it->status().ok()) return StorageError(it->status(), "reading stream versions");
    if (!it->Valid()) return uint64_t{0};
    std::string_view key = it->key().ToStringView();
    if (key.size() != stream.size() + 9 || key.substr(0, stream.size()) != stream ||
        key[stream.size()] != '\0') {
      return uint64_t{0};
    }
    return lf::GetU64(key.substr(stream.size() + 1));
  }

  Result<uint64_t> StoredPositionOf(std::string_view stream, uint64_t version) const {
    std::string value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), streams_cf_, lf::StreamKey(stream, version), &value);
    if (!s.ok()) return StorageError(s, "reading the stream index");
    if (value.size() != 8) return Internal("the stream index of " + std::string(stream) + " is corrupt");
    return lf::GetU64(value);
  }

  Result<std::optional<std::string>> StoredGet(rocksdb::ColumnFamilyHandle* cf,
                                               const std::string& key) const {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, key, &value);
    if (s.ok()) return std::optional<std::string>(std::move(value));
    if (s.IsNotFound()) return std::optional<std::string>();
    return StorageError(s, "reading an index");
  }

  rocksdb::ColumnFamilyHandle* unique_cf() const { return unique_cf_; }

 private:
  Result<RecordedEvent> Parse(std::string_view value) const {
    if (value.size() < lf::kHashSize) return Internal("a stored event is truncated");
    RecordedEvent ev;
    CRM_RETURN_IF_ERROR(DecodeEnvelope(value.substr(lf::kHashSize), &ev, &ev.event));
    ev.hash = std::string(value.substr(0, lf::kHashSize));
    return ev;
  }

  Result<RecordedEvent> ReadAt(uint64_t pos) const {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), log_cf_, lf::PositionKey(pos), &value);
    if (!s.ok()) return StorageError(s, "reading position " + std::to_string(pos));
    return Parse(value);
  }

  void WriterLoop() {
    for (;;) {
      std::vector<Submission> batch;
      {
        std::unique_lock<std::mutex> lock(queue_mu_);
        queue_cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
        if (queue_.empty()) return;  // closing, and everything queued is done
        while (!queue_.empty() && batch.size() < options_.max_batch) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      ProcessBatch(batch);
    }
  }

  struct Outcome {
    Result<Reply> result = Reply{};
    CommitInfo info;
  };

  static Error VersionConflict(const std::string& stream, uint64_t expected, uint64_t actual) {
    return MakeError(ErrorKind::kPrecondition, "version_conflict",
                     stream + " is at version " + std::to_string(actual) + ", not " +
                         std::to_string(expected));
  }

  // Decides and stages one submission into `wb`. Returns its outcome.
  Outcome StageOne(Submission& sub, Staging& st, rocksdb::WriteBatch& wb, uint64_t& next,
                   std::string& hash) {
    Outcome out;
    out.info.at = st.now();
    out.info.last_position = next - 1;
    std::string idem_key;
    if (sub.idempotency) {
      idem_key = lf::ScopedKey(sub.idempotency->scope, sub.idempotency->key);
      std::optional<std::string> stored;
      if (auto it = st.idempotency.find(idem_key); it != st.idempotency.end()) {
        stored = it->second;
      } else {
        auto got = StoredGet(idem_cf_, idem_key);
        if (!got.ok()) {
          out.result = got.error();
          return out;
        }
        stored = std::move(got).value();
      }
      if (stored) {
        if (stored->size() < lf::kHashSize + 10 ||
            stored->substr(0, lf::kHashSize) != sub.idempotency->request_hash) {
          out.result = RuleRefused("idempotency_key_reused",
                                   "this Idempotency-Key was used for a different request");
          return out;
        }
        Reply r;
        r.status = (static_cast<uint8_t>((*stored)[lf::kHashSize]) << 8) |
                   static_cast<uint8_t>((*stored)[lf::kHashSize + 1]);
        r.position = lf::GetU64(std::string_view(*stored).substr(lf::kHashSize + 2));
        r.body = stored->substr(lf::kHashSize + 10);
        r.replayed = true;
        out.info.last_position = r.position;
        out.result = std::move(r);
        return out;
      }
    }

    Result<Proposal> decided = Internal("no decision");
    try {
      decided = sub.decide(st);
    } catch (const std::exception& e) {
      decided = Internal(std::string("the decision failed: ") + e.what());
    }
    if (!decided.ok()) {
      out.result = std::move(decided).error();
      return out;
    }
    Proposal& p = *decided;

    // Check everything before staging anything: all or nothing.
    for (const auto& [stream, expected] : p.expected_versions) {
      uint64_t actual = st.StreamVersion(stream);
      if (actual != expected) {
        out.result = VersionConflict(stream, expected, actual);
        return out;
      }
    }
    for (const auto& ev : p.events) {
      if (ev.stream.empty() || ev.stream.size() > kMaxStreamName ||
          ev.stream.find('\0') != std::string::npos) {
        out.result = Internal("invalid stream name");
        return out;
      }
      st.StreamVersion(ev.stream);  // read now, so that a failing read refuses below
    }
    for (const auto& k : p.unique_keys) {
      if (k.release) continue;
      auto holder = st.UniqueOwner(k.scope, k.key);
      if (holder && *holder != k.owner) {
        Error e = MakeError(ErrorKind::kConflict, domain::DuplicateCode(k.scope),
                            "'" + k.key + "' is already taken");
        e.existing_id = *holder;
        out.result = std::move(e);
        return out;
      }
    }

    // Every stored read this submission depends on is done; if one failed, nothing the
    // decision saw can be trusted.
    if (st.read_error) {
      out.result = *st.read_error;
      return out;
    }

    // Stage.
    if (!p.events.empty()) out.info.first_position = next;
    for (auto& ne : p.events) {
      RecordedEvent rec;
      rec.position = next++;
      rec.stream = ne.stream;
      rec.version = st.StreamVersion(ne.stream) + 1;
      rec.at = st.now();
      rec.actor = sub.actor;
      rec.command_id = sub.command_id;
      rec.correlation_id = sub.correlation_id;
      std::string body = EncodeEnvelope(rec, ne.event);
      hash = Sha256(hash, body);
      rec.hash = hash;
      wb.Put(log_cf_, lf::PositionKey(rec.position), hash + body);
      wb.Put(streams_cf_, lf::StreamKey(rec.stream, rec.version), lf::PositionKey(rec.position));
      st.versions[rec.stream] = rec.version;
      out.info.stream_versions[rec.stream] = rec.version;
      rec.event = std::move(ne.event);
      if (observer_) observer_->Staged(rec);
    }
    for (const auto& k : p.unique_keys) {
      std::string key = lf::ScopedKey(k.scope, k.key);
      if (k.release) {
        wb.Delete(unique_cf_, key);
        st.unique[key] = std::nullopt;
      } else {
        wb.Put(unique_cf_, key, k.owner);
        st.unique[key] = k.owner;
      }
    }
    out.info.last_position = next - 1;
    for (const auto& [stream, expected] : p.expected_versions) {
      out.info.stream_versions.try_emplace(stream, expected);
    }

    Reply reply;
    if (sub.make_reply) {
      try {
        reply = sub.make_reply(out.info);
      } catch (const std::exception& e) {
        reply = Reply{200, "", 0};
      }
    }
    reply.position = out.info.last_position;
    if (sub.idempotency) {
      std::string value = sub.idempotency->request_hash;
      value.push_back(static_cast<char>(reply.status >> 8));
      value.push_back(static_cast<char>(reply.status & 0xff));
      lf::PutU64(&value, reply.position);
      value += reply.body;
      wb.Put(idem_cf_, idem_key, value);
      st.idempotency[idem_key] = std::move(value);
    }
    out.result = std::move(reply);
    return out;
  }

  void ProcessBatch(std::vector<Submission>& batch) {
    Time now = std::max(options_.clock->Now(), last_at_);
    Staging st(*this, now);
    rocksdb::WriteBatch wb;
    uint64_t next = head_.load() + 1;
    std::string hash = head_hash_;
    std::vector<Outcome> outcomes;
    outcomes.reserve(batch.size());
    for (auto& sub : batch) outcomes.push_back(StageOne(sub, st, wb, next, hash));

    uint64_t appended = next - 1 - head_.load();
    bool failed = false;
    if (wb.Count() > 0) {
      std::string head;
      lf::PutU64(&head, next - 1);
      head += hash;
      wb.Put(default_cf_, lf::kHeadKey, head);
      rocksdb::WriteOptions wo;
      wo.sync = true;
      auto t0 = std::chrono::steady_clock::now();
      rocksdb::Status s = db_->Write(wo, &wb);
      auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - t0)
                        .count();
      RecordFsync(static_cast<uint64_t>(micros));
      if (!s.ok()) {
        failed = true;
        // Nothing of the batch is durable: every reply in it, refusals included (they
        // may rest on staged state), says so.
        for (auto& o : outcomes) {
          o.result = StorageError(s, "writing the log");
          o.info = CommitInfo{};
        }
        if (observer_) observer_->Aborted();
      } else {
        head_hash_ = hash;
        last_at_ = now;
        {
          std::lock_guard<std::mutex> lock(head_mu_);
          head_.store(next - 1);
        }
        head_cv_.notify_all();
      }
    }
    RecordBatch(batch.size(), failed ? 0 : appended, failed);
    // Listeners (projections, live feeds) first, so that they are already at work when
    // the replies go out.
    if (!failed && appended > 0) {
      std::vector<std::function<void(uint64_t)>> listeners;
      {
        std::lock_guard<std::mutex> lock(listeners_mu_);
        listeners = listeners_;
      }
      for (auto& l : listeners) l(head_.load());
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i].done(std::move(outcomes[i].result), outcomes[i].info);
    }
  }

  void RecordFsync(uint64_t micros) {
    std::lock_guard<std::mutex> lock(stats_mu_);
    stats_.fsync_micros_buckets[BucketOf(micros, {250, 1000, 4000, 16000, 64000})]++;
    stats_.fsync_micros_sum += micros;
  }

  void RecordBatch(size_t submissions, uint64_t events, bool failed) {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.batches;
    stats_.submissions += submissions;
    stats_.events += events;
    stats_.largest_batch = std::max<uint64_t>(stats_.largest_batch, submissions);
    stats_.batch_size_buckets[BucketOf(submissions, {1, 4, 16, 64})]++;
    if (failed) ++stats_.failed_batches;
  }

  StoreOptions options_;
  SystemClock system_clock_;
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* default_cf_;
  rocksdb::ColumnFamilyHandle* log_cf_;
  rocksdb::ColumnFamilyHandle* streams_cf_;
  rocksdb::ColumnFamilyHandle* unique_cf_;
  rocksdb::ColumnFamilyHandle* idem_cf_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Submission> queue_;
  bool closing_ = false;
  std::thread writer_;

  std::atomic<uint64_t> head_{0};
  mutable std::mutex head_mu_;
  mutable std::condition_variable head_cv_;
  bool closed_ = false;

  // Owned by the writer thread.
  std::string head_hash_;
  Time last_at_{};
  WriteObserver* observer_ = nullptr;

  std::mutex listeners_mu_;
  std::vector<std::function<void(uint64_t)>> listeners_;

  mutable std::mutex stats_mu_;
  WriterStats stats_;
};

uint64_t Staging::StreamVersion(std::string_view stream) const {
  auto it = versions.find(std::string(stream));
  if (it != versions.end()) return it->second;
  auto stored = store_.StoredStreamVersion(stream);
  if (!stored.ok()) {
    read_error = stored.error();
    return 0;
  }
  versions.emplace(stream, *stored);
  return *stored;
}

std::optional<std::string> Staging::UniqueOwner(std::string_view scope,
                                                std::string_view key) const {
  std::string k = lf::ScopedKey(scope, key);
  if (auto it = unique.find(k); it != unique.end()) return it->second;
  auto got = store_.StoredGet(store_.unique_cf(), k);
  if (!got.ok()) {
    read_error = got.error();
    return std::nullopt;
  }
  return std::move(got).value();
}

}  // namespace

std::string ToHex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

Result<std::unique_ptr<EventStore>> OpenRocksEventStore(const StoreOptions& options) {
  std::error_code ec;
  if (!options.read_only) std::filesystem::create_directories(options.path, ec);
  if (ec) return Internal("cannot create " + options.path + ": " + ec.message());

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = !options.read_only;
  db_options.create_missing_column_families = !options.read_only;
  db_options.paranoid_checks = true;
  db_options.keep_log_file_num = 5;
  // Bounded, so that the server's connection limit can count on the rest (http_server.h).
  db_options.max_open_files = 200;
  db_options.IncreaseParallelism(2);
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.OptimizeLevelStyleCompaction();
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, cf_options},
      {lf::kLogFamily, cf_options},
      {lf::kStreamsFamily, cf_options},
      {lf::kUniqueFamily, cf_options},
      {lf::kIdempotencyFamily, cf_options}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s =
      options.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, options.path, families, &handles, &db)
          : rocksdb::DB::Open(db_options, options.path, families, &handles, &db);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return Unavailable("the log at " + options.path +
                         " is in use by another process (" + s.ToString() + ")");
    }
    return Internal("cannot open the log at " + options.path + ": " + s.ToString());
  }
  auto store = std::make_unique<RocksEventStore>(options, db, std::move(handles));
  CRM_RETURN_IF_ERROR(store->Recover());
  store->Start();
  return std::unique_ptr<EventStore>(std::move(store));
}

}  // namespace crm::eventstore
