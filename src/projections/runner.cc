#include "projections/runner.h"

#include <pthread.h>
#include <future>

#include "domain/events.h"
#include "eventstore/coding.h"

namespace crm::projections {
namespace {

constexpr const char* kVersionKey = "meta/views_version";
constexpr size_t kReadChunk = 512;
constexpr auto kIdleWake = std::chrono::milliseconds(50);

std::string CheckpointKey(std::string_view name) { return "meta/checkpoint/" + std::string(name); }

}  // namespace

ProjectionRunner::ProjectionRunner(eventstore::EventStore& store, LocalStore& local,
                                   std::vector<Projection*> projections,
                                   std::function<void(std::string_view)> log)
    : store_(store),
      local_(local),
      log_(log ? std::move(log) : [](std::string_view) {}),
      projections_(std::move(projections)),
      checkpoints_(projections_.size(), 0) {}

ProjectionRunner::~ProjectionRunner() { Stop(); }

Status ProjectionRunner::LoadAll() {
  auto version = local_.Get(kVersionKey);
  if (!version || *version != std::to_string(kViewsVersion)) {
    cleared_at_start_ = version ? "the stored read models are of another version"
                                : "no read models are stored (a new store, or one abandoned "
                                  "after a failed write)";
    return ClearAll();
  }
  // The projections load side by side (a restart is mostly rows to decode and indexes to
  // build); one that reads those before it waits for them.
  std::vector<std::future<Status>> loading;
  Status failed = Status::Ok();
  auto wait_all = [&] {
    for (auto& f : loading) {
      Status s = f.get();
      if (failed.ok() && !s.ok()) failed = s;
    }
    loading.clear();
  };
  for (Projection* p : projections_) {
    if (p->LoadsFromEarlier()) wait_all();
    loading.push_back(std::async(std::launch::async, [this, p] { return p->Load(local_); }));
  }
  wait_all();
  if (!failed.ok()) {
    log_(failed.error().detail + "; rebuilding the read models");
    cleared_at_start_ = "the stored read models failed to load: " + failed.error().detail;
    return ClearAll();
  }
  for (size_t i = 0; i < projections_.size(); ++i) {
    auto cp = local_.Get(CheckpointKey(projections_[i]->name()));
    checkpoints_[i] = cp && cp->size() == 8 ? eventstore::GetFixed64(*cp) : 0;
    // A checkpoint beyond the log means the log was replaced: start over.
    if (checkpoints_[i] > store_.Head()) {
      cleared_at_start_ = "the stored read models are ahead of the log (" +
                          std::string(projections_[i]->name()) + " at " +
                          std::to_string(checkpoints_[i]) + ", the log's head at " +
                          std::to_string(store_.Head()) + ")";
      return ClearAll();
    }
  }
  return Status::Ok();
}

Status ProjectionRunner::ClearAll() {
  // The version and checkpoints go first: a crash while the rows are being deleted then
  // leaves a store that the next start rebuilds, never checkpoints without their rows.
  LocalBatch forget;
  forget.Delete(kVersionKey);
  for (auto* p : projections_) forget.Delete(CheckpointKey(p->name()));
  CRM_RETURN_IF_ERROR(local_.Write(forget, true));
  for (size_t i = 0; i < projections_.size(); ++i) {
    projections_[i]->Clear();
    CRM_RETURN_IF_ERROR(local_.DeletePrefix(std::string(projections_[i]->name()) + "/"));
    checkpoints_[i] = 0;
  }
  write_failed_ = false;
  LocalBatch version;
  version.Put(kVersionKey, std::to_string(kViewsVersion));
  return local_.Write(version, true);
}

Status ProjectionRunner::Start() {
  {
    std::unique_lock lock(mu_);
    CRM_RETURN_IF_ERROR(LoadAll());
    uint64_t lowest = UINT64_MAX;
    for (uint64_t cp : checkpoints_) lowest = std::min(lowest, cp);
    applied_.store(projections_.empty() ? store_.Head() : lowest);
    next_checkpoint_ = Clock::now() + checkpoint_every_;
    started_ = true;
  }
  stop_ = false;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "crm-runner");  // for top, perf and gdb
    Loop();
  });
  return Status::Ok();
}

