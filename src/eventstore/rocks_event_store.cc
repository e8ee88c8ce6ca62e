#include "eventstore/rocks_event_store.h"

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <unordered_map>

#include "eventstore/coding.h"
#include "eventstore/event_codec.h"
#include "eventstore/log_format.h"
#include "eventstore/rocks_logger.h"
#include "eventstore/sha256.h"

namespace crm::eventstore {
namespace {

namespace lf = log_format;

const std::string kZeroHash(lf::kHashSize, '\0');
constexpr size_t kMaxStreamName = 200;
// How often Verify reports its progress, in events.
constexpr uint64_t kVerifyProgressEvery = 65536;

Error StorageError(const rocksdb::Status& s, std::string_view what) {
  return Unavailable(std::string(what) + ": " + s.ToString());
}

// Drops the idempotency records that StoreOptions::idempotency_expired says have expired.
class ExpiredRecords final : public rocksdb::CompactionFilter {
 public:
  explicit ExpiredRecords(std::function<bool(std::string_view)> expired)
      : expired_(std::move(expired)) {}
  bool Filter(int /*level*/, const rocksdb::Slice& /*key*/, const rocksdb::Slice& value,
              std::string* /*new_value*/, bool* /*value_changed*/) const override {
    return expired_(std::string_view(value.data(), value.size()));
  }
  const char* Name() const override { return "evcrm.ExpiredIdempotencyRecords"; }

 private:
  std::function<bool(std::string_view)> expired_;
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
        handles_(std::move(handles)) {}

  ~RocksEventStore() override {
    Close();
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    delete db_;
  }

  // The filter the idempotency family was opened with: it must outlive the database.
  void KeepFilter(std::unique_ptr<rocksdb::CompactionFilter> filter) {
    idem_filter_ = std::move(filter);
  }

  Status Checkpoint(const std::string& dest) {
    rocksdb::Checkpoint* raw = nullptr;
    rocksdb::Status s = rocksdb::Checkpoint::Create(db_, &raw);
    std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
    if (s.ok()) s = checkpoint->CreateCheckpoint(dest);
    if (!s.ok()) return Internal("cannot copy the log to " + dest + ": " + s.ToString());
    return Status::Ok();
  }

  Result<std::vector<StoredEvent>> ReadStored(uint64_t from, size_t max_count) const {
    std::vector<StoredEvent> out;
    CRM_RETURN_IF_ERROR(
        ForEachStored(from, max_count, [&](uint64_t pos, std::string_view value) -> Status {
          if (value.size() < lf::kHashSize)
            return Internal("position " + std::to_string(pos) + " is corrupt");
          out.push_back({pos, std::string(value.substr(0, lf::kHashSize)),
                         std::string(value.substr(lf::kHashSize))});
          return Status::Ok();
        }));
    return out;
  }

  Status ScanIndexes(const std::function<bool(const IndexWrite&)>& fn) const {
    for (auto [index, cf] :
         {std::pair{Index::kUnique, unique_cf_}, {Index::kIdempotency, idem_cf_}}) {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        std::string_view key = it->key().ToStringView();
        size_t nul = key.find('\0');
        if (nul == std::string_view::npos) return Internal("an index key without its scope");
        IndexWrite w{index, std::string(key.substr(0, nul)), std::string(key.substr(nul + 1)),
                     std::string(it->value().ToStringView())};
        if (!fn(w)) return Status::Ok();
      }
      if (!it->status().ok()) return StorageError(it->status(), "reading an index");
    }
    return Status::Ok();
  }

  Status CompactIdempotency() {
    rocksdb::CompactRangeOptions o;
    o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    rocksdb::Status s = db_->CompactRange(o, idem_cf_, nullptr, nullptr);
    if (!s.ok()) return Internal("cannot compact the idempotency index: " + s.ToString());
    return Status::Ok();
  }

  Status Recover() {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), default_cf_, lf::kHeadKey, &value);
    uint64_t head = 0;
    head_hash_ = kZeroHash;
    if (s.ok()) {
      if (value.size() != 8 + lf::kHashSize) return Internal("the log head record is corrupt");
      head = GetFixed64(value);
      head_hash_ = value.substr(8);
    } else if (!s.IsNotFound()) {
      return StorageError(s, "reading the log head");
    }
    // The head is written in the same batch as the events, so the last log key agrees.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
    it->SeekToLast();
    uint64_t last = it->Valid() ? GetFixed64(it->key().ToStringView()) : 0;
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

