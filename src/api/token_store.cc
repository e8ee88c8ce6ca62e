#include "api/token_store.h"

#include <mutex>

#include "api/ids.h"

namespace crm::api {
namespace {
std::mutex g_issue_mu;  // issue/revoke are read-modify-write
const std::string kTokenPrefix = "auth/token/";
const std::string kStaffPrefix = "auth/staff/";
}  // namespace

Status TokenStore::Issue(const std::string& staff_id, const std::string& token) {
  std::lock_guard<std::mutex> lock(g_issue_mu);
  projections::LocalBatch batch;
  if (auto old = store_.Get(kStaffPrefix + staff_id)) batch.Delete(kTokenPrefix + *old);
  std::string hash = TokenHash(token);
  batch.Put(kTokenPrefix + hash, staff_id);
  batch.Put(kStaffPrefix + staff_id, hash);
  return store_.Write(batch, true);
}

Status TokenStore::Revoke(const std::string& staff_id) {
  std::lock_guard<std::mutex> lock(g_issue_mu);
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
