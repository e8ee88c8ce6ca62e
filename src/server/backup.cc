#include "server/backup.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "eventstore/coding.h"
#include "eventstore/rocks_event_store.h"
#include "writer/model_snapshot.h"

namespace crm::server {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Status SyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  bool ok = fd >= 0 && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok) return Internal("cannot sync " + path + ": " + std::strerror(errno));
  return Status::Ok();
}

// The head and its hash of the log at `dir`, and whether its whole chain verifies.
Result<BackupManifest> ReadHead(const std::string& dir, bool verify) {
  CRM_ASSIGN_OR_RETURN(auto log, eventstore::OpenRocksEventStore({dir, true}));
  BackupManifest m;
  if (verify) {
    eventstore::VerifyReport report = log->Verify();
    if (!report.ok) return Internal("the copied log does not verify: " + report.detail);
    m.head = report.head_position;
    m.head_hash = report.head_hash;
  } else {
    m.head = log->Head();
    m.head_hash = eventstore::ToHex(std::string(32, '\0'));
    if (m.head > 0) {
      CRM_ASSIGN_OR_RETURN(auto last, log->ReadAll(m.head, 1));
      if (last.empty()) return Internal("the copied log has no event at its head");
      m.head_hash = eventstore::ToHex(last[0].hash);
    }
  }
  log->Close();
  return m;
}

}  // namespace

std::string BackupManifest::ToJson() const {
  return json{{"format", kBackupFormat},
              {"head", head},
              {"head_hash", head_hash},
              {"created_at", created_at}}
      .dump();
}

Result<BackupManifest> Backup(eventstore::EventStore& log, const projections::LocalStore& local,
                              const std::string& data_dir, const std::string& dest, Time now) {
  std::error_code ec;
  if (fs::exists(dest, ec)) {
    return InvalidField("to", dest + " exists: a backup goes into a new directory");
  }
  fs::create_directories(dest, ec);
  if (ec) return Internal("cannot create " + dest + ": " + ec.message());
  auto fail = [&](const Error& e) {
    std::error_code ignored;
    fs::remove_all(dest, ignored);
    return e;
  };
  // The read models first: their checkpoints are then never ahead of the log copied next.
  if (Status s = local.Checkpoint(dest + "/readmodels"); !s.ok()) return fail(s.error());
  if (Status s = eventstore::CheckpointRocksEventStore(log, dest + "/log"); !s.ok())
    return fail(s.error());
  auto head = ReadHead(dest + "/log", false);
  if (!head.ok()) return fail(head.error());
  BackupManifest m = *head;
  m.created_at = FormatTime(now);
  // The snapshots up to the copy's head (a newer one would be of no use to it). A file
  // once named is never changed, only deleted: one deleted meanwhile is simply not copied.
  fs::create_directories(dest + "/snapshots", ec);
  for (const auto& [position, path] : writer::SnapshotFiles(data_dir + "/snapshots")) {
    if (position > m.head) continue;
    std::error_code gone;
    fs::copy_file(path, dest + "/snapshots/" + fs::path(path).filename().string(), gone);
  }
  {
    std::ofstream out(dest + "/backup.json", std::ios::trunc);
    out << m.ToJson() << "\n";
    if (!out.flush()) return fail(Internal("cannot write " + dest + "/backup.json"));
  }
  for (const auto& path : {dest + "/backup.json", dest + "/snapshots"}) {
    if (Status s = SyncPath(path, fs::is_directory(path) ? O_RDONLY | O_DIRECTORY : O_RDONLY);
        !s.ok())
      return fail(s.error());
  }
  if (Status s = SyncPath(dest, O_RDONLY | O_DIRECTORY); !s.ok()) return fail(s.error());
  return m;
}

