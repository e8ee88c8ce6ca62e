#include "api/problem.h"

#include <nlohmann/json.hpp>

#include <map>

namespace crm::api {
namespace {

std::string Title(const Error& e) {
  static const std::map<std::string, std::string> kTitles = {
      {"malformed_json", "Malformed JSON"},
      {"validation_failed", "Validation failed"},
      {"unauthorized", "Unauthorized"},
      {"forbidden", "Forbidden"},
      {"not_found", "Not found"},
      {"method_not_allowed", "Method not allowed"},
      {"duplicate_customer", "Duplicate customer"},
      {"duplicate_contract_number", "Duplicate contract number"},
      {"invalid_transition", "Invalid state transition"},
      {"version_conflict", "Version conflict"},
      {"payload_too_large", "Payload too large"},
      {"claim_limit_reached", "Daily claim limit reached"},
      {"capacity_reached", "Capacity reached"},
      {"previous_owner_blocked", "Previous owner blocked"},
      {"not_in_pool", "Not in the pool"},
      {"plan_mismatch", "Payment plan does not match the amount"},
      {"overpayment", "Overpayment"},
      {"idempotency_key_reused", "Idempotency key reused"},
      {"staff_departed", "Staff member departed"},
      {"projection_lagging", "Read model lagging"},
      {"unavailable", "Service unavailable"},
  };
  auto it = kTitles.find(e.code);
  return it != kTitles.end() ? it->second : "Error";
}

}  // namespace

int HttpStatus(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kMalformed:
    case ErrorKind::kValidation: return 400;
    case ErrorKind::kUnauthorized: return 401;
    case ErrorKind::kForbidden: return 403;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kMethodNotAllowed: return 405;
    case ErrorKind::kConflict: return 409;
    case ErrorKind::kPrecondition: return 412;
    case ErrorKind::kTooLarge: return 413;
    case ErrorKind::kRule: return 422;
    case ErrorKind::kUnavailable: return 503;
    case ErrorKind::kInternal: return 500;
  }
  return 500;
}

std::string ProblemJson(const Error& e) {
  nlohmann::json j = {{"type", "urn:evcrm:error:" + e.code},
                      {"title", Title(e)},
                      {"status", HttpStatus(e.kind)},
                      {"code", e.code},
                      {"detail", e.detail}};
  if (!e.fields.empty()) {
    auto& errors = j["errors"] = nlohmann::json::array();
    for (const auto& f : e.fields) errors.push_back({{"field", f.field}, {"message", f.message}});
  }
  if (!e.existing_id.empty()) j["existing_id"] = e.existing_id;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace crm::api
