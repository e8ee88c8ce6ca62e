// Unicode text handling at the edge.
#ifndef CRM_API_TEXT_H_
#define CRM_API_TEXT_H_

#include <string>
#include <string_view>

namespace crm::api {

// The unique key of a customer name: Unicode NFKC with case folding (so full-width and
// half-width forms, and upper and lower case, are one), every run of white space
// (including the ideographic space U+3000) folded to one ASCII space, and surrounding
// space trimmed. Input must be valid UTF-8.
std::string NormalizeName(std::string_view name);

// Trims Unicode white space from both ends.
std::string TrimSpace(std::string_view s);

// Length in code points of valid UTF-8.
size_t CodePoints(std::string_view s);

}  // namespace crm::api

#endif  // CRM_API_TEXT_H_
