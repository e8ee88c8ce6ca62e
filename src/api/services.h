// What the HTTP handlers work with. Owned by the server (src/server); handlers hold
// references. Nothing here is a projection directly: those are reached through
// `read.Read()`, a view that holds the read lock.
#ifndef CRM_API_SERVICES_H_
#define CRM_API_SERVICES_H_

#include <functional>

#include "api/exporter.h"
#include "api/http_server.h"
#include "api/log_verifier.h"
#include "api/metrics.h"
#include "api/password_store.h"
#include "api/sign_in_limiter.h"
#include "api/token_store.h"
#include "eventstore/event_store.h"
#include "eventstore/jetstream_lease.h"
#include "projections/read_models.h"
#include "writer/clock.h"
#include "writer/ids.h"
#include "writer/writer.h"

namespace crm::api {

// What /api/v1/live is doing, for /metrics.
struct LiveStats {
  size_t clients = 0;        // sockets open on /api/v1/live
  size_t queued_bytes = 0;   // messages waiting for their socket, in bytes
  uint64_t view_builds = 0;  // views built (once per change per scope)
  uint64_t messages_sent = 0;
  uint64_t stalled_closes = 0;  // events feeds closed with 1013
};

struct Services {
  eventstore::EventStore& store;  // reads of the log: timelines, as-of, audit
  writer::Writer& writer;         // every command
  projections::ReadModels& read;  // every query
  TokenStore& tokens;
  PasswordStore& passwords;  // sign-in passwords, hashed off the I/O threads
  SignInLimiter& sign_in;    // failed sign-ins per email and client address
  Metrics& metrics;
  LogVerifier& verifier;  // /api/v1/audit/verify, off the I/O threads
  Exporter& exporter;     // exports (导出), off the I/O threads
  const writer::Clock& clock;
  writer::IdGenerator& ids;  // ids of the records commands create
  Seconds utc_offset;
  // Runs work on the I/O threads (queries that waited for a read model).
  std::function<void(std::function<void()>)> post;
  // The HTTP server's connection and write figures, for /metrics.
  std::function<HttpStats()> http_stats;
  // The live hub's figures, for /metrics.
  std::function<LiveStats()> live_stats;
  // The decision-model snapshots' figures, for /metrics.
  std::function<writer::SnapshotStats()> snapshot_stats;
  // On a replicated log (crmd --store jetstream): who writes; null on RocksDB.
  const eventstore::WriterLease* lease;
};

}  // namespace crm::api

#endif  // CRM_API_SERVICES_H_
