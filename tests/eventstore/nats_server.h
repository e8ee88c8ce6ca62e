// NATS servers with JetStream for tests: Debian's /usr/sbin/nats-server on free loopback
// ports, their stores in a scratch dir, killed at the end. ok() is false when the binary
// is not installed (tests then skip, saying so) or would not start.
#ifndef CRM_TESTS_EVENTSTORE_NATS_SERVER_H_
#define CRM_TESTS_EVENTSTORE_NATS_SERVER_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "eventstore/jetstream_client.h"

extern char** environ;

namespace crm::eventstore::testing {

// One nats-server with JetStream, or a cluster of `nodes` of them (replicated streams need
// 3), each with its store under `dir`, on free loopback ports; max_payload is 8 MB, as
// docs/scale-out.md asks of a cluster for crmd. Nodes can be killed and restarted on the
// same store.
class NatsServer {
 public:
  explicit NatsServer(const std::string& dir, int nodes = 1) {
    if (!std::filesystem::exists(kBinary)) return;
    std::filesystem::create_directories(dir);
    for (int i = 0; i < nodes; ++i) {
      Node n;
      n.client_port = FreePort();
      n.route_port = FreePort();
      nodes_.push_back(n);
    }
    for (int i = 0; i < nodes; ++i) {
      Node& n = nodes_[static_cast<size_t>(i)];
      std::string config = "server_name: n" + std::to_string(i) +
                           "\nlisten: 127.0.0.1:" + std::to_string(n.client_port) +
                           "\nmax_payload: 8MB\njetstream {\n  store_dir: \"" + dir + "/n" +
                           std::to_string(i) + "\"\n}\n";
      if (nodes > 1) {
        config +=
            "cluster {\n  name: evcrm_test\n  listen: 127.0.0.1:" + std::to_string(n.route_port) +
            "\n  routes: [";
        for (const auto& other : nodes_) {
          config += "\n    nats-route://127.0.0.1:" + std::to_string(other.route_port);
        }
        config += "\n  ]\n}\n";
      }
      n.config = dir + "/n" + std::to_string(i) + ".conf";
      std::ofstream(n.config) << config;
      if (!Spawn(n)) return;
    }
    // Ready once a client can make a stream replicated on every node (a cluster elects its
    // JetStream leader first).
    for (int i = 0; i < 300; ++i) {
      auto c = JetStreamClient::Connect({urls(), "probe", std::chrono::milliseconds(2000)});
      if (c.ok() && (*c)->EnsureStream({"probe", "probe.x", nodes}).ok()) {
        ok_ = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ~NatsServer() {
    for (size_t i = 0; i < nodes_.size(); ++i) Kill(static_cast<int>(i));
  }
  bool ok() const { return ok_; }
  // Whether nats-server is installed at all: when it is, a server that does not start is
  // a failure, not a reason to skip.
  static bool Installed() { return std::filesystem::exists(kBinary); }
  // Every node's address, and them joined by commas (as crmd --nats takes them).
  std::vector<std::string> urls() const {
    std::vector<std::string> out;
    for (const auto& n : nodes_) out.push_back("nats://127.0.0.1:" + std::to_string(n.client_port));
    return out;
  }
  std::string url() const {
    std::string out;
    for (const auto& u : urls()) out += (out.empty() ? "" : ",") + u;
    return out;
  }
  void Kill(int i) {
    Node& n = nodes_[static_cast<size_t>(i)];
    if (n.pid == 0) return;
    kill(n.pid, SIGKILL);
    waitpid(n.pid, nullptr, 0);
    n.pid = 0;
  }
  bool Restart(int i) { return Spawn(nodes_[static_cast<size_t>(i)]); }

 private:
  struct Node {
    int client_port = 0;
    int route_port = 0;
    std::string config;
    pid_t pid = 0;
  };

  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
  }

  // Starts the node and waits until it takes connections.
  static bool Spawn(Node& n) {
    std::vector<std::string> args = {kBinary, "-c", n.config};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t quiet;  // its log is not the test's
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 2, (n.config + ".log").c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    int spawned = posix_spawn(&n.pid, kBinary, &quiet, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&quiet);
    if (spawned != 0) {
      n.pid = 0;
      return false;
    }
    for (int i = 0; i < 200; ++i) {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(n.client_port));
      bool up = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      close(fd);
      if (up) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }

  static constexpr const char* kBinary = "/usr/sbin/nats-server";
  std::vector<Node> nodes_;
  bool ok_ = false;
};

inline constexpr const char* kNoNatsServer =
    "no nats-server: the JetStream log's tests need Debian's nats-server (apt-get install "
    "nats-server; tools/dev.sh test installs it)";

}  // namespace crm::eventstore::testing

#endif  // CRM_TESTS_EVENTSTORE_NATS_SERVER_H_
