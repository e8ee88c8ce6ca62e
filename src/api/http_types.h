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
  std::string content_type;   // as sent; only uploads read it (text/csv or application/json)
  std::string if_none_match;  // for the console's files (304 Not Modified)
  std::optional<std::string> idempotency_key;
  std::string correlation_id;
  std::string route;  // the matched route pattern, for metrics
  // The peer's IP address as the socket sees it (a proxy's, behind one): sign-in counts
  // failures per client address.
  std::string remote_address;
  // A WebSocket opening handshake (RFC 6455 §4.2.1): "Upgrade: websocket" with its key and
  // version. The server checks them when the handler accepts the upgrade.
  bool websocket_upgrade = false;
  std::string websocket_key;
  std::string websocket_version;
};

struct HttpResponse {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";  // none when empty (a 204 or 304)
  // When set, the body is this file's content instead of `body` (an export): the server
  // opens it, removes its name, and sends it a piece at a time.
  std::string file;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Sends the response. Callable from any thread, exactly once.
using Respond = std::function<void(HttpResponse)>;

// An accepted WebSocket, free of Beast types. Text messages only.
class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // Writes one text message, then calls `done(true)`, or `done(false)` when the socket
  // failed or closed; on an I/O thread. One write at a time: call again only after done.
  virtual void Write(std::shared_ptr<const std::string> text, std::function<void(bool)> done) = 0;
  // Sends a close frame with `code` (RFC 6455 §7.4) once any write in progress is done.
  virtual void Close(uint16_t code, std::string reason) = 0;
};

// What the application does with an accepted WebSocket's traffic; called on I/O threads,
// one call at a time per socket.
struct WebSocketHandler {
  std::function<void(std::string)> on_message;  // each text message received
  std::function<void()> on_closed;              // once, when the socket is gone
};
using WebSocketFactory = std::function<WebSocketHandler(std::shared_ptr<WebSocket>)>;

// One request in flight.
struct Call {
  HttpRequest req;
  Respond respond;
  // For a WebSocket handshake (req.websocket_upgrade): completes it instead of responding,
  // and hands the socket to `factory`. Set by the server; call it at most once, and then
  // never `respond`.
  std::function<void(WebSocketFactory factory)> upgrade;
};
using CallPtr = std::shared_ptr<Call>;

// Splits "a=1&b=%20x" into decoded pairs; false on a malformed escape.
bool ParseQuery(std::string_view query, std::map<std::string, std::string>* out);
// Decodes %XX escapes (and '+' as space when `plus_is_space`); false when malformed.
bool PercentDecode(std::string_view in, std::string* out, bool plus_is_space);

}  // namespace crm::api

#endif  // CRM_API_HTTP_TYPES_H_
