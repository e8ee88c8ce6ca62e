#include "api/log_verifier.h"

namespace crm::api {

LogVerifier::LogVerifier(const eventstore::EventStore& store)
    : store_(store), thread_([this] { Loop(); }) {}

LogVerifier::~LogVerifier() { Stop(); }

void LogVerifier::Request(Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      waiting_.push_back(std::move(done));
      cv_.notify_one();
      return;
    }
  }
  done(Unavailable("the server is stopping"));
}

void LogVerifier::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stopping_flag_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t LogVerifier::passes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return passes_;
}

void LogVerifier::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
    if (waiting_.empty()) return;  // stopping, nobody waits
    std::vector<Done> callers;
    callers.swap(waiting_);
    if (stopping_) {
      // Nobody would read a report now: answer at once rather than hold up the stop.
      lock.unlock();
      for (auto& done : callers) done(Unavailable("the server is stopping"));
      return;
    }
    ++passes_;
    lock.unlock();
    // A stop ends the pass in hand (it checks every 65,536 events).
    Result<eventstore::VerifyReport> report =
        store_.Verify([this](uint64_t, uint64_t) { return !stopping_flag_.load(); });
    if (stopping_flag_.load()) report = Unavailable("the server is stopping");
    for (auto& done : callers) done(report);
    lock.lock();
  }
}

}  // namespace crm::api
