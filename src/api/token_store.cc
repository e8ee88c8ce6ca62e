#include "api/token_store.h"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "eventstore/coding.h"
#include "eventstore/sha256.h"

namespace crm::api {
namespace {
const std::string kTokenPrefix = "auth/token/";
const std::string kStaffPrefix = "auth/staff/";
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
  std::lock_guard<std::mutex> lock(issue_mu_);
  projections::LocalBatch batch;
  if (auto old = store_.Get(kStaffPrefix + staff_id)) batch.Delete(kTokenPrefix + *old);
  std::string hash = TokenHash(token);
  batch.Put(kTokenPrefix + hash, staff_id);
  batch.Put(kStaffPrefix + staff_id, hash);
  return store_.Write(batch, true);
}

Status TokenStore::Revoke(const std::string& staff_id) {
  std::lock_guard<std::mutex> lock(issue_mu_);
  projections::LocalBatch batch;
  if (auto old = store_.Get(kStaffPrefix + staff_id)) batch.Delete(kTokenPrefix + *old);
  batch.Delete(kStaffPrefix + staff_id);
  return store_.Write(batch, true);
}

std::optional<std::string> TokenStore::Lookup(const std::string& token) const {
  if (token.empty() || token.size() > 256) return std::nullopt;
  return store_.Get(kTokenPrefix + TokenHash(token));
}

}  // namespace crm::api
