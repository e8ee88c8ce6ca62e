// Sign-in passwords, kept as Argon2id hashes (libsodium's crypto_pwhash_str, in its
// self-describing "$argon2id$v=19$m=...,t=...,p=...$salt$hash" form) in the log's unique
// index under a reserved scope, written in the same commit as the PasswordSet event that
// records that a password was set and by whom (writer::WriteRequest::index):
//   ("$password", <staff id>) → the encoded hash
// Every copy of a replicated log has them, so a person signs in on any node; the index is
// not the event stream, so no event, export or audit answer shows a hash.
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
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "domain/result.h"
#include "eventstore/event_store.h"
#include "writer/writer.h"

namespace crm::api {

inline constexpr std::string_view kPasswordScope = "$password";

// The encoded Argon2id hash of `password` with a fresh salt, on the calling thread (about
// 0.1 s and 64 MiB): for the server's own start; requests use PasswordStore::Hash.
Result<std::string> HashPassword(const std::string& password);

class PasswordStore {
 public:
  // Starts `threads` hashing threads (at least one); the hashes are read from `log`.
  PasswordStore(const eventstore::EventStore& log, size_t threads);
  ~PasswordStore();  // Stop()
  PasswordStore(const PasswordStore&) = delete;
  PasswordStore& operator=(const PasswordStore&) = delete;

  // Hashes `password` with a fresh salt on a hashing thread and calls `done` there with
  // the encoded hash. False (and `done` is never called) when the queue is full.
  bool Hash(std::string password, std::function<void(Result<std::string>)> done);
  // Checks `password` against `staff_id`'s stored hash on a hashing thread and calls
  // `done` there with whether it matches, and the stored hash it was checked against ("" for
  // none). A person without a password is checked against a hash of nothing anyone knows,
  // so that the answer takes as long and says the same. False when the queue is full.
  bool Verify(std::string staff_id, std::string password,
              std::function<void(bool match, std::string checked)> done);

  // The index entry (for writer::WriteRequest::index) that makes `hash` (from Hash) the
  // password of `staff_id`: written with the command that records it, it ends as that
  // command's events do.
  static writer::IndexEffects Set(std::string staff_id, std::string hash);
  // Whether `staff_id` has a password (true when the log cannot be read: a check it would
  // call for is then not skipped).
  bool Has(const std::string& staff_id) const;
  // Whether `staff_id`'s password, as `index` has it, is still `checked` (from Verify).
  static bool StillIs(writer::IndexEdit& index, const std::string& staff_id,
                      const std::string& checked);

  // Refuses more work, drops what waits (its callbacks are never called: the server is
  // stopping), finishes what runs, joins the threads. Idempotent.
  void Stop();

 private:
  bool Post(std::function<void()> work);
  void Run();

  // The stored hash of `staff_id`'s password.
  std::optional<std::string> Stored(const std::string& staff_id) const;

  const eventstore::EventStore& log_;
  std::string decoy_;  // the hash a person without a password is checked against
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace crm::api

#endif  // CRM_API_PASSWORD_STORE_H_
