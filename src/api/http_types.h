// Requests and responses as the handlers see them, free of Beast types so that only
// http_server.cc pays for Beast's headers.
#ifndef CRM_API_HTTP_TYPES_H_
#define CRM_API_HTTP_TYPES_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace crm::api {

struct HttpRequest {
  std::string method;                         // "GET", "POST", ...
  std::string path;                           // decoded path without the query
  std::map<std::string, std::string> query;   // decoded query parameters
  std::map<std::string, std::string> params;  // path parameters, filled by the router
  std::string body;
  std::string authorization;
  std::string if_match;
  std::optional<std::string> idempotency_key;
  std::string correlation_id;
  std::string route;  // the matched route pattern, for metrics
};

struct HttpResponse {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Sends the response. Callable from any thread, exactly once.
using Respond = std::function<void(HttpResponse)>;

// One request in flight.
struct Call {
  HttpRequest req;
  Respond respond;
};
using CallPtr = std::shared_ptr<Call>;

// Splits "a=1&b=%20x" into decoded pairs; false on a malformed escape.
bool ParseQuery(std::string_view query, std::map<std::string, std::string>* out);
// Decodes %XX escapes (and '+' as space when `plus_is_space`); false when malformed.
bool PercentDecode(std::string_view in, std::string* out, bool plus_is_space);

}  // namespace crm::api

#endif  // CRM_API_HTTP_TYPES_H_
