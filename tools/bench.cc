// crm_bench: measures the write path and the read side's catch-up on this machine.
//
//   crm_bench [--dir DIR] [--commands N] [--clients C]
//
// 1. C client threads each submit commands through the writer into a fresh log,
//    one at a time, waiting for each durable answer: two of three create a lead, the third
//    records a follow-up on the client's last lead. Reports commands per second, latency
//    percentiles and group commit batch sizes.
// 2. The decision model is rebuilt from the log (what a restart costs).
// 3. The read models are rebuilt from position 1 (what `kViewsVersion` bumps cost).
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
  std::vector<std::vector<double>> latencies(static_cast<size_t>(clients));
  std::atomic<int> next{0}, failures{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      std::string rep = "stf_rep" + std::to_string(c);
      std::string last_lead;
      for (int i; (i = next++) < commands_total;) {
        d::Command cmd;
        if (i % 3 == 2 && !last_lead.empty()) {
          cmd = d::FollowUpLead{
              last_lead, "fup_" + std::to_string(i), d::Channel::kCall, "called", {}};
        } else {
          last_lead = "lead_" + std::to_string(1000000 + i);
          cmd = d::CreateLead{last_lead, "n", "Company " + std::to_string(i), {}, {}, {}, {}, {}};
        }
        auto s = Clock::now();
        auto r = Run(commands, rep, cmd);
        latencies[static_cast<size_t>(c)].push_back(Seconds(Clock::now() - s) * 1000);
        if (!r.ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  double elapsed = Seconds(Clock::now() - t0);
  auto stats = commands.Stats();
  auto appends = store->Stats();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0 : all[static_cast<size_t>(p * (all.size() - 1))];
  };
  uint64_t batches = stats.batches - stats_before.batches;
  uint64_t subs = stats.commands - stats_before.commands;
  uint64_t append_count = appends.appends - appends_before.appends;
  std::printf("write path: %d commands from %d clients in %.2f s = %.0f commands/s (%d refused)\n",
              commands_total, clients, elapsed, commands_total / elapsed, failures.load());
  std::printf("  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", pct(0.5), pct(0.9),
              pct(0.99), all.empty() ? 0 : all.back());
  std::printf(
      "  group commit: %llu batches, %.1f commands per batch, largest %llu, fsync mean %.2f ms\n",
      static_cast<unsigned long long>(batches), batches ? double(subs) / batches : 0.0,
      static_cast<unsigned long long>(stats.largest_batch),
      append_count ? (appends.micros.sum - appends_before.micros.sum) / 1000.0 / append_count
                   : 0.0);

  // ---- 2. decision model replay -----------------------------------------------------------
  uint64_t head = store->Head();
  t0 = Clock::now();
  auto replay = crm::writer::Writer::Open(*store, clock, ids, {});
  if (!replay.ok()) return 1;
  elapsed = Seconds(Clock::now() - t0);
  (*replay)->Close();
  std::printf("model replay: %llu events in %.2f s = %.0f events/s\n",
              static_cast<unsigned long long>(head), elapsed, head / elapsed);

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
  commands.Close();
  store->Close();
  std::filesystem::remove_all(dir);
  return 0;
}