void ProjectionRunner::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (!stalled_) {  // stalled, nothing may be stored, as was said then
    Status s = Checkpoint();
    if (!s.ok()) log_("projections: " + s.error().detail);
  }
  // Whoever still waits will not be served.
  std::multimap<uint64_t, Waiter> left;
  {
    std::lock_guard<std::mutex> lock(waiters_mu_);
    left.swap(waiters_);
  }
  for (auto& [pos, w] : left) w.done(false);
}

std::map<std::string, uint64_t> ProjectionRunner::checkpoints() const {
  std::shared_lock lock(mu_);
  std::map<std::string, uint64_t> out;
  for (size_t i = 0; i < projections_.size(); ++i) {
    out[std::string(projections_[i]->name())] = checkpoints_[i];
  }
  return out;
}

void ProjectionRunner::WhenApplied(uint64_t position, Clock::time_point deadline,
                                   std::function<void(bool)> done) {
  {
    std::lock_guard<std::mutex> lock(waiters_mu_);
    if (applied_.load() < position && !stop_ && !stalled_) {
      waiters_.emplace(position, Waiter{deadline, std::move(done)});
      return;
    }
  }
  done(applied_.load() >= position);
}

bool ProjectionRunner::WaitApplied(uint64_t position, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(waiters_mu_);
  return applied_cv_.wait_for(lock, timeout, [&] { return applied_.load() >= position; });
}

void ProjectionRunner::OnChange(std::function<void(uint64_t, const Topics&)> listener) {
  std::lock_guard<std::mutex> lock(listeners_mu_);
  listeners_.push_back(std::move(listener));
}

Status ProjectionRunner::Rebuild() {
  std::unique_lock lock(mu_);
  CRM_RETURN_IF_ERROR(ClearAll());
  ++generation_;
  applied_.store(0);
  stalled_ = false;  // a failed event is tried again, with everything before it
  cleared_at_start_.clear();
  SetFailure("");
  return Status::Ok();
}

