// Helper for the crash test: submits commands through the writer from several threads as
// fast as it can and prints the lead of every acknowledged (durable) command on stdout,
// one per line. The test kills it with SIGKILL at a moment of its choosing. Stops by
// itself after `seconds`.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "eventstore/rocks_event_store.h"
#include "writer/writer.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: crash_writer DIR SECONDS\n");
    return 2;
  }
  auto opened = crm::eventstore::OpenRocksEventStore({argv[1], false});
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.error().detail.c_str());
    return 1;
  }
  auto store = std::move(opened).value();
  crm::writer::SystemClock clock;
  crm::writer::IdGenerator ids(clock);
  auto writer = std::move(crm::writer::Writer::Open(*store, clock, ids, {})).value();
  auto submit = [&](const std::string& actor, crm::domain::Command c) {
    return writer->Execute({.command = std::move(c), .actor = actor}).ok();
  };
  if (!submit(
          "system",
          crm::domain::CreateStaff{"stf_admin", "A", "a@x", crm::domain::Role::kAdmin, {}, {}}) ||
      !submit("stf_admin", crm::domain::CreateDepartment{"dep_1", "D", {}}) ||
      !submit("stf_admin", crm::domain::CreateStaff{
                               "stf_crash", "C", "c@x", crm::domain::Role::kSales, "dep_1", {}})) {
    std::fprintf(stderr, "setting up failed\n");
    return 1;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::atoi(argv[2]));
  std::mutex out_mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
        std::string stream = "lead_" + std::to_string(t) + "_" + std::to_string(i);
        if (submit("stf_crash",
                   crm::domain::CreateLead{stream, "n", "c " + stream, {}, {}, {}, {}, {}})) {
          std::lock_guard<std::mutex> lock(out_mu);
          std::string line = stream + "\n";
          if (write(STDOUT_FILENO, line.data(), line.size()) < 0) std::_Exit(3);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  return 0;
}
