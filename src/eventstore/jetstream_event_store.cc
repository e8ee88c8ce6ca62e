#include "eventstore/jetstream_event_store.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "domain/vocabulary.h"
#include "eventstore/coding.h"
#include "eventstore/event_codec.h"
#include "eventstore/jetstream_client.h"
#include "eventstore/sha256.h"
#include "schemas/replication_generated.h"

namespace crm::eventstore {
namespace {

constexpr std::string_view kReplicationScope = "$replication";
constexpr std::string_view kSequenceKey = "sequence";
// Present while crmctl migrate --to-stream fills a stream: its first commit writes it,
// its last deletes it, so a stream it did not finish is never taken for a whole log.
constexpr std::string_view kMigrationScope = "$migration";
constexpr std::string_view kUnfinishedKey = "unfinished";
// What a commit spends on each event or index entry beyond its bytes (FlatBuffers: the
// table, its vtable offset, the vector slot, length prefixes and padding), rounded up.
constexpr int64_t kEntryOverhead = 64;
constexpr size_t kHashSize = 32;
const std::string kZeroHash(kHashSize, '\0');
// A publish that got no answer, or found no stream leader (a NATS server failed and the
// cluster elects another, which took up to 8.4 s here), is tried again with the same
// message id, so it is stored once, for this long before Append gives up.
constexpr auto kPublishPatience = std::chrono::seconds(20);
constexpr auto kPublishRetryWait = std::chrono::milliseconds(200);
// A commit's message: the stream's limit, and room for its headers within max_payload.
constexpr int32_t kMaxCommitBytes = 8 << 20;
constexpr int64_t kHeaderAllowance = 1024;
constexpr size_t kMaxStreamName = 200;  // as the RocksDB log takes
// Catching up at open: how long the stream may stay silent before its last sequence.
constexpr auto kCatchUpSilence = std::chrono::seconds(30);

flatbuffers::Offset<flatbuffers::Vector<uint8_t>> Bytes(flatbuffers::FlatBufferBuilder& fbb,
                                                        std::string_view s) {
  return fbb.CreateVector(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
std::string_view View(const flatbuffers::Vector<uint8_t>* v) {
  return v ? std::string_view(reinterpret_cast<const char*>(v->data()), v->size())
           : std::string_view();
}

// A commit as the stream carries it.
struct Commit {
  uint64_t first_position = 0;
  std::string prior_hash;
  std::string head_hash;
  AppendBatch batch;
};

std::string EncodeCommit(const AppendBatch& batch, uint64_t first_position,
                         std::string_view prior_hash, std::string_view head_hash,
                         const std::vector<std::string>& envelopes, const std::string& writer) {
  flatbuffers::FlatBufferBuilder fbb(1024);
  std::vector<flatbuffers::Offset<schema::CommitEvent>> events;
  for (const auto& e : envelopes) events.push_back(schema::CreateCommitEvent(fbb, Bytes(fbb, e)));
  std::vector<flatbuffers::Offset<schema::ReplicatedIndexWrite>> index;
  for (const auto& w : batch.index) {
    index.push_back(schema::CreateReplicatedIndexWrite(
        fbb, w.index == Index::kUnique, fbb.CreateString(w.scope), fbb.CreateString(w.key),
        w.value ? Bytes(fbb, *w.value) : 0));
  }
  auto commit = schema::CreateCommit(
      fbb, first_position, Bytes(fbb, prior_hash), Bytes(fbb, head_hash), ToMillis(batch.at),
      fbb.CreateVector(events), fbb.CreateVector(index), fbb.CreateString(writer));
  schema::FinishCommitBuffer(fbb, commit);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

// The largest commit the stream takes: the servers count the headers too, and the stream
// has its own limit.
int64_t CommitLimit(JetStreamClient& client) {
  return std::min<int64_t>(client.MaxPayload() - kHeaderAllowance, kMaxCommitBytes);
}

// Publishes a commit expecting the stream to end at `expected_last`; a publish without an
// answer (or without a stream leader) is retried with the same message id for
// kPublishPatience, or until `stopping`.
Result<JetStreamClient::Ack> PublishCommit(JetStreamClient& client, const std::string& subject,
                                           const std::string& data, uint64_t expected_last,
                                           const std::atomic<bool>* stopping) {
  const int64_t limit = CommitLimit(client);
  if (static_cast<int64_t>(data.size()) > limit) {
    return MakeError(ErrorKind::kPrecondition, "commit_too_large",
                     "this commit is " + std::to_string(data.size()) +
                         " bytes and the stream takes at most " + std::to_string(limit) +
                         " (the NATS servers' max_payload: docs/scale-out.md)");
  }
  // The message id names these bytes: a retry is the same message, another commit at the
  // same position (another writer's) a different one.
  std::string msg_id = ToHex(Sha256(data));
  Result<JetStreamClient::Ack> ack = Unavailable("not published");
  const auto give_up = std::chrono::steady_clock::now() + kPublishPatience;
  for (;;) {
    ack = client.Publish(subject, data, msg_id, expected_last);
    if (ack.ok() || ack.error().kind != ErrorKind::kUnavailable || (stopping && *stopping) ||
        std::chrono::steady_clock::now() + kPublishRetryWait > give_up) {
      return ack;
    }
    std::this_thread::sleep_for(kPublishRetryWait);
  }
}

Result<Commit> DecodeCommit(std::string_view bytes) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!schema::VerifyCommitBuffer(verifier))
    return Internal("a message of the stream is not a commit");
  const auto* c = schema::GetCommit(bytes.data());
  Commit out;
  out.first_position = c->first_position();
  out.prior_hash = std::string(View(c->prior_hash()));
  out.head_hash = std::string(View(c->head_hash()));
  if (out.prior_hash.size() != kHashSize || out.head_hash.size() != kHashSize) {
    return Internal("a commit's hashes are not 32 bytes");
  }
  out.batch.at = FromMillis(c->at());
  uint64_t position = out.first_position;
  if (c->envelopes()) {
    for (const auto* e : *c->envelopes()) {
      // The copy stores the envelope as the writer did, byte for byte; its header is read
      // for the copy's checks and stream index.
      EnvelopeHeader h;
      std::string envelope(View(e->envelope()));
      CRM_RETURN_IF_ERROR(DecodeEnvelope(envelope, &h, nullptr));
      if (h.position != position++) return Internal("a commit's positions are not dense");
      out.batch.events.push_back(PendingEvent{
          h.stream, h.version, h.actor, h.command_id, h.correlation_id, {}, std::move(envelope)});
    }
  }
  if (c->index()) {
    for (const auto* w : *c->index()) {
      IndexWrite iw;
      iw.index = w->unique() ? Index::kUnique : Index::kIdempotency;
      iw.scope = w->scope() ? w->scope()->str() : "";
      iw.key = w->key() ? w->key()->str() : "";
      if (w->value()) iw.value = std::string(View(w->value()));
      out.batch.index.push_back(std::move(iw));
    }
  }
  return out;
}

class JetStreamEventStore final : public EventStore {
 public:
  JetStreamEventStore(JetStreamOptions options, std::unique_ptr<JetStreamClient> client,
                      std::unique_ptr<EventStore> local, uint64_t applied)
      : options_(std::move(options)),
        client_(std::move(client)),
        local_(std::move(local)),
        applied_(applied) {}

  ~JetStreamEventStore() override { Close(); }

  // Applies every commit up to the stream's last sequence, then follows on a thread.
  Status Start() {
    CRM_ASSIGN_OR_RETURN(auto state, client_->State(options_.stream));
    if (state.last_sequence < applied_) {
      return Internal("this node's copy holds sequence " + std::to_string(applied_) +
                      " but the stream " + options_.stream + " ends at " +
                      std::to_string(state.last_sequence) +
                      ": the copy is another stream's, or the stream lost messages this copy "
                      "holds (NATS acknowledges before it syncs: a cluster that lost power "
                      "everywhere at once): docs/scale-out.md");
    }
    if (state.last_sequence > applied_) {
      CRM_ASSIGN_OR_RETURN(auto follower,
                           client_->Follow(options_.stream, options_.subject, applied_ + 1));
      auto silent_since = std::chrono::steady_clock::now();
      while (applied_ < state.last_sequence) {
        CRM_ASSIGN_OR_RETURN(auto m, follower->Next(std::chrono::milliseconds(500)));
        if (!m) {
          if (std::chrono::steady_clock::now() - silent_since > kCatchUpSilence) {
            return Unavailable("the stream stopped at " + std::to_string(applied_) + " of " +
                               std::to_string(state.last_sequence));
          }
          continue;
        }
        silent_since = std::chrono::steady_clock::now();
        std::lock_guard<std::mutex> lock(apply_mu_);
        CRM_RETURN_IF_ERROR(ApplyMessage(m->sequence, m->data));
        if (options_.progress && (applied_ % 256 == 0 || applied_ == state.last_sequence)) {
          options_.progress(applied_, state.last_sequence);
        }
      }
    }
    follower_ = std::thread([this] { FollowStream(); });
    return Status::Ok();
  }

  Result<uint64_t> Append(const AppendBatch& batch) override {
    std::lock_guard<std::mutex> lock(apply_mu_);
    if (broken_) {
      return Unavailable("this node's copy stopped following the stream: " + broken_->detail);
    }
    uint64_t head = local_->Head();
    if (batch.after && *batch.after != head) {
      return MakeError(ErrorKind::kPrecondition, "head_moved",
                       "the batch was decided at position " + std::to_string(*batch.after) +
                           " but this node's copy of the log ends at " + std::to_string(head) +
                           ": another node wrote to the stream");
    }
    // What the copy would refuse is refused before it is published: once in the stream, a
    // commit is every node's.
    CRM_ASSIGN_OR_RETURN(std::optional<RecordedEvent> last, LastEvent(head));
    CRM_RETURN_IF_ERROR(CheckAgainstCopy(batch, last ? last->at : Time{}));
    const std::string prior = last ? last->hash : kZeroHash;
    std::string hash = prior;
    std::vector<std::string> envelopes;
    uint64_t position = head;
    for (const auto& ev : batch.events) {
      EnvelopeHeader h{++position, ev.stream,     ev.version,       batch.at,
                       ev.actor,   ev.command_id, ev.correlation_id};
      envelopes.push_back(EncodeEnvelope(h, ev.event));
      hash = Sha256(hash, envelopes.back());
    }
    std::string data = EncodeCommit(batch, head + 1, prior, hash, envelopes, options_.node);
    auto ack = PublishCommit(*client_, options_.subject, data, applied_, &stopping_);
    if (!ack.ok()) {
      if (ack.error().code == "wrong_last_sequence") {
        // Another node wrote since this one last read: nothing was stored, and this
        // node's copy takes that node's commits from the stream.
        return MakeError(ErrorKind::kPrecondition, "wrong_last_sequence",
                         "another node has written to the stream since sequence " +
                             std::to_string(applied_) + ", so this batch was not (" +
                             ack.error().detail + ")");
      }
      return ack.error();  // whether it was stored, the stream will tell at the next start
    }
    stream_last_ = std::max(stream_last_.load(), ack->sequence);
    // From here the commit is in the stream: whatever fails is no refusal ("nothing
    // written") but a log this node cannot follow, which the writer must halt on.
    if (ack->sequence != applied_ + 1) {
      Break(Internal("the stream acknowledged this node's commit at " +
                     std::to_string(ack->sequence) + ", not " + std::to_string(applied_ + 1)));
      return Unavailable(broken_->detail);
    }
    if (Status applied = ApplyLocked(ack->sequence, batch, hash); !applied.ok()) {
      return Unavailable("the commit is in the stream but this node's copy could not take it: " +
                         applied.error().detail);
    }
    return head + 1;
  }

  uint64_t Head() const override { return local_->Head(); }
  Result<std::vector<RecordedEvent>> ReadAll(uint64_t from, size_t max_count) const override {
    return local_->ReadAll(from, max_count);
  }
  Result<std::vector<RecordedEvent>> ReadStream(std::string_view stream, uint64_t from_version,
                                                size_t max_count) const override {
    return local_->ReadStream(stream, from_version, max_count);
  }
  Result<std::vector<RecordedEvent>> ReadStreamBetween(std::string_view stream, uint64_t after,
                                                       uint64_t up_to,
                                                       size_t max_count) const override {
    return local_->ReadStreamBetween(stream, after, up_to, max_count);
  }
  Result<uint64_t> StreamVersion(std::string_view stream) const override {
    return local_->StreamVersion(stream);
  }
  Result<uint64_t> PositionAt(Time t) const override { return local_->PositionAt(t); }
  Result<std::optional<std::string>> ReadIndex(Index index, std::string_view scope,
                                               std::string_view key) const override {
    return local_->ReadIndex(index, scope, key);
  }
  uint64_t WaitForHead(uint64_t after, std::chrono::milliseconds timeout) const override {
    return local_->WaitForHead(after, timeout);
  }
  VerifyReport Verify(const VerifyProgress& progress) const override {
    return local_->Verify(progress);
  }
  AppendStats Stats() const override { return local_->Stats(); }

  void Close() override {
    stopping_ = true;
    if (follower_.joinable()) follower_.join();
    local_->Close();
  }

  uint64_t applied() const { return applied_; }

  Status CatchUp(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    CRM_ASSIGN_OR_RETURN(auto state, client_->State(options_.stream));
    for (;;) {
      if (std::string broken = Broken(); !broken.empty()) {
        return Unavailable("this node's copy stopped following: " + broken);
      }
      if (applied_ >= state.last_sequence) return Status::Ok();
      if (std::chrono::steady_clock::now() >= deadline) {
        return Unavailable("this node's copy is at sequence " + std::to_string(applied()) + " of " +
                           std::to_string(state.last_sequence));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  EventStore& local() { return *local_; }

  // Never waits for an append in progress: /health asks.
  ReplicaState State() const {
    uint64_t applied = applied_;
    return {options_.stream, options_.node, applied, std::max(applied, stream_last_.load()),
            Broken()};
  }

 private:
  // The copy's event at `head` (none when the log is empty).
  Result<std::optional<RecordedEvent>> LastEvent(uint64_t head) const {
    if (head == 0) return std::optional<RecordedEvent>();
    CRM_ASSIGN_OR_RETURN(auto last, local_->ReadAll(head, 1));
    if (last.empty()) return Internal("the copy has no event at its head " + std::to_string(head));
    return std::optional<RecordedEvent>(std::move(last.front()));
  }
  Result<std::string> HeadHash(uint64_t head) const {
    CRM_ASSIGN_OR_RETURN(std::optional<RecordedEvent> last, LastEvent(head));
    return last ? last->hash : kZeroHash;
  }

  // With apply_mu_ held: what the copy's own append would refuse (RocksEventStore::Write),
  // `last_at` being the time of the copy's last event.
  Status CheckAgainstCopy(const AppendBatch& batch, Time last_at) const {
    std::unordered_map<std::string_view, uint64_t> versions;
    for (const auto& ev : batch.events) {
      if (ev.stream.empty() || ev.stream.size() > kMaxStreamName ||
          ev.stream.find('\0') != std::string::npos) {
        return Internal("invalid stream name");
      }
      auto it = versions.find(ev.stream);
      uint64_t before = 0;
      if (it != versions.end()) {
        before = it->second;
      } else {
        CRM_ASSIGN_OR_RETURN(before, local_->StreamVersion(ev.stream));
      }
      if (ev.version != before + 1) {
        return MakeError(ErrorKind::kPrecondition, "version_conflict",
                         "version " + std::to_string(ev.version) + " of " + ev.stream +
                             " does not follow the stored stream");
      }
      versions[ev.stream] = ev.version;
    }
    for (const auto& w : batch.index) {
      if (w.scope.empty() || w.scope.find('\0') != std::string::npos) {
        return Internal("invalid index scope");
      }
    }
    if (!batch.events.empty() && batch.at < last_at) {
      return Internal("the batch's time is earlier than the log's last event");
    }
    return Status::Ok();
  }

  // With apply_mu_ held: the copy cannot follow the stream any more.
  void Break(Error e) {
    std::lock_guard<std::mutex> lock(broken_mu_);
    broken_detail_ = e.detail;
    broken_ = std::move(e);
  }
  std::string Broken() const {
    std::lock_guard<std::mutex> lock(broken_mu_);
    return broken_detail_;
  }

  // With apply_mu_ held: a commit read from the stream at `sequence`.
  Status ApplyMessage(uint64_t sequence, std::string_view data) {
    if (sequence <= applied_) return Status::Ok();  // this node's own, applied at its append
    if (sequence != applied_ + 1) {
      return Internal("the stream skipped from " + std::to_string(applied_) + " to " +
                      std::to_string(sequence));
    }
    CRM_ASSIGN_OR_RETURN(Commit c, DecodeCommit(data));
    uint64_t head = local_->Head();
    CRM_ASSIGN_OR_RETURN(std::string prior, HeadHash(head));
    if (c.first_position != head + 1 || c.prior_hash != prior) {
      return Internal("commit " + std::to_string(sequence) + " starts at position " +
                      std::to_string(c.first_position) + " but this node's copy ends at " +
                      std::to_string(head) + " (or with another hash)");
    }
    return ApplyLocked(sequence, c.batch, c.head_hash);
  }

  // With apply_mu_ held: writes the commit to the copy with its sequence, and checks that
  // the copy ends with the commit's hash.
  Status ApplyLocked(uint64_t sequence, const AppendBatch& batch, const std::string& head_hash) {
    AppendBatch local = batch;
    std::string value;
    PutFixed64(&value, sequence);
    local.index.push_back(IndexWrite{Index::kUnique, std::string(kReplicationScope),
                                     std::string(kSequenceKey), value});
    auto written = local_->Append(local);
    if (!written.ok()) {
      Break(written.error());
      return written.error();
    }
    applied_ = sequence;
    auto now = HeadHash(local_->Head());
    if (!now.ok() || *now != head_hash) {
      Break(Internal("this node's copy does not end with commit " + std::to_string(sequence) +
                     "'s hash: the copies differ"));
      return *broken_;
    }
    return Status::Ok();
  }

  // The follower's thread: applies the commits other nodes publish, in order, until the
  // store closes; a broken subscription is made again from the next sequence.
  void FollowStream() {
    while (!stopping_) {
      auto follower = client_->Follow(options_.stream, options_.subject, applied() + 1);
      if (!follower.ok()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      while (!stopping_) {
        auto m = (*follower)->Next(std::chrono::milliseconds(250));
        if (!m.ok()) {
          // A gap is for good: the copy cannot follow past it. Anything else (a lost
          // connection, missed heartbeats): subscribe again from the next sequence.
          if (m.error().kind == ErrorKind::kInternal) {
            std::lock_guard<std::mutex> lock(apply_mu_);
            Break(m.error());
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(250));
          break;
        }
        if (!*m) continue;
        std::lock_guard<std::mutex> lock(apply_mu_);
        stream_last_ = std::max(stream_last_.load(), (*m)->sequence + (*m)->pending);
        if (broken_) return;
        if ((*m)->sequence > applied_ + 1) break;
        if (Status s = ApplyMessage((*m)->sequence, (*m)->data); !s.ok()) {
          Break(s.error());
          return;
        }
      }
    }
  }

  const JetStreamOptions options_;
  std::unique_ptr<JetStreamClient> client_;
  std::unique_ptr<EventStore> local_;
  mutable std::mutex apply_mu_;  // one commit applied at a time, by Append or the follower
  // The last stream sequence in the copy (written with apply_mu_ held), and the stream's
  // as the follower last heard.
  std::atomic<uint64_t> applied_;
  std::atomic<uint64_t> stream_last_{0};
  std::optional<Error> broken_;   // once the copy could not follow: every Append refused
  mutable std::mutex broken_mu_;  // broken_detail_, for readers that must not wait
  std::string broken_detail_;
  std::atomic<bool> stopping_{false};
  std::thread follower_;
};

// Refuses a copy of a stream that crmctl migrate --to-stream began and did not finish.
Status NoUnfinishedMigration(const EventStore& copy, const std::string& stream) {
  CRM_ASSIGN_OR_RETURN(auto unfinished,
                       copy.ReadIndex(Index::kUnique, kMigrationScope, kUnfinishedKey));
  if (!unfinished) return Status::Ok();
  return MakeError(ErrorKind::kPrecondition, "migration_unfinished",
                   "the stream " + stream +
                       " holds a migration that did not finish (crmctl migrate --to-stream "
                       "stopped half way): delete the stream and migrate again");
}

}  // namespace

Result<std::unique_ptr<EventStore>> OpenJetStreamEventStore(const JetStreamOptions& options) {
  CRM_ASSIGN_OR_RETURN(auto client, JetStreamClient::Connect({options.servers, options.node}));
  CRM_RETURN_IF_ERROR(client->EnsureStream({options.stream, options.subject, options.replicas,
                                            kMaxCommitBytes, std::chrono::seconds(120)}));
  CRM_ASSIGN_OR_RETURN(auto local, OpenRocksEventStore(options.local));
  uint64_t applied = 0;
  CRM_ASSIGN_OR_RETURN(auto stored,
                       local->ReadIndex(Index::kUnique, kReplicationScope, kSequenceKey));
  if (stored) {
    if (stored->size() != 8) return Internal("the copy's replication sequence is corrupt");
    applied = GetFixed64(*stored);
  } else if (local->Head() > 0) {
    return Internal(
        "the data dir holds a log that is not a copy of a stream (migrate it with "
        "crmctl migrate)");
  }
  auto store =
      std::make_unique<JetStreamEventStore>(options, std::move(client), std::move(local), applied);
  CRM_RETURN_IF_ERROR(store->Start());
  CRM_RETURN_IF_ERROR(NoUnfinishedMigration(store->local(), options.stream));
  return std::unique_ptr<EventStore>(std::move(store));
}

uint64_t AppliedSequence(const EventStore& store) {
  const auto* js = dynamic_cast<const JetStreamEventStore*>(&store);
  return js ? js->applied() : 0;
}

Status CatchUpWithStream(EventStore& store, std::chrono::milliseconds timeout) {
  auto* js = dynamic_cast<JetStreamEventStore*>(&store);
  if (!js) return Unavailable("the log is not on a JetStream stream");
  return js->CatchUp(timeout);
}

EventStore& LocalLog(EventStore& store) {
  auto* js = dynamic_cast<JetStreamEventStore*>(&store);
  return js ? js->local() : store;
}

std::optional<ReplicaState> ReplicaOf(const EventStore& store) {
  const auto* js = dynamic_cast<const JetStreamEventStore*>(&store);
  if (!js) return std::nullopt;
  return js->State();
}

std::vector<std::string> ServerList(std::string_view comma_separated) {
  return domain::SplitNonEmpty(comma_separated, ',');
}

std::string StreamNameProblem(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 200;
  for (char c : name)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
  return ok ? "" : "a stream's name is 1 to 200 letters, digits, - and _";
}

bool IsStreamCopy(const EventStore& log) {
  auto stored = log.ReadIndex(Index::kUnique, kReplicationScope, kSequenceKey);
  return !stored.ok() || stored->has_value();
}

Result<MigrationReport> MigrateToStream(const EventStore& source, const JetStreamOptions& options,
                                        const MigrationProgress& progress) {
  if (IsStreamCopy(source)) {
    return InvalidField("--data-dir", "its log is a copy of a stream already");
  }
  CRM_ASSIGN_OR_RETURN(auto client, JetStreamClient::Connect({options.servers, options.node}));
  CRM_RETURN_IF_ERROR(client->EnsureStream({options.stream, options.subject, options.replicas,
                                            kMaxCommitBytes, std::chrono::seconds(120)}));
  CRM_ASSIGN_OR_RETURN(auto state, client->State(options.stream));
  if (state.last_sequence != 0) {
    return MakeError(ErrorKind::kPrecondition, "stream_not_empty",
                     "the stream " + options.stream + " holds " +
                         std::to_string(state.last_sequence) +
                         " messages already: a log is migrated into a new stream only");
  }
  // Each commit is filled up to the stream's limit, less room for the commit's own fields.
  const int64_t room = CommitLimit(*client) - 4096;
  const uint64_t head = source.Head();
  MigrationReport report;
  std::string prior(kHashSize, '\0');  // the chain hash before the pending commit
  AppendBatch pending;                 // its `at` and index writes
  // The first commit says the migration is unfinished; the last one, that it is done.
  pending.index.push_back(IndexWrite{Index::kUnique, std::string(kMigrationScope),
                                     std::string(kUnfinishedKey), options.node});
  std::vector<std::string> envelopes;  // its events
  std::string hash = prior;            // the chain hash after it
  int64_t bytes = 0;
  auto publish = [&]() -> Status {
    if (envelopes.empty() && pending.index.empty()) return Status::Ok();
    uint64_t first = report.events - envelopes.size() + 1;
    std::string data = EncodeCommit(pending, first, prior, hash, envelopes, options.node);
    CRM_ASSIGN_OR_RETURN(auto ack,
                         PublishCommit(*client, options.subject, data, report.sequence, nullptr));
    if (ack.sequence != report.sequence + 1) {
      return Internal("the stream took commit " + std::to_string(report.sequence + 1) + " as " +
                      std::to_string(ack.sequence) + ": another writer uses it");
    }
    report.sequence = ack.sequence;
    prior = hash;
    envelopes.clear();
    pending.index.clear();
    bytes = 0;
    if (progress) progress(report.events, head);
    return Status::Ok();
  };
  for (uint64_t from = 1; from <= head;) {
    CRM_ASSIGN_OR_RETURN(auto chunk, ReadStoredEvents(source, from, 1024));
    if (chunk.empty()) return Internal("the log ends before its head " + std::to_string(head));
    for (auto& e : chunk) {
      EnvelopeHeader h;
      CRM_RETURN_IF_ERROR(DecodeEnvelope(e.envelope, &h, nullptr));
      // The chain is checked as it is copied: what is published is what verifies.
      std::string next = Sha256(hash, e.envelope);
      if (next != e.hash || h.position != e.position) {
        return Internal("the log does not verify at position " + std::to_string(e.position) +
                        ": nothing after it is migrated (crmctl verify)");
      }
      int64_t size = static_cast<int64_t>(e.envelope.size()) + kEntryOverhead;
      if (size > room) {
        return MakeError(ErrorKind::kPrecondition, "commit_too_large",
                         "the event at position " + std::to_string(e.position) + " is " +
                             std::to_string(e.envelope.size()) +
                             " bytes, more than the stream takes (the NATS servers' "
                             "max_payload: docs/scale-out.md)");
      }
      if (bytes + size > room) CRM_RETURN_IF_ERROR(publish());
      envelopes.push_back(std::move(e.envelope));
      hash = std::move(next);
      pending.at = h.at;
      bytes += size;
      ++report.events;
    }
    from = chunk.back().position + 1;
  }
  CRM_RETURN_IF_ERROR(publish());
  // Then every index entry: unique keys (the credentials among them) and idempotency
  // records, in index-only commits.
  Status published = Status::Ok();
  CRM_RETURN_IF_ERROR(ScanIndexes(source, [&](const IndexWrite& w) {
    int64_t size =
        static_cast<int64_t>(w.scope.size() + w.key.size() + w.value->size()) + kEntryOverhead;
    if (bytes + size > room) published = publish();
    if (!published.ok()) return false;
    pending.index.push_back(w);
    bytes += size;
    ++report.index_entries;
    return true;
  }));
  CRM_RETURN_IF_ERROR(published);
  pending.index.push_back(IndexWrite{Index::kUnique, std::string(kMigrationScope),
                                     std::string(kUnfinishedKey), std::nullopt});
  CRM_RETURN_IF_ERROR(publish());
  report.head_hash = ToHex(hash);
  return report;
}

Status MarkAsCopy(EventStore& log, uint64_t sequence) {
  CRM_ASSIGN_OR_RETURN(auto last, log.ReadAll(log.Head(), 1));
  AppendBatch mark;
  if (!last.empty()) mark.at = last.front().at;
  std::string value;
  PutFixed64(&value, sequence);
  mark.index.push_back(
      IndexWrite{Index::kUnique, std::string(kReplicationScope), std::string(kSequenceKey), value});
  CRM_RETURN_IF_ERROR(log.Append(mark));
  return Status::Ok();
}

Result<MigrationReport> MigrateFromStream(const JetStreamOptions& options,
                                          const MigrationProgress& progress) {
  std::error_code ec;
  if (std::filesystem::exists(options.local.path, ec) &&
      !std::filesystem::is_empty(options.local.path, ec)) {
    return InvalidField("--data-dir", options.local.path + " is not empty");
  }
  CRM_ASSIGN_OR_RETURN(auto client, JetStreamClient::Connect({options.servers, options.node}));
  CRM_ASSIGN_OR_RETURN(auto state, client->State(options.stream));
  MigrationReport report;
  {
    // A copy of the stream, as a node keeps it, brought up to the stream's last sequence.
    JetStreamOptions copy = options;
    copy.progress = progress;
    CRM_ASSIGN_OR_RETURN(auto local, OpenRocksEventStore(copy.local));
    JetStreamEventStore store(copy, std::move(client), std::move(local), 0);
    CRM_RETURN_IF_ERROR(store.Start());
    Status whole = NoUnfinishedMigration(store.local(), options.stream);
    store.Close();
    CRM_RETURN_IF_ERROR(whole);
    report.sequence = store.applied();
    if (report.sequence < state.last_sequence) {
      return Unavailable("the stream ended at " + std::to_string(report.sequence) + " of " +
                         std::to_string(state.last_sequence));
    }
  }
  // Then a plain log: without the sequence of the stream it was a copy of.
  CRM_ASSIGN_OR_RETURN(auto log, OpenRocksEventStore(options.local));
  CRM_ASSIGN_OR_RETURN(auto last, log->ReadAll(log->Head(), 1));
  AppendBatch plain;
  if (!last.empty()) plain.at = last.front().at;
  plain.index.push_back(
      IndexWrite{Index::kUnique, std::string(kReplicationScope), std::string(kSequenceKey), {}});
  CRM_RETURN_IF_ERROR(log->Append(plain));
  report.events = log->Head();
  report.head_hash = last.empty() ? ToHex(std::string(kHashSize, '\0')) : ToHex(last.front().hash);
  CRM_RETURN_IF_ERROR(ScanIndexes(*log, [&](const IndexWrite&) {
    ++report.index_entries;
    return true;
  }));
  log->Close();
  return report;
}

}  // namespace crm::eventstore
