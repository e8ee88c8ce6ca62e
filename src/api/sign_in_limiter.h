// Failed sign-ins, counted per email and per client address, so that passwords cannot be
// guessed at speed: after `per_email` failures for one email (or `per_address` from one
// address) within `window`, attempts for it are refused (429 too_many_attempts, with
// Retry-After) for `first_lock`, doubling with each lockout up to `max_lock`. A lockout
// refuses without checking the password, so it costs the server nothing. A successful
// sign-in clears its email's count (not its address's: one account of an attacker's own
// must not reset the count for the accounts they guess at).
//
// In memory: a restart forgets the counts, which an attacker cannot cause. Keys are
// bounded (`max_keys`); beyond it, keys that lock nothing are dropped first.
#ifndef CRM_API_SIGN_IN_LIMITER_H_
#define CRM_API_SIGN_IN_LIMITER_H_

#include <mutex>
#include <string>
#include <unordered_map>

#include "domain/time.h"

namespace crm::api {

class SignInLimiter {
 public:
  struct Limits {
    int per_email = 5;
    int per_address = 20;
    Millis window = std::chrono::minutes(15);
    Millis first_lock = std::chrono::minutes(1);
    Millis max_lock = std::chrono::minutes(15);
    size_t max_keys = 100'000;
  };
  SignInLimiter() : SignInLimiter(Limits{}) {}
  explicit SignInLimiter(Limits limits) : limits_(limits) {}

  // Seconds until an attempt for `email` from `address` will be heard; 0: now.
  int64_t RetryAfter(const std::string& email, const std::string& address, Time now);
  // Counts a failed attempt; answers the wait it imposes from now on (0: none yet).
  int64_t Failed(const std::string& email, const std::string& address, Time now);
  // A successful sign-in for `email`.
  void Succeeded(const std::string& email);

 private:
  struct Entry {
    int failures = 0;           // within the window
    int64_t window_start = 0;   // ms
    int64_t locked_until = 0;   // ms
    int lockouts = 0;           // in a row: each doubles the next
  };
  int64_t Count(const std::string& key, int threshold, int64_t now);
  int64_t WaitOf(const std::string& key, int64_t now) const;
  void Bound(int64_t now);

  Limits limits_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // "e:<email>", "a:<address>"
};

}  // namespace crm::api

#endif  // CRM_API_SIGN_IN_LIMITER_H_
