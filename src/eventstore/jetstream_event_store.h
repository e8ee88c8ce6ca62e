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
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eventstore/event_store.h"
#include "eventstore/rocks_event_store.h"

namespace crm::eventstore {

struct JetStreamOptions {
  std::vector<std::string> servers;  // nats://host:port, tried in order
  std::string stream = "evcrm";
  std::string subject = "evcrm.log";
  int replicas = 1;    // 3 on a cluster of three
  std::string node;    // this node's name, in each commit it publishes
  StoreOptions local;  // the copy
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

}  // namespace crm::eventstore

#endif  // CRM_EVENTSTORE_JETSTREAM_EVENT_STORE_H_
