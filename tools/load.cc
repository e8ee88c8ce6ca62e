#include "tools/load.h"

#include "api/http_server.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string_view>
#include <thread>
#include <vector>

namespace crm::tools {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using Steady = std::chrono::steady_clock;

// ---- what is measured ----------------------------------------------------------------

enum Op { kHello, kCreateLead, kFollowUp, kCustomer360, kListLeads, kDashboard, kSearch, kOps };
constexpr std::array<const char*, kOps> kOpNames = {
    "hello", "create_lead", "follow_up", "customer_360", "list_leads", "dashboard", "search"};

// A scenario: the weight of each operation.
struct Scenario {
  const char* name;
  std::array<int, kOps> weights;
};
constexpr std::array<Scenario, 7> kScenarios = {{
    {"hello", {1, 0, 0, 0, 0, 0, 0}},
    {"commands", {0, 7, 3, 0, 0, 0, 0}},
    {"reads", {0, 0, 0, 1, 0, 0, 0}},
    {"lists", {0, 0, 0, 0, 1, 0, 0}},
    {"dashboard", {0, 0, 0, 0, 0, 1, 0}},
    {"search", {0, 0, 0, 0, 0, 0, 1}},
    {"mix", {0, 25, 15, 35, 15, 10, 0}},
}};

// What people type into a search box: part of a person's or a company's name (the
// names crmctl seed writes), the digits of a mobile number, or something nobody has.
constexpr std::array<const char*, 8> kSearchTerms = {
    "王伟", "李娜", "星辰科技", "蓝天贸易", "上海东方", "有限公司1号", "nobody-by-this-name", ""};

// `s` as a URL query value.
std::string QueryValue(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

struct OpStats {
  std::vector<uint32_t> micros;  // latency of each answered request in the measured window
  uint64_t ok = 0;               // 2xx
  uint64_t refused = 0;          // any other status
  uint64_t failed = 0;           // no answer: connection errors
};

double Percentile(std::vector<uint32_t>& v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i] / 1000.0;
}

// ---- a blocking client for the set-up --------------------------------------------------

struct Answer {
  unsigned status = 0;
  json body;
};

class SetupClient {
 public:
  SetupClient(std::string host, int port) : host_(std::move(host)), port_(port), stream_(ioc_) {}

  Answer Call(http::verb method, const std::string& target, const json& body,
              const std::string& token) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        if (!connected_) {
          tcp::resolver resolver(ioc_);
          stream_.connect(resolver.resolve(host_, std::to_string(port_)));
          connected_ = true;
        }
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, host_);
        if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
        if (!body.is_null()) {
          req.set(http::field::content_type, "application/json");
          req.body() = body.dump();
        }
        req.prepare_payload();
        http::write(stream_, req);
        beast::flat_buffer buffer;
        http::response<http::string_body> res;
        http::read(stream_, buffer, res);
        if (!res.keep_alive()) Disconnect();
        Answer a{res.result_int(), json::parse(res.body(), nullptr, false)};
        return a;
      } catch (const std::exception&) {
        Disconnect();
      }
    }
    return Answer{};
  }

 private:
  void Disconnect() {
    beast::error_code ec;
    stream_.socket().close(ec);
    connected_ = false;
  }
  net::io_context ioc_;
  std::string host_;
  int port_;
  beast::tcp_stream stream_;
  bool connected_ = false;
};

// What the connections act on, made by the set-up.
struct Rep {
  std::string id, token;
  std::vector<std::string> leads;      // for follow-ups
  std::vector<std::string> customers;  // for 360 reads
};

