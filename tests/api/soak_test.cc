// Soak: the mixed load of mixed_load.h at a steady rate (EVCRM_SOAK_RATE commands/s, 150
// by default) for EVCRM_SOAK_SECONDS (.ci/run runs 180 s, on its own; longer by hand;
// CTest skips it, since beside other tests its latency would measure theirs),
// with a reader walking the lists, the dashboard, receivables and customer 360s, and two
// live subscribers. Every 5 s it samples crmd's resident memory, its open files and the
// commands' p99 latency, and prints them. Then it checks:
//   - nothing failed: no 5xx, no connection refused or dropped;
//   - open files stay flat once warm (within 16: client connections come and go);
//   - latency does not drift: the p99 of the last third of the run stays within 3 × that
//     of the first third, plus 20 ms;
//   - memory is what the data needs, not what the time served left behind: the soaked
//     process's RSS is within 1.15 × (plus 48 MiB) that of a crmd freshly started on the
//     same data dir and given the same reads. The fresh one's RSS varies by some 32 MiB
//     with what RocksDB's memtables hold when it starts (80.9 to 113.1 MiB in three CI
//     runs of the same soak); a leak of 2 KB a command shows in 180 s.
// It does not run under AddressSanitizer, whose quarantine holds freed memory by design.
#include <gtest/gtest.h>

#include <dirent.h>
#include <atomic>
#include <mutex>
#include <random>

#include "mixed_load.h"
#include "ws_client.h"

