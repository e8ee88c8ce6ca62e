#include "api/body.h"

#include <algorithm>
#include <set>

#include "api/text.h"

namespace crm::api {

bool NestsDeeperThan(std::string_view text, size_t limit) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

Result<json> ParseObject(std::string_view body) {
  if (body.empty()) return json::object();
  CRM_ASSIGN_OR_RETURN(json j, ParseJson(body));
  if (!j.is_object()) {
    return MakeError(ErrorKind::kMalformed, "malformed_json", "the body must be a JSON object");
  }
  return j;
}

Result<json> ParseJson(std::string_view body, size_t max_elements, std::string_view elements) {
  if (NestsDeeperThan(body, kMaxJsonDepth)) {
    return MakeError(ErrorKind::kMalformed, "malformed_json",
                     "the body nests arrays and objects deeper than " +
                         std::to_string(kMaxJsonDepth) + " levels");
  }
  // A name twice in one object is refused: parsers differ on which one wins, and a body
  // must mean one thing to every reader of it (a proxy, an audit log, this server).
  std::vector<std::set<std::string>> names;
  std::string duplicate;
  // Nesting, to count the elements of a top-level array; the callback cannot stop the
  // parser but by throwing.
  struct TooMany {};
  size_t open = 0;
  size_t count = 0;
  bool top_array = false;
  auto element = [&] {
    if (open == 1 && top_array && ++count > max_elements) throw TooMany{};
  };
  json::parser_callback_t check = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        element();
        ++open;
        names.emplace_back();
        break;
      case json::parse_event_t::object_end:
        --open;
        names.pop_back();
        break;
      case json::parse_event_t::array_start:
        element();
        if (open++ == 0) top_array = true;
        break;
      case json::parse_event_t::array_end:
        --open;
        break;
      case json::parse_event_t::value:
        element();
        break;
      case json::parse_event_t::key:
        if (!names.empty() && !names.back().insert(parsed.get<std::string>()).second &&
            duplicate.empty()) {
          duplicate = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return true;
  };
  json j;
  try {
    j = json::parse(body, check, false);
  } catch (const TooMany&) {
    return InvalidField("body",
                        "more than " + std::to_string(max_elements) + " " + std::string(elements));
  }
  if (j.is_discarded()) {
    return MakeError(ErrorKind::kMalformed, "malformed_json", "the body is not valid JSON");
  }
  if (!duplicate.empty()) {
    return MakeError(ErrorKind::kMalformed, "malformed_json",
                     "the name '" + duplicate + "' appears twice in one object");
  }
  return j;
}

Fields::Fields(const json& object, std::vector<FieldError>& errors, std::string prefix)
    : object_(object), errors_(errors), prefix_(std::move(prefix)) {}

bool Fields::Has(const char* name) const { return object_.contains(name); }

bool Fields::IsNull(const char* name) const {
  auto it = object_.find(name);
  return it != object_.end() && it->is_null();
}

void Fields::Fail(const std::string& name, std::string message) {
  errors_.push_back({Path(name), std::move(message)});
}

const json* Fields::Get(const char* name, bool required) {
  auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) {
    if (required) Fail(name, "is required");
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> Fields::Text(const char* name, bool required, size_t max_len) {
  const json* v = Get(name, required);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    Fail(name, "must be a string");
    return std::nullopt;
  }
  std::string s = TrimSpace(v->get_ref<const std::string&>());
  if (s.empty() && required) {
    Fail(name, "must not be empty");
    return std::nullopt;
  }
  if (CodePoints(s) > max_len) {
    Fail(name, "must be at most " + std::to_string(max_len) + " characters");
    return std::nullopt;
  }
  if (s.find('\0') != std::string::npos) {
    Fail(name, "must not contain NUL characters");
    return std::nullopt;
  }
  if (s.empty()) return std::nullopt;  // an optional empty string is "not given"
  return s;
}

std::optional<std::string> Fields::Secret(const char* name, bool required, size_t min_len,
                                          size_t max_len) {
  const json* v = Get(name, required);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    Fail(name, "must be a string");
    return std::nullopt;
  }
  const std::string& s = v->get_ref<const std::string&>();
  size_t n = CodePoints(s);
  if (n < min_len || n > max_len) {
    Fail(name, min_len == max_len ? "must be " + std::to_string(min_len) + " characters"
                                  : "must be " + std::to_string(min_len) + " to " +
                                        std::to_string(max_len) + " characters");
    return std::nullopt;
  }
  if (s.find('\0') != std::string::npos) {
    Fail(name, "must not contain NUL characters");
    return std::nullopt;
  }
  return s;
}

