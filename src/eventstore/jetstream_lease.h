// Which crmd node writes: a lease held on a JetStream stream of its own ("<stream>_writer",
// subject "<stream>.writer"), on the one compare-and-set that holds on a replicated stream
// in NATS 2.9.10, the stream-wide Nats-Expected-Last-Sequence (jetstream_client.h).
//
// Each message of the lease stream says who holds the lease from then on: {node, url,
// ttl_ms} (or released). A node takes the lease by publishing its claim with the expected
// last sequence it read, so of two nodes that try at once exactly one succeeds; the holder
// renews by publishing again, every ttl/4, expecting its own last message.
//   - The holder counts its lease from when it sent the renewal that was acknowledged, so
//     its own view ends first: it stops deciding at sent + ttl - ttl/10 without a newer
//     acknowledgement (a NATS leader election, a network split), and at once when a
//     renewal is refused (another node took the lease).
//   - A standby counts from when it saw the lease stream's last message change (after its
//     reads of it returned), on its own clock (no clock of another machine is trusted),
//     and may take the lease once it has not changed for ttl; a released lease, or one
//     that names this node (a process of it that ended), may be taken at once. Each claim
//     names the process that made it (a random boot id), so that a renewal whose answer
//     was lost is recognised as this process's own. Node names must differ between nodes.
//   - Whatever the clocks do, the log is safe: a writer's append expects the log's last
//     sequence (jetstream_event_store.h), so a deposed writer that still publishes is
//     refused and writes nothing.
// Before a node claims the lease it runs `catch_up` (its copy of the log reaches the
// stream's end), and it never takes or keeps the lease while `may_lead` says no (a halted
// writer, a broken copy); giving the lease up, it stops deciding before it releases.
#ifndef CRM_EVENTSTORE_JETSTREAM_LEASE_H_
#define CRM_EVENTSTORE_JETSTREAM_LEASE_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "domain/result.h"

namespace crm::eventstore {

class JetStreamClient;

struct LeaseOptions {
  std::vector<std::string> servers;
  std::string stream = "evcrm";  // the log's stream; the lease's is "<stream>_writer"
  int replicas = 1;
  std::string node;  // this node's name
  std::string url;   // where this node takes commands, for the standbys to name
  std::chrono::milliseconds ttl{6000};
  std::function<bool()> may_lead;    // null: always
  std::function<Status()> catch_up;  // run before claiming the lease
  std::function<void(std::string_view)> log;
};

class WriterLease {
 public:
  // Connects, creates the lease stream when missing and starts the thread that takes and
  // renews the lease. kUnavailable when NATS cannot be reached.
  static Result<std::unique_ptr<WriterLease>> Start(LeaseOptions options);
  ~WriterLease();

  // Whether this node holds the lease now, caught up: the only state in which it decides.
  bool IsWriter() const;

  struct Holder {
    std::string node;
    std::string url;
    uint64_t term = 0;  // the lease stream's sequence when it was taken: grows with each holder
  };
  // Who writes, as far as this node knows (itself when IsWriter()); nullopt when nobody
  // holds a lease this node has seen renewed within its time.
  std::optional<Holder> Writer() const;

  struct Stats {
    uint64_t terms_taken = 0;  // times this node took the lease
    uint64_t terms_lost = 0;   // times it stopped being the writer without releasing
    uint64_t renew_failures = 0;
  };
  Stats GetStats() const;

  // Stops renewing and, when this node holds the lease, releases it so that a standby
  // takes over at once. Idempotent.
  void Stop();

 private:
  explicit WriterLease(LeaseOptions options, std::unique_ptr<JetStreamClient> client);
  void Loop();
  void Round();
  void StepDown(std::string_view why, bool lost);
  std::string ClaimText(uint64_t term, bool released) const;
  std::string NextMessageId();

  const LeaseOptions options_;
  const std::string stream_, subject_;
  std::unique_ptr<JetStreamClient> client_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool held_ = false;
  uint64_t my_sequence_ = 0;  // the lease stream's sequence of this node's last claim
  uint64_t term_ = 0;
  std::chrono::steady_clock::time_point held_until_{};
  // The lease stream's last sequence as this node saw it, and since when.
  uint64_t seen_sequence_ = 0;
  std::chrono::steady_clock::time_point seen_since_{};
  std::optional<Holder> other_;  // the last claim of another node
  Stats stats_;
  std::string boot_;        // this process: random, in each claim and message id
  uint64_t published_ = 0;  // for message ids
  std::thread thread_;
};

}  // namespace crm::eventstore

#endif  // CRM_EVENTSTORE_JETSTREAM_LEASE_H_