bool Setup(const BenchOptions& o, std::vector<Rep>& reps) {
  SetupClient c(o.host, o.port);
  auto fail = [](const char* what, const Answer& a) {
    std::fprintf(stderr, "crmctl bench: %s failed: HTTP %u %s\n", what, a.status,
                 a.body.is_discarded() ? "" : a.body.dump().c_str());
    return false;
  };
  Answer health = c.Call(http::verb::get, "/health", nullptr, "");
  if (health.status != 200) return fail("GET /health", health);
  std::string suffix = std::to_string(std::random_device{}() % 1000000);
  Answer dep =
      c.Call(http::verb::post, "/api/v1/departments", {{"name", "bench " + suffix}}, o.token);
  if (dep.status != 201) return fail("creating a department", dep);
  for (int i = 0; i < o.reps; ++i) {
    std::string name = "bench-" + suffix + "-" + std::to_string(i);
    Answer r = c.Call(http::verb::post, "/api/v1/staff",
                      {{"name", name},
                       {"email", name + "@bench.test"},
                       {"role", "sales"},
                       {"department_id", dep.body["id"]}},
                      o.token);
    if (r.status != 201) return fail("creating a rep", r);
    reps.push_back({r.body["id"], r.body["token"], {}, {}});
  }
  for (int i = 0; i < o.reps * 4; ++i) {
    Rep& rep = reps[i % reps.size()];
    Answer l =
        c.Call(http::verb::post, "/api/v1/leads",
               {{"name", "Lead " + std::to_string(i)}, {"company", "Bench " + suffix}}, rep.token);
    if (l.status != 201) return fail("creating a lead", l);
    rep.leads.push_back(l.body["id"]);
  }
  for (int i = 0; i < o.customers; ++i) {
    Rep& rep = reps[i % reps.size()];
    Answer k = c.Call(http::verb::post, "/api/v1/customers",
                      {{"name", "Bench " + suffix + " Customer " + std::to_string(i)},
                       {"industry", "software"},
                       {"region", "上海"}},
                      rep.token);
    if (k.status != 201) return fail("creating a customer", k);
    rep.customers.push_back(k.body["id"]);
  }
  return true;
}

// ---- the load ------------------------------------------------------------------------

struct Run {
  Run(const BenchOptions& options, std::vector<Rep>& r, std::array<int, kOps> w)
      : o(options), reps(r), weights(w) {
    for (int x : weights) total_weight += x;
  }
  const BenchOptions& o;
  std::vector<Rep>& reps;
  std::array<int, kOps> weights;
  int total_weight = 0;
  Steady::time_point start, measure_from, end;
  std::atomic<uint64_t> answered{0}, errors{0};
  std::atomic<int> in_flight{0};  // requests sent and not yet answered or failed

  // With subscribers: each lead creation sent in the measured window, by its position
  // in the log, when it was sent and by which rep, to time the dashboard views that
  // show it.
  struct Creation {
    uint64_t position;
    Steady::time_point sent;
    int rep;
  };
  void Created(uint64_t position, Steady::time_point sent, int rep) {
    std::lock_guard<std::mutex> lock(created_mu);
    created.push_back({position, sent, rep});
  }
  // The newest creation a subscriber acting as `rep` (-1: the admin) must see.
  uint64_t Newest(int rep) {
    std::lock_guard<std::mutex> lock(created_mu);
    uint64_t newest = 0;
    for (const auto& c : created) {
      if (rep < 0 || c.rep == rep) newest = std::max(newest, c.position);
    }
    return newest;
  }
  std::mutex created_mu;
  std::vector<Creation> created;  // guarded by created_mu
};

