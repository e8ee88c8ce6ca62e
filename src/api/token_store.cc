#include "api/token_store.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "api/handler_util.h"
#include "eventstore/coding.h"
#include "eventstore/sha256.h"

namespace crm::api {
namespace {
const std::string kTokenPrefix = "auth/token/";
const std::string kStaffPrefix = "auth/staff/";
const std::string kSessionPrefix = "auth/session/";
const std::string kStaffSessionPrefix = "auth/staff-session/";
const std::string kRequestKey = "auth/request-key";
// How stale the stored last use of a session may get.
constexpr int64_t kWriteThroughMs = 60'000;

std::string SessionValue(const std::string& staff_id, int64_t last_used_ms) {
  return staff_id + " " + std::to_string(last_used_ms);
}
// The staff id and last use in a SessionValue.
std::optional<std::pair<std::string, int64_t>> ParseSessionValue(const std::string& value) {
  auto space = value.rfind(' ');
  if (space == std::string::npos) return std::nullopt;
  return std::pair{value.substr(0, space),
                   static_cast<int64_t>(ParseU64(value.substr(space + 1)).value_or(0))};
}
}  // namespace

std::string NewToken() {
  std::array<unsigned char, 32> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) {
    throw std::runtime_error("no randomness for tokens");
  }
  return eventstore::ToHex(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
}

std::string TokenHash(std::string_view token) {
  return eventstore::ToHex(eventstore::Sha256(token));
}

TokenStore::TokenStore(projections::LocalStore& store, const writer::Clock& clock,
                       Millis session_idle)
    : store_(store), clock_(clock), idle_(session_idle) {
  if (auto key = store_.Get(kRequestKey)) {
    request_key_ = *key;
  } else {
    request_key_ = NewToken();
    projections::LocalBatch batch;
    batch.Put(kRequestKey, request_key_);
    // Should this fail, the key lasts this run only: a retry after a restart is then
    // refused as a different request (422), never confused with another.
    (void)store_.Write(batch, true);
  }
}

std::string TokenStore::RequestDigest(std::string_view head, std::string_view body) const {
  std::string data;
  data.reserve(head.size() + body.size());
  data.append(head).append(body);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), request_key_.data(), static_cast<int>(request_key_.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
  return std::string(reinterpret_cast<const char*>(out), n);
}

Status TokenStore::Issue(const std::string& staff_id, const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  projections::LocalBatch batch;
  if (auto old = store_.Get(kStaffPrefix + staff_id)) batch.Delete(kTokenPrefix + *old);
  std::string hash = TokenHash(token);
  batch.Put(kTokenPrefix + hash, staff_id);
  batch.Put(kStaffPrefix + staff_id, hash);
  DropSessions(staff_id, "", batch);
  return store_.Write(batch, true);
}

Status TokenStore::Revoke(const std::string& staff_id) {
  std::lock_guard<std::mutex> lock(mu_);
  projections::LocalBatch batch;
  if (auto old = store_.Get(kStaffPrefix + staff_id)) batch.Delete(kTokenPrefix + *old);
  batch.Delete(kStaffPrefix + staff_id);
  DropSessions(staff_id, "", batch);
  return store_.Write(batch, true);
}

std::vector<std::pair<std::string, int64_t>> TokenStore::SessionsOf(const std::string& staff_id) {
  std::string prefix = kStaffSessionPrefix + staff_id + "/";
  std::vector<std::pair<std::string, int64_t>> out;
  store_.Scan(prefix, "", false, [&](std::string_view key, std::string_view) {
    out.emplace_back(std::string(key.substr(prefix.size())), 0);
    return true;
  });
  for (auto& [hash, last_used] : out) {
    if (auto it = sessions_.find(hash); it != sessions_.end()) {
      last_used = it->second.last_used_ms;
    } else if (auto v = store_.Get(kSessionPrefix + hash)) {
      if (auto session = ParseSessionValue(*v)) last_used = session->second;
    }
  }
  return out;
}

void TokenStore::DropSession(const std::string& staff_id, const std::string& hash,
                             projections::LocalBatch& batch) {
  batch.Delete(kSessionPrefix + hash);
  batch.Delete(kStaffSessionPrefix + staff_id + "/" + hash);
  sessions_.erase(hash);
}

void TokenStore::DropSessions(const std::string& staff_id, const std::string& keep,
                              projections::LocalBatch& batch) {
  for (const auto& [hash, last_used] : SessionsOf(staff_id)) {
    if (hash != keep) DropSession(staff_id, hash, batch);
  }
}

Result<TokenStore::Session> TokenStore::StartSession(const std::string& staff_id) {
  std::string token = NewToken(), hash = TokenHash(token);
  int64_t now = ToMillis(clock_.Now());
  std::lock_guard<std::mutex> lock(mu_);
  projections::LocalBatch batch;
  // The person's expired sessions go, and the least recently used beyond the cap.
  auto sessions = SessionsOf(staff_id);
  std::erase_if(sessions, [&](const auto& s) {
    if (now - s.second < idle_.count()) return false;
    DropSession(staff_id, s.first, batch);
    return true;
  });
  std::sort(sessions.begin(), sessions.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  for (size_t i = 0; i + kMaxSessions <= sessions.size(); ++i) {
    DropSession(staff_id, sessions[i].first, batch);
  }
  batch.Put(kSessionPrefix + hash, SessionValue(staff_id, now));
  batch.Put(kStaffSessionPrefix + staff_id + "/" + hash, "");
  CRM_RETURN_IF_ERROR(store_.Write(batch, true));
  sessions_[hash] = Live{staff_id, now, now};
  return Session{token, FromMillis(now) + idle_};
}

Status TokenStore::End(const std::string& token) {
  std::string hash = TokenHash(token);
  std::lock_guard<std::mutex> lock(mu_);
  projections::LocalBatch batch;
  if (auto staff_id = store_.Get(kTokenPrefix + hash)) {
    batch.Delete(kTokenPrefix + hash);
    batch.Delete(kStaffPrefix + *staff_id);
  } else if (auto v = store_.Get(kSessionPrefix + hash)) {
    if (auto session = ParseSessionValue(*v)) DropSession(session->first, hash, batch);
  }
  return store_.Write(batch, true);
}

Status TokenStore::EndSessions(const std::string& staff_id, const std::string& keep) {
  std::lock_guard<std::mutex> lock(mu_);
  projections::LocalBatch batch;
  DropSessions(staff_id, keep.empty() ? "" : TokenHash(keep), batch);
  return store_.Write(batch, true);
}

std::optional<std::string> TokenStore::Lookup(const std::string& token, bool use) {
  if (token.empty() || token.size() > 256) return std::nullopt;
  std::string hash = TokenHash(token);
  if (auto staff_id = store_.Get(kTokenPrefix + hash)) return staff_id;
  return LookupSession(hash, use);
}

std::optional<std::string> TokenStore::LookupSession(const std::string& hash, bool use) {
  int64_t now = ToMillis(clock_.Now());
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(hash);
  if (it == sessions_.end()) {
    auto v = store_.Get(kSessionPrefix + hash);
    auto session = v ? ParseSessionValue(*v) : std::nullopt;
    if (!session) return std::nullopt;
    it = sessions_.emplace(hash, Live{session->first, session->second, session->second}).first;
  }
  Live& s = it->second;
  if (now - s.last_used_ms >= idle_.count()) {
    projections::LocalBatch batch;
    DropSession(std::string(s.staff_id), hash, batch);
    // Unsynced: should a crash lose it, the next look finds the session expired again.
    (void)store_.Write(batch, false);
    return std::nullopt;
  }
  if (use) {
    s.last_used_ms = std::max(s.last_used_ms, now);
    if (now - s.stored_ms >= kWriteThroughMs) {
      projections::LocalBatch batch;
      batch.Put(kSessionPrefix + hash, SessionValue(s.staff_id, s.last_used_ms));
      if (store_.Write(batch, false).ok()) s.stored_ms = s.last_used_ms;
    }
  }
  return s.staff_id;
}

}  // namespace crm::api
