// crmctl: offline tools on a stopped server's data directory, and a load generator.
//   crmctl verify --data-dir DIR     recompute the hash chain; exit 1 on a bad log
//   crmctl export --data-dir DIR     print the log as JSON lines, one event per line
//   crmctl rebuild --data-dir DIR    drop every read model and rebuild it from the log
//   crmctl check-read-models --data-dir DIR
//                                    the read models against a rebuild, row by row
//   crmctl replay --data-dir DIR --until P|TIME customer ID
//                                    the customer 360 view as it was then
//   crmctl seed --data-dir DIR --customers N --leads M
//                                    a large history, through the domain, for measuring
//   crmctl bench --scenario S [--listen H:P] [--token T | --data-dir DIR] ...
//                                    HTTP load against a running crmd (tools/load.h)
//   crmctl backup --data-dir DIR --to DEST
//                                    a consistent copy, through a running crmd's control
//                                    socket, or straight from a stopped one's stores
//   crmctl restore --from DEST --data-dir NEW
//                                    a backup into a new data dir, verified
//   crmctl migrate --data-dir DIR --to-stream|--from-stream --nats URL[,URL...]
//                                    a stopped server's log into a new JetStream stream
//                                    (DIR then a copy of it), or a stream into a new data
//                                    dir's log of its own; positions and hashes kept
// Long runs show their progress on stderr.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/event_json.h"
#include "api/json_text.h"
#include "api/token_store.h"
#include "api/views_json.h"
#include "domain/time.h"
#include "eventstore/jetstream_event_store.h"
#include "eventstore/rocks_event_store.h"
#include "projections/local_store.h"
#include "projections/read_models.h"
#include "server/backup.h"
#include "tools/load.h"
#include "tools/progress.h"
#include "tools/seed.h"
#include "writer/clock.h"