Result<BackupManifest> Restore(const std::string& from, const std::string& data_dir) {
  BackupManifest wanted;
  {
    std::ifstream in(from + "/backup.json");
    json manifest = json::parse(in, nullptr, false);
    if (!in || manifest.is_discarded() || !manifest.is_object() ||
        manifest.value("format", 0) != kBackupFormat || !manifest["head"].is_number_unsigned() ||
        !manifest["head_hash"].is_string()) {
      return InvalidField("from", from + " holds no backup this server reads (backup.json)");
    }
    wanted.head = manifest["head"].get<uint64_t>();
    wanted.head_hash = manifest["head_hash"].get<std::string>();
    wanted.created_at = manifest.value("created_at", "");
  }
  std::error_code ec;
  if (fs::exists(data_dir, ec) && !fs::is_empty(data_dir, ec)) {
    return InvalidField("data_dir", data_dir + " is not empty: a restore goes into a new one");
  }
  fs::create_directories(data_dir, ec);
  if (ec) return Internal("cannot create " + data_dir + ": " + ec.message());
  auto fail = [&](const Error& e) {
    std::error_code ignored;
    fs::remove_all(data_dir, ignored);
    return e;
  };
  for (const char* part : {"log", "readmodels", "snapshots"}) {
    fs::copy(from + "/" + part, data_dir + "/" + part, fs::copy_options::recursive, ec);
    if (ec)
      return fail(Internal(std::string("cannot copy the backup's ") + part + ": " + ec.message()));
  }
  auto got = ReadHead(data_dir + "/log", true);
  if (!got.ok()) return fail(got.error());
  if (got->head != wanted.head || got->head_hash != wanted.head_hash) {
    return fail(Internal("the copied log ends at " + std::to_string(got->head) + " (" +
                         got->head_hash + "), its manifest says " + std::to_string(wanted.head) +
                         " (" + wanted.head_hash + ")"));
  }
  for (const char* part : {"log", "readmodels", "snapshots"}) {
    if (Status s = SyncPath(data_dir + "/" + part, O_RDONLY | O_DIRECTORY); !s.ok())
      return fail(s.error());
  }
  if (Status s = SyncPath(data_dir, O_RDONLY | O_DIRECTORY); !s.ok()) return fail(s.error());
  got->created_at = wanted.created_at;
  return got;
}

// ---- the control socket ------------------------------------------------------------------

struct ControlSocket::Impl {
  int fd = -1;
  std::string path;
  std::function<std::string(const std::string&)> handle;
  std::atomic<bool> stopping{false};
  std::thread thread;

  void Serve(int peer) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(peer, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != ::geteuid())
      return;
    timeval timeout{5, 0};  // the request line; the answer may take as long as a backup does
    ::setsockopt(peer, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string line;
    char c = 0;
    while (line.size() < 4096 && ::read(peer, &c, 1) == 1 && c != '\n') line += c;
    std::string answer = handle(line) + "\n";
    size_t done = 0;
    while (done < answer.size()) {
      ssize_t n = ::write(peer, answer.data() + done, answer.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
  }
};

Result<std::unique_ptr<ControlSocket>> ControlSocket::Start(
    const std::string& path, std::function<std::string(const std::string&)> handle) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Internal("the control socket's path is too long for a Unix socket: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->handle = std::move(handle);
  impl->fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (impl->fd < 0) return Internal(std::string("cannot make a socket: ") + std::strerror(errno));
  ::unlink(path.c_str());  // one a crashed crmd left (this one holds the data dir's lock)
  if (::bind(impl->fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::chmod(path.c_str(), 0600) != 0 || ::listen(impl->fd, 4) != 0) {
    std::string why = std::strerror(errno);
    ::close(impl->fd);
    return Internal("cannot listen on " + path + ": " + why);
  }
  Impl* p = impl.get();
  impl->thread = std::thread([p] {
    pthread_setname_np(pthread_self(), "crm-control");  // for top, perf and gdb
    while (!p->stopping) {
      int peer = ::accept4(p->fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (peer < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        break;  // shut down
      }
      p->Serve(peer);
      ::close(peer);
    }
  });
  std::unique_ptr<ControlSocket> socket(new ControlSocket());
  socket->impl_ = std::move(impl);
  return socket;
}

ControlSocket::~ControlSocket() {
  impl_->stopping = true;
  ::shutdown(impl_->fd, SHUT_RDWR);  // wakes accept()
  if (impl_->thread.joinable()) impl_->thread.join();
  ::close(impl_->fd);
  ::unlink(impl_->path.c_str());
}

Result<std::string> AskControlSocket(const std::string& path, const std::string& line) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return Unavailable("no control socket at " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal(std::string("cannot make a socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd);
    return Unavailable("no crmd answers at " + path + " (" + why + ")");
  }
  std::string request = line + "\n";
  bool sent = ::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size());
  std::string answer;
  char c = 0;
  while (sent && ::read(fd, &c, 1) == 1 && c != '\n') answer += c;
  ::close(fd);
  if (!sent || answer.empty()) return Internal("crmd at " + path + " gave no answer");
  return answer;
}

}  // namespace crm::server
