// A real crmd on a free loopback port, and a small blocking HTTP/1.1 client for it.
#ifndef CRM_TESTS_API_CRMD_PROCESS_H_
#define CRM_TESTS_API_CRMD_PROCESS_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <strings.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace crm::testing {

using nlohmann::json;

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  json Json() const { return json::parse(body, nullptr, false); }
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A lead body no other lead of the test run matches (撞单 refuses a second lead of the
// same company and name): {"name": "<name> #<n>", "company": "<company>"}.
inline json NewLead(const std::string& name = "n", const std::string& company = "c") {
  static std::atomic<uint64_t> made{0};
  return json{{"name", name + " #" + std::to_string(++made)}, {"company", company}};
}

inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

inline int Connect(int port, int timeout_seconds = 30) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  timeval tv{timeout_seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

inline void SendAll(int fd, std::string_view bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
}

// Parses one response from the front of `raw`; returns the bytes it used (0 when `raw`
// does not hold a whole response yet). Bodies are framed by Content-Length.
inline size_t ParseResponse(const std::string& raw, HttpResult* out) {
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.size() < 12) return 0;
  HttpResult r;
  r.status = std::stoi(raw.substr(9, 3));
  size_t line = raw.find("\r\n") + 2;
  while (line < head_end) {
    size_t eol = raw.find("\r\n", line);
    std::string h = raw.substr(line, eol - line);
    size_t colon = h.find(':');
    std::string name = h.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t v = colon + 1;
    while (v < h.size() && h[v] == ' ') ++v;
    r.headers[name] = h.substr(v);
    line = eol + 2;
  }
  size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
  if (r.status == 100) length = 0;
  if (raw.size() < head_end + 4 + length) return 0;
  r.body = raw.substr(head_end + 4, length);
  *out = std::move(r);
  return head_end + 4 + length;
}

// A connection that speaks raw bytes, for tests of framing and of clients that misbehave.
class RawConnection {
 public:
  explicit RawConnection(int port, int timeout_seconds = 10)
      : fd_(Connect(port, timeout_seconds)) {}
  ~RawConnection() {
    if (fd_ >= 0) close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  void Send(std::string_view bytes) { SendAll(fd_, bytes); }

  // The next response; status 0 when the connection closed or timed out first. Interim
  // (1xx) responses are skipped unless `skip_interim` is false.
  HttpResult Read(bool skip_interim = true) {
    HttpResult r;
    for (;;) {
      size_t used = ParseResponse(buffer_, &r);
      if (used > 0) {
        buffer_.erase(0, used);
        if (r.status == 100 && skip_interim) continue;  // the final answer follows
        return r;
      }
      if (!Fill()) return HttpResult{};
    }
  }
  // Whether the server closed the connection (after what was read so far).
  bool ClosedByPeer() {
    while (buffer_.empty()) {
      if (!Fill()) return eof_;
    }
    return false;
  }

 private:
  bool Fill() {
    char buf[65536];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n == 0) eof_ = true;
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  std::string buffer_;
  bool eof_ = false;
};

// One request on a fresh connection (Connection: close). status 0 when no answer came.
inline HttpResult Http(int port, const std::string& method, const std::string& target,
                       const std::string& body = "",
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
  RawConnection conn(port, 30);
  if (!conn.ok()) return HttpResult{};
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  bool typed = false;  // a Content-Type of the caller's (an upload's text/csv)
  for (auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
    typed = typed || strcasecmp(k.c_str(), "Content-Type") == 0;
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    if (!typed) req += "Content-Type: application/json\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  conn.Send(req);
  return conn.Read();
}

// The crmd under test: $EVCRM_CRMD when set (to run these tests against another build),
// else the one built with them.
inline std::string CrmdPath() {
  const char* env = std::getenv("EVCRM_CRMD");
  return env && *env ? env : CRMD_PATH;
}
// The same for crmctl: $EVCRM_CRMCTL, else the one built with these tests.
inline std::string CrmctlPath() {
  const char* env = std::getenv("EVCRM_CRMCTL");
  return env && *env ? env : CRMCTL_PATH;
}

// Runs a shell command (crmctl, say) and returns what it wrote to stdout; its exit code,
// or -1 when a signal ended it, goes to `exit_code`.
inline std::string RunTool(const std::string& command, int* exit_code) {
  FILE* p = popen(command.c_str(), "r");
  std::string out;
  if (p == nullptr) {
    *exit_code = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  *exit_code = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

// The crmctl checks of a stopped server's data dir: the chain verifies, and the read
// models, caught up, equal a rebuild. Each check's stderr goes into its report.
inline void ExpectDataDirSound(const std::string& data) {
  for (const char* verb : {"verify", "check-read-models"}) {
    int rc = 0;
    std::string report = RunTool(CrmctlPath() + " " + verb + " --data-dir " + data + " 2>&1", &rc);
    EXPECT_EQ(rc, 0) << verb << ": " << report;
    EXPECT_NE(report.find("\"ok\":true"), std::string::npos) << verb << ": " << report;
  }
}

class Crmd {
 public:
  explicit Crmd(std::string data_dir, std::vector<std::string> extra = {},
                std::string admin_token = "adm_e2e_token_0123456789")
      : data_dir_(std::move(data_dir)), extra_(std::move(extra)), token_(std::move(admin_token)) {}
  // A server that exited by itself, or one a failing test was using: what it wrote to
  // stderr (a sanitizer's report, a fatal error) is the clue, so it goes in the test log.
  ~Crmd() {
    bool exited = false;
    if (pid_ != 0 && waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = 0;
      exited = true;
    }
    Kill();
    if ((exited || ::testing::Test::HasFailure()) && !stderr_path_.empty()) {
      constexpr size_t kTail = 16384;
      std::string text = stderr_text();
      if (text.size() > kTail) text = "...\n" + text.substr(text.size() - kTail);
      std::fprintf(stderr, "crmd on %s%s; its stderr:\n%s\n", data_dir_.c_str(),
                   exited ? " exited by itself" : "", text.c_str());
    }
  }

  // Limits the server's open files (RLIMIT_NOFILE, soft and hard) from the next Start.
  void set_open_files_limit(rlim_t n) { nofile_ = n; }
  // Sets NAME=value in the server's environment from the next Start ("NAME=value");
  // clear_env() drops what was set.
  void set_env(std::string name_value) { env_.push_back(std::move(name_value)); }
  void clear_env() { env_.clear(); }

  // Starts and waits until it listens and answers /health. False when it exits or does
  // not answer in 20 s; what it wrote to stderr is then in stderr_text(). A port picked
  // here can be taken by another process before crmd binds it (tests run in parallel,
  // and every client connection takes an ephemeral port): then another is picked.
  // A restart keeps the port unless it was taken meanwhile.
  bool Start() {
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (port_ == 0) port_ = FreePort();
      if (StartOnce()) return true;
      if (pid_ != 0 || stderr_text().find("cannot listen") == std::string::npos) return false;
      port_ = 0;
    }
    return false;
  }

  // Everything the server wrote to stderr so far.
  std::string stderr_text() const {
    std::ifstream in(stderr_path_);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  pid_t pid() const { return pid_; }

  // Sends `sig` and waits (up to 20 s); the exit code, or -1 when killed by a signal.
  int Stop(int sig = SIGTERM) {
    if (pid_ == 0) return exit_code_;
    kill(pid_, sig);
    int status = 0;
    for (int i = 0; i < 400; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Kill();
    return -1;
  }
  void Kill() {
    if (pid_ == 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

  int port() const { return port_; }
  int exit_code() const { return exit_code_; }
  const std::string& token() const { return token_; }

  HttpResult Call(const std::string& method, const std::string& target, const json& body = nullptr,
                  const std::string& token = "",
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    const std::string& t = token.empty() ? token_ : token;
    if (t != "-") headers.emplace_back("Authorization", "Bearer " + t);
    return Http(port_, method, target, body.is_null() ? "" : body.dump(), headers);
  }

 private:
  bool StartOnce() {
    std::string binary = CrmdPath();
    std::vector<std::string> args = {binary, "--data-dir", data_dir_, "--listen",
                                     "127.0.0.1:" + std::to_string(port_)};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
      if (std::string(*e).rfind("CRMD_ADMIN_TOKEN=", 0) != 0) env_strings.emplace_back(*e);
    }
    if (!token_.empty()) env_strings.push_back("CRMD_ADMIN_TOKEN=" + token_);
    env_strings.insert(env_strings.end(), env_.begin(), env_.end());
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    stderr_path_ = data_dir_ + ".stderr";
    // Opened (and emptied) here, not in the child: what the last run wrote must be gone
    // before the first look for "listening on".
    int err = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    // fork + exec rather than posix_spawn: the child may need a resource limit first.
    pid_ = fork();
    if (pid_ < 0) {
      if (err >= 0) close(err);
      return false;
    }
    if (pid_ == 0) {
      if (err >= 0) dup2(err, 2);
      if (nofile_) {
        rlimit lim{nofile_, nofile_};
        setrlimit(RLIMIT_NOFILE, &lim);
      }
      execve(binary.c_str(), argv.data(), envp.data());
      _exit(127);
    }
    if (err >= 0) close(err);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    // Only this process's "listening on" makes an answer on the port its answer: another
    // server may hold the port this one failed to bind.
    const std::string listening = "listening on 127.0.0.1:" + std::to_string(port_) + " ";
    while (std::chrono::steady_clock::now() < deadline) {
      if (stderr_text().find(listening) != std::string::npos &&
          Http(port_, "GET", "/health").status == 200) {
        return true;
      }
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::string data_dir_;
  std::vector<std::string> extra_;
  std::string token_;
  int port_ = 0;
  rlim_t nofile_ = 0;
  std::string stderr_path_;
  pid_t pid_ = 0;
  int exit_code_ = -1;
  std::vector<std::string> env_;
};

// A metric's value from crmd's /metrics (as its admin).
inline double Metric(Crmd& crmd, const std::string& name) {
  auto r = crmd.Call("GET", "/metrics");
  std::istringstream lines(r.body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  ADD_FAILURE() << "no metric " << name << " in:\n" << r.body;
  return -1;
}

}  // namespace crm::testing

#endif  // CRM_TESTS_API_CRMD_PROCESS_H_
