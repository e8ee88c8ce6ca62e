// The read side of one node: its projections, the runner that keeps them following the
// log, and the lock between the two. Queries reach the projections only through a View,
// which holds the read lock for as long as it lives, so a reader cannot forget it and
// cannot keep a reference past it; the runner takes the lock exclusively for each batch
// it applies (a waiting runner goes before new readers). The parts that read only the
// local store (history snapshots, timeline pages) need no View.
#ifndef CRM_PROJECTIONS_READ_MODELS_H_
#define CRM_PROJECTIONS_READ_MODELS_H_

#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/event_store.h"
#include "projections/customer_history.h"
#include "projections/customer_projection.h"
#include "projections/dashboard_projection.h"
#include "projections/lead_projection.h"
#include "projections/local_store.h"
#include "projections/org_projection.h"
#include "projections/pool_projection.h"
#include "projections/runner.h"
#include "projections/timeline_projection.h"

namespace crm::projections {

class ReadModels {
 public:
  struct Options {
    Seconds utc_offset{8 * 3600};               // where a business day starts (claims per day)
    std::function<void(std::string_view)> log;  // where the runner reports trouble
  };

  // `store` and `local` are not owned and must outlive this.
  ReadModels(eventstore::EventStore& store, LocalStore& local, Options options);
  ~ReadModels();

  // Loads the stored rows (rebuilding them when stale) and starts following the log.
  Status Start();
  // Stops following. Idempotent.
  void Stop();

  // A consistent reading of every projection, as of position(). Holds the read lock until
  // it is destroyed: keep it short, and never take a second one on the same thread.
  class View {
   public:
    const OrgProjection& org() const { return m_->org_; }
    const LeadProjection& leads() const { return m_->leads_; }
    const PoolProjection& pool() const { return *m_->pool_; }
    const CustomerProjection& customers() const { return m_->customers_; }
    const DashboardProjection& dashboard() const { return *m_->dashboard_; }
    // The log position the projections reflect (at least).
    uint64_t position() const { return position_; }

   private:
    friend class ReadModels;
    explicit View(const ReadModels& m);
    std::shared_lock<WriterFirstSharedMutex> lock_;
    const ReadModels* m_;
    uint64_t position_;
  };
  View Read() const { return View(*this); }

  // Without a View: these read only the local store, which is safe on any thread.
  const CustomerHistoryProjection& history() const { return *history_; }
  // Positions of a customer's events, newest first, below `before` (0: from the newest).
  std::vector<uint64_t> TimelinePositions(const std::string& customer_id, uint64_t before,
                                          size_t limit) const {
    return timeline_->Positions(customer_id, before, limit);
  }

  // Following the log: waiting for a position, checkpoints, change notices, rebuilds.
  ProjectionRunner& runner() { return *runner_; }
  const ProjectionRunner& runner() const { return *runner_; }

 private:
  OrgProjection org_;
  LeadProjection leads_;
  std::unique_ptr<PoolProjection> pool_;
  CustomerProjection customers_;
  std::unique_ptr<DashboardProjection> dashboard_;
  std::unique_ptr<CustomerHistoryProjection> history_;
  std::unique_ptr<TimelineProjection> timeline_;
  std::unique_ptr<ProjectionRunner> runner_;
};

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_READ_MODELS_H_