// The `"position":N` that comes first in a live message: its own, written before its
// data; 0 if it has none.
uint64_t FirstPosition(std::string_view text) {
  constexpr std::string_view kKey = "\"position\":";
  size_t at = text.find(kKey);
  if (at == std::string_view::npos) return 0;
  uint64_t p = 0;
  for (size_t i = at + kKey.size();
       i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
    p = p * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  return p;
}

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(net::io_context& ioc, Run& run, int index, tcp::resolver::results_type endpoints)
      : run_(run),
        stream_(ioc),
        timer_(ioc),
        endpoints_(std::move(endpoints)),
        rep_index_(static_cast<int>(static_cast<size_t>(index) % run.reps.size())),
        rep_(run.reps[static_cast<size_t>(rep_index_)]),
        rng_(static_cast<uint32_t>(index) * 7919u + 17u) {
    if (run_.o.rate > 0) {
      interval_ = std::chrono::duration_cast<Steady::duration>(
          std::chrono::duration<double>(run_.o.connections / run_.o.rate));
      // Spread the connections' first requests over one interval.
      due_ = run_.start + interval_ * index / run_.o.connections;
    }
  }

  void Start() { Connect(); }
  std::array<OpStats, kOps>& stats() { return stats_; }

 private:
  void Connect() {
    net::async_connect(stream_.socket(), endpoints_,
                       [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                         if (ec) return self->Failed();
                         self->Next();
                       });
  }

  // The request in hand is answered or lost.
  void Done() {
    if (busy_) --run_.in_flight;
    busy_ = false;
  }

  void Failed() {
    Done();
    ++run_.errors;
    if (Steady::now() >= run_.measure_from && Steady::now() < run_.end) ++stats_[op_].failed;
    beast::error_code ec;
    stream_.socket().close(ec);
    if (Steady::now() >= run_.end) return;
    // Try again shortly: a refused or reset connection must not spin.
    timer_.expires_after(std::chrono::milliseconds(50));
    timer_.async_wait([self = shared_from_this()](beast::error_code) { self->Connect(); });
  }

  void Next() {
    auto now = Steady::now();
    if (now >= run_.end) {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      return;
    }
    if (run_.o.rate <= 0) return Send(now);
    if (due_ > now) {
      timer_.expires_at(due_);
      return timer_.async_wait([self = shared_from_this()](beast::error_code) {
        self->Send(self->due_);
        self->due_ += self->interval_;
      });
    }
    // Behind: send at once, and count its latency from when it was due.
    auto due = due_;
    due_ += interval_;
    Send(due);
  }

  Op Pick() {
    int r = static_cast<int>(rng_() % static_cast<uint32_t>(run_.total_weight));
    for (int i = 0; i < kOps; ++i) {
      if (r < run_.weights[i]) return static_cast<Op>(i);
      r -= run_.weights[i];
    }
    return kHello;
  }

  template <class T>
  const T& Any(const std::vector<T>& v) {
    return v[rng_() % v.size()];
  }

  void Build(Op op) {
    req_ = {};
    req_.version(11);
    req_.set(http::field::host, run_.o.host);
    req_.keep_alive(true);
    if (op != kHello) req_.set(http::field::authorization, "Bearer " + rep_.token);
    auto post = [&](std::string target, const json& body) {
      req_.method(http::verb::post);
      req_.target(target);
      req_.set(http::field::content_type, "application/json");
      req_.body() = body.dump();
    };
    switch (op) {
      case kHello:
        req_.method(http::verb::get);
        req_.target("/health");
        break;
      case kCreateLead:
        // Random prospects: a rare clash of phones (撞单) is recorded, as a rep would.
        post("/api/v1/leads", {{"name", "Lead " + std::to_string(rng_() % 100000)},
                               {"company", "Bench Co " + std::to_string(rng_() % 1000)},
                               {"phone", "139" + std::to_string(10000000 + rng_() % 89999999)},
                               {"allow_duplicate", true}});
        break;
      case kFollowUp:
        post("/api/v1/leads/" + Any(rep_.leads) + "/follow-ups",
             {{"channel", "call"}, {"note", "bench follow-up"}});
        break;
      case kCustomer360:
        req_.method(http::verb::get);
        req_.target("/api/v1/customers/" + Any(rep_.customers));
        break;
      case kListLeads:
        req_.method(http::verb::get);
        req_.target("/api/v1/leads?limit=50");
        break;
      case kDashboard:
        req_.method(http::verb::get);
        req_.target("/api/v1/dashboard");
        break;
      case kSearch: {
        // As the admin, who sees every record: the search runs over the whole store.
        req_.set(http::field::authorization, "Bearer " + run_.o.token);
        std::string q = kSearchTerms[rng_() % kSearchTerms.size()];
        if (q.empty()) q = "13" + std::to_string(100000 + rng_() % 900000);  // a number's digits
        req_.method(http::verb::get);
        req_.target(std::string(rng_() % 2 ? "/api/v1/leads" : "/api/v1/customers") +
                    "?limit=50&q=" + QueryValue(q));
        break;
      }
      case kOps:
        break;
    }
    req_.prepare_payload();
  }

  void Send(Steady::time_point due) {
    if (Steady::now() >= run_.end) return Next();
    op_ = Pick();
    due_at_ = due;
    Build(op_);
    busy_ = true;
    ++run_.in_flight;
    http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Failed();
      self->res_ = {};
      http::async_read(self->stream_, self->buffer_, self->res_,
                       [self](beast::error_code ec2, size_t) { self->Answered(ec2); });
    });
  }

  void Answered(beast::error_code ec) {
    if (ec) return Failed();
    Done();
    auto now = Steady::now();
    ++run_.answered;
    if (now >= run_.measure_from && now < run_.end) {
      OpStats& s = stats_[op_];
      s.micros.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(now - due_at_).count()));
      if (res_.result_int() / 100 == 2) {
        ++s.ok;
      } else {
        ++s.refused;
      }
    }
    if (res_.result_int() / 100 != 2) ++run_.errors;
    if (run_.o.subscribers > 0 && op_ == kCreateLead && res_.result_int() == 201 &&
        due_at_ >= run_.measure_from && due_at_ < run_.end) {
      json answer = json::parse(res_.body(), nullptr, false);
      if (answer.is_object() && answer["position"].is_number_unsigned()) {
        run_.Created(answer["position"].get<uint64_t>(), due_at_, rep_index_);
      }
    }
    if (!res_.keep_alive()) {
      beast::error_code ignored;
      stream_.socket().close(ignored);
      return Connect();
    }
    Next();
  }

  Run& run_;
  beast::tcp_stream stream_;
  net::steady_timer timer_;
  tcp::resolver::results_type endpoints_;
  int rep_index_;
  Rep& rep_;
  std::minstd_rand rng_;
  Steady::duration interval_{};
  Steady::time_point due_, due_at_;
  Op op_ = kHello;
  bool busy_ = false;  // a request is in flight
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  beast::flat_buffer buffer_;
  std::array<OpStats, kOps> stats_;
};

