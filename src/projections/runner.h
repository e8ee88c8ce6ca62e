// Runs the projections behind the writer: one thread reads the log from the projections'
// checkpoint and applies each event to every projection that has not seen it. Queries
// read the projections' state in memory, so their rows need reach the local store only
// for the next start: every projection's changed rows and checkpoint are written in one
// (unsynced) batch at a checkpoint, at most every 100 ms and at Stop. A row changed a
// thousand times a second is then written ten times, not a thousand. Projections that
// queries read from the store (ServedFromStore) are written with every batch. After a
// crash the runner resumes from the stored checkpoints; anything lost is replayed.
#ifndef CRM_PROJECTIONS_RUNNER_H_
#define CRM_PROJECTIONS_RUNNER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "eventstore/event_store.h"
#include "projections/local_store.h"
#include "projections/projection.h"
#include "projections/shared_mutex.h"

namespace crm::projections {

// Bumped whenever a row schema or a projection's fold changes: stored read models of
// another version are rebuilt from the log at start.
inline constexpr uint32_t kViewsVersion = 6;

class ProjectionRunner {
 public:
  using Clock = std::chrono::steady_clock;

  // `projections` are not owned and must outlive the runner. `log` gets what goes wrong
  // (a failed read of the log, a rebuild at start); nullptr: nowhere.
  ProjectionRunner(eventstore::EventStore& store, LocalStore& local,
                   std::vector<Projection*> projections,
                   std::function<void(std::string_view)> log = nullptr);
  ~ProjectionRunner();

  // Loads the stored rows and checkpoints (rebuilding when the stored views are of another
  // version), then starts following the log.
  Status Start();
  // Stops after the batch in hand, and writes a checkpoint. Idempotent.
  void Stop();

  // Writes every projection's changed rows and its checkpoint now.
  Status Checkpoint();
  // How often the runner writes checkpoints while events come (100 ms by default: each
  // takes a few milliseconds of the runner's time, which answers wait for).
  void SetCheckpointEvery(Clock::duration every);

  // The position every projection has applied. Thread-safe.
  uint64_t applied() const { return applied_.load(); }
  // Each projection's checkpoint.
  std::map<std::string, uint64_t> checkpoints() const;

  // Held (through ReadModels::View) while a query reads the projections. Not recursive:
  // a thread that holds it must not ask for it again.
  std::shared_lock<WriterFirstSharedMutex> ReadLock() const {
    return std::shared_lock<WriterFirstSharedMutex>(mu_);
  }

  // Calls `done(true)` once `position` is applied, or `done(false)` at `deadline` (at once
  // while a projection has failed: see failure()). Runs on the runner thread, or at once
  // on the caller's when already applied; must not block.
  void WhenApplied(uint64_t position, Clock::time_point deadline, std::function<void(bool)> done);
  // Blocks until `position` is applied or the timeout passes.
  bool WaitApplied(uint64_t position, std::chrono::milliseconds timeout);

  // Called on the runner thread after each applied batch with the new position and the
  // topics it touched. Must not block.
  void OnChange(std::function<void(uint64_t, const Topics&)> listener);

  // Drops every read model and rebuilds it from position 1 (the runner keeps running).
  Status Rebuild();

  // What keeps the read models from following the log, "" when nothing does: the log
  // cannot be read (retried until it can), or a projection failed to apply an event. A
  // failed event is never skipped: the runner stops before it, stores nothing more (the
  // stored rows stay at their last checkpoint, consistent), and keeps serving what it
  // applied; the next start retries from the stored checkpoints.
  std::string failure() const;
  // Whether the local store failed a write: the read models are served from memory and
  // rebuilt from the log at the next start.
  bool store_failed() const;
  // Why Start found no stored read models it could use and began from nothing, "" when
  // it loaded them: none stored (a new store, or one abandoned after a failed write),
  // another version, a failed load, or checkpoints ahead of the log.
  std::string cleared_at_start() const;

 private:
  void Loop();
  Status LoadAll();
  Status ClearAll();
  void ApplyBatch(const std::vector<eventstore::RecordedEvent>& events, uint64_t generation);
  // With mu_ held exclusively: adds the rows and checkpoints of every projection (`all`),
  // or of those served from the store, to `batch`.
  void FlushInto(LocalBatch& batch, bool all);
  // While the log is quiet: writes a checkpoint if one is due and anything is unwritten.
  void CheckpointIfDue();
  // With mu_ held exclusively: writes what FlushInto gathered, unless a write failed
  // before (then the stored read models are abandoned: see the definition).
  Status WriteFlushed(const LocalBatch& batch);
  void FireWaiters();
  void SetFailure(std::string failure);

  eventstore::EventStore& store_;
  LocalStore& local_;
  std::function<void(std::string_view)> log_;
  std::vector<Projection*> projections_;
  std::vector<uint64_t> checkpoints_;

  mutable WriterFirstSharedMutex mu_;  // guards the projections' state and checkpoints_
  std::atomic<uint64_t> applied_{0};
  std::atomic<bool> stop_{false};
  uint64_t generation_ = 0;  // bumped by Rebuild, under mu_
  Clock::duration checkpoint_every_ = std::chrono::milliseconds(100);  // under mu_
  Clock::time_point next_checkpoint_;                                  // under mu_
  bool unwritten_ = false;     // applied since the last checkpoint; under mu_
  bool write_failed_ = false;  // under mu_
  // A projection failed to apply an event; set under mu_, read anywhere.
  std::atomic<bool> stalled_{false};
  std::string cleared_at_start_;  // under mu_
  mutable std::mutex failure_mu_;
  std::string failure_;   // under failure_mu_
  bool started_ = false;  // under mu_ (and set before the thread starts)
  std::thread thread_;

  struct Waiter {
    Clock::time_point deadline;
    std::function<void(bool)> done;
  };
  std::mutex waiters_mu_;
  std::multimap<uint64_t, Waiter> waiters_;
  std::condition_variable applied_cv_;

  std::mutex listeners_mu_;
  std::vector<std::function<void(uint64_t, const Topics&)>> listeners_;
};

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_RUNNER_H_
