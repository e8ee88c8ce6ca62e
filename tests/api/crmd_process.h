// A real crmd on a free loopback port, and a small blocking HTTP/1.1 client for it.
#ifndef CRM_TESTS_API_CRMD_PROCESS_H_
#define CRM_TESTS_API_CRMD_PROCESS_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
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

// One request on a fresh connection (Connection: close). status 0 when no answer came.
inline HttpResult Http(int port, const std::string& method, const std::string& target,
                       const std::string& body = "",
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResult out;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return out;
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[65536];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) raw.append(buf, static_cast<size_t>(n));
  close(fd);
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.size() < 12) return out;
  out.status = std::stoi(raw.substr(9, 3));
  size_t line = raw.find("\r\n") + 2;
  while (line < head_end) {
    size_t eol = raw.find("\r\n", line);
    std::string h = raw.substr(line, eol - line);
    size_t colon = h.find(':');
    std::string name = h.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t v = colon + 1;
    while (v < h.size() && h[v] == ' ') ++v;
    out.headers[name] = h.substr(v);
    line = eol + 2;
  }
  out.body = raw.substr(head_end + 4);
  return out;
}

class Crmd {
 public:
  explicit Crmd(std::string data_dir, std::vector<std::string> extra = {},
                std::string admin_token = "adm_e2e_token_0123456789")
      : data_dir_(std::move(data_dir)), extra_(std::move(extra)), token_(std::move(admin_token)) {}
  ~Crmd() { Kill(); }

  // Starts and waits for /health. False when it exits or does not answer in 20 s.
  bool Start() {
    if (port_ == 0) port_ = FreePort();
    std::vector<std::string> args = {CRMD_PATH, "--data-dir", data_dir_, "--listen",
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
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    if (posix_spawn(&pid_, CRMD_PATH, nullptr, nullptr, argv.data(), envp.data()) != 0) return false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Http(port_, "GET", "/health").status == 200) return true;
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
                  const std::string& token = "", std::vector<std::pair<std::string, std::string>> headers = {}) {
    const std::string& t = token.empty() ? token_ : token;
    if (t != "-") headers.emplace_back("Authorization", "Bearer " + t);
    return Http(port_, method, target, body.is_null() ? "" : body.dump(), headers);
  }

 private:
  std::string data_dir_;
  std::vector<std::string> extra_;
  std::string token_;
  int port_ = 0;
  pid_t pid_ = 0;
  int exit_code_ = -1;
};

}  // namespace crm::testing

#endif  // CRM_TESTS_API_CRMD_PROCESS_H_
