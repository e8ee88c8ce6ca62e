// The HTTP/1.1 server (Boost.Beast): keep-alive, a 1 MiB body limit, header and idle
// timeouts, several I/O threads. It parses requests into HttpRequest, hands them to the
// dispatcher and writes what the dispatcher answers. WebSocket upgrades of
// /api/v1/live go to the live hub.
#ifndef CRM_API_HTTP_SERVER_H_
#define CRM_API_HTTP_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/http_types.h"
#include "domain/result.h"

namespace crm::api {

class LiveHub;

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port
  int threads = 2;
  size_t body_limit = 1 << 20;
  std::chrono::seconds request_timeout{30};  // to read one request's headers and body
  std::chrono::seconds idle_timeout{60};     // between requests on a kept-alive connection
};

class HttpServer {
 public:
  using Dispatch = std::function<void(const CallPtr&)>;

  // Binds and starts the I/O threads. kUnavailable when the address cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   Dispatch dispatch, LiveHub* live);
  ~HttpServer();

  uint16_t port() const;
  // Runs `fn` on an I/O thread.
  void Post(std::function<void()> fn);
  // Stops accepting, lets requests in flight finish (up to `grace`), stops the threads.
  void Stop(std::chrono::milliseconds grace);

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace crm::api

#endif  // CRM_API_HTTP_SERVER_H_
