#include "projections/read_models.h"

namespace crm::projections {

ReadModels::View::View(const ReadModels& m)
    : lock_(m.runner_->ReadLock()), m_(&m), position_(m.runner_->applied()) {}

ReadModels::ReadModels(eventstore::EventStore& store, LocalStore& local, Options options)
    : pool_(std::make_unique<PoolProjection>(options.utc_offset)),
      dashboard_(std::make_unique<DashboardProjection>(leads_, customers_, options.utc_offset)),
      history_(std::make_unique<CustomerHistoryProjection>(customers_, &local)),
      timeline_(std::make_unique<TimelineProjection>(&local)) {
  // The dashboard and the history read the leads' and customers' rows as they are right
  // after each event: they run after those in the list.
  runner_ = std::make_unique<ProjectionRunner>(
      store, local,
      std::vector<Projection*>{&org_, &leads_, pool_.get(), &customers_, dashboard_.get(),
                               history_.get(), timeline_.get()},
      std::move(options.log));
}

ReadModels::~ReadModels() { Stop(); }

Status ReadModels::Start() { return runner_->Start(); }

void ReadModels::Stop() { runner_->Stop(); }

}  // namespace crm::projections
