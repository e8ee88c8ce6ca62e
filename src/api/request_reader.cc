#include "api/request_reader.h"

#include <boost/beast/http.hpp>

#include <algorithm>
#include <optional>

namespace crm::api {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::string_view kHeaderEnd = "\r\n\r\n";

Error Malformed(std::string detail) {
  return MakeError(ErrorKind::kMalformed, "malformed_request", std::move(detail));
}

// Whether a header line (after the request line) starts with white space: obsolete line
// folding, which RFC 9112 §5.2 lets a server refuse, and which proxies read differently.
bool HasObsFold(std::string_view header) {
  size_t line_end = header.find("\r\n");
  while (line_end != std::string_view::npos && line_end + 2 < header.size()) {
    char next = header[line_end + 2];
    if (next == ' ' || next == '\t') return true;
    line_end = header.find("\r\n", line_end + 2);
  }
  return false;
}

bool IsDigits(std::string_view s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// ASCII case-insensitive equality. Not beast::iequals: Boost 1.81's reads one byte past
// both strings when they differ only in case (the fuzzer found it under ASan).
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

struct RequestReader::Impl {
  enum class Phase { kStart, kHeader, kBody, kDone, kFailed };

  Limits limits;
  size_t body_limit = 0;  // this request's: limits.body_limit, or upload_limit for an upload

  // The body limit of the request whose header section is `header`: the upload limit
  // when its target's path is one of limits.upload_paths and it carries credentials (an
  // anonymous caller never gets more than body_limit buffered).
  size_t BodyLimitFor(std::string_view header) const {
    size_t sp = header.find(' ');
    std::string lower(header);
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    bool credentials = lower.find("\r\nauthorization:") != std::string::npos;
    if (sp != std::string_view::npos && credentials && limits.upload_limit > limits.body_limit) {
      size_t end = header.find_first_of(" ?\r", sp + 1);
      std::string_view path =
          header.substr(sp + 1, end == std::string_view::npos ? 0 : end - sp - 1);
      for (const auto& upload : limits.upload_paths) {
        if (path == upload) return limits.upload_limit;
      }
    }
    return limits.body_limit;
  }
  Phase phase = Phase::kStart;
  size_t skipped = 0;         // empty lines before the request line
  size_t header_scanned = 0;  // bytes of the header section checked so far
  std::optional<http::request_parser<http::string_body>> parser;
  Error failure;
  Message message;

  // A chunked body is decoded here, not by Beast: Beast's chunk parser reads the same
  // bytes differently depending on how they arrive (its chunk-extension parser runs to
  // the end of the buffer it was given, not of the line; found by the fuzzer), and what
  // a server takes for the end of a body must not depend on that. Strict: a size line of
  // hex digits only (no extensions), CRLF after each chunk's data, no trailer fields.
  enum class Chunk { kSize, kData, kDataEnd, kTrailer };
  bool chunked = false;
  Chunk chunk = Chunk::kSize;
  uint64_t chunk_left = 0;
  std::string chunk_body;

  // Decodes from `in`; returns the bytes used. Sets kDone or kFailed when the body ends.
  size_t FeedChunked(std::string_view in) {
    constexpr size_t kMaxSizeLine = 64;
    size_t used = 0;
    for (;;) {
      std::string_view rest = in.substr(used);
      switch (chunk) {
        case Chunk::kSize: {
          size_t eol = rest.find("\r\n");
          // A CR at the very end may be the start of the CRLF: it does not count yet.
          size_t line = eol != std::string_view::npos
                            ? eol
                            : rest.size() - (!rest.empty() && rest.back() == '\r');
          if (line > kMaxSizeLine) {
            Fail(Malformed("a chunk size line is longer than " + std::to_string(kMaxSizeLine) +
                           " bytes"));
            return used;
          }
          if (eol == std::string_view::npos) return used;
          std::string_view digits = rest.substr(0, eol);
          if (digits.find(';') != std::string_view::npos) {
            Fail(Malformed("chunk extensions are not accepted"));
            return used;
          }
          uint64_t size = 0;
          bool hex = !digits.empty() && digits.size() <= 15;
          for (char c : digits) {
            int v = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (v < 0) hex = false;
            size = size * 16 + static_cast<uint64_t>(v < 0 ? 0 : v);
          }
          if (!hex) {
            Fail(Malformed("a chunk size must be hexadecimal digits"));
            return used;
          }
          used += eol + 2;
          if (size == 0) {
            chunk = Chunk::kTrailer;
          } else if (size > body_limit - chunk_body.size()) {
            FailParse(http::error::body_limit);
            return used;
          } else {
            chunk_left = size;
            chunk = Chunk::kData;
          }
          break;
        }
        case Chunk::kData: {
          size_t take = static_cast<size_t>(std::min<uint64_t>(chunk_left, rest.size()));
          chunk_body.append(rest.substr(0, take));
          used += take;
          chunk_left -= take;
          if (chunk_left > 0) return used;
          chunk = Chunk::kDataEnd;
          break;
        }
        case Chunk::kDataEnd:
        case Chunk::kTrailer: {
          // Both want exactly CRLF: after a chunk's data, and after the last chunk (an
          // empty trailer section).
          if (rest.empty() || (rest.size() == 1 && rest[0] == '\r')) return used;
          if (rest.substr(0, 2) != "\r\n") {
            Fail(Malformed(chunk == Chunk::kDataEnd ? "a chunk's data must end with CRLF"
                                                    : "trailer fields are not accepted"));
            return used;
          }
          used += 2;
          if (chunk == Chunk::kTrailer) {
            Finish();
            return used;
          }
          chunk = Chunk::kSize;
          break;
        }
      }
    }
  }

  void Fail(Error e) {
    failure = std::move(e);
    phase = Phase::kFailed;
  }

  void FailParse(const beast::error_code& ec) {
    if (ec == http::error::header_limit) {
      return Fail(MakeError(
          ErrorKind::kHeadersTooLarge, "headers_too_large",
          "the request header is larger than " + std::to_string(limits.header_limit) + " bytes"));
    }
    if (ec == http::error::body_limit) {
      return Fail(MakeError(ErrorKind::kTooLarge, "payload_too_large",
                            "the body is larger than " + std::to_string(body_limit) + " bytes"));
    }
    Fail(Malformed("the request is not valid HTTP/1.1: " + ec.message()));
  }

  // The framing rules Beast leaves to the server (see the header comment).
  std::optional<Error> CheckHeader() const {
    const auto& m = parser->get();
    size_t te = 0, cl = 0, host = 0;
    size_t authorization = 0, if_match = 0, idempotency = 0, correlation = 0;
    for (const auto& f : m) {
      std::string_view value(f.value().data(), f.value().size());
      switch (f.name()) {
        case http::field::transfer_encoding:
          ++te;
          if (!EqualsIgnoreCase(Trim(value), "chunked")) {
            return Malformed("Transfer-Encoding must be chunked, not '" + std::string(value) + "'");
          }
          break;
        case http::field::content_length:
          ++cl;
          if (!IsDigits(Trim(value))) {
            return Malformed("Content-Length must be one decimal number");
          }
          break;
        case http::field::host:
          ++host;
          break;
        case http::field::authorization:
          ++authorization;
          break;
        case http::field::if_match:
          ++if_match;
          break;
        default:
          if (EqualsIgnoreCase(f.name_string(), "Idempotency-Key")) ++idempotency;
          if (EqualsIgnoreCase(f.name_string(), "X-Correlation-Id")) ++correlation;
          break;
      }
    }
    if (te > 1) return Malformed("Transfer-Encoding appears more than once");
    if (te > 0 && cl > 0)
      return Malformed("a request may not carry both Content-Length and Transfer-Encoding");
    if (te > 0 && m.version() < 11) return Malformed("HTTP/1.0 has no Transfer-Encoding");
    if (cl > 1) return Malformed("Content-Length appears more than once");
    if (m.version() >= 11 && host != 1)
      return Malformed("an HTTP/1.1 request carries exactly one Host");
    for (auto [count, name] : {std::pair{authorization, "Authorization"},
                               {if_match, "If-Match"},
                               {idempotency, "Idempotency-Key"},
                               {correlation, "X-Correlation-Id"}}) {
      if (count > 1) return Malformed(std::string(name) + " appears more than once");
    }
    return std::nullopt;
  }

  // The whole request has been read: fill `message`, or fail on its target.
  void Finish() {
    auto& m = parser->get();
    message = Message{};
    message.keep_alive = m.keep_alive();
    message.version = m.version();
    message.head = m.method() == http::verb::head;
    HttpRequest& r = message.request;
    r.method = std::string(m.method_string());
    if (auto bad = FillTarget(std::string_view(m.target().data(), m.target().size()), r)) {
      return Fail(std::move(*bad));
    }
    auto header = [&](std::string_view name) -> std::optional<std::string> {
      auto it = m.find(name);
      if (it == m.end()) return std::nullopt;
      return std::string(it->value());
    };
    r.authorization = header("Authorization").value_or("");
    if (auto upgrade = header("Upgrade")) {
      r.websocket_upgrade = EqualsIgnoreCase(Trim(*upgrade), "websocket");
      r.websocket_key = header("Sec-WebSocket-Key").value_or("");
      r.websocket_version = header("Sec-WebSocket-Version").value_or("");
    }
    r.if_match = header("If-Match").value_or("");
    r.content_type = header("Content-Type").value_or("");
    r.if_none_match = header("If-None-Match").value_or("");
    r.idempotency_key = header("Idempotency-Key");
    r.correlation_id = header("X-Correlation-Id").value_or("");
    r.body = chunked ? std::move(chunk_body) : std::move(m.body());
    phase = Phase::kDone;
  }

  // Splits the target into a decoded path and query. Absolute-form keeps only its path.
  std::optional<Error> FillTarget(std::string_view target, HttpRequest& r) const {
    std::string rooted;  // an absolute-form target with an empty path: "/" and its query
    if (EqualsIgnoreCase(target.substr(0, 7), "http://") ||
        EqualsIgnoreCase(target.substr(0, 8), "https://")) {
      // RFC 3986 §3.2: the authority ends at the first '/', '?' or '#'.
      size_t authority = target.find("//") + 2;
      size_t end = target.find_first_of("/?#", authority);
      if (end == std::string_view::npos) {
        target = "/";
      } else if (target[end] == '/') {
        target = target.substr(end);
      } else {
        rooted = "/" + std::string(target.substr(end));
        target = rooted;
      }
    }
    if (target.empty() || target.front() != '/') {
      return Malformed("the request target must be a path starting with /");
    }
    if (target.find('#') != std::string_view::npos) {
      return Malformed("a request target has no fragment");
    }
    size_t q = target.find('?');
    if (!PercentDecode(target.substr(0, q), &r.path, false) ||
        (q != std::string_view::npos && !ParseQuery(target.substr(q + 1), &r.query))) {
      return Malformed("the request target is not well formed");
    }
    return std::nullopt;
  }
};

RequestReader::RequestReader(Limits limits) : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
  Reset();
}

RequestReader::~RequestReader() = default;

void RequestReader::Reset() {
  impl_->phase = Impl::Phase::kStart;
  impl_->skipped = 0;
  impl_->header_scanned = 0;
  impl_->parser.emplace();
  impl_->parser->header_limit(static_cast<std::uint32_t>(impl_->limits.header_limit));
  impl_->body_limit = impl_->limits.body_limit;
  impl_->parser->body_limit(impl_->body_limit);
  impl_->parser->eager(true);
  impl_->failure = Error{};
  impl_->chunked = false;
  impl_->chunk = Impl::Chunk::kSize;
  impl_->chunk_left = 0;
  impl_->chunk_body.clear();
}

size_t RequestReader::Feed(std::string_view bytes) {
  Impl& s = *impl_;
  using Phase = Impl::Phase;
  size_t used = 0;
  if (s.phase == Phase::kStart) {
    // RFC 9112 §2.2: ignore empty lines received before the request line.
    while (used < bytes.size() && (bytes[used] == '\r' || bytes[used] == '\n')) {
      size_t line = 1;
      if (bytes[used] == '\r') {
        if (used + 1 == bytes.size()) return used;  // the LF is still to come
        if (bytes[used + 1] != '\n') {
          s.Fail(Malformed("a bare CR before the request line"));
          return used;
        }
        line = 2;
      }
      used += line;
      s.skipped += line;
      if (s.skipped > s.limits.header_limit) {
        s.Fail(Malformed("too many empty lines before the request line"));
        return used;
      }
    }
    if (used == bytes.size()) return used;
    s.phase = Phase::kHeader;
  }
  if (s.phase == Phase::kHeader) {
    std::string_view rest = bytes.substr(used);
    // Bytes of the header section already looked at (they stay unconsumed until the
    // header is whole): each byte is scanned once, however it trickles in.
    size_t from = std::min(s.header_scanned, rest.size());
    size_t end = rest.find(kHeaderEnd, from >= 3 ? from - 3 : 0);
    size_t header_size = end == std::string_view::npos ? rest.size() : end + kHeaderEnd.size();
    // Lines end with CRLF: a bare LF (which some parsers take for a line end, and others
    // not) is refused as soon as it arrives rather than waited on. Only bytes within the
    // limit are looked at, and before the limit is: so the answer is the same however
    // the bytes arrive (a bare LF in the first header_limit bytes, else too large).
    size_t scan_end =
        std::min(end == std::string_view::npos ? rest.size() : end, s.limits.header_limit);
    for (size_t i = from; i < scan_end; ++i) {
      if (rest[i] == '\n' && (i == 0 || rest[i - 1] != '\r')) {
        s.Fail(Malformed("header lines must end with CRLF, not a bare LF"));
        return used;
      }
    }
    s.header_scanned = scan_end;
    if (header_size > s.limits.header_limit) {
      s.FailParse(http::error::header_limit);
      return used;
    }
    if (end == std::string_view::npos) return used;
    std::string_view header = rest.substr(0, header_size);
    if (HasObsFold(header)) {
      s.Fail(Malformed("obsolete line folding is not accepted"));
      return used;
    }
    s.body_limit = s.BodyLimitFor(header);
    s.parser->body_limit(s.body_limit);
    beast::error_code ec;
    size_t n = s.parser->put(boost::asio::buffer(header.data(), header.size()), ec);
    if (ec || n != header_size || !s.parser->is_header_done()) {
      s.FailParse(ec ? ec : http::error::partial_message);
      return used;
    }
    used += n;
    if (auto bad = s.CheckHeader()) {
      s.Fail(std::move(*bad));
      return used;
    }
    s.phase = Phase::kBody;
    s.chunked = s.parser->chunked();
  }
  if (s.phase == Phase::kBody && s.chunked) {
    used += s.FeedChunked(bytes.substr(used));
  } else if (s.phase == Phase::kBody) {
    while (!s.parser->is_done() && used < bytes.size()) {
      beast::error_code ec;
      size_t n = s.parser->put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
      used += n;
      if (ec == http::error::need_more) break;
      if (ec) {
        s.FailParse(ec);
        return used;
      }
      if (n == 0) break;
    }
    if (s.parser->is_done()) s.Finish();
  }
  return used;
}

RequestReader::State RequestReader::state() const {
  switch (impl_->phase) {
    case Impl::Phase::kDone:
      return State::kDone;
    case Impl::Phase::kFailed:
      return State::kFailed;
    default:
      return State::kNeedMore;
  }
}

bool RequestReader::WantsContinue() const {
  if (impl_->phase != Impl::Phase::kBody) return false;
  const auto& m = impl_->parser->get();
  auto it = m.find(http::field::expect);
  return m.version() >= 11 && it != m.end() &&
         EqualsIgnoreCase(Trim(std::string_view(it->value().data(), it->value().size())),
                          "100-continue");
}

const Error& RequestReader::failure() const { return impl_->failure; }

RequestReader::Message RequestReader::Take() { return std::move(impl_->message); }

}  // namespace crm::api
