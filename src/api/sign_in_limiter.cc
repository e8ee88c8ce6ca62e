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

bool SignInLimiter::Full(const std::string& key, int threshold, int64_t now) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  const Entry& e = it->second;
  int failures = now - e.window_start > limits_.window.count() ? 0 : e.failures;
  return failures + e.pending >= threshold;
}

int64_t SignInLimiter::Begin(const std::string& email, const std::string& address, Time now) {
  int64_t t = ToMillis(now);
  std::string ek = EmailKey(email), ak = AddressKey(address);
  std::lock_guard<std::mutex> lock(mu_);
  if (int64_t wait = std::max(WaitOf(ek, t), WaitOf(ak, t))) return CeilSeconds(wait);
  if (Full(ek, limits_.per_email, t) || Full(ak, limits_.per_address, t)) return 1;
  Bound(t);
  ++entries_[ek].pending;
  ++entries_[ak].pending;
  return 0;
}

void SignInLimiter::Release(const std::string& key) {
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.pending > 0) --it->second.pending;
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
  std::string ek = EmailKey(email), ak = AddressKey(address);
  std::lock_guard<std::mutex> lock(mu_);
  Release(ek);
  Release(ak);
  int64_t wait = std::max(Count(ek, limits_.per_email, t), Count(ak, limits_.per_address, t));
  return CeilSeconds(std::max({wait, WaitOf(ek, t), WaitOf(ak, t)}));
}

void SignInLimiter::Succeeded(const std::string& email, const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  Release(AddressKey(address));
  auto it = entries_.find(EmailKey(email));
  if (it == entries_.end()) return;
  // The count starts again; attempts still in flight keep their reservations.
  int pending = std::max(0, it->second.pending - 1);
  it->second = Entry{};
  it->second.pending = pending;
}

void SignInLimiter::Abandoned(const std::string& email, const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  Release(EmailKey(email));
  Release(AddressKey(address));
}

void SignInLimiter::Bound(int64_t now) {
  if (entries_.size() < limits_.max_keys) return;
  auto idle = [&](const Entry& e) { return e.locked_until <= now && e.pending == 0; };
  // First what counts nothing within its window, then whatever neither locks nor waits.
  std::erase_if(entries_, [&](const auto& kv) {
    return idle(kv.second) && now - kv.second.window_start > limits_.window.count();
  });
  if (entries_.size() >= limits_.max_keys) {
    std::erase_if(entries_, [&](const auto& kv) { return idle(kv.second); });
  }
}

}  // namespace crm::api
