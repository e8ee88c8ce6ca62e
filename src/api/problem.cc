#include "api/problem.h"

#include <nlohmann/json.hpp>

#include "api/json_text.h"

#include <vector>

namespace crm::api {
namespace {

// The status reason phrase, for a code missing from the table (a bug the tests look for).
const char* Reason(int status) {
  switch (status) {
    case 400:
      return "Bad request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not found";
    case 405:
      return "Method not allowed";
    case 409:
      return "Conflict";
    case 412:
      return "Precondition failed";
    case 413:
      return "Payload too large";
    case 422:
      return "Unprocessable content";
    case 429:
      return "Too many requests";
    case 431:
      return "Request header fields too large";
    case 503:
      return "Service unavailable";
    default:
      return "Internal server error";
  }
}

}  // namespace

const std::vector<ProblemCode>& ProblemCodes() {
  static const std::vector<ProblemCode> kCodes = {
      {"malformed_json", 400, "Malformed JSON", "the body is not JSON, or not an object"},
      {"malformed_request", 400, "Malformed HTTP request",
       "the request is not valid HTTP/1.1 (framing, header syntax, target); the connection closes"},
      {"validation_failed", 400, "Validation failed",
       "a field is missing, of the wrong type, or out of range; `errors` lists every one"},
      {"unauthorized", 401, "Unauthorized", "no token, unknown token, revoked token"},
      {"forbidden", 403, "Forbidden", "the role may not do this"},
      {"not_found", 404, "Not found", "no such record or path, or the caller may not see it"},
      {"method_not_allowed", 405, "Method not allowed", "the path exists, the method does not"},
      {"duplicate_customer", 409, "Duplicate customer",
       "a customer with the same normalised name exists; `existing_id` names it"},
      {"duplicate_contract_number", 409, "Duplicate contract number",
       "the contract number is already used; `existing_id` names the contract"},
      {"duplicate_invoice_number", 409, "Duplicate invoice number",
       "the invoice number is already used (a voided invoice keeps its number); `existing_id` "
       "names the invoice"},
      {"duplicate_lead", 409, "Duplicate lead",
       "a live lead has the same phone, or the same company and name (撞单); `existing_id` and "
       "`owner_id` (null in the pool) name it; send allow_duplicate to record it anyway"},
      {"invalid_transition", 409, "Invalid state transition",
       "the record's state does not allow this command; `detail` names the state"},
      {"version_conflict", 412, "Version conflict", "If-Match did not match"},
      {"payload_too_large", 413, "Payload too large",
       "the body is over the body limit (1 MiB unless configured)"},
      {"headers_too_large", 431, "Request header fields too large",
       "the request line and headers are over the header limit (16 KiB unless configured); the "
       "connection closes"},
      {"claim_limit_reached", 422, "Daily claim limit reached", "the daily claim limit is used up"},
      {"capacity_reached", 422, "Capacity reached",
       "the person would own more than the policy allows"},
      {"previous_owner_blocked", 422, "Previous owner blocked",
       "a previous owner may not reclaim within the policy's block"},
      {"not_in_pool", 422, "Not in the pool", "only items in the pool can be claimed"},
      {"plan_mismatch", 422, "Payment plan does not match the amount",
       "the installments do not add up to the contract amount"},
      {"overpayment", 422, "Overpayment", "the payment is more than is outstanding"},
      {"overinvoiced", 422, "Over-invoiced",
       "the contract's invoices would add up to more than its amount; `detail` gives the figures"},
      {"idempotency_key_reused", 422, "Idempotency key reused",
       "the Idempotency-Key was used for a different request"},
      {"staff_departed", 422, "Staff member departed", "the person has departed"},
      {"too_many_attempts", 429, "Too many attempts",
       "too many failed sign-ins for the email or from the client address; `Retry-After` "
       "says in how many seconds to try again"},
      {"not_leader", 503, "Not the writer",
       "the log is replicated (crmd --store jetstream) and this node is a standby: `detail` "
       "names the writer node and where it takes commands; nothing was written"},
      {"projection_lagging", 503, "Read model lagging",
       "the read model did not reach min_position within 5 s"},
      {"unavailable", 503, "Service unavailable",
       "storage failing, the server busy or stopping; nothing was written, unless `detail` "
       "says the log failed while writing (the outcome is then known after a restart: retry "
       "with the same Idempotency-Key)"},
      {"internal", 500, "Internal server error", "a bug; nothing was written"},
  };
  return kCodes;
}

int HttpStatus(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kMalformed:
    case ErrorKind::kValidation:
      return 400;
    case ErrorKind::kUnauthorized:
      return 401;
    case ErrorKind::kForbidden:
      return 403;
    case ErrorKind::kNotFound:
      return 404;
    case ErrorKind::kMethodNotAllowed:
      return 405;
    case ErrorKind::kConflict:
      return 409;
    case ErrorKind::kPrecondition:
      return 412;
    case ErrorKind::kTooLarge:
      return 413;
    case ErrorKind::kHeadersTooLarge:
      return 431;
    case ErrorKind::kTooManyRequests:
      return 429;
    case ErrorKind::kRule:
      return 422;
    case ErrorKind::kUnavailable:
      return 503;
    case ErrorKind::kInternal:
      return 500;
  }
  return 500;
}

std::string TitleOf(const std::string& code, int status) {
  for (const auto& c : ProblemCodes()) {
    if (code == c.code) return c.title;
  }
  return Reason(status);
}

std::string ProblemJson(const Error& e) {
  nlohmann::json j = {{"type", "urn:evcrm:error:" + e.code},
                      {"title", TitleOf(e.code, HttpStatus(e.kind))},
                      {"status", HttpStatus(e.kind)},
                      {"code", e.code},
                      {"detail", e.detail}};
  if (!e.fields.empty()) {
    auto& errors = j["errors"] = nlohmann::json::array();
    for (const auto& f : e.fields) errors.push_back({{"field", f.field}, {"message", f.message}});
  }
  if (!e.existing_id.empty()) j["existing_id"] = e.existing_id;
  if (e.existing_owner_id) {
    j["owner_id"] = e.existing_owner_id->empty() ? nlohmann::json(nullptr)
                                                 : nlohmann::json(*e.existing_owner_id);
  }
  return JsonText(j);
}

}  // namespace crm::api
