// Bearer tokens, kept outside the event log as SHA-256 hashes in the local store. Two kinds:
//
// API tokens (POST /api/v1/staff, /staff/{id}/tokens), one per person, never expiring:
//   "auth/token/<sha256 hex>" → staff id
//   "auth/staff/<staff id>"   → the hash of that person's current API token
// Issuing an API token for a person replaces their earlier one and ends their sessions.
//
// Sessions (POST /api/v1/sessions, the console's sign-in), at most kMaxSessions per person
// (a new one ends the least recently used beyond that), each ending after `idle` without
// use:
//   "auth/session/<sha256 hex>"                → "<staff id> <last use, ms since epoch>"
//   "auth/staff-session/<staff id>/<sha256 hex>" → ""  (to end a person's sessions)
// The last use is kept in memory and written through (unsynced) at most once a minute per
// session, so a crash can only make a session look older, never younger. A person's
// expired sessions are deleted when they sign in again.
//
// Issuing, ending and revoking are synced writes.
//
// Also here: the server's secret for keyed digests of requests with secrets in them
// ("auth/request-key", 32 random bytes made on first start).
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
  static constexpr size_t kMaxSessions = 10;

  TokenStore(projections::LocalStore& store, const writer::Clock& clock,
             Millis session_idle = kSessionIdle);

  // HMAC-SHA256 of `head` + `body` under the server's secret: what an Idempotency-Key
  // keeps of a request whose body holds a password.
  std::string RequestDigest(std::string_view head, std::string_view body) const;

  // Makes `token` the only valid token of `staff_id`, ending their sessions. Thread-safe.
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
  // The token hashes of `staff_id`'s sessions with their last use. Called with mu_ held.
  std::vector<std::pair<std::string, int64_t>> SessionsOf(const std::string& staff_id);
  // Deletes the session `hash` of `staff_id` into `batch`. Called with mu_ held.
  void DropSession(const std::string& staff_id, const std::string& hash,
                   projections::LocalBatch& batch);
  // Deletes every session of `staff_id` but `keep` (a token hash, may be empty).
  void DropSessions(const std::string& staff_id, const std::string& keep,
                    projections::LocalBatch& batch);

  projections::LocalStore& store_;
  const writer::Clock& clock_;
  Millis idle_;
  std::string request_key_;
  std::mutex mu_;                                   // writes, and sessions_
  std::unordered_map<std::string, Live> sessions_;  // by token hash: those seen since start
};

}  // namespace crm::api

#endif  // CRM_API_TOKEN_STORE_H_
