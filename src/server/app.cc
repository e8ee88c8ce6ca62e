#include "server/app.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/console.h"
#include "api/handler_util.h"
#include "api/http_server.h"
#include "api/live.h"
#include "api/metrics.h"
#include "api/problem.h"
#include "api/router.h"
#include "api/routes.h"
#include "api/services.h"
#include "api/text.h"
#include "api/token_store.h"
#include "eventstore/jetstream_event_store.h"
#include "eventstore/jetstream_lease.h"
#include "eventstore/rocks_event_store.h"
#include "projections/local_store.h"
#include "projections/read_models.h"
#include "server/backup.h"
#include "writer/command_record.h"
#include "writer/ids.h"
#include "writer/writer.h"

namespace crm::server {

namespace d = crm::domain;
using api::CallPtr;

namespace {

Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return InvalidField("listen", "must be host:port");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
  }
  if (port < 0 || port > 65535) return InvalidField("listen", "bad port in " + listen);
  return std::make_pair(host, static_cast<uint16_t>(port));
}

// This node's name on a replicated log: --node, else the host's name and the port.
std::string NodeName(const AppOptions& options, uint16_t port) {
  if (!options.node.empty()) return options.node;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace

// Owns everything; destroyed in reverse order of the members below, after Shutdown.
struct App::Impl {
  AppOptions options;
  std::function<void(std::string_view)> log;
  writer::SystemClock system_clock;
  const writer::Clock* clock = nullptr;
  std::unique_ptr<writer::IdGenerator> ids;
  int lock_fd = -1;
  std::unique_ptr<eventstore::EventStore> store;
  std::unique_ptr<writer::ModelSnapshots> snapshots;
  std::unique_ptr<projections::LocalStore> local;
  std::unique_ptr<projections::ReadModels> read;
  std::unique_ptr<writer::Writer> writer;
  // On a JetStream log: whether this node is the one that decides.
  std::unique_ptr<eventstore::WriterLease> lease;
  std::unique_ptr<api::TokenStore> tokens;
  std::unique_ptr<api::PasswordStore> passwords;
  api::SignInLimiter sign_in;
  api::Metrics metrics;
  std::unique_ptr<api::LogVerifier> verifier;
  std::unique_ptr<api::Exporter> exporter;
  std::unique_ptr<api::LiveHub> live;
  std::unique_ptr<api::Services> services;
  std::unique_ptr<ControlSocket> control;
  api::Router router;
  std::unique_ptr<api::HttpServer> http;
  std::string admin_token_file;
  bool admin_token_adopted = false;  // AdoptAdminToken's work is done (recycler thread)
  std::string admin_password_file;

  // The recycle job: a thread that wakes every recycle_interval, or when stopping.
  std::thread recycler;
  std::mutex recycler_mu;
  std::condition_variable recycler_cv;
  bool stopping = false;  // guarded by recycler_mu
  bool stopped = false;   // Shutdown's own: called from one thread

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

  // A line from the control socket: `backup DEST`, DEST an absolute path.
  std::string Control(const std::string& line) {
    constexpr std::string_view kBackup = "backup /";
    if (!line.starts_with(kBackup)) {
      return ControlError("unknown request; this socket takes: backup /ABSOLUTE/PATH");
    }
    std::string dest = line.substr(kBackup.size() - 1);
    auto made = Backup(*store, *local, options.data_dir, dest, clock->Now());
    if (!made.ok()) return ControlError(made.error().detail);
    log("backup at " + dest + ", log head " + std::to_string(made->head));
    return made->ToJson();
  }

  // Runs a command of the server's own and waits for its durable outcome.
  Result<writer::WriteOutcome> ExecuteSync(d::Command command, std::string actor) {
    writer::WriteRequest req;
    req.command = std::move(command);
    req.actor = std::move(actor);
    req.correlation_id = ids->New("job");
    return writer->Execute(std::move(req));
  }

  // Writes `secret` and a line break to DIR/<name>, readable by the owner only.
  Result<std::string> WriteSecretFile(const std::string& name, const std::string& secret) {
    std::string path = options.data_dir + "/" + name;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Internal("cannot write " + path);
    std::string line = secret + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ok = ::fsync(fd) == 0 && ok;
    ::close(fd);
    if (!ok) return Internal("cannot write " + path);
    return path;
  }

  // The first start: the admin (admin@localhost), with an API token and a first sign-in
  // password, each chosen by the environment or random and kept in the data dir. The
  // files come first, then the admin with the token's and the password's hashes in one
  // commit, then the event that records the password was set: a crash before the commit
  // leaves an empty log, so the next start does it all again.
  Status BootstrapAdmin() {
    if (lease) {
      // One node of a fresh cluster writes the first events; the others find them, the
      // admin's token and password with them.
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (store->Head() == 0 && !lease->IsWriter()) {
        if (std::chrono::steady_clock::now() > deadline) {
          return Unavailable("no node took the writer's lease of an empty log within 60 s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    if (store->Head() != 0) return Status::Ok();
    if (!options.admin_password.empty()) {
      size_t n = api::CodePoints(options.admin_password);
      if (n < 12 || n > 200) {
        return InvalidField("CRMD_ADMIN_PASSWORD", "must be 12 to 200 characters");
      }
    }
    std::string id = ids->New("stf");
    std::string token = options.admin_token.empty() ? api::NewToken() : options.admin_token;
    // 24 hex digits: 96 random bits, typed easily enough once.
    std::string password =
        options.admin_password.empty() ? api::NewToken().substr(0, 24) : options.admin_password;
    CRM_ASSIGN_OR_RETURN(std::string hash, api::HashPassword(password));
    if (options.admin_token.empty()) {
      CRM_ASSIGN_OR_RETURN(admin_token_file, WriteSecretFile("admin.token", token));
    }
    if (options.admin_password.empty()) {
      CRM_ASSIGN_OR_RETURN(admin_password_file, WriteSecretFile("admin.password", password));
    }
    writer::WriteRequest create;
    create.command = d::CreateStaff{id, "admin", "admin@localhost", d::Role::kAdmin, {}, {}};
    create.actor = d::kSystemActor;
    create.correlation_id = ids->New("job");
    create.index = [issue = tokens->Issue(id, token),
                    set = api::PasswordStore::Set(id, hash)](writer::IndexEdit& index) {
      issue(index);
      set(index);
    };
    CRM_RETURN_IF_ERROR(writer->Execute(std::move(create)));
    auto set = ExecuteSync(d::SetPassword{id}, std::string(d::kSystemActor));
    if (!set.ok()) return std::move(set).error();
    log("created the admin " + id + " (admin@localhost); its token is " +
        (admin_token_file.empty() ? "from CRMD_ADMIN_TOKEN" : "in " + admin_token_file) +
        ", its first password " +
        (admin_password_file.empty() ? "from CRMD_ADMIN_PASSWORD" : "in " + admin_password_file));
    read->runner().WaitApplied(set->result.last_position, std::chrono::seconds(30));
    return Status::Ok();
  }

  // CRMD_ADMIN_TOKEN gives the admin an API token when they have none, once per process,
  // on the node that writes: for a replicated log whose nodes, before tokens were in the
  // log, each kept their own (docs/operations.md, upgrading). A token the admin has, the
  // environment does not replace.
  void AdoptAdminToken() {
    if (options.admin_token.empty() || admin_token_adopted || NotTheWriter()) return;
    std::string admin;
    {
      projections::ReadModels::View view = read->Read();
      if (const auto* row = view.org().FindStaffByEmail("admin@localhost")) admin = row->id;
    }
    if (admin.empty()) return;
    if (tokens->HasApiToken(admin)) {  // the usual case: nothing to write
      admin_token_adopted = true;
      return;
    }
    auto issued = std::make_shared<bool>(false);
    writer::WriteRequest req;
    req.actor = d::kSystemActor;
    req.index = [issued, effect = tokens->IssueIfNone(admin, options.admin_token)](
                    writer::IndexEdit& index) { *issued = effect(index); };
    auto r = writer->Execute(std::move(req));
    if (!r.ok()) return log("CRMD_ADMIN_TOKEN not taken yet: " + r.error().detail);
    admin_token_adopted = true;
    if (*issued) log("the admin " + admin + " had no API token: CRMD_ADMIN_TOKEN is now theirs");
  }

  // Why this node takes no command now, or nullopt when it decides.
  std::optional<Error> NotTheWriter() const {
    if (!lease || lease->IsWriter()) return std::nullopt;
    if (auto w = lease->Writer()) {
      return MakeError(ErrorKind::kUnavailable, "not_leader",
                       "this node is a standby; the writer is node " + w->node + ", at " + w->url +
                           ": send commands there");
    }
    return MakeError(ErrorKind::kUnavailable, "not_leader",
                     "no node holds the writer's lease just now (a failover takes a few "
                     "seconds): retry");
  }

  void RecycleLoop() {
    std::unique_lock<std::mutex> lock(recycler_mu);
    for (;;) {
      recycler_cv.wait_for(lock, options.recycle_interval, [&] { return stopping; });
      if (stopping) return;
      lock.unlock();
      // A sweep handles at most 1000 items; when more were due, sweep again at once. A
      // standby leaves the sweeps to the writer.
      bool more = !NotTheWriter();
      if (more) AdoptAdminToken();
      while (more) {
        auto r = ExecuteSync(d::RecycleDue{1000}, std::string(d::kSystemActor));
        more = r.ok() && std::get<d::RecycleOutcome>(r->result.outcome).more;
        if (!r.ok()) log("recycling failed: " + r.error().detail);
        std::lock_guard<std::mutex> check(recycler_mu);
        if (stopping) return;
      }
      lock.lock();
    }
  }

  void Dispatch(const CallPtr& call) {
    api::Handler handler;
    std::string allowed;
    auto match = router.Find(call->req, &handler, &allowed);
    auto started = std::chrono::steady_clock::now();
    std::string route = match == api::Router::Match::kFound ? call->req.route : "unmatched";
    auto inner = std::move(call->respond);
    call->respond = [this, inner, route, method = call->req.method,
                     started](api::HttpResponse resp) {
      metrics.Request(method, route, resp.status,
                      std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - started));
      inner(std::move(resp));
    };
    switch (match) {
      case api::Router::Match::kNoPath:
        return api::SendError(call, NotFound("no such path: " + call->req.path));
      case api::Router::Match::kNoMethod: {
        api::HttpResponse resp;
        resp.status = 405;
        resp.content_type = "application/problem+json";
        resp.body =
            api::ProblemJson(MakeError(ErrorKind::kMethodNotAllowed, "method_not_allowed",
                                       call->req.method + " is not allowed here; use " + allowed));
        resp.headers.emplace_back("Allow", allowed);
        return call->respond(std::move(resp));
      }
      case api::Router::Match::kFound:
        return handler(call);
    }
  }

  // Stops in the order the parts depend on each other: no new requests, no jobs, no new
  // commands (the writer finishes what is queued), the read models, then the log.
  void Shutdown() {
    if (stopped) return;
    stopped = true;
    control.reset();  // no backup starts now; one under way finishes first
    // Live sockets are told the server is going (1001) while the I/O threads still run.
    if (live) live->Stop();
    if (http) http->Stop(std::chrono::seconds(10));
    if (verifier) verifier->Stop();
    if (exporter) exporter->Stop();
    if (passwords) passwords->Stop();
    {
      std::lock_guard<std::mutex> lock(recycler_mu);
      stopping = true;
    }
    recycler_cv.notify_all();
    if (recycler.joinable()) recycler.join();
    if (writer) writer->Close();
    if (lease) lease->Stop();  // after the last decision; a standby takes over at once
    if (read) read->Stop();
    if (snapshots) snapshots->Stop();
    if (store) store->Close();
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
const std::string& App::admin_password_file() const { return impl_->admin_password_file; }
void App::Stop() { impl_->Shutdown(); }

Result<std::unique_ptr<App>> App::Open(const AppOptions& options) {
  auto impl = std::make_unique<Impl>();
  Impl& a = *impl;
  a.options = options;
  a.log = options.log ? options.log : [](std::string_view line) {
    std::fprintf(stderr, "crmd: %.*s\n", static_cast<int>(line.size()), line.data());
  };
  a.clock = options.clock ? options.clock : &a.system_clock;
  a.ids = std::make_unique<writer::IdGenerator>(*a.clock);
  CRM_ASSIGN_OR_RETURN(auto listen, ParseListen(options.listen));

  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return Internal("cannot create " + options.data_dir + ": " + ec.message());
  CRM_RETURN_IF_ERROR(a.LockDataDir());

  eventstore::StoreOptions store_options{options.data_dir + "/log"};
  // Idempotency records past their lifetime go when RocksDB compacts them; the writer
  // ignores them before that.
  store_options.idempotency_expired = [clock = a.clock,
                                       ttl = options.idempotency_ttl](std::string_view record) {
    return writer::CommandRecordExpired(record, clock->Now(), ttl);
  };
  store_options.idempotency_compaction = options.idempotency_ttl;
  if (options.nats.empty()) {
    CRM_ASSIGN_OR_RETURN(a.store, eventstore::OpenRocksEventStore(store_options));
    if (eventstore::IsStreamCopy(*a.store)) {
      // Written to, it would part from the stream the other nodes follow.
      return InvalidField("--data-dir", options.data_dir +
                                            " holds a copy of a JetStream stream: serve it with "
                                            "--store jetstream, or make a log of its own with "
                                            "crmctl migrate --from-stream (docs/scale-out.md)");
    }
  } else {
    eventstore::JetStreamOptions js;
    js.servers = options.nats;
    js.stream = options.stream;
    js.subject = options.stream + ".log";
    js.replicas = options.replicas;
    js.node = NodeName(options, listen.second);
    js.local = store_options;
    a.log("the log is the JetStream stream " + js.stream + " (" + std::to_string(js.replicas) +
          " replicas) on " + options.nats.front() + (options.nats.size() > 1 ? ", ..." : "") +
          "; catching up");
    js.progress = [log = a.log, last_said = std::chrono::steady_clock::now()](
                      uint64_t applied, uint64_t last) mutable {
      if (std::chrono::steady_clock::now() - last_said < std::chrono::seconds(5)) return;
      last_said = std::chrono::steady_clock::now();
      log("caught up with " + std::to_string(applied) + " of " + std::to_string(last) +
          " commits of the stream");
    };
    CRM_ASSIGN_OR_RETURN(a.store, eventstore::OpenJetStreamEventStore(js));
  }
  CRM_ASSIGN_OR_RETURN(a.local, projections::LocalStore::Open(options.data_dir + "/readmodels"));
  a.read = std::make_unique<projections::ReadModels>(
      *a.store, *a.local, projections::ReadModels::Options{options.utc_offset, a.log});
  writer::WriterOptions writer_options;
  writer_options.utc_offset = options.utc_offset;
  writer_options.idempotency_ttl = options.idempotency_ttl;
  writer_options.normalize_name = api::NormalizeName;
  writer_options.log = a.log;
  a.snapshots = std::make_unique<writer::ModelSnapshots>(
      *a.store, writer::ModelSnapshots::Options{options.data_dir + "/snapshots", options.utc_offset,
                                                options.snapshot_every, a.log});
  writer_options.snapshots = a.snapshots.get();
  Impl* ip = &a;
  // The lease is made below, before any command is submitted.
  writer_options.gate = [ip] { return ip->NotTheWriter(); };
  // The decision model loads while the read models do: each reads the log on its own.
  auto writer_opened = std::async(std::launch::async, [&] {
    return writer::Writer::Open(*a.store, *a.clock, *a.ids, writer_options);
  });
  Status read_started = a.read->Start();
  auto opened = writer_opened.get();
  CRM_RETURN_IF_ERROR(read_started);
  CRM_ASSIGN_OR_RETURN(a.writer, std::move(opened));
  {
    writer::WriterStats loaded = a.writer->Stats();
    char line[160];
    std::snprintf(line, sizeof line,
                  "decision model loaded in %.1f s: snapshot at %llu, then %llu events of the log",
                  loaded.load_seconds, static_cast<unsigned long long>(loaded.loaded_from),
                  static_cast<unsigned long long>(loaded.loaded_events));
    a.log(line);
  }
  a.snapshots->Start();
  if (!options.nats.empty()) {
    eventstore::LeaseOptions lo;
    lo.servers = options.nats;
    lo.stream = options.stream;
    lo.replicas = options.replicas;
    lo.node = NodeName(options, listen.second);
    lo.url = options.advertise.empty() ? "http://" + options.listen : options.advertise;
    lo.ttl = options.writer_lease;
    lo.may_lead = [ip] {
      auto replica = eventstore::ReplicaOf(*ip->store);
      return ip->writer->Stats().halted.empty() && replica && replica->broken.empty();
    };
    lo.catch_up = [ip] {
      return eventstore::CatchUpWithStream(*ip->store, std::chrono::seconds(30));
    };
    lo.log = a.log;
    CRM_ASSIGN_OR_RETURN(a.lease, eventstore::WriterLease::Start(std::move(lo)));
  }
  a.tokens = std::make_unique<api::TokenStore>(*a.store, *a.writer, *a.local, *a.clock);
  // Two hashing threads: each Argon2id run takes 64 MiB for about 0.1 s.
  a.passwords = std::make_unique<api::PasswordStore>(*a.store, 2);
  if (!a.lease) {
    // Earlier versions kept credentials in the local store; they move into the log.
    CRM_ASSIGN_OR_RETURN(size_t moved, a.tokens->TakeOverLocalCredentials());
    if (moved > 0) a.log("moved " + std::to_string(moved) + " credentials into the log's index");
  }
  CRM_RETURN_IF_ERROR(a.BootstrapAdmin());
  // Serve once the read models have caught up with the log (they keep following it).
  if (!a.read->runner().WaitApplied(a.store->Head(), std::chrono::seconds(120))) {
    a.log("the read models are still catching up; serving anyway");
  }
  a.AdoptAdminToken();  // the recycler thread, not started yet, tries again later

  a.verifier = std::make_unique<api::LogVerifier>(*a.store);
  a.exporter = std::make_unique<api::Exporter>(options.data_dir + "/exports");
  a.services = std::unique_ptr<api::Services>(
      new api::Services{*a.store, *a.writer, *a.read, *a.tokens, *a.passwords, a.sign_in, a.metrics,
                        *a.verifier, *a.exporter, *a.clock, *a.ids, options.utc_offset,
                        [ip](std::function<void()> fn) { ip->http->Post(std::move(fn)); },
                        [ip] { return ip->http ? ip->http->Stats() : api::HttpStats{}; },
                        [ip] { return ip->live ? ip->live->Stats() : api::LiveStats{}; },
                        [ip] { return ip->snapshots->Stats(); }, a.lease.get()});
  a.live = std::make_unique<api::LiveHub>(*a.services);
  api::AddOpsRoutes(a.router, *a.services);
  api::AddAuthRoutes(a.router, *a.services);
  api::AddOrgRoutes(a.router, *a.services);
  api::AddPoolRoutes(a.router, *a.services);
  api::AddTaskRoutes(a.router, *a.services);
  api::AddExportRoutes(a.router, *a.services);
  api::AddLeadRoutes(a.router, *a.services);
  api::AddCustomerRoutes(a.router, *a.services);
  api::AddDealRoutes(a.router, *a.services);
  api::AddAuditRoutes(a.router, *a.services);
  api::AddDashboardRoutes(a.router, *a.services);
  api::AddLiveRoutes(a.router, *a.services, *a.live);
  api::AddConsoleRoutes(a.router, options.console_dir);

  api::HttpServerOptions http_options;
  http_options.address = listen.first;
  http_options.port = listen.second;
  http_options.threads = options.threads > 0
                             ? options.threads
                             : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  http_options.max_connections = options.max_connections;
  http_options.log = a.log;
  CRM_ASSIGN_OR_RETURN(a.http, api::HttpServer::Start(http_options, [ip](const CallPtr& call) {
                         ip->Dispatch(call);
                       }));
  a.live->Start();
  // Backups while serving (server/backup.h): `crmctl backup` asks here.
  auto control = ControlSocket::Start(options.data_dir + "/crmd.sock",
                                      [ip](const std::string& line) { return ip->Control(line); });
  if (control.ok()) {
    a.control = std::move(control).value();
  } else {
    a.log("no control socket, so no backups while serving: " + control.error().detail);
  }
  a.recycler = std::thread([ip] {
    pthread_setname_np(pthread_self(), "crm-recycler");  // for top, perf and gdb
    ip->RecycleLoop();
  });
  a.log("listening on " + listen.first + ":" + std::to_string(a.http->port()) + " (at most " +
        std::to_string(a.http->max_connections()) + " connections), log head " +
        std::to_string(a.store->Head()));
  return std::unique_ptr<App>(new App(std::move(impl)));
}

}  // namespace crm::server
