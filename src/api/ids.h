// Server-generated identifiers and secrets.
#ifndef CRM_API_IDS_H_
#define CRM_API_IDS_H_

#include <string>
#include <string_view>

namespace crm::api {

// A new record id: `prefix` + "_" + 26 characters of lower-case Crockford base32, a
// 48-bit millisecond timestamp followed by 80 random bits. Ids made by one process
// increase strictly, so sorting ids sorts records by creation. Thread-safe.
std::string NewId(std::string_view prefix);

// A new bearer token: 32 random bytes from the system CSPRNG, hex-encoded (64 chars).
std::string NewToken();

// SHA-256 of a token, hex: the only form in which tokens are stored.
std::string TokenHash(std::string_view token);

}  // namespace crm::api

#endif  // CRM_API_IDS_H_