void ProjectionRunner::FireWaiters() {
  std::vector<std::pair<std::function<void(bool)>, bool>> ready;
  {
    std::lock_guard<std::mutex> lock(waiters_mu_);
    uint64_t applied = applied_.load();
    auto now = Clock::now();
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      bool reached = it->first <= applied;
      if (reached || it->second.deadline <= now || stalled_) {
        ready.emplace_back(std::move(it->second.done), reached);
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  applied_cv_.notify_all();
  for (auto& [done, reached] : ready) done(reached);
}

void ProjectionRunner::ApplyBatch(const std::vector<eventstore::RecordedEvent>& events,
                                  uint64_t generation) {
  Topics touched;
  LocalBatch batch;
  {
    std::unique_lock lock(mu_);
    if (generation != generation_) return;  // a rebuild started: these events are stale
    uint64_t applied = applied_.load();     // the events before this batch's
    for (const auto& ev : events) {
      for (size_t i = 0; i < projections_.size(); ++i) {
        if (checkpoints_[i] >= ev.position) continue;
        try {
          projections_[i]->Apply(ev, touched);
        } catch (const std::exception& e) {
          // Half applied, perhaps: no state of this batch can be stored any more (the
          // stored rows stay at their last checkpoint, where the next start resumes), nor
          // said to be applied: queries answer as of the position before the batch.
          stalled_ = true;
          SetFailure("the projection " + std::string(projections_[i]->name()) +
                     " failed to apply the event at position " + std::to_string(ev.position) +
                     " (" + std::string(domain::EventTypeName(ev.event)) + "): " + e.what() +
                     "; the read models stay at position " + std::to_string(applied) +
                     " until crmd restarts");
          log_("projections: " + failure());
          return;
        }
        checkpoints_[i] = ev.position;
      }
    }
    applied = events.back().position;
    unwritten_ = true;
    FlushInto(batch, Clock::now() >= next_checkpoint_);
    // Still under the lock, so that a rebuild cannot clear the rows in between and have
    // them written back. Not synced: whatever a crash loses is replayed from the log.
    (void)WriteFlushed(batch);  // a failure is logged, and abandons the stored rows
    applied_.store(applied);
  }
  std::vector<std::function<void(uint64_t, const Topics&)>> listeners;
  {
    std::lock_guard<std::mutex> lock(listeners_mu_);
    listeners = listeners_;
  }
  for (auto& l : listeners) l(applied_.load(), touched);
}

void ProjectionRunner::FlushInto(LocalBatch& batch, bool all) {
  for (size_t i = 0; i < projections_.size(); ++i) {
    if (!all && !projections_[i]->ServedFromStore()) continue;
    projections_[i]->Flush(batch);
    batch.Put(CheckpointKey(projections_[i]->name()), eventstore::Fixed64Key(checkpoints_[i]));
  }
  if (all) {
    unwritten_ = false;
    next_checkpoint_ = Clock::now() + checkpoint_every_;
  }
}

void ProjectionRunner::CheckpointIfDue() {
  {
    std::shared_lock lock(mu_);
    if (!unwritten_ || Clock::now() < next_checkpoint_) return;
  }
  Status s = Checkpoint();
  if (!s.ok()) log_("projections: " + s.error().detail);
}

Status ProjectionRunner::Checkpoint() {
  std::unique_lock lock(mu_);
  if (!started_) return Status::Ok();  // nothing loaded: the stored rows stand
  LocalBatch batch;
  FlushInto(batch, true);
  return WriteFlushed(batch);
}

std::string ProjectionRunner::cleared_at_start() const {
  std::shared_lock lock(mu_);
  return cleared_at_start_;
}

std::string ProjectionRunner::failure() const {
  std::lock_guard<std::mutex> lock(failure_mu_);
  return failure_;
}

void ProjectionRunner::SetFailure(std::string failure) {
  std::lock_guard<std::mutex> lock(failure_mu_);
  failure_ = std::move(failure);
}

bool ProjectionRunner::store_failed() const {
  std::shared_lock lock(mu_);
  return write_failed_;
}

Status ProjectionRunner::WriteFlushed(const LocalBatch& batch) {
  if (stalled_) return Unavailable("a projection failed to apply an event: nothing more is stored");
  if (write_failed_) return Unavailable("the read models' store failed a write earlier");
  Status s = local_.Write(batch, false);
  if (s.ok()) return s;
  // The rows of this batch are no longer marked changed: a later checkpoint would store
  // positions past rows it never wrote. Write nothing more, and have the next start
  // rebuild the read models from the log (they are served from memory meanwhile).
  write_failed_ = true;
  log_("projections: " + s.error().detail + "; the read models are rebuilt at the next start");
  LocalBatch forget;
  forget.Delete(kVersionKey);
  Status forgot = local_.Write(forget, true);
  if (!forgot.ok()) log_("projections: " + forgot.error().detail);
  return s;
}

void ProjectionRunner::SetCheckpointEvery(Clock::duration every) {
  std::unique_lock lock(mu_);
  checkpoint_every_ = every;
  next_checkpoint_ = Clock::now() + every;
}

void ProjectionRunner::Loop() {
  bool unreadable = false;  // the failure said is the log's, to be cleared once it reads
  while (!stop_) {
    uint64_t generation;
    {
      std::shared_lock lock(mu_);
      generation = generation_;
    }
    uint64_t applied = applied_.load();
    if (stalled_) {  // until Stop or a rebuild: the failed event is never skipped
      FireWaiters();
      std::this_thread::sleep_for(kIdleWake);
      continue;
    }
    if (applied >= store_.Head()) {
      store_.WaitForHead(applied, kIdleWake);
      FireWaiters();
      CheckpointIfDue();
      continue;
    }
    auto events = store_.ReadAll(applied + 1, kReadChunk);
    if (!events.ok() || events->empty()) {
      if (!events.ok()) {
        std::string failure = "the log cannot be read after position " + std::to_string(applied) +
                              ": " + events.error().detail;
        if (failure != this->failure()) log_("projections: " + failure);  // once, not 10/s
        SetFailure(std::move(failure));
        unreadable = true;
      }
      FireWaiters();
      std::this_thread::sleep_for(kIdleWake);
      continue;
    }
    if (unreadable) {
      SetFailure("");
      unreadable = false;
    }
    ApplyBatch(*events, generation);
    FireWaiters();
  }
}

}  // namespace crm::projections
