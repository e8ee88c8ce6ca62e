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
    ++passes_;
    lock.unlock();
    Result<eventstore::VerifyReport> report = store_.Verify();
    for (auto& done : callers) done(report);
    lock.lock();
  }
}

}  // namespace crm::api
