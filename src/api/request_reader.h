// Reads HTTP/1.1 requests from the bytes of one connection, strictly (RFC 9112), so that
// what this server takes for one request is what every proxy in front of it took for one
// (no request smuggling):
//  - empty lines before a request line are skipped (§2.2);
//  - the header section ends within `header_limit` bytes, else 431;
//  - obsolete line folding is refused (§5.2);
//  - Transfer-Encoding is refused unless it is exactly `chunked`, and always together with
//    Content-Length (§6.1, §6.3);
//  - Content-Length appears at most once, as a plain decimal number (§6.3);
//  - an HTTP/1.1 request carries exactly one Host (§3.2);
//  - the headers this server reads (Authorization, If-Match, Idempotency-Key,
//    X-Correlation-Id) appear at most once: two values would be ambiguous;
//  - the target is origin-form, or absolute-form whose path is used (§3.2);
//  - a chunked body is decoded strictly here (no chunk extensions, no trailer fields),
//    so that where it ends never depends on how its bytes arrive;
//  - a body is at most `body_limit` bytes (`upload_limit` on an upload path), else 413.
// After any refusal the connection must be closed: nothing later on it can be trusted.
// Beast does the parsing; only request_reader.cc sees its types. Not thread-safe: one
// reader per connection.
#ifndef CRM_API_REQUEST_READER_H_
#define CRM_API_REQUEST_READER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"
#include "domain/result.h"

namespace crm::api {

class RequestReader {
 public:
  struct Limits {
    size_t header_limit = 16 * 1024;
    size_t body_limit = 1 << 20;
    // Uploads (a lead import) may be larger: a request whose path is one of these has
    // `upload_limit` instead of `body_limit`.
    size_t upload_limit = 0;
    std::vector<std::string> upload_paths = {};
  };
  enum class State { kNeedMore, kDone, kFailed };

  // A request as read: what the handlers see, and what the connection needs.
  struct Message {
    HttpRequest request;
    bool keep_alive = false;
    unsigned version = 11;  // 10 or 11
    bool head = false;      // a HEAD request: answer without a body
  };

  explicit RequestReader(Limits limits);
  ~RequestReader();
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  // Starts reading the next request of the connection.
  void Reset();

  // Reads from `bytes`, the connection's unread input, and returns how many of them it
  // used; the caller drops those and calls again with the rest plus what arrives next.
  // Never uses bytes past the end of the request, which belong to the next one.
  size_t Feed(std::string_view bytes);

  State state() const;
  // Once the header is read and the body is still to come: whether the client waits
  // for "100 Continue" before sending it.
  bool WantsContinue() const;
  // kFailed: why (400 malformed_request, 413 payload_too_large, 431 headers_too_large).
  const Error& failure() const;
  // kDone: the request. Call once.
  Message Take();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace crm::api

#endif  // CRM_API_REQUEST_READER_H_
