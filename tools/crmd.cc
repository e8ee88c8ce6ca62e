// crmd: the evcrm server.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "eventstore/jetstream_event_store.h"
#include "server/app.h"

int main(int argc, char** argv) {
  CLI::App cli{"crmd - the evcrm server"};
  std::string data_dir, listen = "127.0.0.1:8080", offset = "+08:00";
  int threads = 0;
  size_t max_connections = 0;
  int64_t recycle_interval = 60;
  cli.add_option("--data-dir", data_dir, "Data directory (created when missing)")->required();
  cli.add_option("--listen", listen, "Address to listen on, host:port")->capture_default_str();
  cli.add_option("--threads", threads, "I/O threads (0: one per core, at least 2)");
  cli.add_option("--max-connections", max_connections,
                 "Open connections at most; more are answered 503 (0: what the open-file "
                 "limit leaves room for, up to 10000)");
  cli.add_option("--recycle-interval", recycle_interval, "Seconds between pool-rule checks")
      ->check(CLI::Range(int64_t{1}, int64_t{86400}))
      ->capture_default_str();
  cli.add_option("--utc-offset", offset, "Where a business day starts, e.g. +08:00")
      ->capture_default_str();
  uint64_t snapshot_every = 1'000'000;
  cli.add_option("--snapshot-every", snapshot_every,
                 "Write a snapshot of the decision model once the log is this many events "
                 "past the last one, so a start folds only the rest (0: never)")
      ->capture_default_str();
  int64_t idempotency_hours = 24;
  cli.add_option("--idempotency-hours", idempotency_hours,
                 "How long an Idempotency-Key answers with its first result")
      ->check(CLI::Range(int64_t{1}, int64_t{24 * 366}))
      ->capture_default_str();
  std::string console_dir;
  cli.add_option("--console-dir", console_dir,
                 "Serve the web console from this directory (src/console), uncached, instead "
                 "of the copy built in: for working on the console");
  std::string store = "rocksdb", nats, stream = "evcrm", node;
  int replicas = 1;
  cli.add_option("--store", store,
                 "Where the log is: rocksdb (embedded, in the data dir) or jetstream (a NATS "
                 "JetStream stream, with this node's copy in the data dir)")
      ->check(CLI::IsMember({"rocksdb", "jetstream"}))
      ->capture_default_str();
  cli.add_option("--nats", nats,
                 "With --store jetstream: the NATS servers, nats://host:port[,nats://...]");
  cli.add_option("--stream", stream,
                 "With --store jetstream: the stream's name (letters, digits, - and _)")
      ->check(crm::eventstore::StreamNameProblem)
      ->capture_default_str();
  cli.add_option("--replicas", replicas,
                 "With --store jetstream: the stream's replicas when it is created (3 on a "
                 "cluster of three)")
      ->check(CLI::Range(1, 5))
      ->capture_default_str();
  cli.add_option("--node", node,
                 "With --store jetstream: this node's name in the log and the writer's lease, "
                 "different on every node (default: the host's name and the --listen port)");
  std::string advertise;
  cli.add_option("--advertise", advertise,
                 "With --store jetstream: where this node takes commands, as the other nodes "
                 "name it to clients (default: http://<--listen>)");
  int64_t lease_ms = 5000;
  cli.add_option("--writer-lease-ms", lease_ms,
                 "With --store jetstream: how long after the writer last renewed its lease a "
                 "standby takes over")
      ->check(CLI::Range(int64_t{500}, int64_t{600000}))
      ->capture_default_str();
  CLI11_PARSE(cli, argc, argv);
  if ((store == "jetstream") != !nats.empty()) {
    std::fprintf(stderr, "crmd: --store jetstream and --nats go together\n");
    return 2;
  }

  auto utc_offset = crm::ParseUtcOffset(offset);
  if (!utc_offset) {
    std::fprintf(stderr, "crmd: --utc-offset must look like +08:00, not %s\n", offset.c_str());
    return 2;
  }

  // Signals are waited for by this thread, not handled asynchronously.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  crm::server::AppOptions options;
  options.data_dir = data_dir;
  options.listen = listen;
  options.threads = threads;
  options.max_connections = max_connections;
  options.recycle_interval = crm::Seconds(recycle_interval);
  options.utc_offset = *utc_offset;
  options.console_dir = console_dir;
  options.snapshot_every = snapshot_every;
  options.idempotency_ttl = crm::Seconds(idempotency_hours * 3600);
  options.nats = crm::eventstore::ServerList(nats);
  options.stream = stream;
  options.replicas = replicas;
  options.node = node;
  options.advertise = advertise;
  options.writer_lease = std::chrono::milliseconds(lease_ms);
  if (const char* token = std::getenv("CRMD_ADMIN_TOKEN")) options.admin_token = token;
  if (const char* password = std::getenv("CRMD_ADMIN_PASSWORD")) options.admin_password = password;

  auto app = crm::server::App::Open(options);
  if (!app.ok()) {
    std::fprintf(stderr, "crmd: cannot start: %s\n", app.error().detail.c_str());
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "crmd: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  app.value()->Stop();
  std::fprintf(stderr, "crmd: stopped\n");
  return 0;
}
