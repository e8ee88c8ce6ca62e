#ifndef CRM_EVENTSTORE_SHA256_H_
#define CRM_EVENTSTORE_SHA256_H_

#include <string>
#include <string_view>

namespace crm::eventstore {

// SHA-256 of the concatenation a || b, as 32 raw bytes.
std::string Sha256(std::string_view a, std::string_view b = {});

}  // namespace crm::eventstore

#endif  // CRM_EVENTSTORE_SHA256_H_
