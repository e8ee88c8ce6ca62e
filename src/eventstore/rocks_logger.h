// RocksDB's own log (the file LOG in each store's directory), written through stdio with
// every error ignored. RocksDB's file logger, in the build Debian ships (assertions kept),
// aborts the process at the next line after a write of LOG failed: a full or failing disk
// would then kill crmd on a log line, where the log's data is handled (the writer halts,
// reads go on). With this logger a line the disk refuses is lost, and nothing else.
#ifndef CRM_EVENTSTORE_ROCKS_LOGGER_H_
#define CRM_EVENTSTORE_ROCKS_LOGGER_H_

#include <rocksdb/env.h>

#include <memory>
#include <string>

namespace crm::eventstore {

// A logger appending to DIR/LOG, which it renames DIR/LOG.old past 64 MB and begins
// again; nullptr when the file cannot be opened (RocksDB then opens its own).
std::shared_ptr<rocksdb::Logger> NewStoreLogger(const std::string& dir);

}  // namespace crm::eventstore

#endif  // CRM_EVENTSTORE_ROCKS_LOGGER_H_
