#include "api/token_store.h"

#include <openssl/rand.h>

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
// How stale the stored last use of a session may get.
constexpr int64_t kWriteThroughMs = 60'000;

std::string SessionValue(const std::string& staff_id, int64_t last_used_ms) {
  return staff_id + " " + std::to_string(last_used_ms);
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

Status TokenStore::Issue(const std::string& staff_id, const std::string& token) {
  std::lock_guard<std::mutex> lock(mu_);
  projections::LocalBatch batch;
  if (auto old = store_.Get(kStaffPrefix + staff_id)) batch.Delete(kTokenPrefix + *old);
  std::string hash = TokenHash(token);
  batch.Put(kTokenPrefix + hash, staff_id);
  batch.Put(kStaffPrefix + staff_id, hash);
  return store_.Write(batch, true);
}

Status TokenStore::Revoke(const std::string& staff_id) {
  std::lock_guard<std::mutex> lock(mu_);
  projections::LocalBatch batch;
  if (auto old = store_.Get(kStaffPrefix + staff_id)) batch.Delete(kTokenPrefix + *old);
  batch.Delete(kStaffPrefix + staff_id);
  CollectSessions(staff_id, "", false, 0, batch);
  return store_.Write(batch, true);
}

void TokenStore::CollectSessions(const std::string& staff_id, const std::string& keep,
                                 bool expired_only, int64_t now_ms,
                                 projections::LocalBatch& batch) {
  std::string prefix = kStaffSessionPrefix + staff_id + "/";
  std::vector<std::string> hashes;
  store_.Scan(prefix, "", false, [&](std::string_view key, std::string_view) {
    hashes.emplace_back(key.substr(prefix.size()));
    return true;
  });
  for (const auto& hash : hashes) {
    if (hash == keep) continue;
    if (expired_only) {
      auto it = sessions_.find(hash);
      int64_t last_used = 0;
      if (it != sessions_.end()) {
        last_used = it->second.last_used_ms;
      } else if (auto v = store_.Get(kSessionPrefix + hash)) {
        auto space = v->rfind(' ');
        last_used = space == std::string::npos ? 0 : ParseU64(v->substr(space + 1)).value_or(0);
      }
      if (now_ms - last_used < idle_.count()) continue;
    }
    batch.Delete(kSessionPrefix + hash);
    batch.Delete(prefix + hash);
    sessions_.erase(hash);
  }
}

Result<TokenStore::Session> TokenStore::StartSession(const std::string& staff_id) {
  std::string token = NewToken(), hash = TokenHash(token);
  int64_t now = ToMillis(clock_.Now());
  std::lock_guard<std::mutex> lock(mu_);
  projections::LocalBatch batch;
  CollectSessions(staff_id, "", true, now, batch);
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
    batch.Delete(kSessionPrefix + hash);
    batch.Delete(kStaffSessionPrefix + v->substr(0, v->rfind(' ')) + "/" + hash);
  }
  sessions_.erase(hash);
  return store_.Write(batch, true);
}

Status TokenStore::EndSessions(const std::string& staff_id, const std::string& keep) {
  std::lock_guard<std::mutex> lock(mu_);
  projections::LocalBatch batch;
  CollectSessions(staff_id, keep.empty() ? "" : TokenHash(keep), false, 0, batch);
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
    if (!v) return std::nullopt;
    auto space = v->rfind(' ');
    if (space == std::string::npos) return std::nullopt;
    int64_t last_used = static_cast<int64_t>(ParseU64(v->substr(space + 1)).value_or(0));
    it = sessions_.emplace(hash, Live{v->substr(0, space), last_used, last_used}).first;
  }
  Live& s = it->second;
  if (now - s.last_used_ms >= idle_.count()) {
    projections::LocalBatch batch;
    batch.Delete(kSessionPrefix + hash);
    batch.Delete(kStaffSessionPrefix + s.staff_id + "/" + hash);
    // Unsynced: should a crash lose it, the next look finds the session expired again.
    (void)store_.Write(batch, false);
    sessions_.erase(it);
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
