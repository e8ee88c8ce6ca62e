// The embedded implementation of EventStore on RocksDB. Only this factory is public;
// the class lives in rocks_event_store.cc. The on-disk format is in log_format.h.
#ifndef CRM_EVENTSTORE_ROCKS_EVENT_STORE_H_
#define CRM_EVENTSTORE_ROCKS_EVENT_STORE_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "eventstore/event_store.h"

namespace crm::eventstore {

struct StoreOptions {
  std::string path;        // created when missing
  bool read_only = false;  // open for reading only (crmctl on a stopped server)
  // The lifetime of the idempotency index's records: those for which this says true are
  // dropped when RocksDB compacts them (the store does not know what a record holds; the
  // writer does). Null: kept for ever. Called on RocksDB's compaction threads: thread-safe.
  std::function<bool(std::string_view record)> idempotency_expired = nullptr;
  // RocksDB's periodic compaction of the idempotency index's files older than this, so
  // that expired records go in time even when few new ones come (RocksDB 7.8 checks for
  // such files when the index flushes or compacts); 0: only as data comes.
  std::chrono::seconds idempotency_compaction{0};
};

// Opens (or creates) the log at options.path. Fails with
// kUnavailable when another process holds the directory, kInternal when it cannot be
// read or is inconsistent.
Result<std::unique_ptr<EventStore>> OpenRocksEventStore(const StoreOptions& options);

// Compacts the idempotency index of a store opened above, now (tests, maintenance).
Status CompactIdempotencyIndex(EventStore& store);

// An event of a store opened above as it is stored: its chain hash and envelope bytes,
// for copying a log byte for byte (PendingEvent::envelope; crmctl migrate).
struct StoredEvent {
  uint64_t position = 0;
  std::string hash;  // 32 raw bytes: the chain hash after it
  std::string envelope;
};
Result<std::vector<StoredEvent>> ReadStoredEvents(const EventStore& store, uint64_t from,
                                                  size_t max_count);
// Calls fn with every entry of both indexes of a store opened above (as a write that would
// put it), until it returns false.
Status ScanIndexes(const EventStore& store, const std::function<bool(const IndexWrite&)>& fn);

// A consistent copy of a store opened above in `dest` (which must not exist): every
// column family at one point, so the head and its hash agree with the events (RocksDB's
// checkpoint: hard links where it can). Appends go on meanwhile.
Status CheckpointRocksEventStore(EventStore& store, const std::string& dest);

}  // namespace crm::eventstore

#endif  // CRM_EVENTSTORE_ROCKS_EVENT_STORE_H_
