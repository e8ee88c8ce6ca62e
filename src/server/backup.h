// Backups of a data dir (docs/operations.md): a consistent copy of the log, of the read
// models' store (which holds the token and password hashes too) and of the decision-model
// snapshots, taken while crmd serves; and their restore into a new data dir.
//
//   DEST/log         the log, at one point (RocksDB checkpoint)
//   DEST/readmodels  the read models, copied before the log: never ahead of it, and a
//                    start folds in what they lack
//   DEST/snapshots   the decision-model snapshots (derived, for a short start)
//   DEST/backup.json {"format": 1, "head": N, "head_hash": hex, "created_at": RFC 3339}
//
// A running crmd takes backups through its control socket, DIR/crmd.sock (owner only, and
// only a peer of the same user): one request a line, `backup DEST`, answered by one line,
// the manifest as JSON or {"error": ...}. `crmctl backup` asks it there, or, when no crmd
// runs on DIR, copies the stores itself.
#ifndef CRM_SERVER_BACKUP_H_
#define CRM_SERVER_BACKUP_H_

#include <functional>
#include <memory>
#include <string>

#include "domain/result.h"
#include "domain/time.h"
#include "eventstore/event_store.h"
#include "projections/local_store.h"

namespace crm::server {

inline constexpr int kBackupFormat = 1;

struct BackupManifest {
  uint64_t head = 0;
  std::string head_hash;  // hex
  std::string created_at;
  std::string ToJson() const;
};

// Copies the stores of `data_dir` (open as `log` and `local`) into `dest`, which must not
// exist; on failure nothing is left at `dest`.
Result<BackupManifest> Backup(eventstore::EventStore& log, const projections::LocalStore& local,
                              const std::string& data_dir, const std::string& dest, Time now);

// Copies the backup at `from` into `data_dir`, which must not exist or be empty, and
// checks it: the whole hash chain verifies and ends at the manifest's head and hash. On
// failure nothing is left at `data_dir`.
Result<BackupManifest> Restore(const std::string& from, const std::string& data_dir);

// crmd's control socket: answers each line a peer of the same user sends with
// `handle(line)`, one line back. Runs a thread of its own.
class ControlSocket {
 public:
  static Result<std::unique_ptr<ControlSocket>> Start(
      const std::string& path, std::function<std::string(const std::string&)> handle);
  ~ControlSocket();  // stops, and removes the socket file

 private:
  ControlSocket() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The control socket's answer for a request it refuses: {"error": why}.
std::string ControlError(const std::string& why);

// Sends one line to the control socket at `path` and returns the answer's line;
// kUnavailable when nothing listens there.
Result<std::string> AskControlSocket(const std::string& path, const std::string& line);

}  // namespace crm::server

#endif  // CRM_SERVER_BACKUP_H_
