#include "server/backup.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "eventstore/coding.h"
#include "eventstore/jetstream_event_store.h"
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

// Every file and directory under `root`, and `root` itself, to the disk: a copy that was
// answered as made must survive a power cut.
Status SyncTree(const std::string& root) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    bool dir = it->is_directory(ec);
    CRM_RETURN_IF_ERROR(SyncPath(it->path().string(), dir ? O_RDONLY | O_DIRECTORY : O_RDONLY));
  }
  if (ec) return Internal("cannot list " + root + ": " + ec.message());
  return SyncPath(root, O_RDONLY | O_DIRECTORY);
}

std::string Parent(const std::string& path) {
  std::string parent = fs::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
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

// Whether `path` lies in `dir` (both as the kernel would resolve them).
bool Inside(const std::string& path, const std::string& dir) {
  std::error_code ec;
  std::string p = fs::weakly_canonical(path, ec).string() + "/";
  std::string d = fs::weakly_canonical(dir, ec).string() + "/";
  return !ec && p.compare(0, d.size(), d) == 0;
}

}  // namespace

std::string BackupManifest::ToJson() const {
  return json{{"format", kBackupFormat},
              {"head", head},
              {"head_hash", head_hash},
              {"created_at", created_at}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<BackupManifest> Backup(eventstore::EventStore& log, const projections::LocalStore& local,
                              const std::string& data_dir, const std::string& dest, Time now) {
  if (Inside(dest, data_dir)) {
    return InvalidField("to", dest + " is inside the data dir: a backup goes elsewhere");
  }
  std::error_code ec;
  fs::create_directories(Parent(dest), ec);
  if (ec) return Internal("cannot create " + Parent(dest) + ": " + ec.message());
  // Made here, owner only (it holds the token and password hashes), or refused if it is
  // there already: never someone else's directory adopted, never one filled twice.
  if (::mkdir(dest.c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return InvalidField("to", dest + " exists: a backup goes into a new directory");
    }
    return Internal("cannot create " + dest + ": " + std::strerror(errno));
  }
  auto fail = [&](const Error& e) {
    std::error_code ignored;
    fs::remove_all(dest, ignored);
    return e;
  };
  // The read models first: their checkpoints are then never ahead of the log copied next.
  if (Status s = local.Checkpoint(dest + "/readmodels"); !s.ok()) return fail(s.error());
  // On a replicated log, this node's copy (with the stream sequence it holds).
  if (Status s = eventstore::CheckpointRocksEventStore(eventstore::LocalLog(log), dest + "/log");
      !s.ok())
    return fail(s.error());
  auto head = ReadHead(dest + "/log", false);
  if (!head.ok()) return fail(head.error());
  BackupManifest m = *head;
  m.created_at = FormatTime(now);
  // The snapshots up to the copy's head (a newer one would be of no use to it). A file
  // once named is never changed, only deleted: one deleted meanwhile is not copied.
  fs::create_directories(dest + "/snapshots", ec);
  if (ec) return fail(Internal("cannot create " + dest + "/snapshots: " + ec.message()));
  for (const auto& [position, path] : writer::SnapshotFiles(data_dir + "/snapshots")) {
    if (position > m.head) continue;
    std::error_code copied;
    fs::copy_file(path, dest + "/snapshots/" + fs::path(path).filename().string(), copied);
    if (copied && fs::exists(path, ec)) {
      return fail(Internal("cannot copy " + path + ": " + copied.message()));
    }
  }
  {
    std::ofstream out(dest + "/backup.json", std::ios::trunc);
    out << m.ToJson() << "\n";
    if (!out.flush()) return fail(Internal("cannot write " + dest + "/backup.json"));
  }
  if (Status s = SyncTree(dest); !s.ok()) return fail(s.error());
  if (Status s = SyncPath(Parent(dest), O_RDONLY | O_DIRECTORY); !s.ok()) return fail(s.error());
  return m;
}

Result<BackupManifest> Restore(const std::string& from, const std::string& data_dir) {
  BackupManifest wanted;
  {
    std::ifstream in(from + "/backup.json");
    json manifest = json::parse(in, nullptr, false);
    auto field = [&](const char* name) {
      return manifest.is_object() && manifest.contains(name) ? manifest[name] : json();
    };
    if (manifest.is_discarded() || field("format") != kBackupFormat ||
        !field("head").is_number_unsigned() || !field("head_hash").is_string()) {
      return InvalidField("from", from + " holds no backup this server reads (backup.json)");
    }
    wanted.head = field("head").get<uint64_t>();
    wanted.head_hash = field("head_hash").get<std::string>();
    if (field("created_at").is_string()) wanted.created_at = field("created_at").get<std::string>();
  }
  std::error_code ec;
  if (fs::exists(data_dir, ec) && !fs::is_empty(data_dir, ec)) {
    return InvalidField("data_dir", data_dir + " is not empty: a restore goes into a new one");
  }
  // Copied and checked beside the target, then renamed into place: a crmd never finds a
  // half-restored data dir (a log without its read models would lose every token).
  const std::string staging = data_dir + ".restoring-" + std::to_string(::getpid());
  fs::create_directories(Parent(data_dir), ec);
  if (::mkdir(staging.c_str(), 0700) != 0) {
    return Internal("cannot create " + staging + ": " + std::strerror(errno));
  }
  auto fail = [&](const Error& e) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    return e;
  };
  for (const char* part : {"log", "readmodels", "snapshots"}) {
    fs::copy(from + "/" + part, staging + "/" + part, fs::copy_options::recursive, ec);
    if (ec) {
      return fail(Internal(std::string("cannot copy the backup's ") + part + ": " + ec.message()));
    }
  }
  auto got = ReadHead(staging + "/log", true);
  if (!got.ok()) return fail(got.error());
  if (got->head != wanted.head || got->head_hash != wanted.head_hash) {
    return fail(Internal("the copied log ends at " + std::to_string(got->head) + " (" +
                         got->head_hash + "), its manifest says " + std::to_string(wanted.head) +
                         " (" + wanted.head_hash + ")"));
  }
  if (Status s = SyncTree(staging); !s.ok()) return fail(s.error());
  // rename(2) replaces an empty directory, and refuses one that filled meanwhile.
  if (::rename(staging.c_str(), data_dir.c_str()) != 0) {
    return fail(
        Internal("cannot move the restored copy to " + data_dir + ": " + std::strerror(errno)));
  }
  if (Status s = SyncPath(Parent(data_dir), O_RDONLY | O_DIRECTORY); !s.ok()) return s.error();
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
    const auto& refuse = ControlError;
    std::string answer;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(peer, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != ::geteuid()) {
      answer = refuse("only crmd's own user (uid " + std::to_string(::geteuid()) +
                      ") may use this socket");
    } else {
      timeval timeout{5, 0};  // the request line; the answer may take as long as a backup
      ::setsockopt(peer, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
      std::string line;
      char c = 0;
      bool whole = false;
      while (line.size() <= 4096 && ::read(peer, &c, 1) == 1) {
        if (c == '\n') {
          whole = true;
          break;
        }
        line += c;
      }
      if (!whole) {
        answer = refuse("a request is one line of at most 4096 bytes, ended by a line break");
      } else {
        try {
          answer = handle(line);
        } catch (const std::exception& e) {  // the server goes on, whatever a request does
          answer = refuse(std::string("the request failed: ") + e.what());
        }
      }
    }
    answer += "\n";
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
        if (p->stopping) break;
        // Out of descriptors or memory, say: the socket stays, and is tried again.
        if (errno != EINTR && errno != ECONNABORTED)
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
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

std::string ControlError(const std::string& why) {
  return json{{"error", why}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::string> AskControlSocket(const std::string& path, const std::string& line) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Unavailable("no control socket at " + path + ": the path is too long for one");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal(std::string("cannot make a socket: ") + std::strerror(errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd);
    return Unavailable("no crmd answers at " + path + " (" + why + ")");
  }
  // A backup takes as long as the copy; a crmd that stops answering is given up on.
  timeval timeout{1800, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
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
