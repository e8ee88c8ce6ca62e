// Expected failures as values. Every layer returns `Status` or `Result<T>`; the HTTP edge
// maps an `ErrorKind` to a status code and `Error::code` to the problem+json `code`.
#ifndef CRM_DOMAIN_RESULT_H_
#define CRM_DOMAIN_RESULT_H_

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace crm {

// What the caller should do about a failure. Each kind has one HTTP status.
enum class ErrorKind {
  kMalformed,         // 400: the request is not JSON, or not an object
  kValidation,        // 400: a field is missing, of the wrong type or out of range
  kUnauthorized,      // 401: no, unknown or revoked credentials
  kForbidden,         // 403: the caller's role may not do this
  kNotFound,          // 404: no such record, or the caller may not see it
  kMethodNotAllowed,  // 405: the path exists, the method does not
  kConflict,          // 409: the record's state or a unique key refuses the command
  kPrecondition,      // 412: the expected version did not match
  kTooLarge,          // 413: the request body is over the limit
  kHeadersTooLarge,   // 431: the request header section is over the limit
  kTooManyRequests,   // 429: too many failed sign-ins; try again later
  kRule,              // 422: a business rule refused the command
  kUnavailable,       // 503: storage failing or read model lagging; nothing was written
  kInternal,          // 500: a bug
};

struct FieldError {
  std::string field;
  std::string message;
  bool operator==(const FieldError&) const = default;
};

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string code;                // machine-readable, e.g. "claim_limit_reached"
  std::string detail;              // human-readable, names the state or the figures
  std::vector<FieldError> fields;  // every invalid field, for kValidation
  std::string existing_id;         // the clashing record, for duplicate_* conflicts
  // duplicate_lead: the clashing lead's owner ("" = the pool, shown as null).
  std::optional<std::string> existing_owner_id = std::nullopt;
};

inline Error MakeError(ErrorKind kind, std::string code, std::string detail) {
  return Error{kind, std::move(code), std::move(detail), {}, {}};
}
inline Error NotFound(std::string detail = "no such record") {
  return MakeError(ErrorKind::kNotFound, "not_found", std::move(detail));
}
inline Error Forbidden(std::string detail) {
  return MakeError(ErrorKind::kForbidden, "forbidden", std::move(detail));
}
inline Error InvalidTransition(std::string detail) {
  return MakeError(ErrorKind::kConflict, "invalid_transition", std::move(detail));
}
inline Error RuleRefused(std::string code, std::string detail) {
  return MakeError(ErrorKind::kRule, std::move(code), std::move(detail));
}
inline Error Unavailable(std::string detail) {
  return MakeError(ErrorKind::kUnavailable, "unavailable", std::move(detail));
}
inline Error Internal(std::string detail) {
  return MakeError(ErrorKind::kInternal, "internal", std::move(detail));
}
inline Error ValidationFailed(std::vector<FieldError> fields) {
  Error e = MakeError(ErrorKind::kValidation, "validation_failed",
                      fields.size() == 1 ? fields[0].field + ": " + fields[0].message
                                         : std::to_string(fields.size()) + " invalid fields");
  e.fields = std::move(fields);
  return e;
}
inline Error InvalidField(std::string field, std::string message) {
  return ValidationFailed({FieldError{std::move(field), std::move(message)}});
}

// A value or an Error. Must not be ignored.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

// Success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status Ok() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace crm

// Returns the error of a failed Status or Result from the enclosing function.
#define CRM_RETURN_IF_ERROR(expr)                                                            \
  do {                                                                                       \
    if (auto crm_status_ = (expr); !crm_status_.ok()) return std::move(crm_status_).error(); \
  } while (0)

#define CRM_CONCAT_INNER_(a, b) a##b
#define CRM_CONCAT_(a, b) CRM_CONCAT_INNER_(a, b)
// `CRM_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a Result, or returns its error.
#define CRM_ASSIGN_OR_RETURN(decl, expr) \
  CRM_ASSIGN_OR_RETURN_IMPL_(CRM_CONCAT_(crm_result_, __LINE__), decl, expr)
#define CRM_ASSIGN_OR_RETURN_IMPL_(tmp, decl, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return std::move(tmp).error();     \
  decl = std::move(tmp).value()

#endif  // CRM_DOMAIN_RESULT_H_
