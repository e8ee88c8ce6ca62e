// Bearer tokens, kept outside the event log as SHA-256 hashes in the local store. Two kinds:
//
// API tokens (POST /api/v1/staff, /staff/{id}/tokens), one per person, never expiring:
//   "auth/token/<sha256 hex>" → staff id
//   "auth/staff/<staff id>"   → the hash of that person's current API token
// Issuing an API token for a person replaces their earlier one.
//
// Sessions (POST /api/v1/sessions, the console's sign-in), any number per person, each
// ending after `idle` without use:
//   "auth/session/<sha256 hex>"                → "<staff id> <last use, ms since epoch>"
//   "auth/staff-session/<staff id>/<sha256 hex>" → ""  (to end a person's sessions)
// The last use is kept in memory and written through (unsynced) at most once a minute per
// session, so a crash can only make a session look older, never younger. A person's
// expired sessions are deleted when they sign in again.
//
// Issuing, ending and revoking are synced writes.
#ifndef CRM_API_TOKEN_STORE_H_
#define CRM_API_TOKEN_STORE_H_

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/time.h"
#include "projections/local_store.h"
#include "writer/clock.h"

namespace crm::api {

// A new bearer token: 32 random bytes from the system CSPRNG, hex-encoded (64 chars).
std::string NewToken();
// SHA-256 of a token, hex: the only form in which tokens are stored.
std::string TokenHash(std::string_view token);

class TokenStore {
 public:
  static constexpr Millis kSessionIdle = std::chrono::hours(12);

  TokenStore(projections::LocalStore& store, const writer::Clock& clock,
             Millis session_idle = kSessionIdle)
      : store_(store), clock_(clock), idle_(session_idle) {}

  // Makes `token` the only valid API token of `staff_id`. Thread-safe.
  Status Issue(const std::string& staff_id, const std::string& token);
  // Revokes every token and session of `staff_id`.
  Status Revoke(const std::string& staff_id);

  struct Session {
    std::string token;
    Time expires_at;  // if unused until then
  };
  // Starts a session for `staff_id`.
  Result<Session> StartSession(const std::string& staff_id);
  // Ends the session or API token `token` (sign-out). Ok when it was unknown.
  Status End(const std::string& token);
  // Ends every session of `staff_id` but the one whose token is `keep` (may be empty).
  Status EndSessions(const std::string& staff_id, const std::string& keep);

  // The staff id a token belongs to, if it is valid. A session's use counts (it starts its
  // idle time again) only when `use`: re-checking an open WebSocket is not use.
  std::optional<std::string> Lookup(const std::string& token, bool use = true);

 private:
  struct Live {
    std::string staff_id;
    int64_t last_used_ms = 0;
    int64_t stored_ms = 0;  // the last use the store has
  };
  std::optional<std::string> LookupSession(const std::string& hash, bool use);
  // Deletes sessions of `staff_id` into `batch` (every one but `keep`, or only expired
  // ones when `expired_only`). Called with mu_ held.
  void CollectSessions(const std::string& staff_id, const std::string& keep, bool expired_only,
                       int64_t now_ms, projections::LocalBatch& batch);

  projections::LocalStore& store_;
  const writer::Clock& clock_;
  Millis idle_;
  std::mutex mu_;                                  // writes, and sessions_
  std::unordered_map<std::string, Live> sessions_;  // by token hash: those seen since start
};

}  // namespace crm::api

#endif  // CRM_API_TOKEN_STORE_H_
