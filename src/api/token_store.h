// Bearer tokens, kept as SHA-256 hashes in the log's unique index under reserved scopes,
// written through the writer in the same commit as the command that issues or ends them
// (writer::WriteRequest::index). Every copy of a replicated log has them, so a token or a
// session works on every node and survives a failover; the index is not the event stream,
// so no event, export or audit answer ever shows a hash.
//
// API tokens (POST /api/v1/staff, /staff/{id}/tokens), one per person, never expiring:
//   ("$token", <sha256 hex>)  → staff id
//   ("$token-of", <staff id>) → the hash of that person's current API token
// Issuing an API token for a person replaces their earlier one and ends their sessions.
//
// Sessions (POST /api/v1/sessions, the console's sign-in), at most kMaxSessions per person
// (a new one ends the least recently used beyond that), each ending after `idle` without
// use:
//   ("$session", <sha256 hex>)   → "<staff id> <started> <last use>" (ms since epoch)
//   ("$sessions-of", <staff id>) → that person's session hashes, space-separated
// A node keeps the last use it saw in memory; the writer records it in the index at most
// once every kRecordUseEvery per session, so a failover or a restart can make a session
// look older by that much, never younger. A session past its idle time is refused at
// once, and the writer drops it (a standby leaves it to the person's next sign-in).
//
// Also here: the node's secret for keyed digests of requests with secrets in them, kept
// in the node's local store ("auth/request-key", 32 random bytes made on first start).
#ifndef CRM_API_TOKEN_STORE_H_
#define CRM_API_TOKEN_STORE_H_

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/time.h"
#include "eventstore/event_store.h"
#include "projections/local_store.h"
#include "writer/clock.h"
#include "writer/writer.h"

namespace crm::api {

// A new bearer token: 32 random bytes from the system CSPRNG, hex-encoded (64 chars).
std::string NewToken();
// SHA-256 of a token, hex: the only form in which tokens are stored.
std::string TokenHash(std::string_view token);

class TokenStore {
 public:
  static constexpr Millis kSessionIdle = std::chrono::hours(12);
  static constexpr size_t kMaxSessions = 10;
  static constexpr Millis kRecordUseEvery = std::chrono::minutes(10);

  // `log` holds the tokens, `writer` records sessions' use, `local` keeps the request key.
  TokenStore(const eventstore::EventStore& log, writer::Writer& writer,
             projections::LocalStore& local, const writer::Clock& clock,
             Millis session_idle = kSessionIdle);

  // HMAC-SHA256 of `head` + `body` under the node's secret: what an Idempotency-Key
  // keeps of a request whose body holds a password.
  std::string RequestDigest(std::string_view head, std::string_view body) const;

  // The index entries (for writer::WriteRequest::index) that
  // ... make `token` the only API token of `staff_id` and end their sessions;
  writer::IndexEffects Issue(std::string staff_id, std::string token) const;
  // ... make `token` the API token of `staff_id` if they have none (true: it was made);
  std::function<bool(writer::IndexEdit&)> IssueIfNone(std::string staff_id,
                                                      std::string token) const;
  // ... end every token and session of `staff_id`;
  writer::IndexEffects Revoke(std::string staff_id) const;
  // ... start the session `token` (a NewToken) for `staff_id`, ending their expired
  // sessions and the least recently used beyond kMaxSessions;
  writer::IndexEffects StartSession(std::string staff_id, std::string token) const;
  // ... end the session or API token `token` (sign-out); nothing when it is unknown;
  writer::IndexEffects End(std::string token) const;
  // ... end every session of `staff_id` but the one whose token is `keep` (may be empty).
  writer::IndexEffects EndSessions(std::string staff_id, std::string keep) const;

  // Whether `staff_id` has an API token (true when the log cannot be read).
  bool HasApiToken(const std::string& staff_id) const;

  // When a session started at `started` ends if it is not used.
  Time SessionExpiry(Time started) const { return started + idle_; }

  // The staff id a token belongs to, if it is valid. A session's use counts (it starts its
  // idle time again) only when `use`: re-checking an open WebSocket is not use.
  std::optional<std::string> Lookup(const std::string& token, bool use = true);

  // Moves the credentials that earlier versions kept in the local store (API tokens,
  // sessions, password hashes) into the log's index, in one index-only commit, then
  // deletes them locally; the number of credentials moved. For a log this node writes.
  Result<size_t> TakeOverLocalCredentials();
  // Whether `local` still holds credentials the way earlier versions kept them.
  static bool KeepsLocalCredentials(projections::LocalStore& local);

 private:
  struct Seen {
    int64_t last_use_ms = 0;  // the latest use this node knows of
    int64_t recorded_ms = 0;  // the latest use the index has, or was asked to record
  };
  // The last use of session `hash` as this node knows it, given the index's.
  int64_t LastUse(const std::string& hash, int64_t recorded_ms) const;
  // End, by the token's hash.
  static writer::IndexEffects EndHash(std::string hash);
  // Records in the index that session `hash` was used at `use_ms`.
  void RecordUse(const std::string& hash, int64_t use_ms);

  const eventstore::EventStore& log_;
  writer::Writer& writer_;
  projections::LocalStore& local_;
  const writer::Clock& clock_;
  Millis idle_;
  std::string request_key_;
  mutable std::mutex mu_;                       // seen_
  std::unordered_map<std::string, Seen> seen_;  // by token hash: sessions used since start
};

}  // namespace crm::api

#endif  // CRM_API_TOKEN_STORE_H_
