#include "api/app.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "api/command_service.h"
#include "api/handler_util.h"
#include "api/http_server.h"
#include "api/ids.h"
#include "api/json_text.h"
#include "api/metrics.h"
#include "api/problem.h"
#include "api/routes.h"
#include "api/services.h"
#include "api/token_store.h"
#include "eventstore/rocks_event_store.h"
#include "projections/customer_history.h"
#include "projections/customer_projection.h"
#include "projections/lead_projection.h"
#include "projections/local_store.h"
#include "projections/org_projection.h"
#include "projections/pool_projection.h"
#include "projections/runner.h"
#include "projections/timeline_projection.h"

namespace crm::api {

namespace d = crm::domain;

namespace {

void Log(const std::string& message) { std::fprintf(stderr, "crmd: %s\n", message.c_str()); }

Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return InvalidField("listen", "must be host:port");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
  }
  if (port < 0 || port > 65535) return InvalidField("listen", "bad port in " + listen);
  return std::make_pair(host, static_cast<uint16_t>(port));
}

}  // namespace

struct App::Impl {
  AppOptions options;
  eventstore::SystemClock system_clock;
  const eventstore::Clock* clock = nullptr;
  int lock_fd = -1;
  std::unique_ptr<eventstore::EventStore> store;
  std::unique_ptr<projections::LocalStore> local;
  projections::OrgProjection org;
  projections::LeadProjection leads;
  std::unique_ptr<projections::PoolProjection> pool;
  projections::CustomerProjection customers;
  std::unique_ptr<projections::CustomerHistoryProjection> history;
  std::unique_ptr<projections::TimelineProjection> timeline;
  std::unique_ptr<projections::ProjectionRunner> runner;
  std::unique_ptr<CommandService> commands;
  std::unique_ptr<TokenStore> tokens;
  Metrics metrics;
  std::unique_ptr<Services> services;
  Router router;
  std::unique_ptr<HttpServer> http;
  std::string admin_token_file;

  std::thread recycler;
  std::mutex recycler_mu;
  std::condition_variable recycler_cv;
  bool stopping = false;
  bool stopped = false;

  ~Impl() { Shutdown(); }

  Status LockDataDir() {
    std::string path = options.data_dir + "/crmd.lock";
    lock_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) return Internal("cannot open " + path + ": " + std::strerror(errno));
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      return Unavailable("another crmd is using " + options.data_dir);
    }
    return Status::Ok();
  }

  // Runs a command and waits for its durable outcome (server jobs and bootstrap).
  Result<eventstore::Reply> ExecuteSync(d::Command command, std::string actor,
                                        std::function<json(const d::Decision&,
                                                           const eventstore::CommitInfo&)> reply) {
    auto promise = std::make_shared<std::promise<Result<eventstore::Reply>>>();
    auto future = promise->get_future();
    CommandRequest req;
    req.command = std::move(command);
    req.actor = std::move(actor);
    req.correlation_id = NewId("job");
    req.make_reply = [reply](const d::Decision& dec, const eventstore::CommitInfo& info) {
      return eventstore::Reply{200, JsonText(reply(dec, info)), 0};
    };
    commands->Execute(std::move(req), [promise](Result<eventstore::Reply> r) {
      promise->set_value(std::move(r));
    });
    return future.get();
  }

  Status BootstrapAdmin() {
    if (store->Head() != 0) return Status::Ok();
    std::string id = NewId("stf");
    std::string token = options.admin_token.empty() ? NewToken() : options.admin_token;
    CRM_RETURN_IF_ERROR(tokens->Issue(id, token));
    auto r = ExecuteSync(d::CreateStaff{id, "admin", "admin@localhost", d::Role::kAdmin, {}, {}},
                         std::string(d::kSystemActor), DefaultReply);
    if (!r.ok()) return std::move(r).error();
    if (options.admin_token.empty()) {
      admin_token_file = options.data_dir + "/admin.token";
      int fd = ::open(admin_token_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd < 0) return Internal("cannot write " + admin_token_file);
      std::string line = token + "\n";
      bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
      ::fsync(fd);
      ::close(fd);
      if (!ok) return Internal("cannot write " + admin_token_file);
      Log("created the admin " + id + "; its token is in " + admin_token_file);
    } else {
      Log("created the admin " + id + " with the token from CRMD_ADMIN_TOKEN");
    }
    runner->WaitApplied(r->position, std::chrono::seconds(30));
    return Status::Ok();
  }

  void RecycleLoop() {
    std::unique_lock<std::mutex> lock(recycler_mu);
    while (!stopping) {
      recycler_cv.wait_for(lock, options.recycle_interval, [&] { return stopping; });
      if (stopping) break;
      lock.unlock();
      bool more = true;
      while (more && !stopping) {
        // A sweep handles at most 1000 items; when more were due, sweep again at once.
        more = false;
        auto r = ExecuteSync(d::RecycleDue{1000}, std::string(d::kSystemActor),
                             [&more](const d::Decision& dec, const eventstore::CommitInfo& info) {
                               more = std::get<d::RecycleOutcome>(dec.outcome).more;
                               return DefaultReply(dec, info);
                             });
        if (!r.ok()) {
          more = false;
          Log("recycling failed: " + r.error().detail);
        }
      }
      lock.lock();
    }
  }

  void Dispatch(const CallPtr& call) {
    Handler handler;
    std::string allowed;
    auto match = router.Find(call->req, &handler, &allowed);
    auto started = std::chrono::steady_clock::now();
    std::string route = match == Router::Match::kFound ? call->req.route : "unmatched";
    auto inner = std::move(call->respond);
    call->respond = [this, inner, route, method = call->req.method,
                     started](HttpResponse resp) {
      metrics.Request(method, route, resp.status,
                      std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started));
      inner(std::move(resp));
    };
    switch (match) {
      case Router::Match::kNoPath:
        return SendError(call, NotFound("no such path: " + call->req.path));
      case Router::Match::kNoMethod: {
        HttpResponse resp;
        resp.status = 405;
        resp.content_type = "application/problem+json";
        resp.body = ProblemJson(MakeError(ErrorKind::kMethodNotAllowed, "method_not_allowed",
                                          call->req.method + " is not allowed here; use " + allowed));
        resp.headers.emplace_back("Allow", allowed);
        return call->respond(std::move(resp));
      }
      case Router::Match::kFound:
        return handler(call);
    }
  }

  void Shutdown() {
    if (stopped) return;
    stopped = true;
    if (http) http->Stop(std::chrono::seconds(10));
    {
      std::lock_guard<std::mutex> lock(recycler_mu);
      stopping = true;
    }
    recycler_cv.notify_all();
    if (recycler.joinable()) recycler.join();
    if (runner) runner->Stop();
    if (store) store->Close();
    commands.reset();
    if (lock_fd >= 0) {
      ::flock(lock_fd, LOCK_UN);
      ::close(lock_fd);
      lock_fd = -1;
    }
  }
};

