#include "api/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "api/problem.h"

namespace crm::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct HttpServer::Impl {
  HttpServerOptions options;
  Dispatch dispatch;
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  std::atomic<int> in_flight{0};
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable idle;

  void DoAccept();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), server_(server) {}

  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::DoRead, shared_from_this()));
  }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->body_limit(server_.options.body_limit);
    parser_->header_limit(16 * 1024);
    // The first request of a connection gets the request timeout; later ones may idle.
    stream_.expires_after(requests_ == 0 ? server_.options.request_timeout
                                         : server_.options.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == beast::error::timeout || ec == net::error::eof) {
      return Close();
    }
    if (ec == http::error::body_limit) {
      return Fail(ErrorKind::kTooLarge, "payload_too_large", "the body is larger than 1 MiB");
    }
    if (ec) return Fail(ErrorKind::kMalformed, "malformed_request", "the request is not valid HTTP/1.1");
    ++requests_;
    auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    head_ = req.method() == http::verb::head;

    auto call = std::make_shared<Call>();
    HttpRequest& r = call->req;
    r.method = std::string(req.method_string());
    std::string_view target(req.target().data(), req.target().size());
    size_t q = target.find('?');
    if (!PercentDecode(target.substr(0, q), &r.path, false) ||
        (q != std::string_view::npos && !ParseQuery(target.substr(q + 1), &r.query))) {
      return Fail(ErrorKind::kMalformed, "malformed_request", "the request target is not well formed");
    }
    r.body = std::move(req.body());
    auto header = [&](http::field f) {
      auto it = req.find(f);
      return it == req.end() ? std::string() : std::string(it->value());
    };
    r.authorization = header(http::field::authorization);
    r.if_match = header(http::field::if_match);
    if (auto it = req.find("Idempotency-Key"); it != req.end()) r.idempotency_key = std::string(it->value());
    if (auto it = req.find("X-Correlation-Id"); it != req.end()) r.correlation_id = std::string(it->value()).substr(0, 200);

    ++server_.in_flight;
    auto self = shared_from_this();
    call->respond = [self](HttpResponse resp) {
      net::post(self->stream_.get_executor(), [self, resp = std::move(resp)]() mutable {
        self->Write(std::move(resp));
        if (--self->server_.in_flight == 0) self->server_.idle.notify_all();
      });
    };
    try {
      server_.dispatch(call);
    } catch (const std::exception& e) {
      // Handlers catch what they expect; this is the last line of defence.
      HttpResponse resp;
      resp.status = 500;
      resp.content_type = "application/problem+json";
      resp.body = ProblemJson(Internal(e.what()));
      call->respond(std::move(resp));
    }
  }

  void Write(HttpResponse r) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version_);
    res->set(http::field::server, "evcrm");
    res->set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res->set(k, v);
    bool keep = keep_alive_ && !server_.stopping;
    res->keep_alive(keep);
    res->body() = std::move(r.body);
    res->prepare_payload();
    if (head_) res->body().clear();
    stream_.expires_after(server_.options.request_timeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep](beast::error_code ec, size_t) {
                        if (ec || !keep) return self->Close();
                        self->DoRead();
                      });
  }

  // Answers a request that could not be read, then closes.
  void Fail(ErrorKind kind, const char* code, const char* detail) {
    keep_alive_ = false;
    HttpResponse resp;
    resp.status = static_cast<unsigned>(HttpStatus(kind));
    resp.content_type = "application/problem+json";
    resp.body = ProblemJson(MakeError(kind, code, detail));
    Write(std::move(resp));
  }

  // Half-closes, then reads and discards what the peer still sends until it closes too:
  // closing a socket with unread input would reset the connection and could destroy the
  // answer just written (a 413 sent while the client is still uploading).
  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return;
    stream_.expires_after(std::chrono::seconds(5));
    Drain();
  }
  void Drain() {
    stream_.async_read_some(net::buffer(drain_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (!ec) self->Drain();
                            });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::array<char, 8192> drain_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer::Impl& server_;
  bool keep_alive_ = false;
  bool head_ = false;
  unsigned version_ = 11;
  uint64_t requests_ = 0;
};

}  // namespace

void HttpServer::Impl::DoAccept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    } else {
      std::make_shared<Session>(std::move(socket), *this)->Start();
    }
    DoAccept();
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(0)); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      Dispatch dispatch, LiveHub* live) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->dispatch = std::move(dispatch);
  (void)live;
  beast::error_code ec;
  auto address = net::ip::make_address(options.address, ec);
  if (ec) return InvalidField("listen", "not an IP address: " + options.address);
  tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("cannot listen on " + options.address + ":" +
                       std::to_string(options.port) + ": " + ec.message());
  }
  impl->work.emplace(impl->ioc.get_executor());
  impl->DoAccept();
  int threads = std::max(1, options.threads);
  for (int i = 0; i < threads; ++i) {
    impl->threads.emplace_back([p = impl.get()] { p->ioc.run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::Post(std::function<void()> fn) { net::post(impl_->ioc, std::move(fn)); }

void HttpServer::Stop(std::chrono::milliseconds grace) {
  if (impl_->threads.empty()) return;
  impl_->stopping = true;
  net::post(impl_->ioc, [p = impl_.get()] {
    beast::error_code ec;
    p->acceptor.close(ec);
  });
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    impl_->idle.wait_for(lock, grace, [&] { return impl_->in_flight.load() == 0; });
  }
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace crm::api
