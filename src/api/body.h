// Reading and validating a JSON request body. Every field problem is collected so that
// one 400 lists them all; nothing here throws.
#ifndef CRM_API_BODY_H_
#define CRM_API_BODY_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/result.h"
#include "domain/time.h"

namespace crm::api {

using nlohmann::json;

// How deeply a request body may nest arrays and objects. Deeper bodies are refused before
// they are parsed, so nothing that recurses over a value (serialising, comparing,
// destroying) ever meets one.
inline constexpr size_t kMaxJsonDepth = 64;

// Parses a request body: an object nested at most kMaxJsonDepth deep, or 400
// malformed_json. An empty body is {}.
Result<json> ParseObject(std::string_view body);
// The same for any JSON value (an import's array), without the empty-body default. A
// top-level array of more than `max_elements` is refused (400 naming them `elements`) as
// soon as the parser reaches one more, so a huge array of small values never becomes a
// huge tree.
Result<json> ParseJson(std::string_view body, size_t max_elements = SIZE_MAX,
                       std::string_view elements = "elements");

// Whether JSON text nests arrays and objects deeper than `limit`. Counts brackets outside
// strings without parsing: exact for valid JSON, and harmless for anything else, which
// the parser refuses anyway.
bool NestsDeeperThan(std::string_view text, size_t limit);

// Reads fields of one JSON object, remembering every problem under its dotted path.
class Fields {
 public:
  // `prefix` names nested objects in errors ("contact." for contact.name).
  Fields(const json& object, std::vector<FieldError>& errors, std::string prefix = "");

  bool Has(const char* name) const;
  // Present and null.
  bool IsNull(const char* name) const;

  // Text, trimmed of surrounding white space. Required text must be non-empty. At most
  // `max_len` code points.
  std::optional<std::string> Text(const char* name, bool required, size_t max_len = 200);
  // A secret (a password) exactly as sent, untrimmed: from `min_len` to `max_len` code
  // points. Messages never repeat the value.
  std::optional<std::string> Secret(const char* name, bool required, size_t min_len,
                                    size_t max_len);
  std::optional<int64_t> Integer(const char* name, bool required, int64_t min, int64_t max);
  std::optional<bool> Boolean(const char* name, bool required);
  // An amount of money in minor units: an integer from 1 to 10^15.
  std::optional<int64_t> Amount(const char* name, bool required);
  // An ISO 4217 code: three upper-case letters.
  std::optional<std::string> Currency(const char* name, bool required);
  std::optional<Date> DateField(const char* name, bool required);
  std::optional<Time> TimeField(const char* name, bool required);
  std::optional<std::string> Email(const char* name, bool required);
  // One of `allowed`, reported in the message when it is not.
  std::optional<std::string> OneOf(const char* name, bool required,
                                   const std::vector<std::string>& allowed);
  // A nested object, or nullopt (an error when present but not an object).
  const json* Object(const char* name, bool required);
  const json* Array(const char* name, bool required);
  std::optional<std::vector<std::string>> Strings(const char* name, bool required,
                                                  size_t max_items);

  void Fail(const std::string& name, std::string message);
  std::string Path(const std::string& name) const { return prefix_ + name; }

 private:
  const json* Get(const char* name, bool required);

  const json& object_;
  std::vector<FieldError>& errors_;
  std::string prefix_;
};

// A text field's value from `j`, or "" (for reading already-validated bodies).
std::string TextOr(const json& j, const char* name);

}  // namespace crm::api

#endif  // CRM_API_BODY_H_
