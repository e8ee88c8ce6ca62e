#include "api/sign_in_limiter.h"

#include <algorithm>

namespace crm::api {
namespace {
int64_t CeilSeconds(int64_t ms) { return (ms + 999) / 1000; }
}  // namespace

int64_t SignInLimiter::WaitOf(const std::string& key, int64_t now) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return 0;
  return std::max<int64_t>(0, it->second.locked_until - now);
}

int64_t SignInLimiter::RetryAfter(const std::string& email, const std::string& address,
                                  Time now) {
  int64_t t = ToMillis(now);
  std::lock_guard<std::mutex> lock(mu_);
  return CeilSeconds(std::max(WaitOf("e:" + email, t), WaitOf("a:" + address, t)));
}

int64_t SignInLimiter::Count(const std::string& key, int threshold, int64_t now) {
  Entry& e = entries_[key];
  int64_t window = limits_.window.count();
  // A quiet window after the last lockout forgives the earlier ones.
  if (e.lockouts > 0 && now - e.locked_until > window) e.lockouts = 0;
  if (now - e.window_start > window) {
    e.failures = 0;
    e.window_start = now;
  }
  if (++e.failures < threshold) return 0;
  int64_t lock = limits_.first_lock.count();
  for (int i = 0; i < e.lockouts && lock < limits_.max_lock.count(); ++i) lock *= 2;
  lock = std::min<int64_t>(lock, limits_.max_lock.count());
  e.locked_until = now + lock;
  e.failures = 0;
  e.window_start = now;
  ++e.lockouts;
  return lock;
}

int64_t SignInLimiter::Failed(const std::string& email, const std::string& address, Time now) {
  int64_t t = ToMillis(now);
  std::lock_guard<std::mutex> lock(mu_);
  Bound(t);
  int64_t wait = std::max(Count("e:" + email, limits_.per_email, t),
                          Count("a:" + address, limits_.per_address, t));
  return CeilSeconds(std::max({wait, WaitOf("e:" + email, t), WaitOf("a:" + address, t)}));
}

void SignInLimiter::Succeeded(const std::string& email) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase("e:" + email);
}

void SignInLimiter::Bound(int64_t now) {
  if (entries_.size() < limits_.max_keys) return;
  // First what neither locks nor counts within its window, then whatever does not lock.
  std::erase_if(entries_, [&](const auto& kv) {
    return kv.second.locked_until <= now && now - kv.second.window_start > limits_.window.count();
  });
  if (entries_.size() >= limits_.max_keys) {
    std::erase_if(entries_, [&](const auto& kv) { return kv.second.locked_until <= now; });
  }
}

}  // namespace crm::api
