// The event log on a NATS JetStream stream (replicated by the cluster's Raft), with a
// copy on every node (a RocksDB store, as OpenRocksEventStore keeps it) from which every
// read is served.
//
// One commit, one message: what one Append writes (each event's envelope with its
// position, the chain hash before and after, the index writes) as a `Commit`
// (schemas/replication.fbs), published with
//   Nats-Expected-Last-Sequence  the last stream sequence this node applied, so a writer
//                                that another has overtaken is refused and writes nothing;
//   Nats-Msg-Id                  the chain hash after the commit, so a publish retried
//                                after a lost acknowledgement is stored once.
// Append returns once JetStream acknowledged the commit (stored on a quorum of the
// stream's replicas) and this node applied it to its copy. JetStream 2.9 has no atomic
// publish of several messages; one message per commit keeps a command all or nothing.
//
// Every node follows the stream from the last sequence its copy holds and applies each
// commit it has not applied, checking that it continues its copy (first position, prior
// hash) and ends where it says (head hash): copies cannot drift apart unnoticed. The
// last applied sequence is kept in the copy's unique index (scope "$replication") in the
// same RocksDB batch as the commit, so a node that stops anywhere resumes exactly.
#ifndef CRM_EVENTSTORE_JETSTREAM_EVENT_STORE_H_
#define CRM_EVENTSTORE_JETSTREAM_EVENT_STORE_H_

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/event_store.h"
#include "eventstore/rocks_event_store.h"

namespace crm::eventstore {

// The NATS servers of a comma-separated list (crmd's and crmctl's --nats).
std::vector<std::string> ServerList(std::string_view comma_separated);
// Why `name` cannot name a stream ("" when it can): 1 to 200 letters, digits, - and _.
std::string StreamNameProblem(std::string_view name);

struct JetStreamOptions {
  std::vector<std::string> servers;  // nats://host:port, tried in order
  std::string stream = "evcrm";
  std::string subject = "evcrm.log";
  int replicas = 1;    // 3 on a cluster of three
  std::string node;    // this node's name, in each commit it publishes
  StoreOptions local;  // the copy
  // Called now and then while the copy catches up at open, with the sequence applied and
  // the stream's last. Null: not.
  std::function<void(uint64_t applied, uint64_t last)> progress{};
};

// Connects, creates the stream when missing, opens the copy and brings it up to the
// stream's last sequence before returning. kUnavailable when the cluster cannot be
// reached; kInternal when the copy does not continue the stream (another stream's copy,
// or a stream purged behind it).
Result<std::unique_ptr<EventStore>> OpenJetStreamEventStore(const JetStreamOptions& options);

// The last stream sequence applied to a store opened above (0 for another store).
uint64_t AppliedSequence(const EventStore& store);

// How a store opened above follows its stream, for /health and /metrics.
struct ReplicaState {
  std::string stream;
  std::string node;
  uint64_t applied = 0;      // the last stream sequence in this node's copy
  uint64_t stream_last = 0;  // the stream's last sequence, as this node last heard
  std::string broken;        // why the copy stopped following (and appends are refused); "" if not
};
// nullopt for a store that is not a copy of a stream.
std::optional<ReplicaState> ReplicaOf(const EventStore& store);

// The RocksDB log a store keeps: the copy of a store opened above, else `store` itself
// (for backups, which checkpoint it).
EventStore& LocalLog(EventStore& store);

// Waits until a store opened above has applied the stream's last sequence as the stream
// has it now: what a node does before it takes commands. kUnavailable when the stream
// cannot be asked or the copy does not get there within `timeout`, or when `store` is no
// copy of a stream.
Status CatchUpWithStream(EventStore& store, std::chrono::milliseconds timeout);

// ---- crmctl migrate: a log between the embedded store and a stream ---------------------
// Every position, envelope byte, chain hash and index entry is kept, so `verify` on the
// other side gives the same head hash.

struct MigrationReport {
  uint64_t events = 0;
  uint64_t index_entries = 0;
  uint64_t sequence = 0;  // the stream's last sequence (the commits published or applied)
  std::string head_hash;  // hex
};
// Called with the events (to the stream) or sequences (from it) done so far, and of all.
using MigrationProgress = std::function<void(uint64_t done, uint64_t total)>;

// Whether a RocksDB log is a node's copy of a stream (or cannot be read): crmd refuses to
// serve it as a log of its own.
bool IsStreamCopy(const EventStore& log);

// Publishes the whole of `source` (a RocksDB log that is no copy) into the stream of
// `options`, created when missing and refused unless empty: its events' envelopes byte
// for byte, in commits as large as the servers take, the chain checked as they go, then
// every index entry (unique keys, credentials, idempotency records) in index-only commits.
// A node on an empty data dir then rebuilds a copy equal to `source`.
Result<MigrationReport> MigrateToStream(const EventStore& source, const JetStreamOptions& options,
                                        const MigrationProgress& progress);

// Marks `log`, the source of MigrateToStream, as the copy of the stream up to `sequence`,
// so that a node started on its data dir goes on from there instead of rebuilding.
Status MarkAsCopy(EventStore& log, uint64_t sequence);

// Copies the stream of `options` into a new RocksDB log at options.local.path (absent or
// empty), then leaves it a log of its own, for crmd --store rocksdb.
Result<MigrationReport> MigrateFromStream(const JetStreamOptions& options,
                                          const MigrationProgress& progress);

}  // namespace crm::eventstore

#endif  // CRM_EVENTSTORE_JETSTREAM_EVENT_STORE_H_
