#include "api/http_server.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "api/problem.h"
#include "api/request_reader.h"

namespace crm::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

// Bytes asked of the socket per read.
constexpr size_t kReadSize = 16 * 1024;
// Connections being refused (answered 503 and closed) at once; beyond this a refused
// connection is closed without an answer, so that refusing costs bounded descriptors.
constexpr size_t kMaxRefusing = 64;
// How long accept waits after running out of descriptors (EMFILE/ENFILE) or memory,
// doubling up to the maximum while the condition lasts.
constexpr auto kAcceptBackoffMin = std::chrono::milliseconds(10);
constexpr auto kAcceptBackoffMax = std::chrono::milliseconds(1000);
// The largest WebSocket message a client may send (its messages are small commands).
constexpr size_t kWebSocketMessageMax = 64 * 1024;
// The kernel's send buffer of a WebSocket, fixed rather than autotuned (up to 4 MiB each on
// Linux): a subscriber that stops reading holds this much in the kernel, and what does not
// fit waits in the live hub, which bounds it.
constexpr int kWebSocketSendBuffer = 256 * 1024;
// How long a WebSocket closed by the server may take to finish the message it is writing
// before the connection is dropped without a close frame: long enough for a client that
// paused to drain its buffers and read why it was closed (1013).
constexpr auto kCloseGrace = std::chrono::seconds(20);

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  Dispatch dispatch;
  // Before the io_context: sessions it still holds when it is destroyed leave these.
  std::atomic<int> in_flight{0};
  std::atomic<size_t> connections{0};
  std::atomic<size_t> refusing{0};
  std::atomic<size_t> writing_bytes{0};
  std::atomic<uint64_t> refused_total{0};
  std::atomic<uint64_t> accept_failures_total{0};
  std::atomic<size_t> websockets{0};
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable idle;  // in_flight or websockets reached 0
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  // The acceptor, its back-off timer and their handlers live on one strand.
  net::strand<net::io_context::executor_type> accept_strand = net::make_strand(ioc);
  tcp::acceptor acceptor{accept_strand};
  net::steady_timer accept_timer{accept_strand};
  std::chrono::milliseconds accept_backoff{0};
  std::vector<std::thread> threads;

  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
};

namespace {

// A connection after its WebSocket handshake: reads messages and hands them to the
// handler, writes what the application asks one message at a time. Beast's keep-alive
// pings find a dead or unresponsive peer (no pong within the idle timeout) and drop it.
class WsSession : public WebSocket, public std::enable_shared_from_this<WsSession> {
 public:
  // `keep` is the HTTP session that counted the connection; it lives as long as this.
  WsSession(beast::tcp_stream&& stream, HttpServer::Impl& server, std::shared_ptr<void> keep)
      : ws_(std::move(stream)),
        abort_timer_(ws_.get_executor()),
        server_(server),
        keep_(std::move(keep)) {}

