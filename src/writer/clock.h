// Where the server's time comes from: the writer reads it once per batch (the time every
// event of the batch records), ids take their time part from it, the API its business
// day. Injected everywhere, so that tests run on a FakeClock.
#ifndef CRM_WRITER_CLOCK_H_
#define CRM_WRITER_CLOCK_H_

#include <atomic>
#include <chrono>

#include "domain/time.h"

namespace crm::writer {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Time Now() const = 0;  // thread-safe
};

class SystemClock final : public Clock {
 public:
  Time Now() const override {
    return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
  }
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Time start) : ms_(ToMillis(start)) {}
  Time Now() const override { return FromMillis(ms_.load()); }
  void Set(Time t) { ms_.store(ToMillis(t)); }
  void Advance(Millis d) { ms_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> ms_;
};

}  // namespace crm::writer

#endif  // CRM_WRITER_CLOCK_H_
