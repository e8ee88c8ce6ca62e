#include "eventstore/jetstream_event_store.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "eventstore/coding.h"
#include "eventstore/event_codec.h"
#include "eventstore/jetstream_client.h"
#include "eventstore/sha256.h"
#include "schemas/replication_generated.h"

namespace crm::eventstore {
namespace {

constexpr std::string_view kReplicationScope = "$replication";
constexpr std::string_view kSequenceKey = "sequence";
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
      EnvelopeHeader h;
      domain::Event event;
      CRM_RETURN_IF_ERROR(DecodeEnvelope(View(e->envelope()), &h, &event));
      if (h.position != position++) return Internal("a commit's positions are not dense");
      out.batch.events.push_back(PendingEvent{h.stream, h.version, h.actor, h.command_id,
                                              h.correlation_id, std::move(event)});
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
    // The server counts the headers too; the stream has its own limit.
    const int64_t limit =
        std::min<int64_t>(client_->MaxPayload() - kHeaderAllowance, kMaxCommitBytes);
    if (static_cast<int64_t>(data.size()) > limit) {
      return MakeError(ErrorKind::kPrecondition, "commit_too_large",
                       "this commit is " + std::to_string(data.size()) +
                           " bytes and the stream takes at most " + std::to_string(limit) +
                           " (the NATS servers' max_payload: docs/scale-out.md)");
    }
    // The message id names these bytes: a retry is the same message, another commit at
    // the same position (another writer's) a different one.
    std::string msg_id = ToHex(Sha256(data));
    Result<JetStreamClient::Ack> ack = Unavailable("not published");
    const auto give_up = std::chrono::steady_clock::now() + kPublishPatience;
    for (;;) {
      ack = client_->Publish(options_.subject, data, msg_id, applied_);
      if (ack.ok() || ack.error().kind != ErrorKind::kUnavailable || stopping_ ||
          std::chrono::steady_clock::now() + kPublishRetryWait > give_up) {
        break;
      }
      std::this_thread::sleep_for(kPublishRetryWait);
    }
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

}  // namespace crm::eventstore