// A live subscriber: a WebSocket on /api/v1/live as the admin, who sees every change,
// subscribed to this month's dashboard. It keeps the position each view shows and when
// it arrived; `Latencies` then times each lead creation to the first view that shows it.
class Subscriber : public std::enable_shared_from_this<Subscriber> {
 public:
  struct Seen {
    uint64_t position;
    Steady::time_point at;
  };

  // Acts as `rep` (an index into the set-up's reps, with `token`), or as the admin (-1).
  // `ready` is called once: true with the first snapshot, false if none came.
  Subscriber(net::io_context& ioc, const BenchOptions& o, int rep, std::string token,
             tcp::resolver::results_type endpoints, std::function<void(bool)> ready)
      : o_(o),
        rep_(rep),
        token_(std::move(token)),
        ws_(net::make_strand(ioc)),
        endpoints_(std::move(endpoints)),
        ready_(std::move(ready)) {}

  void Start() {
    net::async_connect(beast::get_lowest_layer(ws_).socket(), endpoints_,
                       [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) {
                         if (ec) return self->Fail();
                         self->Handshake();
                       });
  }

  // From any thread.
  void Close() {
    net::dispatch(ws_.get_executor(), [self = shared_from_this()] {
      if (self->closing_) return;
      self->closing_ = true;
      self->ws_.async_close(websocket::close_code::normal, [self](beast::error_code) {});
    });
  }

  // Once the I/O threads have stopped.
  const std::vector<Seen>& seen() const { return seen_; }
  // From any thread.
  uint64_t last_position() const { return last_position_; }
  int rep() const { return rep_; }
  bool failed() const { return failed_; }

 private:
  void Handshake() {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws_.set_option(
        websocket::stream_base::decorator([token = token_](websocket::request_type& req) {
          req.set(http::field::authorization, "Bearer " + token);
        }));
    ws_.async_handshake(o_.host, "/api/v1/live", [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->Fail();
      static const std::string kSubscribe = R"({"op":"subscribe","topic":"dashboard"})";
      self->ws_.text(true);
      self->ws_.async_write(net::buffer(kSubscribe), [self](beast::error_code ec2, size_t) {
        if (ec2) return self->Fail();
        self->Read();
      });
    });
  }