  void Accept(const HttpRequest& req, WebSocketFactory factory) {
    http::request<http::empty_body> handshake{http::verb::get, req.path, 11};
    handshake.set(http::field::host, "evcrm");
    handshake.set(http::field::connection, "upgrade");
    handshake.set(http::field::upgrade, "websocket");
    if (!req.websocket_key.empty())
      handshake.set(http::field::sec_websocket_key, req.websocket_key);
    if (!req.websocket_version.empty()) {
      handshake.set(http::field::sec_websocket_version, req.websocket_version);
    }
    beast::get_lowest_layer(ws_).expires_never();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().set_option(
        net::socket_base::send_buffer_size(kWebSocketSendBuffer), ignored);
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.idle_timeout = server_.options.idle_timeout / 2;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "evcrm"); }));
    ws_.read_message_max(kWebSocketMessageMax);
    ws_.async_accept(handshake, [self = shared_from_this(),
                                 factory = std::move(factory)](beast::error_code ec) mutable {
      if (ec) return;  // Beast answered the bad handshake (400) itself
      ++self->server_.websockets;
      self->open_ = true;
      self->handler_ = factory(self);
      self->Read();
    });
  }

  ~WsSession() override {
    if (open_) {
      if (handler_.on_closed) handler_.on_closed();
      if (--server_.websockets == 0) server_.idle.notify_all();
    }
  }

  void Write(std::shared_ptr<const std::string> text, std::function<void(bool)> done) override {
    net::dispatch(ws_.get_executor(), [self = shared_from_this(), text = std::move(text),
                                       done = std::move(done)]() mutable {
      if (self->closing_ || !self->open_) return done(false);
      self->writing_ = true;
      self->ws_.text(true);
      self->ws_.async_write(net::buffer(*text),
                            [self, text, done = std::move(done)](beast::error_code ec, size_t) {
                              self->writing_ = false;
                              if (self->close_after_write_) self->SendClose();
                              done(!ec);
                            });
    });
  }

  void Close(uint16_t code, std::string reason) override {
    net::dispatch(ws_.get_executor(),
                  [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
                    if (self->closing_ || self->close_after_write_ || !self->open_) return;
                    self->close_reason_ =
                        websocket::close_reason(static_cast<websocket::close_code>(code), reason);
                    if (self->writing_) {
                      // A peer that does not take the message in hand will not take a close frame
                      // either: give the write a moment, then drop the connection.
                      self->close_after_write_ = true;
                      // From here the grace decides, not the keep-alive pings (which such a
                      // peer cannot answer either): one that resumes reading within it finds
                      // the close frame, however long ago it last sent anything. Whatever
                      // still stands between it and the close (the write, a ping Beast
                      // queued behind it, the close handshake), the connection is dropped
                      // once the grace is over.
                      websocket::stream_base::timeout grace;
                      grace.handshake_timeout = kCloseGrace;  // also bounds the close handshake
                      grace.idle_timeout = websocket::stream_base::none();
                      grace.keep_alive_pings = false;
                      self->ws_.set_option(grace);
                      self->abort_timer_.expires_after(kCloseGrace);
                      self->abort_timer_.async_wait([self](beast::error_code ec) {
                        if (ec || self->closed_) return;
                        beast::error_code ignored;
                        beast::get_lowest_layer(self->ws_).socket().close(ignored);
                      });
                    } else {
                      self->SendClose();
                    }
                  });
  }

 private:
  void Read() {
    ws_.async_read(in_, [self = shared_from_this()](beast::error_code ec, size_t n) {
      if (ec) return;  // closed, failed or timed out: the last reference goes
      if (!self->ws_.got_text())
        return self->Close(1003, "text messages only");  // unsupported data
      std::string message = beast::buffers_to_string(self->in_.data());
      self->in_.consume(n);
      if (self->handler_.on_message && !self->closing_)
        self->handler_.on_message(std::move(message));
      self->Read();
    });
  }

  void SendClose() {
    closing_ = true;
    close_after_write_ = false;
    ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code) {
      self->closed_ = true;
      self->abort_timer_.cancel();  // nothing left to drop; the session may go at once
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  net::steady_timer abort_timer_;
  HttpServer::Impl& server_;
  std::shared_ptr<void> keep_;
  beast::flat_buffer in_;
  WebSocketHandler handler_;
  websocket::close_reason close_reason_;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool closed_ = false;  // the close handshake is over (or failed)
  bool close_after_write_ = false;
};

// One connection: reads a request, hands it to the dispatcher, writes the answer, and
// only then reads the next, so a connection holds at most one request and one answer
// (plus at most one read's worth of pipelined bytes) however fast its client sends.
class Session : public std::enable_shared_from_this<Session> {
 public:
  // `count` is the server's tally this connection is counted in; it leaves it on close.
  Session(tcp::socket&& socket, HttpServer::Impl& server, std::atomic<size_t>& count)
      : stream_(std::move(socket)),
        buffer_(server.options.header_limit + 2 * kReadSize),
        reader_({server.options.header_limit, server.options.body_limit,
                 server.options.upload_limit, server.options.upload_paths}),
        server_(server),
        count_(count) {}
  ~Session() { --count_; }

