// The HTTP/1.1 server (Boost.Beast): keep-alive, strict request framing (RequestReader),
// body and header limits (1 MiB and 16 KiB by default), request, write and idle timeouts, a cap on
// open connections, several I/O threads. It reads requests into HttpRequest, hands them
// to the dispatcher and writes what the dispatcher answers, one at a time per connection.
#ifndef CRM_API_HTTP_SERVER_H_
#define CRM_API_HTTP_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"
#include "domain/result.h"

namespace crm::api {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port
  int threads = 2;
  size_t body_limit = 1 << 20;
  // Uploads: a lead import (10,000 rows) may be larger than any other body.
  size_t upload_limit = 16 << 20;
  std::vector<std::string> upload_paths = {"/api/v1/leads/import"};
  size_t header_limit = 16 * 1024;  // request line and headers
  // Open connections at most; one more is answered 503 and closed. 0: what the process's
  // file descriptor limit leaves room for (DefaultMaxConnections).
  size_t max_connections = 0;
  std::chrono::seconds request_timeout{30};  // to read one request's headers and body,
                                             // and to write one answer
  std::chrono::seconds idle_timeout{60};     // between requests on a kept-alive connection
  // Where the server reports what goes wrong outside any request (accept failing).
  std::function<void(std::string_view)> log;
};

// Raises the soft limit on open files to the hard limit; returns the limit now in force.
size_t RaiseOpenFileLimit();

// Raises the open-file limit, and returns how many connections fit below it with room for
// the stores' files: min(10000, limit - 512), at least 16.
size_t DefaultMaxConnections();

// What the server is doing, for /metrics.
struct HttpStats {
  size_t connections = 0;  // open now
  size_t max_connections = 0;
  size_t writing_bytes = 0;            // answer bytes handed to sockets and not yet taken
  uint64_t refused_total = 0;          // connections answered 503 at the limit, or dropped
  uint64_t accept_failures_total = 0;  // accepts that failed (out of descriptors, ...)
  size_t websockets = 0;               // open WebSockets (counted in connections too)
};

class HttpServer {
 public:
  using Dispatch = std::function<void(const CallPtr&)>;

  // Binds and starts the I/O threads. kUnavailable when the address cannot be bound.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   Dispatch dispatch);
  ~HttpServer();

  uint16_t port() const;
  size_t max_connections() const;
  HttpStats Stats() const;
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
