// Verifies the log's hash chain on a thread of its own, so that a long verification never
// holds an I/O thread, the read models or the writer. Requests that arrive while a
// verification runs share the next one: every caller gets a report of a verification
// that began after it asked, and a crowd of callers costs one pass at a time.
#ifndef CRM_API_LOG_VERIFIER_H_
#define CRM_API_LOG_VERIFIER_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "eventstore/event_store.h"

namespace crm::api {

class LogVerifier {
 public:
  using Done = std::function<void(const Result<eventstore::VerifyReport>&)>;

  // `store` is not owned and must outlive this.
  explicit LogVerifier(const eventstore::EventStore& store);
  ~LogVerifier();

  // Calls `done` on the verifier's thread with the report; must not block. After Stop,
  // `done` gets kUnavailable at once.
  void Request(Done done);
  // Finishes the verification in hand, answers every waiting caller, joins. Idempotent.
  void Stop();

  // Verifications run so far (for tests: many callers, few passes).
  uint64_t passes() const;

 private:
  void Loop();

  const eventstore::EventStore& store_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Done> waiting_;               // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::atomic<bool> stopping_flag_{false};  // the same, for the pass in hand
  uint64_t passes_ = 0;                     // guarded by mu_
  std::thread thread_;
};

}  // namespace crm::api

#endif  // CRM_API_LOG_VERIFIER_H_