namespace {

using crm::tools::Progress;
using Steady = std::chrono::steady_clock;

crm::Result<std::unique_ptr<crm::eventstore::EventStore>> OpenLog(const std::string& dir) {
  return crm::eventstore::OpenRocksEventStore({dir + "/log", true});
}

int Fail(const crm::Error& e) {
  std::fprintf(stderr, "crmctl: %s\n", e.detail.c_str());
  return 2;
}

// Takes DIR/crmd.lock, so that no crmd starts on DIR meanwhile; -1 when a crmd holds it.
int LockDataDir(const std::string& dir) {
  int lock = ::open((dir + "/crmd.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock >= 0 && ::flock(lock, LOCK_EX | LOCK_NB) == 0) return lock;
  if (lock >= 0) ::close(lock);
  return -1;
}

// Asks the crmd serving `dir` for a backup, or, when none does, makes it from the stores.
int Backup(const std::string& dir, const std::string& to) {
  if (to.find('\n') != std::string::npos) {
    return Fail(crm::InvalidField("--to", "must not contain a line break"));
  }
  std::error_code ec;
  std::string dest =
      std::filesystem::weakly_canonical(std::filesystem::absolute(to, ec), ec).string();
  if (ec) return Fail(crm::InvalidField("--to", ec.message()));
  auto asked = crm::server::AskControlSocket(dir + "/crmd.sock", "backup " + dest);
  if (asked.ok()) {
    auto answer = nlohmann::json::parse(*asked, nullptr, false);
    if (answer.is_discarded() || !answer.is_object()) return Fail(crm::Internal(*asked));
    if (answer.contains("error")) return Fail(crm::Internal(answer["error"].dump()));
    std::printf("%s\n", asked->c_str());
    return 0;
  }
  if (asked.error().kind != crm::ErrorKind::kUnavailable) return Fail(asked.error());
  // No crmd answers: the stores are copied from here, under the data dir's lock so that
  // no crmd starts meanwhile. They must be there: a mistyped DIR is not an empty backup.
  for (const char* store : {"/log/CURRENT", "/readmodels/CURRENT"}) {
    if (!std::filesystem::exists(dir + store, ec)) {
      return Fail(crm::InvalidField("--data-dir",
                                    dir + " holds no data dir of crmd (no " + dir + store + ")"));
    }
  }
  int lock = LockDataDir(dir);
  if (lock < 0) {
    return Fail(crm::Unavailable("a crmd runs on " + dir +
                                 " but did not answer on its "
                                 "control socket: " +
                                 asked.error().detail));
  }
  auto log = crm::eventstore::OpenRocksEventStore({dir + "/log", false});
  if (!log.ok()) return Fail(log.error());
  auto local = crm::projections::LocalStore::Open(dir + "/readmodels");
  if (!local.ok()) return Fail(local.error());
  auto made = crm::server::Backup(**log, **local, dir, dest, crm::writer::SystemClock().Now());
  (*log)->Close();
  ::close(lock);
  if (!made.ok()) return Fail(made.error());
  std::printf("%s\n", made->ToJson().c_str());
  return 0;
}

struct MigrateOptions {
  bool to_stream = false, from_stream = false;
  std::string nats, stream = "evcrm", node = "crmctl";
  int replicas = 1;
};

// A stopped server's log into a new stream, leaving DIR a copy of it; or a stream into a
// new data dir's log of its own.
int Migrate(const std::string& dir, const MigrateOptions& m) {
  crm::eventstore::JetStreamOptions js;
  js.servers = crm::eventstore::ServerList(m.nats);
  js.stream = m.stream;
  js.subject = m.stream + ".log";
  js.replicas = m.replicas;
  js.node = m.node;
  js.local.path = dir + "/log";
  // Events into a stream; the stream's commits (messages) out of one.
  Progress progress("migrate", m.to_stream ? "events" : "commits");
  auto show = [&](uint64_t done, uint64_t total) { progress.Update(done, total); };
  crm::Result<crm::eventstore::MigrationReport> report = crm::Internal("nothing migrated");
  if (m.to_stream) {
    std::error_code ec;
    if (!std::filesystem::exists(dir + "/log/CURRENT", ec)) {
      return Fail(crm::InvalidField("--data-dir", dir + " holds no log (no " + dir + "/log)"));
    }
    int lock = LockDataDir(dir);
    if (lock < 0) return Fail(crm::Unavailable("a crmd runs on " + dir + ": stop it first"));
    // Credentials an earlier version kept beside the read models would not come along.
    if (std::filesystem::exists(dir + "/readmodels/CURRENT", ec)) {
      auto local = crm::projections::LocalStore::Open(dir + "/readmodels");
      if (!local.ok()) return Fail(local.error());
      if (crm::api::TokenStore::KeepsLocalCredentials(**local)) {
        ::close(lock);
        return Fail(crm::InvalidField(
            "--data-dir", dir + " keeps tokens or passwords the way versions before this one "
                                "did: start this version's crmd on it once (it moves them into "
                                "the log), stop it, then migrate"));
      }
    }
    auto log = crm::eventstore::OpenRocksEventStore({dir + "/log", false});
    if (!log.ok()) return Fail(log.error());
    report = crm::eventstore::MigrateToStream(**log, js, show);
    // The data dir goes on as the first node's copy, read models and all.
    if (report.ok()) {
      if (auto marked = crm::eventstore::MarkAsCopy(**log, report->sequence); !marked.ok()) {
        report = std::move(marked).error();
      }
    }
    (*log)->Close();
    ::close(lock);
  } else {
    std::error_code ec;
    if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec)) {
      return Fail(crm::InvalidField("--data-dir", dir + " is not empty: migrate into a new one"));
    }
    report = crm::eventstore::MigrateFromStream(js, show);
  }
  if (!report.ok()) return Fail(report.error());
  progress.Finish(m.to_stream ? report->events : report->sequence);
  nlohmann::json out = {{"stream", m.stream},
                        {"sequence", report->sequence},
                        {"events", report->events},
                        {"index_entries", report->index_entries},
                        {"head_hash", report->head_hash}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int Restore(const std::string& from, const std::string& dir) {
  auto restored = crm::server::Restore(from, dir);
  if (!restored.ok()) return Fail(restored.error());
  std::printf("%s\n", restored->ToJson().c_str());
  return 0;
}

int Verify(const std::string& dir) {
  auto store = OpenLog(dir);
  if (!store.ok()) return Fail(store.error());
  Progress progress("verify");
  crm::eventstore::VerifyReport r = (*store)->Verify([&](uint64_t done, uint64_t head) {
    progress.Update(done, head);
    return true;
  });
  progress.Finish(r.events);
  std::cout << crm::api::JsonText(crm::api::VerifyJson(r)) << std::endl;
  return r.ok ? 0 : 1;
}

// The read models in `local_path` (the data dir's own by default) over the log of `dir`,
// following it until they have applied its head. `log` shares a log already open.
struct ReadSide {
  std::shared_ptr<crm::eventstore::EventStore> store;
  std::unique_ptr<crm::projections::LocalStore> local;
  std::unique_ptr<crm::projections::ReadModels> read;

  ~ReadSide() {
    if (read) read->Stop();
  }
};

crm::Result<std::unique_ptr<ReadSide>> OpenReadSide(
    const std::string& dir, crm::Seconds offset, std::string local_path = "",
    std::shared_ptr<crm::eventstore::EventStore> log = nullptr) {
  auto side = std::make_unique<ReadSide>();
  if (log) {
    side->store = std::move(log);
  } else {
    CRM_ASSIGN_OR_RETURN(side->store, OpenLog(dir));
  }
  if (local_path.empty()) local_path = dir + "/readmodels";
  CRM_ASSIGN_OR_RETURN(side->local, crm::projections::LocalStore::Open(local_path));
  side->read = std::make_unique<crm::projections::ReadModels>(
      *side->store, *side->local,
      crm::projections::ReadModels::Options{
          offset, [](std::string_view line) {
            std::fprintf(stderr, "crmctl: %.*s\n", static_cast<int>(line.size()), line.data());
          }});
  CRM_RETURN_IF_ERROR(side->read->Start());
  return side;
}

// Waits until the read models have applied the whole log, showing how far they are; an
// error when they cannot (the log cannot be read, or a projection failed on an event).
crm::Status CatchUp(ReadSide& side, Progress& progress) {
  uint64_t head = side.store->Head();
  while (!side.read->runner().WaitApplied(head, std::chrono::milliseconds(200))) {
    std::string failure = side.read->runner().failure();
    if (!failure.empty()) return crm::Internal("the read models cannot follow the log: " + failure);
    progress.Update(side.read->runner().applied(), head);
  }
  progress.Finish(head);
  return crm::Status::Ok();
}

int Rebuild(const std::string& dir, crm::Seconds offset) {
  auto side = OpenReadSide(dir, offset);
  if (!side.ok()) return Fail(side.error());
  crm::Status s = (*side)->read->runner().Rebuild();
  if (!s.ok()) return Fail(s.error());
  Progress progress("rebuild");
  if (crm::Status caught = CatchUp(**side, progress); !caught.ok()) return Fail(caught.error());
  nlohmann::json checkpoints = (*side)->read->runner().checkpoints();
  std::cout << crm::api::JsonText(
                   {{"position", (*side)->store->Head()}, {"projections", checkpoints}})
            << std::endl;
  return 0;
}

// A row's key or value as printable text: bytes outside ASCII's printable range as \xNN,
// cut after 200 bytes.
std::string Printable(std::string_view bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < 200; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (bytes.size() > 200) out += "...";
  return out;
}

// The next rows under `prefix` of `store` after the key `after` (from the first one when
// `start`).
using Rows = std::vector<std::pair<std::string, std::string>>;
Rows NextRows(const crm::projections::LocalStore& store, const std::string& prefix,
              const std::string& after, bool start) {
  constexpr size_t kChunk = 4096;
  Rows rows;
  store.Scan(prefix, start ? "" : after.substr(prefix.size()), false,
             [&](std::string_view k, std::string_view v) {
               if (!start && k == after) return true;
               rows.emplace_back(std::string(k), std::string(v));
               return rows.size() < kChunk;
             });
  return rows;
}

// The read models of `dir`, once they have applied its whole log (they are caught up in
// place, as a start of crmd would), against a rebuild from the log in a scratch store,
// row by row (a chunk at a time, so memory stays bounded):
// each projection's rows and their checkpoints. (The store also keeps what is no
// projection's, the API's sign-in records: those are not compared.) 0 when every row is
// equal; 1, with the first row that differs, when not, or with why the stored ones
// could not be used.
int CheckReadModels(const std::string& dir, crm::Seconds offset) {
  auto stored = OpenReadSide(dir, offset);
  if (!stored.ok()) return Fail(stored.error());
  std::error_code ec;
  std::string scratch = (std::filesystem::temp_directory_path(ec) / "evcrm-check-XXXXXX").string();
  if (ec || ::mkdtemp(scratch.data()) == nullptr) {
    return Fail(crm::Internal("cannot make a scratch directory for the rebuild"));
  }
  struct Remove {
    std::string path;
    ~Remove() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } remove{scratch};
  auto rebuilt = OpenReadSide(dir, offset, scratch + "/readmodels", (*stored)->store);
  if (!rebuilt.ok()) return Fail(rebuilt.error());
  // Stored read models that could not be used were dropped when they opened: then there
  // is nothing to compare, and that is the finding.
  std::string cleared = (*stored)->read->runner().cleared_at_start();
  if (!cleared.empty()) {
    std::cout << crm::api::JsonText({{"ok", false},
                                     {"position", (*stored)->store->Head()},
                                     {"detail", "not compared: " + cleared}})
              << std::endl;
    return 1;
  }
  Progress stored_progress("stored read models");
  if (crm::Status caught = CatchUp(**stored, stored_progress); !caught.ok()) {
    return Fail(caught.error());
  }
  Progress rebuilt_progress("rebuild");
  if (crm::Status caught = CatchUp(**rebuilt, rebuilt_progress); !caught.ok()) {
    return Fail(caught.error());
  }
  for (auto* side : {stored->get(), rebuilt->get()}) {
    crm::Status s = side->read->runner().Checkpoint();  // every row of memory on disk
    if (!s.ok()) return Fail(s.error());
  }
  const auto& a = *(*stored)->local;
  const auto& b = *(*rebuilt)->local;
  std::vector<std::string> prefixes = {"meta/"};
  for (const auto& [name, position] : (*stored)->read->runner().checkpoints()) {
    prefixes.push_back(name + "/");
  }
  uint64_t rows = 0;
  for (const std::string& prefix : prefixes) {
    std::string after;
    for (bool start = true;; start = false) {
      Rows x = NextRows(a, prefix, after, start), y = NextRows(b, prefix, after, start);
      for (size_t i = 0; i < std::max(x.size(), y.size()); ++i) {
        if (i < x.size() && i < y.size() && x[i] == y[i]) continue;
        nlohmann::json diff = {{"ok", false}, {"position", (*stored)->store->Head()}};
        const auto& row = i < x.size() && (i >= y.size() || x[i].first <= y[i].first) ? x[i] : y[i];
        auto value_in = [&](const Rows& r) -> nlohmann::json {
          if (i < r.size() && r[i].first == row.first) return Printable(r[i].second);
          return nullptr;
        };
        diff["first_difference"] = {
            {"key", Printable(row.first)}, {"stored", value_in(x)}, {"rebuilt", value_in(y)}};
        std::cout << crm::api::JsonText(diff) << std::endl;
        return 1;
      }
      rows += x.size();
      if (x.empty()) break;
      after = x.back().first;
    }
  }
  std::cout << crm::api::JsonText(
                   {{"ok", true}, {"position", (*stored)->store->Head()}, {"rows", rows}})
            << std::endl;
  return 0;
}

int Replay(const std::string& dir, crm::Seconds offset, const std::string& until,
           const std::string& kind, const std::string& id) {
  if (kind != "customer") return Fail(crm::InvalidField("kind", "only customer can be replayed"));
  auto when = crm::api::ParseAsOf(until);
  if (!when.ok())
    return Fail(crm::InvalidField("--until", "must be a log position or an RFC 3339 time"));
  auto side = OpenReadSide(dir, offset);
  if (!side.ok()) return Fail(side.error());
  Progress progress("read models");
  if (crm::Status caught = CatchUp(**side, progress); !caught.ok()) return Fail(caught.error());
  std::vector<std::string> records;
  {
    auto view = (*side)->read->Read();
    const auto* row = view.customers().FindCustomer(id);
    if (!row) return Fail(crm::NotFound("no customer " + id));
    records = crm::api::CustomerRecordIds(*row, view.customers());
  }
  auto position = crm::api::AsOfPosition(*(*side)->store, *when);
  if (!position.ok()) return Fail(position.error());
  auto then = crm::api::Customer360AsOf(*(*side)->store, (*side)->read->history(), id, records,
                                        *position, offset);
  if (!then.ok()) return Fail(then.error());
  std::cout << crm::api::JsonText(then->first) << std::endl;
  return 0;
}

int Export(const std::string& dir, uint64_t after) {
  auto store = OpenLog(dir);
  if (!store.ok()) return Fail(store.error());
  uint64_t head = (*store)->Head();
  Progress progress("export");
  uint64_t next = after + 1;
  for (;;) {
    auto events = (*store)->ReadAll(next, 4096);
    if (!events.ok()) {
      std::fprintf(stderr, "crmctl: %s\n", events.error().detail.c_str());
      return 1;
    }
    if (events->empty()) break;
    for (const auto& e : *events) std::cout << crm::api::JsonText(crm::api::EventJson(e)) << "\n";
    next = events->back().position + 1;
    progress.Update(next - 1, head);
  }
  std::cout.flush();
  progress.Finish(next - 1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{
      "crmctl - evcrm tools: offline ones on a stopped server's data directory, and "
      "bench against a running server"};
  cli.require_subcommand(1);
  std::string dir, offset_text = "+08:00", until, kind, id;
  uint64_t after = 0;
  auto data_dir = [&](CLI::App* sub) {
    sub->add_option("--data-dir", dir, "The server's data directory")->required();
  };
  auto utc_offset = [&](CLI::App* sub) {
    sub->add_option("--utc-offset", offset_text,
                    "Where a business day starts, as crmd's --utc-offset (default +08:00)");
  };
  auto* verify = cli.add_subcommand("verify", "Recompute the hash chain of the log");
  data_dir(verify);
  auto* exp = cli.add_subcommand("export", "Print the log as JSON lines");
  data_dir(exp);
  exp->add_option("--after", after, "Start after this position");
  auto* rebuild =
      cli.add_subcommand("rebuild", "Drop every read model and rebuild it from the log");
  data_dir(rebuild);
  utc_offset(rebuild);
  auto* check = cli.add_subcommand(
      "check-read-models",
      "Compare the read models, caught up with the log, with a rebuild from it, row by row");
  data_dir(check);
  utc_offset(check);
  auto* replay = cli.add_subcommand("replay", "A record as it was at a position or a time");
  data_dir(replay);
  utc_offset(replay);
  replay->add_option("--until", until, "A log position or an RFC 3339 time")->required();
  replay->add_option("kind", kind, "What to replay: customer")->required();
  replay->add_option("id", id, "The record's id")->required();
  crm::tools::BenchOptions bench_options;
  std::string listen = "127.0.0.1:8080", bench_dir;
  auto* bench = cli.add_subcommand(
      "bench", "Drive a running crmd with HTTP load and report throughput and latency");
  bench->add_option("--listen", listen, "The server's host:port")->capture_default_str();
  bench->add_option("--token", bench_options.token, "An admin's bearer token");
  bench->add_option("--data-dir", bench_dir, "Read the admin token from DIR/admin.token");
  bench
      ->add_option(
          "--scenario", bench_options.scenario,
          "hello (GET /health), commands, reads (customer 360), lists, dashboard, search, mix")
      ->required();
  bench->add_option("--connections", bench_options.connections, "Keep-alive connections")
      ->capture_default_str();
  bench->add_option("--seconds", bench_options.seconds, "Measured time")->capture_default_str();
  bench->add_option("--warmup", bench_options.warmup, "Seconds before measuring")
      ->capture_default_str();
  bench
      ->add_option("--rate", bench_options.rate,
                   "Offered requests per second in all (open loop); 0: closed loop")
      ->capture_default_str();
  bench->add_option("--reps", bench_options.reps, "Sales reps to act as")->capture_default_str();
  bench->add_option("--customers", bench_options.customers, "Customers to read")
      ->capture_default_str();
  bench->add_option("--threads", bench_options.threads, "Client I/O threads")
      ->capture_default_str();
  bench
      ->add_option("--subscribers", bench_options.subscribers,
                   "WebSocket clients watching the dashboard, timed from each lead creation")
      ->capture_default_str();
  bench->add_flag("--subscribe-as-reps", bench_options.subscribe_as_reps,
                  "Subscribers act as the reps in turn (their own dashboards), not the admin");
  bench->add_option("--json", bench_options.json, "Also write the results here as JSON");
  bench->add_flag("--quiet", bench_options.quiet, "No progress lines");
  crm::tools::SeedOptions seed_options;
  auto* seed = cli.add_subcommand(
      "seed", "Write a large history into a stopped server's data dir, through the domain");
  seed->add_option("--data-dir", seed_options.data_dir, "The server's data directory")->required();
  seed->add_option("--customers", seed_options.customers, "Customers, each with a contact");
  seed->add_option("--leads", seed_options.leads,
                   "Leads: two of three owned, with a follow-up; the third in the pool");
  seed->add_option("--reps", seed_options.reps, "Sales reps")->capture_default_str();
  seed->add_option("--departments", seed_options.departments, "Departments")->capture_default_str();
  std::string backup_to, restore_from;
  auto* backup = cli.add_subcommand(
      "backup", "A consistent copy of a data dir: the log, the read models, the snapshots");
  data_dir(backup);
  backup->add_option("--to", backup_to, "A new directory for the copy")->required();
  auto* restore = cli.add_subcommand("restore", "A backup into a new data dir, verified");
  restore->add_option("--from", restore_from, "The backup's directory")->required();
  data_dir(restore);
  MigrateOptions migrate_options;
  auto* migrate = cli.add_subcommand(
      "migrate",
      "A stopped server's log into a new JetStream stream (the data dir then its first "
      "copy), or a stream into a new data dir; every position, hash and index entry kept");
  data_dir(migrate);
  auto* to = migrate->add_flag("--to-stream", migrate_options.to_stream,
                               "From the data dir's log into the stream");
  auto* from = migrate->add_flag("--from-stream", migrate_options.from_stream,
                                 "From the stream into a new data dir");
  to->excludes(from);
  migrate->add_option("--nats", migrate_options.nats, "The NATS servers, nats://host:port[,...]")
      ->required();
  migrate->add_option("--stream", migrate_options.stream, "The stream")
      ->check(crm::eventstore::StreamNameProblem)
      ->capture_default_str();
  migrate
      ->add_option("--replicas", migrate_options.replicas,
                   "The stream's replicas: those it has, or is created with")
      ->check(CLI::Range(1, 5))
      ->capture_default_str();
  migrate->add_option("--node", migrate_options.node, "The name the commits carry")
      ->capture_default_str();
  CLI11_PARSE(cli, argc, argv);
  if (migrate->parsed()) {
    if (migrate_options.to_stream == migrate_options.from_stream) {
      return Fail(crm::InvalidField("migrate", "needs --to-stream or --from-stream"));
    }
    return Migrate(dir, migrate_options);
  }
  if (seed->parsed()) return crm::tools::RunSeed(seed_options);
  if (backup->parsed()) return Backup(dir, backup_to);
  if (restore->parsed()) return Restore(restore_from, dir);
  if (bench->parsed()) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return Fail(crm::InvalidField("--listen", "must be host:port"));
    bench_options.host = listen.substr(0, colon);
    bench_options.port = std::atoi(listen.c_str() + colon + 1);
    if (bench_options.token.empty() && !bench_dir.empty()) {
      std::ifstream in(bench_dir + "/admin.token");
      std::getline(in, bench_options.token);
    }
    return crm::tools::RunBench(bench_options);
  }
  auto offset = crm::ParseUtcOffset(offset_text);
  if (!offset) return Fail(crm::InvalidField("--utc-offset", "must look like +08:00"));
  if (verify->parsed()) return Verify(dir);
  if (rebuild->parsed()) return Rebuild(dir, *offset);
  if (check->parsed()) return CheckReadModels(dir, *offset);
  if (replay->parsed()) return Replay(dir, *offset, until, kind, id);
  return Export(dir, after);
}
