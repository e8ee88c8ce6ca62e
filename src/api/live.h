// Live updates over WebSocket (API.md "Live updates"): GET /api/v1/live.
//
// A client authenticates (the upgrade's Authorization header, or {"op": "auth"} within
// 5 s, else close 1008), then subscribes to topics. Each subscription gets a snapshot,
// then an update whenever its view changes:
//  - Views are built on the hub's own thread, never on an I/O, runner or writer thread,
//    once per change per scope: every subscriber of the same scope (the same dashboard
//    of the same people and month, the pool, one customer) shares the same bytes. A
//    change that leaves a view as it was sends nothing.
//  - Each client holds at most one message per topic: a newer view replaces an older
//    one not yet written (coalescing), so a slow client holds the newest view, never a
//    queue. The `events` feed is the exception, as it must be gapless: it is read from
//    the log a page at a time as the client takes it, and a client whose socket has
//    taken nothing for kStalledEvents while events wait is closed with 1013 (it resumes
//    with `after`).
//  - Visibility is the caller's, checked at every delivery: a customer that becomes
//    invisible sends nothing more; a revoked token or a departed person closes the socket
//    with 1008.
#ifndef CRM_API_LIVE_H_
#define CRM_API_LIVE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/router.h"
#include "api/services.h"

namespace crm::api {

class LiveHub {
 public:
  // `s` must outlive the hub; Stop before it goes.
  explicit LiveHub(const Services& s);
  ~LiveHub();

  // Follows the read models' changes and starts the hub's thread.
  void Start();
  // Closes every socket (1001, going away) and joins. Idempotent.
  void Stop();

  // Takes an accepted socket; `authorization` is the upgrade request's header ("" when
  // the client will authenticate with its first message).
  WebSocketHandler Attach(std::shared_ptr<WebSocket> ws, const std::string& authorization);

  LiveStats Stats() const;

  struct Client;

 private:
  void Loop();
  void OnChange(uint64_t position, const projections::Topics& topics);
  void Sweep();
  void Build(const std::set<std::string>& keys, bool all_snapshots);
  void PumpEvents(Client& c);
  std::vector<std::shared_ptr<Client>> OpenClients();
  // The clients that subscribed to the events feed (the others have nothing to pump
  // when the log moves), and those that are still open of them.
  void AddFeed(const std::shared_ptr<Client>& c);
  std::vector<std::shared_ptr<Client>> FeedClients();
  // Sets one of the flags below and wakes the hub's thread.
  void Wake(bool LiveHub::*flag);

  const Services& s_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::weak_ptr<Client>> clients_;  // guarded by mu_
  std::vector<std::weak_ptr<Client>> feeds_;    // those that subscribed to events; mu_
  std::set<std::string> dirty_;                 // runner topics changed; guarded by mu_
  bool snapshots_wanted_ = false;               // guarded by mu_
  bool events_moved_ = false;                   // guarded by mu_
  bool stopping_ = false;                       // guarded by mu_
  // The last data sent per scope key, to send nothing when a change leaves it equal.
  std::map<std::string, std::string> last_;  // hub thread only
  std::atomic<uint64_t> view_builds_{0};
  std::atomic<uint64_t> messages_sent_{0};
  std::atomic<uint64_t> stalled_closes_{0};
  std::atomic<size_t> queued_bytes_{0};
  std::thread thread_;
};

void AddLiveRoutes(Router& r, Services& s, LiveHub& hub);

}  // namespace crm::api

#endif  // CRM_API_LIVE_H_