  void Start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::BeginRequest, shared_from_this()));
  }

  // Answers 503 (the server is at its connection limit) and closes.
  void Refuse() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->stream_.expires_after(std::chrono::seconds(5));
      Error e = Unavailable("the server is at its connection limit; try again shortly");
      self->Fail(e, {{"Retry-After", "1"}});
    });
  }

 private:
  void BeginRequest() {
    reader_.Reset();
    continue_sent_ = false;
    // The first request of a connection gets the request timeout; later ones may idle.
    stream_.expires_after(requests_ == 0 ? server_.options.request_timeout
                                         : server_.options.idle_timeout);
    Process();
  }

  // Reads what the buffer holds; asks the socket for more only when the request needs it.
  void Process() {
    auto data = buffer_.data();
    size_t used =
        reader_.Feed(std::string_view(static_cast<const char*>(data.data()), data.size()));
    buffer_.consume(used);
    switch (reader_.state()) {
      case RequestReader::State::kFailed:
        return Fail(reader_.failure());
      case RequestReader::State::kDone:
        return Handle(reader_.Take());
      case RequestReader::State::kNeedMore:
        if (reader_.WantsContinue() && !continue_sent_) return WriteContinue();
        return ReadMore();
    }
  }

  void ReadMore() {
    stream_.async_read_some(buffer_.prepare(kReadSize),
                            beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t n) {
    // end of stream, timeout, reset: whatever was half-read goes unanswered.
    if (ec) return Close();
    buffer_.commit(n);
    Process();
  }

  void WriteContinue() {
    continue_sent_ = true;
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->Close();
                       self->ReadMore();
                     });
  }

  void Handle(RequestReader::Message message) {
    ++requests_;
    keep_alive_ = message.keep_alive;
    version_ = message.version;
    head_ = message.head;
    auto call = std::make_shared<Call>();
    call->req = std::move(message.request);
    beast::error_code ec;
    auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) call->req.remote_address = peer.address().to_string();
    ++server_.in_flight;
    auto self = shared_from_this();
    call->respond = [self](HttpResponse resp) {
      net::post(self->stream_.get_executor(), [self, resp = std::move(resp)]() mutable {
        self->Write(std::move(resp));
        if (--self->server_.in_flight == 0) self->server_.idle.notify_all();
      });
    };
    if (call->req.websocket_upgrade) {
      // Holds the session, never the call (which holds this): a request that is answered
      // instead of upgraded must free its session.
      call->upgrade = [self, req = call->req](WebSocketFactory factory) {
        net::post(
            self->stream_.get_executor(), [self, req, factory = std::move(factory)]() mutable {
              if (--self->server_.in_flight == 0) self->server_.idle.notify_all();
              // The socket leaves this session for good; the session object stays alive (and
              // counted) as long as the WebSocket does.
              auto ws = std::make_shared<WsSession>(std::move(self->stream_), self->server_, self);
              ws->Accept(req, std::move(factory));
            });
      };
    }
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
    if (!r.file.empty()) return WriteFile(std::move(r));
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version_);
    res->set(http::field::server, "evcrm");
    if (!r.content_type.empty()) res->set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res->set(k, v);
    bool keep = keep_alive_ && !server_.stopping;
    res->keep_alive(keep);
    res->body() = std::move(r.body);
    res->prepare_payload();
    if (head_) res->body().clear();
    // One answer at a time: the next request is not even read until this one is taken,
    // so a client that sends and never reads holds one answer here, and is dropped when
    // the timeout expires.
    stream_.expires_after(server_.options.request_timeout);
    size_t bytes = res->body().size();
    server_.writing_bytes += bytes;
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep, bytes](beast::error_code ec, size_t) {
                        self->server_.writing_bytes -= bytes;
                        if (ec || !keep) return self->Close();
                        self->BeginRequest();
                      });
  }

  // An answer from a file (an export), written a piece at a time: each piece gets the write
  // timeout, so a download that makes progress is never cut, and one that stalls is.
  void WriteFile(HttpResponse r) {
    auto res = std::make_shared<http::response<http::file_body>>(
        static_cast<http::status>(r.status), version_);
    beast::error_code ec;
    res->body().open(r.file.c_str(), beast::file_mode::scan, ec);
    ::unlink(r.file.c_str());  // open, it lives until sent; closed, it is gone
    if (ec) {
      HttpResponse failed;
      failed.status = 500;
      failed.content_type = "application/problem+json";
      failed.body = ProblemJson(Internal("the export could not be read: " + ec.message()));
      return Write(std::move(failed));
    }
    res->set(http::field::server, "evcrm");
    if (!r.content_type.empty()) res->set(http::field::content_type, r.content_type);
    for (auto& [k, v] : r.headers) res->set(k, v);
    bool keep = keep_alive_ && !server_.stopping;
    res->keep_alive(keep);
    res->prepare_payload();
    auto sr = std::make_shared<http::response_serializer<http::file_body>>(*res);
    if (head_) sr->split(true);
    WriteSome(res, sr, keep);
  }
  void WriteSome(std::shared_ptr<http::response<http::file_body>> res,
                 std::shared_ptr<http::response_serializer<http::file_body>> sr, bool keep) {
    stream_.expires_after(server_.options.request_timeout);
    auto done = [self = shared_from_this(), res, sr, keep](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      bool finished = self->head_ ? sr->is_header_done() : sr->is_done();
      if (!finished) return self->WriteSome(res, sr, keep);
      if (!keep) return self->Close();
      self->BeginRequest();
    };
    if (head_) {
      http::async_write_header(stream_, *sr, std::move(done));
    } else {
      http::async_write_some(stream_, *sr, std::move(done));
    }
  }

  // Answers a request that could not be read, then closes: after a framing error nothing
  // more on this connection can be trusted.
  void Fail(const Error& error, std::vector<std::pair<std::string, std::string>> headers = {}) {
    keep_alive_ = false;
    HttpResponse resp;
    resp.status = static_cast<unsigned>(HttpStatus(error.kind));
    resp.content_type = "application/problem+json";
    resp.body = ProblemJson(error);
    resp.headers = std::move(headers);
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
  std::array<char, 4096> drain_;
  RequestReader reader_;
  HttpServer::Impl& server_;
  std::atomic<size_t>& count_;
  bool keep_alive_ = false;
  bool head_ = false;
  bool continue_sent_ = false;
  unsigned version_ = 11;
  uint64_t requests_ = 0;
};

}  // namespace