  void Read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->closing_ ? void() : self->Fail();
      auto now = Steady::now();
      std::string_view text(static_cast<const char*>(self->buffer_.data().data()),
                            self->buffer_.size());
      // The topic, position and type come before the view's data.
      std::string_view head = text.substr(0, 128);
      bool snapshot = head.find("\"type\":\"snapshot\"") != std::string_view::npos;
      if (snapshot || head.find("\"type\":\"update\"") != std::string_view::npos) {
        self->seen_.push_back({FirstPosition(head), now});
        self->last_position_ = self->seen_.back().position;
        if (snapshot) self->Ready(true);
      } else if (text.find("\"type\":\"error\"") != std::string_view::npos) {
        std::fprintf(stderr, "crmctl bench: the live subscription failed: %.*s\n",
                     static_cast<int>(text.size()), text.data());
        return self->Fail();
      }
      self->buffer_.consume(self->buffer_.size());
      self->Read();
    });
  }

  void Fail() {
    failed_ = true;
    Ready(false);
  }

  void Ready(bool ok) {
    if (ready_) std::exchange(ready_, nullptr)(ok);
  }

  const BenchOptions& o_;
  int rep_;
  std::string token_;
  websocket::stream<beast::tcp_stream> ws_;
  tcp::resolver::results_type endpoints_;
  std::function<void(bool)> ready_;
  beast::flat_buffer buffer_;
  std::vector<Seen> seen_;
  std::atomic<uint64_t> last_position_{0};
  bool closing_ = false;
  std::atomic<bool> failed_{false};
};

// Each subscriber's wait from a lead creation's sending to the first view it received
// that shows it (one sample per view: the oldest creation it newly shows), and how many
// (creation, subscriber) pairs were never shown.
struct LiveLatency {
  OpStats stats;  // micros, ok = views that showed a creation, failed = pairs never shown
  uint64_t views = 0;
};

LiveLatency Latencies(const std::vector<Run::Creation>& creations,
                      const std::vector<std::shared_ptr<Subscriber>>& subscribers) {
  LiveLatency out;
  // By position: every creation for the admin (-1), each rep's own for that rep.
  using Created = std::vector<std::pair<uint64_t, Steady::time_point>>;
  std::map<int, Created> by_rep;
  for (const auto& c : creations) {
    by_rep[-1].emplace_back(c.position, c.sent);
    by_rep[c.rep].emplace_back(c.position, c.sent);
  }
  for (auto& [rep, list] : by_rep) std::sort(list.begin(), list.end());
  for (const auto& s : subscribers) {
    const Created& created = by_rep[s->rep()];
    auto after = [&](uint64_t p) {
      return std::upper_bound(created.begin(), created.end(),
                              std::pair(p, Steady::time_point::max()));
    };
    const auto& seen = s->seen();
    if (seen.empty()) {
      out.stats.failed += created.size();
      continue;
    }
    out.views += seen.size();
    auto from = after(seen.front().position);  // the snapshot shows what came before
    for (size_t i = 1; i < seen.size(); ++i) {
      auto to = after(seen[i].position);
      if (to <= from) continue;
      auto oldest = std::min_element(from, to, [](const auto& a, const auto& b) {
                      return a.second < b.second;
                    })->second;
      out.stats.micros.push_back(static_cast<uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(seen[i].at - oldest).count()));
      ++out.stats.ok;
      from = to;
    }
    out.stats.failed += static_cast<uint64_t>(created.end() - from);
  }
  return out;
}

}  // namespace

