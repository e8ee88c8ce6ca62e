// A small blocking WebSocket client for the end-to-end tests (Beast, loopback only).
#ifndef CRM_TESTS_API_WS_CLIENT_H_
#define CRM_TESTS_API_WS_CLIENT_H_

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace crm::testing {

class WsClient {
 public:
  // Opens ws://127.0.0.1:port/api/v1/live, with `authorization` as the upgrade's header
  // when not empty. ok() tells whether the handshake succeeded.
  // `receive_buffer` (bytes, 0: the system's) sizes the socket's receive buffer, for a
  // client that stops reading soon.
  explicit WsClient(int port, const std::string& authorization = "", int receive_buffer = 0)
      : ws_(ioc_) {
    boost::beast::error_code ec;
    auto& socket = boost::beast::get_lowest_layer(ws_).socket();
    socket.open(boost::asio::ip::tcp::v4(), ec);
    if (receive_buffer > 0) {
      socket.set_option(boost::asio::socket_base::receive_buffer_size(receive_buffer), ec);
    }
    boost::beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(10));
    boost::beast::get_lowest_layer(ws_).connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                       static_cast<uint16_t>(port)),
        ec);
    if (ec) return;
    ws_.set_option(boost::beast::websocket::stream_base::decorator(
        [authorization](boost::beast::websocket::request_type& req) {
          if (!authorization.empty()) req.set(boost::beast::http::field::authorization, authorization);
        }));
    ws_.handshake("127.0.0.1", "/api/v1/live", ec);
    boost::beast::get_lowest_layer(ws_).expires_never();  // each read has its own deadline
    ok_ = !ec;
  }

  bool ok() const { return ok_; }

  void Send(const nlohmann::json& message) {
    auto text = std::make_shared<std::string>(message.dump());
    bool done = false;
    ws_.text(true);
    ws_.async_write(boost::asio::buffer(*text),
                    [&done, text](boost::beast::error_code, size_t) { done = true; });
    Run([&] { return done; }, std::chrono::seconds(5));
  }

  // The next message within `timeout`, or nullopt (timed out, or closed: see closed()).
  // Beast's blocking reads know no timeout, so this runs an asynchronous read; one that
  // times out stays pending and the next call goes on waiting for it.
  std::optional<nlohmann::json> Next(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    if (closed_) return std::nullopt;
    if (!reading_) {
      reading_ = true;
      read_done_ = false;
      buffer_.clear();
      ws_.async_read(buffer_, [this](boost::beast::error_code ec, size_t) {
        read_ec_ = ec;
        read_done_ = true;
      });
    }
    Run([&] { return read_done_; }, timeout);
    if (!read_done_) return std::nullopt;
    reading_ = false;
    if (read_ec_) {
      closed_ = true;
      close_code_ = ws_.reason().code;
      return std::nullopt;
    }
    return nlohmann::json::parse(boost::beast::buffers_to_string(buffer_.data()), nullptr, false);
  }

  // The next message `pred` accepts, skipping others; nullopt when none came in time.
  std::optional<nlohmann::json> NextWhere(const std::function<bool(const nlohmann::json&)>& pred,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      auto m = Next(std::max(left, std::chrono::milliseconds(1)));
      if (!m) return std::nullopt;
      if (pred(*m)) return m;
    }
    return std::nullopt;
  }

  bool closed() const { return closed_; }
  // The peer's close code (1008, 1013, ...), once closed by it.
  int close_code() const { return close_code_; }

 private:
  // Runs the I/O until `done()` or the timeout.
  void Run(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < until) {
      ioc_.restart();
      ioc_.run_one_until(until);
    }
  }

  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  boost::beast::error_code read_ec_;
  bool reading_ = false;
  bool read_done_ = false;
  bool ok_ = false;
  bool closed_ = false;
  int close_code_ = 0;
};

}  // namespace crm::testing

#endif  // CRM_TESTS_API_WS_CLIENT_H_
