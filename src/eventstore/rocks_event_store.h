// The embedded implementation of EventStore on RocksDB. Only this factory is public;
// the class lives in rocks_event_store.cc. The on-disk format is in log_format.h.
#ifndef CRM_EVENTSTORE_ROCKS_EVENT_STORE_H_
#define CRM_EVENTSTORE_ROCKS_EVENT_STORE_H_

#include <memory>
#include <string>

#include "eventstore/event_store.h"

namespace crm::eventstore {

struct StoreOptions {
  std::string path;        // created when missing
  bool read_only = false;  // open for reading only (crmctl on a stopped server)
};

// Opens (or creates) the log at options.path. Fails with
// kUnavailable when another process holds the directory, kInternal when it cannot be
// read or is inconsistent.
Result<std::unique_ptr<EventStore>> OpenRocksEventStore(const StoreOptions& options);

}  // namespace crm::eventstore

#endif  // CRM_EVENTSTORE_ROCKS_EVENT_STORE_H_
