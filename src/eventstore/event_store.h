// The event log: the only source of truth. This is the interface the rest of the code
// sees; `OpenRocksEventStore` (rocks_event_store.h) is its embedded implementation. It
// knows events, streams, positions and two small indexes; nothing of commands, business
// rules or HTTP (the writer, src/writer, decides what to append).
//
// Guarantees:
//  - Append writes a batch of events, its index entries and the new head all or nothing,
//    and durably: it returns only once the batch is synced to disk.
//  - Positions are global, dense and start at 1; versions per stream start at 1. Append
//    refuses a batch whose events do not continue their streams (a second writer).
//  - Every event is chained: hash(n) = SHA-256(hash(n-1) || envelope bytes of n), with
//    hash(0) = 32 zero bytes. `Verify` recomputes the chain and checks where it ends
//    against the stored head.
//  - Reads see only durable events.
#ifndef CRM_EVENTSTORE_EVENT_STORE_H_
#define CRM_EVENTSTORE_EVENT_STORE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/events.h"
#include "domain/result.h"
#include "eventstore/event_codec.h"
#include "eventstore/histogram.h"

namespace crm::eventstore {

// One stored event: its envelope header, the event, and the chain hash after it.
struct RecordedEvent : EnvelopeHeader {
  domain::Event event;
  std::string hash;  // 32 raw bytes

  domain::EventMeta meta() const { return {stream, version, position, at, actor}; }
};

// An event to append: all of its header but the position and hash, which the store
// assigns.
struct PendingEvent {
  std::string stream;    // non-empty, at most 200 bytes, no NUL
  uint64_t version = 0;  // the stream's version once this event is in: one more than before
  std::string actor;
  std::string command_id;
  std::string correlation_id;
  domain::Event event;
  // The event as another log stored it (a copy of a log: a replicated stream's commit, a
  // migration): its envelope bytes, stored byte for byte instead of an encoding of the
  // fields above. Its position must be the one the event gets, its stream and version
  // those above, and its time no later than the batch's `at`.
  std::string envelope{};
};

// The store's two indexes, kept beside the events and written in the same batch.
enum class Index {
  kUnique,       // (scope, key) → the stream that holds the key
  kIdempotency,  // (scope, key) → an opaque record (the writer's)
};

// An index entry to put, or (`value` empty) to remove.
struct IndexWrite {
  Index index = Index::kUnique;
  std::string scope;  // non-empty, no NUL
  std::string key;
  std::optional<std::string> value;
};

// What one Append writes.
struct AppendBatch {
  Time at;  // recorded on each event (but a copied envelope); never earlier than the last one's
  std::vector<PendingEvent> events;  // in log order
  std::vector<IndexWrite> index;
  // The head the batch was decided on: when set, the batch is refused unless the log
  // still ends there (a replicated log's copy may have taken another node's commit).
  std::optional<uint64_t> after{};
};

struct VerifyReport {
  bool ok = true;
  uint64_t events = 0;
  uint64_t head_position = 0;
  std::string head_hash;  // hex
  uint64_t first_bad_position = 0;
  std::string detail;
};

struct AppendStats {
  uint64_t appends = 0;
  uint64_t events = 0;
  uint64_t failed = 0;
  // The time one Append takes, write and sync, in microseconds.
  Histogram micros{{250, 1000, 4000, 16000, 64000}};
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Appends the batch's events at the next positions, its index writes and the new head,
  // atomically, and syncs them before returning the position of its first event (the
  // others follow densely; a batch without events returns Head() + 1). Refuses the whole
  // batch when an event does not continue its stream (kPrecondition "version_conflict"),
  // when the head is not `batch.after` (kPrecondition "head_moved"), when another node
  // wrote to a replicated log first (kPrecondition "wrong_last_sequence"), or when
  // storage fails (kUnavailable); nothing is written then (after kUnavailable: as far as
  // anyone knows). One caller at a time: the writer.
  virtual Result<uint64_t> Append(const AppendBatch& batch) = 0;

  // The last durable position (0 for an empty log). Thread-safe, like every read below.
  virtual uint64_t Head() const = 0;

  // Events from `from_position` on, at most `max_count`.
  virtual Result<std::vector<RecordedEvent>> ReadAll(uint64_t from_position,
                                                     size_t max_count) const = 0;
  // One stream's events from `from_version` on, at most `max_count`.
  virtual Result<std::vector<RecordedEvent>> ReadStream(std::string_view stream,
                                                        uint64_t from_version,
                                                        size_t max_count) const = 0;
  // One stream's events whose positions lie in (after_position, up_to_position], oldest
  // first, at most `max_count`. Finds the first one by a binary search over the stream's
  // versions, so the cost does not grow with the events before the window.
  virtual Result<std::vector<RecordedEvent>> ReadStreamBetween(std::string_view stream,
                                                               uint64_t after_position,
                                                               uint64_t up_to_position,
                                                               size_t max_count) const = 0;
  // The current version of a stream (0 when it does not exist).
  virtual Result<uint64_t> StreamVersion(std::string_view stream) const = 0;
  // The last position whose event was recorded at or before `t` (0 if none).
  virtual Result<uint64_t> PositionAt(Time t) const = 0;
  // An index entry, or nullopt when there is none.
  virtual Result<std::optional<std::string>> ReadIndex(Index index, std::string_view scope,
                                                       std::string_view key) const = 0;

  // Blocks until Head() > after, the timeout passes or the store closes; returns Head().
  virtual uint64_t WaitForHead(uint64_t after, std::chrono::milliseconds timeout) const = 0;

  // Recomputes the hash chain from position 1 and checks it against the stored hashes
  // and the stored head, on one consistent reading of the log (appends may go on beside
  // it; the report covers the log as it was when verification began). `progress`, when
  // set, is called now and then with the events checked so far and the head being checked
  // to; when it returns false, verification stops (the report then says so: not ok,
  // first_bad_position 0).
  using VerifyProgress = std::function<bool(uint64_t checked, uint64_t head)>;
  virtual VerifyReport Verify(const VerifyProgress& progress) const = 0;
  VerifyReport Verify() const { return Verify(nullptr); }

  virtual AppendStats Stats() const = 0;

  // Refuses appends from now on and wakes whoever waits in WaitForHead. Idempotent.
  virtual void Close() = 0;
};

}  // namespace crm::eventstore

#endif  // CRM_EVENTSTORE_EVENT_STORE_H_
