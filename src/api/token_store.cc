#include "api/token_store.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "api/handler_util.h"
#include "api/password_store.h"
#include "domain/vocabulary.h"
#include "eventstore/coding.h"
#include "eventstore/sha256.h"

namespace crm::api {
namespace {
using eventstore::Index;

constexpr std::string_view kTokenScope = "$token";
constexpr std::string_view kTokenOfScope = "$token-of";
constexpr std::string_view kSessionScope = "$session";
constexpr std::string_view kSessionsOfScope = "$sessions-of";
const std::string kRequestKey = "auth/request-key";
// Where versions before credentials were in the log kept them in the local store.
constexpr std::string_view kLocalTokens = "auth/staff/";        // staff → token hash
constexpr std::string_view kLocalSessions = "auth/session/";    // hash → "<staff> <last use>"
constexpr std::string_view kLocalPasswords = "auth/password/";  // staff → "<pos> <hash>"
// Their indexes, dropped with them.
constexpr std::string_view kLocalTokenIndex = "auth/token/";
constexpr std::string_view kLocalSessionIndex = "auth/staff-session/";
// In the log once the local credentials moved into it: a later start that finds them in
// the local store still (their deletion was lost in a crash) does not move them again
// over what changed since.
constexpr std::string_view kMovedScope = "$moved";
constexpr std::string_view kMovedKey = "local-credentials";

struct SessionEntry {
  std::string staff_id;
  int64_t started_ms = 0;
  int64_t last_use_ms = 0;  // as the index has it
};
std::string SessionValue(const SessionEntry& s) {
  return s.staff_id + " " + std::to_string(s.started_ms) + " " + std::to_string(s.last_use_ms);
}
std::optional<SessionEntry> ParseSessionValue(std::string_view value) {
  auto words = domain::SplitNonEmpty(value, ' ');
  if (words.size() != 3) return std::nullopt;
  auto started = ParseU64(words[1]), last_use = ParseU64(words[2]);
  if (!started || !last_use) return std::nullopt;
  return SessionEntry{words[0], static_cast<int64_t>(*started), static_cast<int64_t>(*last_use)};
}
std::string Joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}
// The hashes of `staff_id`'s sessions, as `index` has them.
std::vector<std::string> SessionHashes(writer::IndexEdit& index, const std::string& staff_id) {
  return domain::SplitNonEmpty(index.Get(kSessionsOfScope, staff_id).value_or(""), ' ');
}
// Ends every session of `staff_id` but `keep` (a token hash, may be empty).
void DropSessions(writer::IndexEdit& index, const std::string& staff_id, const std::string& keep) {
  bool kept = false;
  for (const auto& hash : SessionHashes(index, staff_id)) {
    if (hash == keep) {
      kept = true;
    } else {
      index.Delete(std::string(kSessionScope), hash);
    }
  }
  if (kept) {
    index.Put(std::string(kSessionsOfScope), staff_id, keep);
  } else {
    index.Delete(std::string(kSessionsOfScope), staff_id);
  }
}
// Ends `staff_id`'s API token.
void DropToken(writer::IndexEdit& index, const std::string& staff_id) {
  if (auto old = index.Get(kTokenOfScope, staff_id)) index.Delete(std::string(kTokenScope), *old);
  index.Delete(std::string(kTokenOfScope), staff_id);
}
// An entry of the log's unique index; a failed read is none.
std::optional<std::string> ReadEntry(const eventstore::EventStore& log, std::string_view scope,
                                     std::string_view key) {
  auto entry = log.ReadIndex(Index::kUnique, scope, key);
  return entry.ok() ? std::move(entry).value() : std::nullopt;
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

TokenStore::TokenStore(const eventstore::EventStore& log, writer::Writer& writer,
                       projections::LocalStore& local, const writer::Clock& clock,
                       Millis session_idle)
    : log_(log), writer_(writer), local_(local), clock_(clock), idle_(session_idle) {
  if (auto key = local_.Get(kRequestKey)) {
    request_key_ = *key;
  } else {
    request_key_ = NewToken();
    projections::LocalBatch batch;
    batch.Put(kRequestKey, request_key_);
    // Should this fail, the key lasts this run only: a retry after a restart is then
    // refused as a different request (422), never confused with another.
    (void)local_.Write(batch, true);
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

writer::IndexEffects TokenStore::Issue(std::string staff_id, std::string token) const {
  return [staff_id = std::move(staff_id), hash = TokenHash(token)](writer::IndexEdit& index) {
    DropToken(index, staff_id);
    index.Put(std::string(kTokenScope), hash, staff_id);
    index.Put(std::string(kTokenOfScope), staff_id, hash);
    DropSessions(index, staff_id, "");
  };
}

std::function<bool(writer::IndexEdit&)> TokenStore::IssueIfNone(std::string staff_id,
                                                                std::string token) const {
  return [staff_id = std::move(staff_id), hash = TokenHash(token)](writer::IndexEdit& index) {
    if (index.Get(kTokenOfScope, staff_id)) return false;
    index.Put(std::string(kTokenScope), hash, staff_id);
    index.Put(std::string(kTokenOfScope), staff_id, hash);
    return true;
  };
}

writer::IndexEffects TokenStore::Revoke(std::string staff_id) const {
  return [staff_id = std::move(staff_id)](writer::IndexEdit& index) {
    DropToken(index, staff_id);
    DropSessions(index, staff_id, "");
  };
}

writer::IndexEffects TokenStore::StartSession(std::string staff_id, std::string token) const {
  return [this, staff_id = std::move(staff_id), hash = TokenHash(token)](writer::IndexEdit& index) {
    const int64_t now = ToMillis(clock_.Now());
    // The person's sessions by last use, the expired and vanished ones left out.
    std::vector<std::pair<int64_t, std::string>> live;
    for (auto& other : SessionHashes(index, staff_id)) {
      auto entry = index.Get(kSessionScope, other);
      auto session = entry ? ParseSessionValue(*entry) : std::nullopt;
      if (!session) continue;
      int64_t last_use = LastUse(other, session->last_use_ms);
      if (now - last_use >= idle_.count()) {
        index.Delete(std::string(kSessionScope), other);
      } else {
        live.emplace_back(last_use, std::move(other));
      }
    }
    std::sort(live.begin(), live.end());
    size_t ended = live.size() + 1 > kMaxSessions ? live.size() + 1 - kMaxSessions : 0;
    for (size_t i = 0; i < ended; ++i) index.Delete(std::string(kSessionScope), live[i].second);
    std::vector<std::string> hashes;
    for (size_t i = ended; i < live.size(); ++i) hashes.push_back(std::move(live[i].second));
    hashes.push_back(hash);
    index.Put(std::string(kSessionScope), hash, SessionValue({staff_id, now, now}));
    index.Put(std::string(kSessionsOfScope), staff_id, Joined(hashes));
  };
}

writer::IndexEffects TokenStore::End(std::string token) const { return EndHash(TokenHash(token)); }

writer::IndexEffects TokenStore::EndHash(std::string hash) {
  return [hash = std::move(hash)](writer::IndexEdit& index) {
    if (auto staff_id = index.Get(kTokenScope, hash)) {
      index.Delete(std::string(kTokenScope), hash);
      if (index.Get(kTokenOfScope, *staff_id) == hash)
        index.Delete(std::string(kTokenOfScope), *staff_id);
      return;
    }
    auto entry = index.Get(kSessionScope, hash);
    auto session = entry ? ParseSessionValue(*entry) : std::nullopt;
    if (!session) return;
    auto hashes = SessionHashes(index, session->staff_id);
    std::erase(hashes, hash);
    index.Delete(std::string(kSessionScope), hash);
    if (hashes.empty()) {
      index.Delete(std::string(kSessionsOfScope), session->staff_id);
    } else {
      index.Put(std::string(kSessionsOfScope), session->staff_id, Joined(hashes));
    }
  };
}

writer::IndexEffects TokenStore::EndSessions(std::string staff_id, std::string keep) const {
  return [staff_id = std::move(staff_id), keep = keep.empty() ? "" : TokenHash(keep)](
             writer::IndexEdit& index) { DropSessions(index, staff_id, keep); };
}

bool TokenStore::HasApiToken(const std::string& staff_id) const {
  auto entry = log_.ReadIndex(Index::kUnique, kTokenOfScope, staff_id);
  return !entry.ok() || entry->has_value();
}

int64_t TokenStore::LastUse(const std::string& hash, int64_t recorded_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = seen_.find(hash);
  return it == seen_.end() ? recorded_ms : std::max(recorded_ms, it->second.last_use_ms);
}

std::optional<std::string> TokenStore::Lookup(const std::string& token, bool use) {
  if (token.empty() || token.size() > 256) return std::nullopt;
  std::string hash = TokenHash(token);
  if (auto staff_id = ReadEntry(log_, kTokenScope, hash)) return staff_id;
  auto entry = ReadEntry(log_, kSessionScope, hash);
  auto session = entry ? ParseSessionValue(*entry) : std::nullopt;
  const int64_t now = ToMillis(clock_.Now());
  std::unique_lock<std::mutex> lock(mu_);
  if (!session) {
    seen_.erase(hash);  // ended, or never was
    return std::nullopt;
  }
  auto [it, fresh] = seen_.try_emplace(hash);
  Seen& seen = it->second;
  seen.last_use_ms = std::max(seen.last_use_ms, session->last_use_ms);
  seen.recorded_ms = std::max(seen.recorded_ms, session->last_use_ms);
  if (now - seen.last_use_ms >= idle_.count()) {
    seen_.erase(it);
    lock.unlock();
    // It goes from the index (best effort: a standby's writer refuses it, and the person's
    // next sign-in sweeps it), so that no clock stepping back brings it back.
    writer::WriteRequest end;
    end.actor = std::string(domain::kSystemActor);
    end.index = EndHash(hash);
    writer_.Submit(std::move(end), [](const Result<writer::WriteOutcome>&) {});
    return std::nullopt;
  }
  if (!use) return session->staff_id;
  seen.last_use_ms = std::max(seen.last_use_ms, now);
  if (now - seen.recorded_ms < kRecordUseEvery.count()) return session->staff_id;
  seen.recorded_ms = now;  // asked once per period: a standby's writer refuses it
  lock.unlock();
  RecordUse(hash, now);
  return session->staff_id;
}

void TokenStore::RecordUse(const std::string& hash, int64_t use_ms) {
  writer::WriteRequest req;
  req.actor = std::string(domain::kSystemActor);
  req.index = [hash, use_ms](writer::IndexEdit& index) {
    auto entry = index.Get(kSessionScope, hash);
    auto session = entry ? ParseSessionValue(*entry) : std::nullopt;
    if (!session || session->last_use_ms >= use_ms) return;  // ended, or a later use is in
    session->last_use_ms = use_ms;
    index.Put(std::string(kSessionScope), hash, SessionValue(*session));
  };
  // Best effort: should it fail, the session only looks older elsewhere.
  writer_.Submit(std::move(req), [](const Result<writer::WriteOutcome>&) {});
}

bool TokenStore::KeepsLocalCredentials(projections::LocalStore& local) {
  bool found = false;
  for (std::string_view prefix : {kLocalTokens, kLocalSessions, kLocalPasswords}) {
    local.Scan(prefix, "", false, [&](std::string_view, std::string_view) {
      found = true;
      return false;
    });
  }
  return found;
}

Result<size_t> TokenStore::TakeOverLocalCredentials() {
  const std::string staff_prefix(kLocalTokens), session_prefix(kLocalSessions),
      password_prefix(kLocalPasswords);
  std::vector<std::pair<std::string, std::string>> tokens, passwords;  // staff → hash
  std::vector<std::pair<std::string, SessionEntry>> sessions;          // hash → session
  local_.Scan(staff_prefix, "", false, [&](std::string_view key, std::string_view value) {
    tokens.emplace_back(key.substr(staff_prefix.size()), value);
    return true;
  });
  local_.Scan(session_prefix, "", false, [&](std::string_view key, std::string_view value) {
    // "<staff id> <last use>"
    auto words = domain::SplitNonEmpty(value, ' ');
    auto last_use = words.size() == 2 ? ParseU64(words[1]) : std::nullopt;
    if (last_use) {
      auto ms = static_cast<int64_t>(*last_use);
      sessions.emplace_back(key.substr(session_prefix.size()), SessionEntry{words[0], ms, ms});
    }
    return true;
  });
  local_.Scan(password_prefix, "", false, [&](std::string_view key, std::string_view value) {
    // "<position of its event> <encoded hash>"
    if (auto space = value.find(' '); space != std::string_view::npos)
      passwords.emplace_back(key.substr(password_prefix.size()), value.substr(space + 1));
    return true;
  });
  size_t moved = tokens.size() + sessions.size() + passwords.size();
  CRM_ASSIGN_OR_RETURN(auto done, log_.ReadIndex(Index::kUnique, kMovedScope, kMovedKey));
  if (done) moved = 0;
  if (moved > 0) {
    writer::WriteRequest req;
    req.actor = std::string(domain::kSystemActor);
    req.index = [&](writer::IndexEdit& index) {
      for (const auto& [staff_id, hash] : tokens) {
        index.Put(std::string(kTokenScope), hash, staff_id);
        index.Put(std::string(kTokenOfScope), staff_id, hash);
      }
      std::unordered_map<std::string, std::vector<std::string>> of;
      for (const auto& [hash, session] : sessions) {
        index.Put(std::string(kSessionScope), hash, SessionValue(session));
        of[session.staff_id].push_back(hash);
      }
      for (const auto& [staff_id, hashes] : of)
        index.Put(std::string(kSessionsOfScope), staff_id, Joined(hashes));
      for (const auto& [staff_id, hash] : passwords)
        index.Put(std::string(kPasswordScope), staff_id, hash);
      index.Put(std::string(kMovedScope), std::string(kMovedKey), "1");
    };
    CRM_RETURN_IF_ERROR(writer_.Execute(std::move(req)));
  }
  for (std::string_view prefix :
       {kLocalTokens, kLocalSessions, kLocalPasswords, kLocalTokenIndex, kLocalSessionIndex}) {
    CRM_RETURN_IF_ERROR(local_.DeletePrefix(prefix));
  }
  return moved;
}

}  // namespace crm::api
