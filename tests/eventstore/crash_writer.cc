// Helper for the crash test: appends from several threads as fast as it can and prints
// the stream of every acknowledged (durable) append on stdout, one per line. The test
// kills it with SIGKILL at a moment of its choosing. Stops by itself after `seconds`.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "eventstore/rocks_event_store.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: crash_writer DIR SECONDS\n");
    return 2;
  }
  auto opened = crm::eventstore::OpenRocksEventStore({argv[1], nullptr, 1024, false});
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.error().detail.c_str());
    return 1;
  }
  auto store = std::move(opened).value();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::atoi(argv[2]));
  std::mutex out_mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
        std::string stream = "lead_" + std::to_string(t) + "_" + std::to_string(i);
        std::promise<bool> acked;
        crm::eventstore::Submission s;
        s.actor = "stf_crash";
        s.decide = [stream](const crm::eventstore::WriterView&)
            -> crm::Result<crm::eventstore::Proposal> {
          return crm::eventstore::Proposal{
              {{stream, crm::domain::LeadCreated{stream, "n", "c", {}, {}, {}, {}, {}}}}, {}, {}};
        };
        s.done = [&](crm::Result<crm::eventstore::Reply> r, const crm::eventstore::CommitInfo&) {
          acked.set_value(r.ok());
        };
        store->Submit(std::move(s));
        if (acked.get_future().get()) {
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
