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

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF).
bool IsValidUtf8(std::string_view s);

// The longest prefix of valid UTF-8 `s` that is at most `max_bytes` long and ends on a
// character boundary.
std::string_view CutUtf8(std::string_view s, size_t max_bytes);

// A header value that will be stored (X-Correlation-Id, Idempotency-Key): valid UTF-8
// without control characters.
bool IsStorableHeaderValue(std::string_view s);

}  // namespace crm::api

#endif  // CRM_API_TEXT_H_