  Result<uint64_t> Append(const AppendBatch& batch) override {
    if (options_.read_only) return Unavailable("the log is open for reading only");
    {
      std::lock_guard<std::mutex> lock(head_mu_);
      if (closed_) return Unavailable("the event store is closed");
    }
    // After a failed write nobody knows what the log holds (an fsync that failed may still
    // have written): only reopening it, which recovers what is really there, may go on.
    if (write_failed_) return Unavailable("an earlier write of the log failed; reopen it");
    auto t0 = std::chrono::steady_clock::now();
    auto written = Write(batch);
    RecordAppend(batch.events.size(), written.ok(),
                 static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                           std::chrono::steady_clock::now() - t0)
                                           .count()));
    return written;
  }

  uint64_t Head() const override { return head_.load(); }

  Result<std::vector<RecordedEvent>> ReadAll(uint64_t from, size_t max_count) const override {
    std::vector<RecordedEvent> out;
    CRM_RETURN_IF_ERROR(
        ForEachStored(from, max_count, [&](uint64_t, std::string_view value) -> Status {
          CRM_ASSIGN_OR_RETURN(RecordedEvent ev, Parse(value));
          out.push_back(std::move(ev));
          return Status::Ok();
        }));
    return out;
  }

  // Calls fn(position, stored value) for up to `max_count` positions from `from` (0: the
  // first) to the head, in order; a gap, a failed read or fn's error ends the walk with it.
  Status ForEachStored(uint64_t from, size_t max_count,
                       const std::function<Status(uint64_t, std::string_view)>& fn) const {
    uint64_t head = head_.load();
    if (from == 0) from = 1;
    if (from > head || max_count == 0) return Status::Ok();
    rocksdb::ReadOptions ro;
    std::string upper = lf::PositionKey(head + 1);
    rocksdb::Slice upper_slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_cf_));
    uint64_t expect = from;
    for (it->Seek(lf::PositionKey(from)); it->Valid() && expect - from < max_count; it->Next()) {
      uint64_t pos = GetFixed64(it->key().ToStringView());
      if (pos != expect) return Internal("the log has a gap at " + std::to_string(expect));
      CRM_RETURN_IF_ERROR(fn(pos, it->value().ToStringView()));
      ++expect;
    }
    if (!it->status().ok()) return StorageError(it->status(), "reading the log");
    return Status::Ok();
  }

  Result<std::vector<RecordedEvent>> ReadStream(std::string_view stream, uint64_t from_version,
                                                size_t max_count) const override {
    std::vector<RecordedEvent> out;
    std::string prefix(stream);
    prefix.push_back('\0');
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
    for (it->Seek(lf::StreamKey(stream, std::max<uint64_t>(from_version, 1)));
         it->Valid() && out.size() < max_count && it->key().starts_with(prefix); it->Next()) {
      uint64_t pos = GetFixed64(it->value().ToStringView());
      if (pos > head_.load()) break;  // being written, not yet durable
      CRM_ASSIGN_OR_RETURN(RecordedEvent ev, ReadAt(pos));
      out.push_back(std::move(ev));
    }
    if (!it->status().ok()) return StorageError(it->status(), "reading a stream");
    return out;
  }

  Result<std::vector<RecordedEvent>> ReadStreamBetween(std::string_view stream,
                                                       uint64_t after_position,
                                                       uint64_t up_to_position,
                                                       size_t max_count) const override {
    std::vector<RecordedEvent> out;
    up_to_position = std::min(up_to_position, head_.load());  // later ones are not durable
    if (up_to_position <= after_position) return out;
    CRM_ASSIGN_OR_RETURN(uint64_t last, StoredStreamVersion(stream));
    // Positions grow with versions: find the first version past `after_position`.
    uint64_t lo = 1, hi = last + 1;
    while (lo < hi) {
      uint64_t mid = lo + (hi - lo) / 2;
      CRM_ASSIGN_OR_RETURN(uint64_t pos, StoredPositionOf(stream, mid));
      if (pos > after_position)
        hi = mid;
      else
        lo = mid + 1;
    }
    for (uint64_t version = lo; version <= last && out.size() < max_count; ++version) {
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
      if (ev.at <= t)
        lo = mid;
      else
        hi = mid - 1;
    }
    return lo;
  }

  uint64_t WaitForHead(uint64_t after, std::chrono::milliseconds timeout) const override {
    std::unique_lock<std::mutex> lock(head_mu_);
    head_cv_.wait_for(lock, timeout, [&] { return head_.load() > after || closed_; });
    return head_.load();
  }

  Result<std::optional<std::string>> ReadIndex(Index index, std::string_view scope,
                                               std::string_view key) const override {
    return StoredGet(index == Index::kUnique ? unique_cf_ : idem_cf_, lf::ScopedKey(scope, key));
  }

  VerifyReport Verify(const VerifyProgress& progress) const override {
    VerifyReport r;
    std::string hash = kZeroHash;
    // One snapshot for the events and the head, which an append writes in one batch: a
    // verification beside a running writer sees a log and its head that belong together.
    const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
    std::shared_ptr<const rocksdb::Snapshot> release(
        snapshot, [this](const rocksdb::Snapshot* s) { db_->ReleaseSnapshot(s); });
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    ro.fill_cache = false;  // one pass over everything would only evict what readers use
    std::string head;
    rocksdb::Status head_status = db_->Get(ro, default_cf_, lf::kHeadKey, &head);
    uint64_t head_position =
        head_status.ok() && head.size() == 8 + lf::kHashSize ? GetFixed64(head) : 0;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_cf_));
    uint64_t expect = 1;
    auto fail = [&](uint64_t pos, std::string detail) {
      r.ok = false;
      r.first_bad_position = pos;
      r.detail = std::move(detail);
      return r;
    };
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++expect) {
      std::string_view key = it->key().ToStringView();
      if (key.size() != 8 || GetFixed64(key) != expect) {
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
      if (progress && r.events % kVerifyProgressEvery == 0 && !progress(r.events, head_position)) {
        return fail(0, "verification stopped at position " + std::to_string(expect));
      }
    }
    if (!it->status().ok()) return fail(expect, it->status().ToString());
    if (progress) progress(r.events, head_position);  // the last report; it cannot stop it
    r.head_position = r.events;
    r.head_hash = ToHex(hash);
    // The chain is whole; it must end where the stored head says, with its hash: events
    // cut off the end, rewritten at the end (hash and all), or added behind the writer's
    // back all show here and nowhere else.
    const rocksdb::Status& s = head_status;
    if (s.IsNotFound()) {
      if (r.events == 0) return r;
      return fail(1, "the log has events but no head record");
    }
    if (!s.ok() || head.size() != 8 + lf::kHashSize) {
      return fail(r.events + 1, "the head record cannot be read: " + s.ToString());
    }
    uint64_t stored = GetFixed64(head);
    if (stored > r.events) {
      return fail(r.events + 1, "the head says " + std::to_string(stored) +
                                    " but the log ends at " + std::to_string(r.events) +
                                    ": events were cut off the end");
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

  AppendStats Stats() const override {
    std::lock_guard<std::mutex> lock(stats_mu_);
    return stats_;
  }

  void Close() override {
    {
      std::lock_guard<std::mutex> lock(head_mu_);
      if (closed_) return;
      closed_ = true;
    }
    head_cv_.notify_all();
    // (Not after a failed write: syncing a WAL whose sync failed is refused, and RocksDB
    // asserts on it.)
    if (!options_.read_only && !write_failed_) db_->FlushWAL(true).PermitUncheckedError();
  }

 private:
  Result<uint64_t> StoredStreamVersion(std::string_view stream) const {
    // Most streams asked about are new (a record being created): a point lookup of
    // version 1, answered by the bloom filter, settles those without an iterator.
    CRM_ASSIGN_OR_RETURN(bool exists, StreamHas(stream, 1));
    if (!exists) return uint64_t{0};
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
    it->SeekForPrev(lf::StreamKey(stream, UINT64_MAX));
    if (!it->status().ok()) return StorageError(it->status(), "reading stream versions");
    if (!it->Valid()) return uint64_t{0};
    std::string_view key = it->key().ToStringView();
    if (key.size() != stream.size() + 9 || key.substr(0, stream.size()) != stream ||
        key[stream.size()] != '\0') {
      return uint64_t{0};
    }
    return GetFixed64(key.substr(stream.size() + 1));
  }

  // Whether `stream` has an event of `version`.
  Result<bool> StreamHas(std::string_view stream, uint64_t version) const {
    std::string value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), streams_cf_, lf::StreamKey(stream, version), &value);
    if (s.IsNotFound()) return false;
    if (!s.ok()) return StorageError(s, "reading the stream index");
    return true;
  }

  Result<uint64_t> StoredPositionOf(std::string_view stream, uint64_t version) const {
    std::string value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), streams_cf_, lf::StreamKey(stream, version), &value);
    if (!s.ok()) return StorageError(s, "reading the stream index");
    if (value.size() != 8)
      return Internal("the stream index of " + std::string(stream) + " is corrupt");
    return GetFixed64(value);
  }

  Result<std::optional<std::string>> StoredGet(rocksdb::ColumnFamilyHandle* cf,
                                               const std::string& key) const {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, key, &value);
    if (s.ok()) return std::optional<std::string>(std::move(value));
    if (s.IsNotFound()) return std::optional<std::string>();
    return StorageError(s, "reading an index");
  }

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

  // Checks the batch against the stored streams, then writes it in one synced
  // WriteBatch. Runs on the caller's thread (the writer's): nothing else writes.
  Result<uint64_t> Write(const AppendBatch& batch) {
    uint64_t head = head_.load();
    if (batch.after && *batch.after != head) {
      return MakeError(ErrorKind::kPrecondition, "head_moved",
                       "the batch was decided at position " + std::to_string(*batch.after) +
                           " but the log ends at " + std::to_string(head));
    }
    // Each stream's first event in the batch must follow what is stored (its version
    // absent, the one before present: two point lookups, cheap with the bloom filter);
    // later ones must follow each other.
    std::unordered_map<std::string_view, uint64_t> versions;
    auto conflict = [](const PendingEvent& ev) {
      return MakeError(ErrorKind::kPrecondition, "version_conflict",
                       "version " + std::to_string(ev.version) + " of " + ev.stream +
                           " does not follow the stored stream");
    };
    for (const auto& ev : batch.events) {
      if (ev.stream.empty() || ev.stream.size() > kMaxStreamName ||
          ev.stream.find('\0') != std::string::npos) {
        return Internal("invalid stream name");
      }
      auto it = versions.find(ev.stream);
      if (it != versions.end()) {
        if (ev.version != it->second + 1) return conflict(ev);
        it->second = ev.version;
        continue;
      }
      if (ev.version == 0) return conflict(ev);
      CRM_ASSIGN_OR_RETURN(bool taken, StreamHas(ev.stream, ev.version));
      if (taken) return conflict(ev);
      if (ev.version > 1) {
        CRM_ASSIGN_OR_RETURN(bool previous, StreamHas(ev.stream, ev.version - 1));
        if (!previous) return conflict(ev);
      }
      versions.emplace(ev.stream, ev.version);
    }
    if (batch.at < last_at_) return Internal("an append may not go back in time");

    rocksdb::WriteBatch wb;
    std::string hash = head_hash_;
    uint64_t position = head;
    Time copied_at = last_at_;
    for (const auto& ev : batch.events) {
      ++position;
      std::string body;
      if (ev.envelope.empty()) {
        body = EncodeEnvelope(
            {position, ev.stream, ev.version, batch.at, ev.actor, ev.command_id, ev.correlation_id},
            ev.event);
      } else {
        EnvelopeHeader h;
        CRM_RETURN_IF_ERROR(DecodeEnvelope(ev.envelope, &h, nullptr));
        if (h.position != position || h.stream != ev.stream || h.version != ev.version ||
            h.at < copied_at || h.at > batch.at) {
          return Internal("the envelope copied to position " + std::to_string(position) +
                          " does not continue this log (its position, stream, version or time)");
        }
        copied_at = h.at;
        body = ev.envelope;
      }
      hash = Sha256(hash, body);
      wb.Put(log_cf_, lf::PositionKey(position), hash + body);
      wb.Put(streams_cf_, lf::StreamKey(ev.stream, ev.version), lf::PositionKey(position));
    }
    for (const auto& w : batch.index) {
      if (w.scope.empty() || w.scope.find('\0') != std::string::npos) {
        return Internal("invalid index scope");
      }
      auto* cf = w.index == Index::kUnique ? unique_cf_ : idem_cf_;
      std::string key = lf::ScopedKey(w.scope, w.key);
      if (w.value)
        wb.Put(cf, key, *w.value);
      else
        wb.Delete(cf, key);
    }
    if (position != head) {
      std::string value;
      PutFixed64(&value, position);
      value += hash;
      wb.Put(default_cf_, lf::kHeadKey, value);
    }
    if (wb.Count() > 0) {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      rocksdb::Status s = db_->Write(wo, &wb);
      if (!s.ok()) {
        write_failed_ = true;
        return StorageError(s, "writing the log");
      }
    }
    if (position != head) {
      head_hash_ = hash;
      last_at_ = batch.at;
      {
        std::lock_guard<std::mutex> lock(head_mu_);
        head_.store(position);
      }
      head_cv_.notify_all();
    }
    return head + 1;
  }

  void RecordAppend(size_t events, bool ok, uint64_t micros) {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.appends;
    if (ok)
      stats_.events += events;
    else
      ++stats_.failed;
    stats_.micros.Observe(micros);
  }

  StoreOptions options_;
  rocksdb::DB* db_;
  std::unique_ptr<rocksdb::CompactionFilter> idem_filter_;
  rocksdb::ColumnFamilyHandle* default_cf_;
  rocksdb::ColumnFamilyHandle* log_cf_;
  rocksdb::ColumnFamilyHandle* streams_cf_;
  rocksdb::ColumnFamilyHandle* unique_cf_;
  rocksdb::ColumnFamilyHandle* idem_cf_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;

  std::atomic<uint64_t> head_{0};
  mutable std::mutex head_mu_;
  mutable std::condition_variable head_cv_;
  bool closed_ = false;

  // Touched only by Append's caller (and Recover before it), and Close after it.
  bool write_failed_ = false;
  std::string head_hash_;
  Time last_at_{};

  mutable std::mutex stats_mu_;
  AppendStats stats_;
};

}  // namespace