namespace crm::testing {
namespace {

using Steady = std::chrono::steady_clock;

// Resident memory of `pid` in MiB, from /proc.
double RssMiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// Open file descriptors of `pid`.
int OpenFiles(pid_t pid) {
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (readdir(d) != nullptr) ++n;
  closedir(d);
  return n - 2;  // . and ..
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

double Median(std::vector<double> v) { return Percentile(std::move(v), 0.5); }

struct Sample {
  double seconds, rss, p99;
  int fds;
  size_t commands;
};

class SoakTest : public E2eTest {};

// The reader's round: what a sales floor looks at.
void ReadRound(Crmd& crmd, World& w, std::mt19937_64& rng, std::atomic<int>& failures) {
  std::vector<std::string> targets = {"/api/v1/leads?limit=50", "/api/v1/customers?limit=50",
                                      "/api/v1/dashboard", "/api/v1/receivables?limit=50",
                                      "/api/v1/pool?kind=lead"};
  {
    std::lock_guard<std::mutex> lock(w.mu);
    for (auto& mine : w.customers) {
      if (auto id = Pick(mine, rng)) targets.push_back("/api/v1/customers/" + *id);
    }
  }
  for (const auto& t : targets) {
    auto r = crmd.Call("GET", t);
    if (r.status != 200) ++failures;
  }
}

TEST_F(SoakTest, MemoryAndOpenFilesStayFlatAndLatencyDoesNotDrift) {
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "AddressSanitizer holds freed memory by design: the soak runs in the plain build";
#endif
  const double seconds = static_cast<double>(EnvNumber("EVCRM_SOAK_SECONDS", 0));
  if (seconds <= 0) {
    GTEST_SKIP() << "a soak runs alone, for EVCRM_SOAK_SECONDS (.ci/run: 180 s)";
  }
  const double rate = static_cast<double>(EnvNumber("EVCRM_SOAK_RATE", 150));
  World w;
  w.handovers = false;  // their cost grows with the portfolios: not a steady load
  ASSERT_NO_FATAL_FAILURE(SetUpWorld(*crmd_, w));

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<uint64_t> next{0};
  std::mutex mu;
  std::vector<double> window;  // latencies (ms) of this window's commands
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      std::mt19937_64 rng(1000 + static_cast<uint64_t>(i));
      auto interval =
          std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(6.0 / rate));
      auto due = Steady::now();
      while (!stop) {
        due += interval;
        auto now = Steady::now();
        if (due < now - std::chrono::seconds(1)) due = now;  // behind: no burst to catch up
        std::this_thread::sleep_until(due);
        Sent s = Choose(w, i, next++, rng);
        if (s.target.empty()) continue;
        s.correlation = "soak-" + std::to_string(next.load());
        auto t0 = Steady::now();
        if (!Send(crmd_->port(), s) || s.status == 0 || s.status >= 500) ++failures;
        double ms = std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
        Remember(w, i, s);
        std::lock_guard<std::mutex> lock(mu);
        window.push_back(ms);
      }
    });
  }
  threads.emplace_back([&] {  // the reader: a round every 100 ms
    std::mt19937_64 rng(7);
    while (!stop) {
      ReadRound(*crmd_, w, rng, failures);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  std::atomic<size_t> live_messages{0};
  for (const std::string& token : {w.admin, w.rep_tokens[0]}) {
    threads.emplace_back([&, token] {
      WsClient ws(crmd_->port(), "Bearer " + token);
      ws.Send({{"op", "subscribe"}, {"topic", "dashboard"}});
      while (!stop) {
        if (ws.Next(std::chrono::milliseconds(200))) ++live_messages;
      }
    });
  }

  std::vector<Sample> samples;
  auto start = Steady::now();
  while (std::chrono::duration<double>(Steady::now() - start).count() < seconds) {
    std::this_thread::sleep_for(std::chrono::seconds(5));
    std::vector<double> mine;
    {
      std::lock_guard<std::mutex> lock(mu);
      mine.swap(window);
    }
    Sample s{std::chrono::duration<double>(Steady::now() - start).count(), RssMiB(crmd_->pid()),
             Percentile(mine, 0.99), OpenFiles(crmd_->pid()), mine.size()};
    std::printf("soak: %5.0f s  rss %7.1f MiB  fds %4d  commands %5zu  p99 %6.1f ms\n", s.seconds,
                s.rss, s.fds, s.commands, s.p99);
    std::fflush(stdout);
    samples.push_back(s);
  }
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0) << "commands or reads failed (5xx, refused or dropped)";
  EXPECT_GT(live_messages.load(), 0u);
  ASSERT_GE(samples.size(), 3u);

  // Warm after the first sample: files flat, latency without drift.
  std::vector<Sample> warm(samples.begin() + 1, samples.end());
  auto [fewest, most] = std::minmax_element(
      warm.begin(), warm.end(), [](const Sample& a, const Sample& b) { return a.fds < b.fds; });
  EXPECT_LE(most->fds - fewest->fds, 16) << "open files grew";
  size_t third = std::max<size_t>(1, warm.size() / 3);
  std::vector<double> first, last;
  for (size_t i = 0; i < third; ++i) {
    first.push_back(warm[i].p99);
    last.push_back(warm[warm.size() - 1 - i].p99);
  }
  EXPECT_LE(Median(last), 3 * Median(first) + 20) << "p99 latency drifted";

  // Memory: the soaked process against a fresh one on the same data, given the same reads.
  double soaked = RssMiB(crmd_->pid());
  ASSERT_EQ(crmd_->Stop(), 0) << crmd_->stderr_text();
  ASSERT_TRUE(crmd_->Start()) << crmd_->stderr_text();
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20; ++i) ReadRound(*crmd_, w, rng, failures);
  EXPECT_EQ(failures.load(), 0) << "reads failed after the restart";
  double fresh = RssMiB(crmd_->pid());
  std::printf(
      "soak: %.0f s at %.0f commands/s, %llu commands; rss %.1f MiB soaked, %.1f MiB fresh\n",
      seconds, rate, static_cast<unsigned long long>(next.load()), soaked, fresh);
  EXPECT_LE(soaked, 1.15 * fresh + 48) << "memory grew beyond what the data needs";
}

}  // namespace
}  // namespace crm::testing
