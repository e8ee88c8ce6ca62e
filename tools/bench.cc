// crm_bench: measures the write path and the read side's catch-up on this machine.
//
//   crm_bench [--dir DIR] [--commands N] [--clients C]
//
// 1. C client threads each submit commands through the writer into a fresh log,
//    one at a time, waiting for each durable answer: two of three create a lead, the third
//    records a follow-up on the client's last lead. Reports commands per second, latency
//    percentiles and group commit batch sizes.
// 2. The decision model is rebuilt from the log (what a restart without a snapshot costs),
//    then written as a snapshot and loaded from it (what a restart costs).
// 3. The read models are rebuilt from position 1 (what `kViewsVersion` bumps cost).
// 4. The hash chain is verified, alone, then beside the same write load (what
//    GET /api/v1/audit/verify costs the commands of a running server).
// Everything runs in this process on a scratch directory, and stops by itself.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "eventstore/rocks_event_store.h"
#include "projections/read_models.h"
#include "writer/writer.h"

namespace {

namespace d = crm::domain;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

crm::Result<crm::writer::WriteOutcome> Run(crm::writer::Writer& writer, const std::string& actor,
                                           d::Command c) {
  return writer.Execute({.command = std::move(c), .actor = actor});
}

// What one run of the write load measured.
struct Load {
  double seconds = 0;
  int failures = 0;
  std::vector<double> latencies_ms;  // sorted
  double Percentile(double p) const {
    return latencies_ms.empty() ? 0
                                : latencies_ms[static_cast<size_t>(p * (latencies_ms.size() - 1))];
  }
};

// `clients` threads submit `n` commands between them, one at a time each, waiting for each
// durable answer: two of three create a lead (numbered from `first`), the third records a
// follow-up on the client's last lead.
Load Drive(crm::writer::Writer& commands, int clients, int first, int n) {
  std::vector<std::vector<double>> latencies(static_cast<size_t>(clients));
  std::atomic<int> next{0}, failures{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      std::string rep = "stf_rep" + std::to_string(c);
      std::string last_lead;
      for (int i; (i = next++) < n;) {
        int k = first + i;
        d::Command cmd;
        if (k % 3 == 2 && !last_lead.empty()) {
          cmd = d::FollowUpLead{
              last_lead, "fup_" + std::to_string(k), d::Channel::kCall, "called", {}};
        } else {
          last_lead = "lead_" + std::to_string(1000000 + k);
          cmd = d::CreateLead{last_lead, "n", "Company " + std::to_string(k), {}, {}, {}, {}, {}};
        }
        auto s = Clock::now();
        auto r = Run(commands, rep, cmd);
        latencies[static_cast<size_t>(c)].push_back(Seconds(Clock::now() - s) * 1000);
        if (!r.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  Load load;
  load.seconds = Seconds(Clock::now() - t0);
  load.failures = failures.load();
  for (auto& l : latencies) load.latencies_ms.insert(load.latencies_ms.end(), l.begin(), l.end());
  std::sort(load.latencies_ms.begin(), load.latencies_ms.end());
  return load;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"crm_bench - write path and rebuild benchmarks"};
  std::string dir = (std::filesystem::temp_directory_path() / "evcrm-bench").string();
  int commands_total = 20000, clients = 32;
  cli.add_option("--dir", dir, "Scratch directory (emptied first)")->capture_default_str();
  cli.add_option("--commands", commands_total, "Commands to submit")->capture_default_str();
  cli.add_option("--clients", clients, "Concurrent submitters")->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  std::filesystem::remove_all(dir);
  auto opened = crm::eventstore::OpenRocksEventStore({dir + "/log", false});
  if (!opened.ok()) {
    std::fprintf(stderr, "crm_bench: %s\n", opened.error().detail.c_str());
    return 1;
  }
  auto store = std::move(opened).value();
  crm::writer::SystemClock clock;
  crm::writer::IdGenerator ids(clock);
  auto writer_opened = crm::writer::Writer::Open(*store, clock, ids, {});
  if (!writer_opened.ok()) return 1;
  crm::writer::Writer& commands = **writer_opened;
  std::vector<d::Command> setup = {d::CreateDepartment{"dep_1", "D", {}}};
  for (int c = 0; c < clients; ++c) {
    std::string id = "stf_rep" + std::to_string(c);
    setup.push_back(d::CreateStaff{id, id, id + "@x", d::Role::kSales, "dep_1", {}});
  }
  bool ok =
      Run(commands, "system", d::CreateStaff{"stf_admin", "A", "a@x", d::Role::kAdmin, {}, {}})
          .ok();
  for (auto& c : setup) ok = ok && Run(commands, "stf_admin", std::move(c)).ok();
  if (!ok) {
    std::fprintf(stderr, "crm_bench: setting up the organisation failed\n");
    return 1;
  }

  // ---- 1. write path --------------------------------------------------------------------
  auto stats_before = commands.Stats();
  auto appends_before = store->Stats();
  Load load = Drive(commands, clients, 0, commands_total);
  auto stats = commands.Stats();
  auto appends = store->Stats();
  uint64_t batches = stats.batches - stats_before.batches;
  uint64_t subs = stats.commands - stats_before.commands;
  uint64_t append_count = appends.appends - appends_before.appends;
  std::printf("write path: %d commands from %d clients in %.2f s = %.0f commands/s (%d refused)\n",
              commands_total, clients, load.seconds, commands_total / load.seconds, load.failures);
  std::printf("  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", load.Percentile(0.5),
              load.Percentile(0.9), load.Percentile(0.99), load.Percentile(1));
  std::printf(
      "  group commit: %llu batches, %.1f commands per batch, largest %llu, fsync mean %.2f ms\n",
      static_cast<unsigned long long>(batches), batches ? double(subs) / batches : 0.0,
      static_cast<unsigned long long>(stats.largest_batch),
      append_count ? (appends.micros.sum - appends_before.micros.sum) / 1000.0 / append_count
                   : 0.0);
  // ---- 2. decision model replay -----------------------------------------------------------
  uint64_t head = store->Head();
  auto t0 = Clock::now();
  auto replay = crm::writer::Writer::Open(*store, clock, ids, {});
  if (!replay.ok()) return 1;
  double elapsed = Seconds(Clock::now() - t0);
  (*replay)->Close();
  std::printf("model replay: %llu events in %.2f s = %.0f events/s\n",
              static_cast<unsigned long long>(head), elapsed, head / elapsed);
  {
    // The same model from a snapshot at the head, as a restart loads it.
    crm::writer::ModelSnapshots snapshots(*store,
                                          {dir + "/snapshots", crm::Seconds(8 * 3600), 0, nullptr});
    t0 = Clock::now();
    if (!snapshots.BuildNow().ok()) return 1;
    double built = Seconds(Clock::now() - t0);
    crm::writer::WriterOptions from_snapshot;
    from_snapshot.snapshots = &snapshots;
    t0 = Clock::now();
    auto loaded = crm::writer::Writer::Open(*store, clock, ids, from_snapshot);
    if (!loaded.ok() || (*loaded)->Stats().loaded_from != head) return 1;
    elapsed = Seconds(Clock::now() - t0);
    (*loaded)->Close();
    uintmax_t bytes = 0;
    for (const auto& f : std::filesystem::directory_iterator(dir + "/snapshots"))
      bytes += f.file_size();
    std::printf("model snapshot: %llu events, built in %.2f s, %.1f MB, loaded in %.3f s\n",
                static_cast<unsigned long long>(head), built, bytes / 1e6, elapsed);
  }

  // ---- 3. read-model rebuild ---------------------------------------------------------------
  auto local = std::move(crm::projections::LocalStore::Open(dir + "/readmodels")).value();
  crm::projections::ReadModels read(*store, *local, {});
  t0 = Clock::now();
  if (!read.Start().ok()) return 1;
  read.runner().WaitApplied(head, std::chrono::minutes(10));
  elapsed = Seconds(Clock::now() - t0);
  read.Stop();
  std::printf("read-model rebuild: %llu events in %.2f s = %.0f events/s\n",
              static_cast<unsigned long long>(head), elapsed, head / elapsed);
  {
    // A company-wide dashboard sums people, not records.
    auto view = read.Read();
    std::vector<std::string> everyone = {""};
    for (const auto& [id, row] : view.org().staff()) everyone.push_back(id);
    crm::Date today = crm::BusinessDay(clock.Now(), crm::Seconds(8 * 3600));
    crm::Period period = crm::PeriodOf(today);
    constexpr int kSums = 1000;
    int64_t created = 0;
    t0 = Clock::now();
    for (int i = 0; i < kSums; ++i)
      created += view.dashboard().Sum(period, everyone, today).leads_created;
    elapsed = Seconds(Clock::now() - t0);
    std::printf(
        "dashboard: the company's figures (%zu people, %zu leads) in %.1f us each (%lld leads "
        "created)\n",
        everyone.size(), view.leads().rows().size(), elapsed / kSums * 1e6,
        static_cast<long long>(created / kSums));
  }

  // ---- 4. verification, alone and beside commands -------------------------------------------
  t0 = Clock::now();
  crm::eventstore::VerifyReport report = store->Verify();
  elapsed = Seconds(Clock::now() - t0);
  std::printf("verify: %llu events in %.2f s = %.0f events/s (%s)\n",
              static_cast<unsigned long long>(report.events), elapsed, report.events / elapsed,
              report.ok ? "ok" : report.detail.c_str());
  int beside = std::min(commands_total, 50000);
  Load quiet = Drive(commands, clients, commands_total, beside);
  double verify_seconds = 0;
  std::thread verifier([&] {
    auto v0 = Clock::now();
    (void)store->Verify();
    verify_seconds = Seconds(Clock::now() - v0);
  });
  Load busy = Drive(commands, clients, commands_total + beside, beside);
  verifier.join();
  std::printf("  commands alone:         %.0f commands/s, p99 %.2f ms\n", beside / quiet.seconds,
              quiet.Percentile(0.99));
  std::printf("  beside a verification:  %.0f commands/s, p99 %.2f ms (the pass took %.2f s)\n",
              beside / busy.seconds, busy.Percentile(0.99), verify_seconds);
  commands.Close();
  store->Close();
  std::filesystem::remove_all(dir);
  return 0;
}