Result<std::unique_ptr<EventStore>> OpenRocksEventStore(const StoreOptions& options) {
  std::error_code ec;
  if (!options.read_only) std::filesystem::create_directories(options.path, ec);
  if (ec) return Internal("cannot create " + options.path + ": " + ec.message());

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = !options.read_only;
  db_options.create_missing_column_families = !options.read_only;
  db_options.paranoid_checks = true;
  db_options.keep_log_file_num = 5;  // for RocksDB's own logger, on read-only opens
  if (!options.read_only) db_options.info_log = NewStoreLogger(options.path);
  // Bounded, so that the server's connection limit can count on the rest (http_server.h).
  db_options.max_open_files = 200;
  db_options.IncreaseParallelism(2);
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.OptimizeLevelStyleCompaction();
  // Bloom filters: most lookups (a new stream's version, a unique key, an idempotency
  // key) are of keys that are not there.
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::ColumnFamilyOptions idem_options = cf_options;
  std::unique_ptr<rocksdb::CompactionFilter> idem_filter;
  if (options.idempotency_expired) {
    idem_filter = std::make_unique<ExpiredRecords>(options.idempotency_expired);
    idem_options.compaction_filter = idem_filter.get();
    idem_options.periodic_compaction_seconds =
        static_cast<uint64_t>(options.idempotency_compaction.count());
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, cf_options},
      {lf::kLogFamily, cf_options},
      {lf::kStreamsFamily, cf_options},
      {lf::kUniqueFamily, cf_options},
      {lf::kIdempotencyFamily, idem_options}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s =
      options.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, options.path, families, &handles, &db)
          : rocksdb::DB::Open(db_options, options.path, families, &handles, &db);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return Unavailable("the log at " + options.path + " is in use by another process (" +
                         s.ToString() + ")");
    }
    return Internal("cannot open the log at " + options.path + ": " + s.ToString());
  }
  auto store = std::make_unique<RocksEventStore>(options, db, std::move(handles));
  store->KeepFilter(std::move(idem_filter));
  CRM_RETURN_IF_ERROR(store->Recover());
  return std::unique_ptr<EventStore>(std::move(store));
}

Status CompactIdempotencyIndex(EventStore& store) {
  auto* rocks = dynamic_cast<RocksEventStore*>(&store);
  if (!rocks) return Internal("not a RocksDB event store");
  return rocks->CompactIdempotency();
}

Result<std::vector<StoredEvent>> ReadStoredEvents(const EventStore& store, uint64_t from,
                                                  size_t max_count) {
  const auto* rocks = dynamic_cast<const RocksEventStore*>(&store);
  if (!rocks) return Internal("not a RocksDB event store");
  return rocks->ReadStored(from, max_count);
}

Status ScanIndexes(const EventStore& store, const std::function<bool(const IndexWrite&)>& fn) {
  const auto* rocks = dynamic_cast<const RocksEventStore*>(&store);
  if (!rocks) return Internal("not a RocksDB event store");
  return rocks->ScanIndexes(fn);
}

Status CheckpointRocksEventStore(EventStore& store, const std::string& dest) {
  auto* rocks = dynamic_cast<RocksEventStore*>(&store);
  if (!rocks) return Internal("not a RocksDB event store");
  return rocks->Checkpoint(dest);
}

}  // namespace crm::eventstore
