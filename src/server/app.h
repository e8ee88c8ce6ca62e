// The server assembled (the composition root): the log, the writer, the read models, the
// token store, the HTTP server and the pool-recycling job over one data directory, with
// one logger, one clock and one id generator handed to each. crmd is a thin main around
// this; tests and the fuzzer open one in process.
#ifndef CRM_SERVER_APP_H_
#define CRM_SERVER_APP_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"
#include "domain/result.h"
#include "domain/time.h"
#include "writer/clock.h"

namespace crm::server {

struct AppOptions {
  std::string data_dir;
  // The log on a NATS JetStream stream, replicated by the NATS cluster, with this node's
  // copy in the data dir (eventstore/jetstream_event_store.h); empty: the embedded
  // RocksDB log.
  std::vector<std::string> nats;  // nats://host:port of the cluster's servers
  std::string stream = "evcrm";   // its subject is "<stream>.log"
  int replicas = 1;               // the stream's replicas when this node creates it
  std::string node;  // this node's name in the log and the lease; empty: host name and port
  // Where this node takes commands, as the standbys name it; empty: http://<listen>.
  std::string advertise;
  // The writer's lease (eventstore/jetstream_lease.h): a standby takes over this long after
  // the writer last renewed it.
  std::chrono::milliseconds writer_lease{5000};
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  int threads = 0;                        // 0: one per core, at least 2
  size_t max_connections = 0;             // 0: what the file descriptor limit allows
  Seconds recycle_interval{60};
  Seconds utc_offset{8 * 3600};
  // A decision-model snapshot once the log is this many events past the newest one
  // (src/writer/model_snapshot.h); 0: none, every start folds the whole log.
  uint64_t snapshot_every = 1'000'000;
  // How long an Idempotency-Key answers with its first result (writer::WriterOptions).
  Seconds idempotency_ttl{24 * 3600};
  // The bootstrap admin's token on first start; empty: a random one in DIR/admin.token.
  std::string admin_token;
  // The bootstrap admin's first sign-in password; empty: a random one in DIR/admin.password.
  std::string admin_password;
  // The console's files from this directory, unembedded and uncached (for working on
  // src/console); empty: the files built into crmd.
  std::string console_dir;
  const writer::Clock* clock = nullptr;  // nullptr: the system clock
  // Where everything the server says goes, one line at a time; nullptr: stderr, each
  // line prefixed "crmd: ".
  std::function<void(std::string_view)> log;
};

class App {
 public:
  // Opens (creating when missing) the data dir and starts serving. Fails with a clear
  // message when another process holds the directory or it cannot be read.
  static Result<std::unique_ptr<App>> Open(const AppOptions& options);
  ~App();

  uint16_t port() const;
  // Answers one request exactly as the HTTP server would, through `call->respond` (on any
  // thread): for callers in the same process (fuzzing, benchmarks).
  void Handle(const api::CallPtr& call);
  // Where the bootstrap admin's token was written on first start ("" otherwise).
  const std::string& admin_token_file() const;
  // Where the bootstrap admin's first password was written on first start ("" otherwise).
  const std::string& admin_password_file() const;

  // Stops accepting, finishes requests in flight, flushes and closes. Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit App(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace crm::server

#endif  // CRM_SERVER_APP_H_
