// Sign-in passwords, kept outside the event log as Argon2id hashes (libsodium's
// crypto_pwhash_str, in its self-describing "$argon2id$v=19$m=...,t=...,p=...$salt$hash"
// form) in the local store:
//   "auth/password/<staff id>" → "<position of its PasswordSet event> <encoded hash>"
// The log records only that a password was set and by whom (PasswordSet). Writes are synced.
//
// Hashing and checking are memory-hard on purpose (64 MiB and about 0.1 s each), so they
// run on threads of their own, at most `threads` at once, never on the I/O threads; a
// bounded queue refuses work beyond it (503) instead of letting sign-in attempts pile up
// memory.
#ifndef CRM_API_PASSWORD_STORE_H_
#define CRM_API_PASSWORD_STORE_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "domain/result.h"
#include "projections/local_store.h"

namespace crm::api {

// The encoded Argon2id hash of `password` with a fresh salt, on the calling thread (about
// 0.1 s and 64 MiB): for the server's own start; requests use PasswordStore::Hash.
Result<std::string> HashPassword(const std::string& password);

class PasswordStore {
 public:
  // Starts `threads` hashing threads (at least one).
  PasswordStore(projections::LocalStore& store, size_t threads);
  ~PasswordStore();  // Stop()
  PasswordStore(const PasswordStore&) = delete;
  PasswordStore& operator=(const PasswordStore&) = delete;

  // Hashes `password` with a fresh salt on a hashing thread and calls `done` there with
  // the encoded hash. False (and `done` is never called) when the queue is full.
  bool Hash(std::string password, std::function<void(Result<std::string>)> done);
  // Checks `password` against `staff_id`'s stored hash on a hashing thread and calls
  // `done` there with whether it matches. A person without a password is checked against
  // a hash of nothing anyone knows, so that the answer takes as long and says the same.
  // False when the queue is full.
  bool Verify(std::string staff_id, std::string password, std::function<void(bool)> done);

  // Makes `hash` (from Hash) the password of `staff_id`, as set by the event at
  // `position`, unless a password of that or a later event is kept already (a retry, or a
  // change that overtook this one): whether it was kept. Synced.
  Result<bool> Set(const std::string& staff_id, const std::string& hash, uint64_t position);
  bool Has(const std::string& staff_id) const;

  // Refuses more work, drops what waits (its callbacks are never called: the server is
  // stopping), finishes what runs, joins the threads. Idempotent.
  void Stop();

 private:
  bool Post(std::function<void()> work);
  void Run();

  projections::LocalStore& store_;
  std::string decoy_;  // the hash a person without a password is checked against
  std::mutex set_mu_;  // Set reads, then writes
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace crm::api

#endif  // CRM_API_PASSWORD_STORE_H_
