// Bearer tokens, kept outside the event log as SHA-256 hashes in the local store:
//   "auth/token/<sha256 hex>" → staff id
//   "auth/staff/<staff id>"   → the hash of that person's current token
// Issuing a token for a person replaces their earlier one. Writes are synced.
#ifndef CRM_API_TOKEN_STORE_H_
#define CRM_API_TOKEN_STORE_H_

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "projections/local_store.h"

namespace crm::api {

// A new bearer token: 32 random bytes from the system CSPRNG, hex-encoded (64 chars).
std::string NewToken();
// SHA-256 of a token, hex: the only form in which tokens are stored.
std::string TokenHash(std::string_view token);

class TokenStore {
 public:
  explicit TokenStore(projections::LocalStore& store) : store_(store) {}

  // Makes `token` the only valid token of `staff_id`. Thread-safe.
  Status Issue(const std::string& staff_id, const std::string& token);
  // Revokes every token of `staff_id`.
  Status Revoke(const std::string& staff_id);
  // The staff id a token belongs to, if it is valid.
  std::optional<std::string> Lookup(const std::string& token) const;

 private:
  projections::LocalStore& store_;
  std::mutex issue_mu_;  // issue and revoke read, then write
};

}  // namespace crm::api

#endif  // CRM_API_TOKEN_STORE_H_