std::optional<int64_t> Fields::Integer(const char* name, bool required, int64_t min, int64_t max) {
  const json* v = Get(name, required);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) {
    Fail(name, "must be an integer");
    return std::nullopt;
  }
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(max)) {
    Fail(name, "must be at most " + std::to_string(max));
    return std::nullopt;
  }
  int64_t n = v->get<int64_t>();
  if (n < min || n > max) {
    Fail(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return n;
}

std::optional<bool> Fields::Boolean(const char* name, bool required) {
  const json* v = Get(name, required);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    Fail(name, "must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<int64_t> Fields::Amount(const char* name, bool required) {
  const json* v = Get(name, required);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) {
    Fail(name, "must be an integer amount in the currency's smallest unit");
    return std::nullopt;
  }
  constexpr int64_t kMax = 1'000'000'000'000'000;  // 10^15 minor units
  bool in_range = v->is_number_unsigned()
                      ? v->get<uint64_t>() >= 1 && v->get<uint64_t>() <= static_cast<uint64_t>(kMax)
                      : v->get<int64_t>() >= 1 && v->get<int64_t>() <= kMax;
  if (!in_range) {
    Fail(name, "must be a positive amount no larger than 10^15");
    return std::nullopt;
  }
  return v->get<int64_t>();
}

std::optional<std::string> Fields::Currency(const char* name, bool required) {
  const json* v = Get(name, required);
  if (!v) return std::nullopt;
  const std::string* s = v->is_string() ? &v->get_ref<const std::string&>() : nullptr;
  if (!s || s->size() != 3 ||
      !std::all_of(s->begin(), s->end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    Fail(name, "must be an ISO 4217 code such as CNY");
    return std::nullopt;
  }
  return *s;
}

std::optional<Date> Fields::DateField(const char* name, bool required) {
  const json* v = Get(name, required);
  if (!v) return std::nullopt;
  std::optional<Date> d;
  if (v->is_string()) d = ParseDate(v->get_ref<const std::string&>());
  if (!d) Fail(name, "must be a date YYYY-MM-DD");
  return d;
}

std::optional<Time> Fields::TimeField(const char* name, bool required) {
  const json* v = Get(name, required);
  if (!v) return std::nullopt;
  std::optional<Time> t;
  if (v->is_string()) t = ParseTime(v->get_ref<const std::string&>());
  if (!t) Fail(name, "must be an RFC 3339 time such as 2026-11-22T08:00:00Z");
  return t;
}

std::optional<std::string> Fields::Email(const char* name, bool required) {
  auto s = Text(name, required, 254);
  if (!s) return std::nullopt;
  auto at = s->find('@');
  if (at == std::string::npos || at == 0 || at + 1 == s->size() ||
      s->find_first_of(" \t\r\n") != std::string::npos) {
    Fail(name, "must be an email address");
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> Fields::OneOf(const char* name, bool required,
                                         const std::vector<std::string>& allowed) {
  const json* v = Get(name, required);
  if (!v) return std::nullopt;
  if (v->is_string() && std::find(allowed.begin(), allowed.end(),
                                  v->get_ref<const std::string&>()) != allowed.end()) {
    return v->get<std::string>();
  }
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  Fail(name, "must be one of: " + list);
  return std::nullopt;
}

const json* Fields::Object(const char* name, bool required) {
  const json* v = Get(name, required);
  if (v && !v->is_object()) {
    Fail(name, "must be an object");
    return nullptr;
  }
  return v;
}

const json* Fields::Array(const char* name, bool required) {
  const json* v = Get(name, required);
  if (v && !v->is_array()) {
    Fail(name, "must be an array");
    return nullptr;
  }
  return v;
}

std::optional<std::vector<std::string>> Fields::Strings(const char* name, bool required,
                                                        size_t max_items) {
  const json* v = Array(name, required);
  if (!v) return std::nullopt;
  if (v->size() > max_items) {
    Fail(name, "must have at most " + std::to_string(max_items) + " items");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string() || (*v)[i].get_ref<const std::string&>().empty()) {
      Fail(std::string(name) + "[" + std::to_string(i) + "]", "must be a non-empty string");
      return std::nullopt;
    }
    out.push_back((*v)[i].get<std::string>());
  }
  return out;
}

std::string TextOr(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace crm::api
