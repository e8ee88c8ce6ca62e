// Failed sign-ins, counted per email and per client address, so that passwords cannot be
// guessed at speed: after `per_email` failures for one email (or `per_address` from one
// address) within `window`, attempts for it are refused (429 too_many_attempts, with
// Retry-After) for `first_lock`, doubling with each lockout up to `max_lock`. A lockout
// refuses without checking the password, so it costs the server nothing. A successful
// sign-in clears its email's count (not its address's: one account of an attacker's own
// must not reset the count for the accounts they guess at).
//
// Each attempt is reserved before its password is checked (Begin) and ended by exactly
// one of Failed, Succeeded or Abandoned; attempts in flight count against the thresholds,
// so guesses sent all at once get no more tries than guesses sent in turn.
//
// In memory: a restart forgets the counts, which an attacker cannot cause. Keys are
// bounded (`max_keys`); beyond it, keys that neither lock nor have attempts in flight are
// dropped, those whose window has passed first.
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

  // Reserves an attempt for `email` from `address`: 0 when it may go ahead, else the
  // seconds to wait (1 when only attempts still in flight stand in the way).
  int64_t Begin(const std::string& email, const std::string& address, Time now);
  // Ends a reserved attempt that failed; answers the wait it imposes from now on (0: none).
  int64_t Failed(const std::string& email, const std::string& address, Time now);
  // Ends a reserved attempt that succeeded.
  void Succeeded(const std::string& email, const std::string& address);
  // Ends a reserved attempt that was never decided (the server was too busy to check it).
  void Abandoned(const std::string& email, const std::string& address);

 private:
  struct Entry {
    int failures = 0;          // within the window
    int64_t window_start = 0;  // ms
    int64_t locked_until = 0;  // ms
    int lockouts = 0;          // in a row: each doubles the next
    int pending = 0;           // attempts in flight
  };
  static std::string EmailKey(const std::string& email) { return "e:" + email; }
  static std::string AddressKey(const std::string& address) { return "a:" + address; }
  int64_t Count(const std::string& key, int threshold, int64_t now);
  int64_t WaitOf(const std::string& key, int64_t now) const;
  bool Full(const std::string& key, int threshold, int64_t now) const;
  void Release(const std::string& key);
  void Bound(int64_t now);

  Limits limits_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace crm::api

#endif  // CRM_API_SIGN_IN_LIMITER_H_
