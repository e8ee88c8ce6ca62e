// Turning JSON into text: the one place where it happens, so that no rendering of stored
// data can throw. Strings that are not valid UTF-8 (an old event, a byte-for-byte header)
// come out with U+FFFD in place of the bad bytes.
#ifndef CRM_API_JSON_TEXT_H_
#define CRM_API_JSON_TEXT_H_

#include <nlohmann/json.hpp>

#include <string>

namespace crm::api {

inline std::string JsonText(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace crm::api

#endif  // CRM_API_JSON_TEXT_H_