int RunBench(const BenchOptions& o) {
  const Scenario* scenario = nullptr;
  for (const auto& s : kScenarios) {
    if (o.scenario == s.name) scenario = &s;
  }
  if (!scenario) {
    std::fprintf(stderr, "crmctl bench: unknown scenario %s\n", o.scenario.c_str());
    return 1;
  }
  if (o.subscribers > 0 && scenario->weights[kCreateLead] == 0) {
    std::fprintf(stderr,
                 "crmctl bench: subscribers are timed by lead creations: use commands or mix\n");
    return 1;
  }
  if (o.connections < 1 || o.seconds <= 0 || o.reps < 1 || o.customers < 1 || o.subscribers < 0) {
    std::fprintf(stderr,
                 "crmctl bench: connections, seconds, reps and customers must be positive, "
                 "subscribers not negative\n");
    return 1;
  }
  std::vector<Rep> reps;
  bool needs_org = scenario->weights[kHello] == 0;
  if (needs_org) {
    if (o.token.empty()) {
      std::fprintf(stderr, "crmctl bench: give an admin's token (--token or --data-dir)\n");
      return 1;
    }
    if (!o.quiet)
      std::fprintf(stderr, "crmctl bench: setting up %d reps, %d customers\n", o.reps, o.customers);
    if (!Setup(o, reps)) return 1;
  } else {
    reps.push_back({});
  }

  if (o.subscribers > 0) api::RaiseOpenFileLimit();
  Run run(o, reps, scenario->weights);
  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(o.host, std::to_string(o.port), ec);
  if (ec) {
    std::fprintf(stderr, "crmctl bench: cannot resolve %s: %s\n", o.host.c_str(),
                 ec.message().c_str());
    return 1;
  }
  auto to_duration = [](double s) {
    return std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(s));
  };
  std::vector<std::shared_ptr<Conn>> conns;
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  net::steady_timer progress(ioc), live_timer(ioc);
  uint64_t last = 0;
  std::function<void()> tick = [&] {
    progress.expires_after(std::chrono::seconds(1));
    progress.async_wait([&](beast::error_code e) {
      if (e || Steady::now() >= run.end) return;
      uint64_t now = run.answered.load();
      if (!o.quiet) {
        double t = std::chrono::duration<double>(Steady::now() - run.start).count();
        std::fprintf(stderr, "  %5.1f s  %8llu req/s  %llu errors%s\n", t,
                     static_cast<unsigned long long>(now - last),
                     static_cast<unsigned long long>(run.errors.load()),
                     Steady::now() < run.measure_from ? "  (warm-up)" : "");
      }
      last = now;
      tick();
    });
  };
  // Once the load has ended and every request in flight is answered, the subscribers are
  // given up to kCatchUp to receive the views that show the last creations, then closed.
  constexpr auto kCatchUp = std::chrono::seconds(5);
  std::function<void()> close_when_caught_up = [&] {
    std::map<int, uint64_t> newest;  // by rep, -1: everyone's
    for (const auto& s : subscribers) {
      if (!newest.count(s->rep())) newest[s->rep()] = run.Newest(s->rep());
    }
    bool behind = run.in_flight > 0 ||
                  std::any_of(subscribers.begin(), subscribers.end(), [&](const auto& s) {
                    return !s->failed() && s->last_position() < newest[s->rep()];
                  });
    if (behind && Steady::now() < run.end + kCatchUp) {
      live_timer.expires_after(std::chrono::milliseconds(20));
      return live_timer.async_wait([&](beast::error_code) { close_when_caught_up(); });
    }
    for (auto& s : subscribers) s->Close();
  };
  auto start_load = [&] {
    run.start = Steady::now();
    run.measure_from = run.start + to_duration(o.warmup);
    run.end = run.measure_from + to_duration(o.seconds);
    for (int i = 0; i < o.connections; ++i) {
      conns.push_back(std::make_shared<Conn>(ioc, run, i, endpoints));
      conns.back()->Start();
    }
    tick();
    if (subscribers.empty()) return;
    live_timer.expires_at(run.end);
    live_timer.async_wait([&](beast::error_code) { close_when_caught_up(); });
  };
  // The subscribers first: the load starts once each has its snapshot.
  constexpr auto kSubscribeWithin = std::chrono::seconds(30);
  std::atomic<bool> live_failed{false};
  std::atomic<int> waiting{o.subscribers};
  auto give_up = [&] {
    live_failed = true;
    for (auto& s : subscribers) s->Close();
    ioc.stop();
  };
  if (o.subscribers > 0) {
    if (!o.quiet)
      std::fprintf(stderr, "crmctl bench: opening %d live subscribers\n", o.subscribers);
    live_timer.expires_after(kSubscribeWithin);
    live_timer.async_wait([&](beast::error_code e) {
      if (e || waiting.load() == 0) return;
      std::fprintf(stderr, "crmctl bench: %d live subscribers had no snapshot within %lld s\n",
                   waiting.load(), static_cast<long long>(kSubscribeWithin.count()));
      give_up();
    });
    for (int i = 0; i < o.subscribers; ++i) {
      // As the admin, or as the reps in turn (each watching their own dashboard).
      int as = o.subscribe_as_reps ? i % static_cast<int>(reps.size()) : -1;
      std::string token = as < 0 ? o.token : reps[static_cast<size_t>(as)].token;
      subscribers.push_back(
          std::make_shared<Subscriber>(ioc, o, as, token, endpoints, [&](bool ok) {
            if (!ok) {
              if (live_failed.exchange(true)) return;
              std::fprintf(stderr, "crmctl bench: a live subscriber could not subscribe\n");
              return give_up();
            }
            if (--waiting == 0) {
              live_timer.cancel();
              start_load();
            }
          }));
      subscribers.back()->Start();
    }
  } else {
    start_load();
  }
  std::vector<std::thread> threads;
  for (int i = 1; i < o.threads; ++i) threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  if (live_failed) return 1;

  // Merge and report.
  std::array<OpStats, kOps> all;
  for (auto& c : conns) {
    for (int i = 0; i < kOps; ++i) {
      auto& from = c->stats()[i];
      auto& to = all[i];
      to.micros.insert(to.micros.end(), from.micros.begin(), from.micros.end());
      to.ok += from.ok;
      to.refused += from.refused;
      to.failed += from.failed;
    }
  }
  json out = {{"scenario", o.scenario},
              {"connections", o.connections},
              {"seconds", o.seconds},
              {"offered_rate", o.rate > 0 ? json(o.rate) : json(nullptr)},
              {"operations", json::object()}};
  std::printf("scenario %s, %d connections, %.0f s%s\n", o.scenario.c_str(), o.connections,
              o.seconds,
              o.rate > 0 ? (", offered " + std::to_string(static_cast<long>(o.rate)) + "/s").c_str()
                         : ", closed loop");
  std::printf("%-14s %10s %10s %9s %9s %9s %9s %8s %8s\n", "operation", "answered", "per s",
              "p50 ms", "p99 ms", "p99.9 ms", "max ms", "non-2xx", "errors");
  OpStats total;
  auto row = [&](const char* name, OpStats& s) {
    size_t n = s.micros.size();
    double rate = static_cast<double>(n) / o.seconds;
    double p50 = Percentile(s.micros, 0.5), p99 = Percentile(s.micros, 0.99),
           p999 = Percentile(s.micros, 0.999), max = Percentile(s.micros, 1.0);
    std::printf("%-14s %10zu %10.0f %9.2f %9.2f %9.2f %9.2f %8llu %8llu\n", name, n, rate, p50, p99,
                p999, max, static_cast<unsigned long long>(s.refused),
                static_cast<unsigned long long>(s.failed));
    return json{{"answered", n},        {"per_second", rate}, {"p50_ms", p50},
                {"p99_ms", p99},        {"p999_ms", p999},    {"max_ms", max},
                {"non_2xx", s.refused}, {"errors", s.failed}};
  };
  for (int i = 0; i < kOps; ++i) {
    if (run.weights[i] == 0) continue;
    total.micros.insert(total.micros.end(), all[i].micros.begin(), all[i].micros.end());
    total.ok += all[i].ok;
    total.refused += all[i].refused;
    total.failed += all[i].failed;
    out["operations"][kOpNames[i]] = row(kOpNames[i], all[i]);
  }
  out["total"] = row("total", total);
  if (!subscribers.empty()) {
    // The dashboard's wait: from a lead creation's sending to each subscriber's first view
    // that shows it; "errors" counts (creation, subscriber) pairs never shown.
    LiveLatency live = Latencies(run.created, subscribers);
    const char* as = o.subscribe_as_reps ? "reps" : "admin";
    std::printf("%d live subscribers (%s, dashboard), %llu views received:\n", o.subscribers, as,
                static_cast<unsigned long long>(live.views));
    out["live"] = row("create->view", live.stats);
    out["live"]["subscribers"] = o.subscribers;
    out["live"]["as"] = as;
    out["live"]["views"] = live.views;
  }
  if (!o.json.empty()) {
    std::ofstream f(o.json);
    f << out.dump(2) << "\n";
    if (!f) {
      std::fprintf(stderr, "crmctl bench: cannot write %s\n", o.json.c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace crm::tools