App::App(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
App::~App() { Stop(); }

uint16_t App::port() const { return impl_->http->port(); }
void App::Handle(const CallPtr& call) { impl_->Dispatch(call); }
const std::string& App::admin_token_file() const { return impl_->admin_token_file; }
void App::Stop() { impl_->Shutdown(); }

Result<std::unique_ptr<App>> App::Open(const AppOptions& options) {
  auto impl = std::make_unique<Impl>();
  Impl& a = *impl;
  a.options = options;
  a.clock = options.clock ? options.clock : &a.system_clock;
  CRM_ASSIGN_OR_RETURN(auto listen, ParseListen(options.listen));

  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return Internal("cannot create " + options.data_dir + ": " + ec.message());
  CRM_RETURN_IF_ERROR(a.LockDataDir());

  CRM_ASSIGN_OR_RETURN(a.store, eventstore::OpenRocksEventStore(
                                    {options.data_dir + "/log", a.clock, 1024, false}));
  CRM_ASSIGN_OR_RETURN(a.local, projections::LocalStore::Open(options.data_dir + "/readmodels"));
  a.pool = std::make_unique<projections::PoolProjection>(options.utc_offset);
  a.timeline = std::make_unique<projections::TimelineProjection>(a.local.get());
  // The history reads the customers' rows as they are after each event: it runs after them.
  a.history = std::make_unique<projections::CustomerHistoryProjection>(a.customers, a.local.get());
  a.runner = std::make_unique<projections::ProjectionRunner>(
      *a.store, *a.local,
      std::vector<projections::Projection*>{&a.org, &a.leads, a.pool.get(), &a.customers,
                                            a.history.get(), a.timeline.get()});
  a.commands = std::make_unique<CommandService>(*a.store, options.utc_offset);
  CRM_RETURN_IF_ERROR(a.commands->Start());
  CRM_RETURN_IF_ERROR(a.runner->Start());
  a.tokens = std::make_unique<TokenStore>(*a.local);
  CRM_RETURN_IF_ERROR(a.BootstrapAdmin());
  // Serve once the read models have caught up with the log (they keep following it).
  if (!a.runner->WaitApplied(a.store->Head(), std::chrono::seconds(120))) {
    Log("the read models are still catching up; serving anyway");
  }

  Impl* ip = &a;
  a.services = std::unique_ptr<Services>(new Services{
      *a.store, *a.runner, a.org, a.leads, *a.pool, a.customers, *a.history, *a.timeline,
      *a.commands,
      *a.tokens, a.metrics, *a.clock, options.utc_offset,
      [ip](std::function<void()> fn) { ip->http->Post(std::move(fn)); },
      [ip] { return ip->http ? ip->http->Stats() : HttpStats{}; }});
  AddOpsRoutes(a.router, *a.services);
  AddOrgRoutes(a.router, *a.services);
  AddPoolRoutes(a.router, *a.services);
  AddLeadRoutes(a.router, *a.services);
  AddCustomerRoutes(a.router, *a.services);
  AddDealRoutes(a.router, *a.services);

  HttpServerOptions http_options;
  http_options.address = listen.first;
  http_options.port = listen.second;
  http_options.threads = options.threads > 0
                             ? options.threads
                             : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  http_options.max_connections = options.max_connections;
  CRM_ASSIGN_OR_RETURN(a.http, HttpServer::Start(
                                   http_options, [ip](const CallPtr& call) { ip->Dispatch(call); }));
  a.recycler = std::thread([ip] { ip->RecycleLoop(); });
  Log("listening on " + listen.first + ":" + std::to_string(a.http->port()) + " (at most " +
      std::to_string(a.http->max_connections()) + " connections), log head " +
      std::to_string(a.store->Head()));
  return std::unique_ptr<App>(new App(std::move(impl)));
}

}  // namespace crm::api