size_t RaiseOpenFileLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  return static_cast<size_t>(lim.rlim_cur);
}

size_t DefaultMaxConnections() {
  size_t limit = RaiseOpenFileLimit();
  // The log and the read models keep up to 2 × 200 files open (see the stores' options),
  // plus their logs, the lock file and the process's own.
  constexpr size_t kReserve = 512;
  size_t room = limit > kReserve + 16 ? limit - kReserve : 16;
  return std::min<size_t>(room, 10000);
}

void HttpServer::Impl::DoAccept() {
  acceptor.async_accept(net::make_strand(ioc), beast::bind_front_handler(&Impl::OnAccept, this));
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (ec) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    // Out of descriptors or memory: the pending connection stays in the backlog and
    // accepting again at once would fail again at once, spinning a core. Wait, longer
    // while it lasts; connections closing meanwhile make room.
    ++accept_failures_total;
    if (accept_backoff.count() == 0) {
      options.log("accept failed (" + ec.message() + "); backing off until it succeeds");
    }
    accept_backoff = std::clamp(accept_backoff * 2, kAcceptBackoffMin, kAcceptBackoffMax);
    accept_timer.expires_after(accept_backoff);
    accept_timer.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec) DoAccept();
    });
    return;
  }
  if (accept_backoff.count() != 0) {
    options.log("accepting again");
    accept_backoff = std::chrono::milliseconds(0);
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  if (connections.load() < options.max_connections) {
    ++connections;
    std::make_shared<Session>(std::move(socket), *this, connections)->Start();
  } else if (refusing.load() < kMaxRefusing) {
    ++refused_total;
    ++refusing;
    std::make_shared<Session>(std::move(socket), *this, refusing)->Refuse();
  } else {
    ++refused_total;
    socket.close(ignored);
  }
  DoAccept();
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(0)); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      Dispatch dispatch) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (!impl->options.log) impl->options.log = [](std::string_view) {};
  if (impl->options.max_connections == 0) impl->options.max_connections = DefaultMaxConnections();
  impl->dispatch = std::move(dispatch);
  beast::error_code ec;
  auto address = net::ip::make_address(options.address, ec);
  if (ec) return InvalidField("listen", "not an IP address: " + options.address);
  tcp::endpoint endpoint(address, options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("cannot listen on " + options.address + ":" + std::to_string(options.port) +
                       ": " + ec.message());
  }
  impl->work.emplace(impl->ioc.get_executor());
  net::dispatch(impl->accept_strand, [p = impl.get()] { p->DoAccept(); });
  int threads = std::max(1, options.threads);
  for (int i = 0; i < threads; ++i) {
    impl->threads.emplace_back([p = impl.get()] {
      pthread_setname_np(pthread_self(), "crm-http");  // for top, perf and gdb
      p->ioc.run();
    });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

size_t HttpServer::max_connections() const { return impl_->options.max_connections; }

HttpStats HttpServer::Stats() const {
  return HttpStats{impl_->connections.load(),           impl_->options.max_connections,
                   impl_->writing_bytes.load(),         impl_->refused_total.load(),
                   impl_->accept_failures_total.load(), impl_->websockets.load()};
}

void HttpServer::Post(std::function<void()> fn) { net::post(impl_->ioc, std::move(fn)); }

void HttpServer::Stop(std::chrono::milliseconds grace) {
  if (impl_->threads.empty()) return;
  impl_->stopping = true;
  net::post(impl_->accept_strand, [p = impl_.get()] {
    beast::error_code ec;
    p->acceptor.close(ec);
    p->accept_timer.cancel();
  });
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    // Requests in flight finish, and WebSockets (told to close by their owner) finish
    // their close handshakes.
    impl_->idle.wait_for(
        lock, grace, [&] { return impl_->in_flight.load() == 0 && impl_->websockets.load() == 0; });
  }
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace crm::api
