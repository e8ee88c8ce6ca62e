// The event log: the only source of truth. This is the interface the rest of the code
// sees; `OpenRocksEventStore` (rocks_event_store.h) is its embedded implementation.
//
// Guarantees:
//  - Writes go through one writer thread. Submissions queue; the writer takes every
//    queued submission as one batch, runs each one's decision in order (a decision sees
//    everything staged before it in the batch), and writes the whole batch as one
//    RocksDB WriteBatch with sync=true: one fsync per batch (group commit). A
//    submission's `done` runs only after its batch is durable.
//  - A submission's events are appended all or nothing, to one or many streams.
//  - Expected versions: a mismatch refuses the submission (412 version_conflict) and
//    nothing of it is written.
//  - Unique keys are claimed in the same batch as the events; a key held by another
//    owner refuses the submission (409, `existing_id` names the holder).
//  - Idempotency keys are stored with the reply in the same batch; a retry with the same
//    request gets the stored reply, a different request 422 idempotency_key_reused.
//  - Positions are global, dense and start at 1; versions per stream start at 1.
//  - Every event is chained: hash(n) = SHA-256(hash(n-1) || envelope bytes of n), with
//    hash(0) = 32 zero bytes. `Verify` recomputes the chain.
#ifndef CRM_EVENTSTORE_EVENT_STORE_H_
#define CRM_EVENTSTORE_EVENT_STORE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/decide.h"
#include "domain/events.h"
#include "domain/result.h"
#include "eventstore/event_codec.h"

namespace crm::eventstore {

// One stored event: its envelope header, the event, and the chain hash after it.
struct RecordedEvent : EnvelopeHeader {
  domain::Event event;
  std::string hash;  // 32 raw bytes

  domain::EventMeta meta() const { return {stream, version, position, at, actor}; }
};

// What a decision asks the store to write.
struct Proposal {
  std::vector<domain::NewEvent> events;
  std::vector<domain::UniqueKey> unique_keys;
  // stream → the version it must have now (0: the stream must not exist yet).
  std::map<std::string, uint64_t> expected_versions;
};

// The reply to a command, stored with its idempotency key.
struct Reply {
  int status = 200;
  std::string body;
  uint64_t position = 0;  // the log position the reply reflects
  bool replayed = false;  // served from the idempotency record of an earlier request
};

// What a committed submission wrote.
struct CommitInfo {
  uint64_t first_position = 0;  // 0 when nothing was appended
  uint64_t last_position = 0;   // the log head after this submission
  std::map<std::string, uint64_t> stream_versions;  // each touched stream's new version
  Time at;
};

// A decision's view of the store: the log plus everything staged earlier in its batch.
class WriterView {
 public:
  virtual ~WriterView() = default;
  // The time the decision is made (never earlier than any stored event's time).
  virtual Time now() const = 0;
  virtual uint64_t StreamVersion(std::string_view stream) const = 0;
  virtual std::optional<std::string> UniqueOwner(std::string_view scope,
                                                 std::string_view key) const = 0;
};

struct Submission {
  std::string actor;
  std::string command_id;
  std::string correlation_id;
  // When set: (scope, key, request hash). Scope keeps callers' keys apart (the actor).
  struct Idempotency {
    std::string scope;
    std::string key;
    std::string request_hash;
  };
  std::optional<Idempotency> idempotency;
  // Runs on the writer thread; returns what to append or why not.
  std::function<Result<Proposal>(const WriterView&)> decide;
  // Runs on the writer thread once the proposal is staged; the reply to store with the
  // idempotency key. May be empty when there is no key.
  std::function<Reply(const CommitInfo&)> make_reply;
  // Runs exactly once on the writer thread after the batch is durable (or failed):
  // the reply (fresh, or stored for a retried key) or the error. Must not block.
  std::function<void(Result<Reply>, const CommitInfo&)> done;
};

// Told about every event as it is staged, on the writer thread, so that a decision model
// can follow. `Aborted` means the batch was not written: staged events are void.
class WriteObserver {
 public:
  virtual ~WriteObserver() = default;
  virtual void Staged(const RecordedEvent& event) = 0;
  virtual void Aborted() = 0;
};

struct VerifyReport {
  bool ok = true;
  uint64_t events = 0;
  uint64_t head_position = 0;
  std::string head_hash;  // hex
  uint64_t first_bad_position = 0;
  std::string detail;
};

struct WriterStats {
  uint64_t batches = 0;
  uint64_t submissions = 0;
  uint64_t events = 0;
  uint64_t largest_batch = 0;
  uint64_t failed_batches = 0;
  // Histogram buckets of batch sizes (1, 2-4, 5-16, 17-64, 65+), of fsync latency in
  // microseconds (<=250, <=1000, <=4000, <=16000, <=64000, more) and their sums.
  std::vector<uint64_t> batch_size_buckets;
  std::vector<uint64_t> fsync_micros_buckets;
  uint64_t fsync_micros_sum = 0;
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Queues a submission for the writer. Thread-safe; never blocks on I/O.
  // After Close(), `done` gets 503 unavailable at once.
  virtual void Submit(Submission submission) = 0;

  // Sets the observer of staged events. Call before the first Submit.
  virtual void SetObserver(WriteObserver* observer) = 0;

  // The last durable position (0 for an empty log). Thread-safe.
  virtual uint64_t Head() const = 0;

  // Events from `from_position` on, at most `max_count`. Thread-safe.
  virtual Result<std::vector<RecordedEvent>> ReadAll(uint64_t from_position,
                                                     size_t max_count) const = 0;
  // One stream's events from `from_version` on, at most `max_count`.
  virtual Result<std::vector<RecordedEvent>> ReadStream(std::string_view stream,
                                                        uint64_t from_version,
                                                        size_t max_count) const = 0;
  // One stream's events whose positions lie in (after_position, up_to_position], oldest
  // first. Finds the first one by a binary search over the stream's versions, so the cost
  // does not grow with the events before the window.
  virtual Result<std::vector<RecordedEvent>> ReadStreamBetween(std::string_view stream,
                                                               uint64_t after_position,
                                                               uint64_t up_to_position) const = 0;
  // The current version of a stream (0 when it does not exist).
  virtual Result<uint64_t> StreamVersion(std::string_view stream) const = 0;
  // The last position whose event was recorded at or before `t` (0 if none).
  virtual Result<uint64_t> PositionAt(Time t) const = 0;

  // Blocks until Head() > after, the timeout passes or the store closes; returns Head().
  virtual uint64_t WaitForHead(uint64_t after, std::chrono::milliseconds timeout) const = 0;
  // Calls `listener(head)` on the writer thread after each durable batch. Must not block.
  virtual void AddListener(std::function<void(uint64_t head)> listener) = 0;

  // Recomputes the hash chain from position 1 and checks it against the stored hashes
  // and the stored head.
  virtual VerifyReport Verify() const = 0;

  virtual WriterStats Stats() const = 0;

  // Stops the writer after the queued submissions are done. Idempotent.
  virtual void Close() = 0;
};

// Lower-case hex of raw bytes.
std::string ToHex(std::string_view bytes);

}  // namespace crm::eventstore

#endif  // CRM_EVENTSTORE_EVENT_STORE_H_
