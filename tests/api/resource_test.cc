// The limits that keep one client from starving the others: a cap on connections, a
// back-off when descriptors run out, one answer held per connection, and as-of views that
// do not hold up the writer. Each test runs its own crmd; each is bounded in time.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "../eventstore/store_test_util.h"
#include "crmd_process.h"

namespace crm::testing {
namespace {

using eventstore::testing::TempDir;
using Clock = std::chrono::steady_clock;

// CPU time (user + system) the process has used, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

TEST(ResourceTest, ConnectionsBeyondTheCapAreRefusedWith503AndRoomComesBack) {
  TempDir dir;
  Crmd crmd(dir.sub("data"), {"--max-connections", "8"});
  ASSERT_TRUE(crmd.Start());
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(std::make_unique<RawConnection>(crmd.port(), 10));
    ASSERT_TRUE(held.back()->ok());
    // Each one asks something, so that it surely is accepted and counted.
    held.back()->Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(held.back()->Read().status, 200);
  }
  RawConnection extra(crmd.port(), 10);
  ASSERT_TRUE(extra.ok());
  extra.Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  HttpResult refused = extra.Read();
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.Json()["code"], "unavailable");
  EXPECT_EQ(refused.Header("retry-after"), "1");
  EXPECT_TRUE(extra.ClosedByPeer());
  held.pop_back();
  held.pop_back();
  // Room again: the server notices the closed connections and serves new ones.
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    status = Http(crmd.port(), "GET", "/health").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, 200);
  // (Closed connections leave the count a moment after the client closes: free more room
  // before asking for the figures.)
  held.clear();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_GE(Metric(crmd, "evcrm_http_refused_connections_total"), 1);
  EXPECT_EQ(Metric(crmd, "evcrm_http_max_connections"), 8);
}

TEST(ResourceTest, OutOfDescriptorsTheServerBacksOffInsteadOfSpinning) {
#if defined(__SANITIZE_ADDRESS__)
  // The sanitizer build also has UBSan, whose vptr check tells readable memory by writing
  // it to a pipe; in a process out of descriptors the pipe cannot be made, and every
  // check of a type not seen before reports "object has invalid vptr" and aborts (GCC 12's
  // runtime: a ten-line program that uses up its descriptors, then calls a member of a
  // polymorphic class, shows it). The normal build runs this test.
  GTEST_SKIP() << "UBSan's vptr check cannot run in a process out of descriptors";
#endif
  TempDir dir;
  Crmd crmd(dir.sub("data"), {"--max-connections", "10000", "--threads", "2"});
  // Enough for the stores and a few connections, far below the connection limit.
  crmd.set_open_files_limit(64);
  ASSERT_TRUE(crmd.Start()) << crmd.stderr_text();
  std::vector<std::unique_ptr<RawConnection>> flood;
  for (int i = 0; i < 80; ++i) {
    flood.push_back(std::make_unique<RawConnection>(crmd.port(), 2));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  double before = CpuSeconds(crmd.pid());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  double used = CpuSeconds(crmd.pid()) - before;
  // A loop that retries accept at once burns a core or more: 2 s of CPU in 2 s.
  EXPECT_LT(used, 0.5) << "CPU seconds used in 2 s while out of descriptors";
  flood.clear();
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    status = Http(crmd.port(), "GET", "/health").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, 200) << "serving again once descriptors are free";
  EXPECT_NE(crmd.stderr_text().find("backing off"), std::string::npos) << crmd.stderr_text();
  EXPECT_GT(Metric(crmd, "evcrm_http_accept_failures_total"), 0);
}

TEST(ResourceTest, AClientThatNeverReadsHoldsOneAnswerAtATime) {
  TempDir dir;
  Crmd crmd(dir.sub("data"));
  ASSERT_TRUE(crmd.Start());
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(crmd.Call("POST", "/api/v1/leads",
                        {{"name", "n" + std::to_string(i)}, {"company", std::string(150, 'c')}})
                  .status,
              201);
  }
  size_t answer = crmd.Call("GET", "/api/v1/leads?limit=500").body.size();
  ASSERT_GT(answer, 100000u);
  std::string pipelined;
  for (int i = 0; i < 100; ++i) {
    pipelined += "GET /api/v1/leads?limit=500 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                 crmd.token() + "\r\n\r\n";
  }
  constexpr int kClients = 20;
  std::vector<int> fds;
  for (int i = 0; i < kClients; ++i) {
    int fd = Connect(crmd.port(), 2);
    ASSERT_GE(fd, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    // Send what fits without blocking; never read.
    fcntl(fd, F_SETFL, O_NONBLOCK);
    (void)send(fd, pipelined.data(), pipelined.size(), MSG_NOSIGNAL);
    fds.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  // What the server holds for them is at most one answer each; the rest of what they
  // sent waits in their sockets, unread.
  double writing = Metric(crmd, "evcrm_http_writing_bytes");
  EXPECT_LE(writing, static_cast<double>(kClients) * static_cast<double>(answer));
  // They are all still connected (plus this one, and any earlier connection that has not
  // quite left yet).
  EXPECT_GE(Metric(crmd, "evcrm_http_connections"), kClients + 1);
  for (int fd : fds) close(fd);
  // And everyone else is still served.
  EXPECT_EQ(Http(crmd.port(), "GET", "/health").status, 200);
}

// Found by a hostile review: every distinct method a client sent became a metrics series,
// so a client without a token could grow the server without bound.
TEST(ResourceTest, UnknownMethodsDoNotGrowTheMetrics) {
  TempDir dir;
  Crmd crmd(dir.sub("data"));
  ASSERT_TRUE(crmd.Start());
  size_t before = crmd.Call("GET", "/metrics").body.size();
  RawConnection conn(crmd.port(), 10);
  for (int i = 0; i < 300; ++i) {
    conn.Send("X" + std::to_string(100000 + i) + std::string(200, 'M') +
              " /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(conn.Read().status, 404);
  }
  std::string after = crmd.Call("GET", "/metrics").body;
  EXPECT_LT(after.size(), before + 4000) << "300 methods must not make 300 series";
  EXPECT_NE(after.find("method=\"other\",route=\"unmatched\",status=\"404\"} 300"),
            std::string::npos);
}

TEST(ResourceTest, TheWritePathHistogramsAddUpToItsCounters) {
  TempDir dir;
  Crmd crmd(dir.sub("data"));
  ASSERT_TRUE(crmd.Start());
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(
        crmd.Call("POST", "/api/v1/leads", {{"name", "h" + std::to_string(i)}, {"company", "C"}})
            .status,
        201);
  }
  double batches = Metric(crmd, "evcrm_commit_batches_total");
  EXPECT_GE(batches, 5) << "each command waited for its answer: one batch each at least";
  EXPECT_EQ(Metric(crmd, "evcrm_commit_batch_size_count"), batches);
  EXPECT_EQ(Metric(crmd, "evcrm_commit_batch_size_bucket{le=\"+Inf\"}"), batches);
  EXPECT_EQ(Metric(crmd, "evcrm_commit_batch_size_sum"), Metric(crmd, "evcrm_commands_total"));
  EXPECT_EQ(Metric(crmd, "evcrm_commit_batch_size_bucket{le=\"1\"}"), batches)
      << "one client, one command a batch";
  // Every batch is one append; the first bucket is 250 microseconds.
  EXPECT_EQ(Metric(crmd, "evcrm_fsync_seconds_count"), batches);
  EXPECT_GE(Metric(crmd, "evcrm_fsync_seconds_bucket{le=\"0.00025\"}"), 0);
  EXPECT_EQ(Metric(crmd, "evcrm_fsync_seconds_bucket{le=\"+Inf\"}"), batches);
  EXPECT_GT(Metric(crmd, "evcrm_fsync_seconds_sum"), 0);
}

TEST(ResourceTest, MetricsAreValidPrometheusTextAsPromtoolReadsIt) {
  TempDir dir;
  Crmd crmd(dir.sub("data"));
  ASSERT_TRUE(crmd.Start());
  // Families with samples: requests matched and unmatched, a command.
  ASSERT_EQ(crmd.Call("POST", "/api/v1/leads", NewLead()).status, 201);
  ASSERT_EQ(crmd.Call("GET", "/api/v1/nothing").status, 404);
  std::string path = dir.sub("metrics.txt");
  {
    std::ofstream out(path);
    out << crmd.Call("GET", "/metrics").body;
  }
  int rc = 0;
  std::string version = RunTool("promtool --version 2>&1", &rc);
  ASSERT_EQ(rc, 0) << "promtool is missing: install Debian's prometheus (tools/dev.sh test does)";
  std::string report = RunTool("promtool check metrics < " + path + " 2>&1", &rc);
  EXPECT_EQ(rc, 0) << report;
  EXPECT_EQ(report, "") << "promtool's lint findings";
}

TEST(ResourceTest, AsOfReadsOfALongHistoryDoNotHoldUpCommands) {
  TempDir dir;
  Crmd crmd(dir.sub("data"));
  ASSERT_TRUE(crmd.Start());
  auto dept = crmd.Call("POST", "/api/v1/departments", {{"name", "D"}}).Json()["id"];
  auto rep =
      crmd.Call("POST", "/api/v1/staff",
                {{"name", "r"}, {"email", "r@x.com"}, {"role", "sales"}, {"department_id", dept}})
          .Json();
  std::string token = rep["token"];
  std::string cus =
      crmd.Call("POST", "/api/v1/customers", {{"name", "Long History"}}, token).Json()["id"];
  // A customer with 20,000 follow-ups, written by several clients at once.
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < 2500; ++i) {
        crmd.Call("POST", "/api/v1/customers/" + cus + "/follow-ups",
                  {{"channel", "call"}, {"note", "n"}}, token);
      }
    });
  }
  for (auto& t : writers) t.join();
  uint64_t head = Http(crmd.port(), "GET", "/health").Json()["position"];
  ASSERT_GT(head, 20000u);
  // Commands alone, then with four clients each reading the customer as of its latest
  // moments every 10 ms: the reads must not take the commands' turn.
  auto run_commands = [&](std::chrono::milliseconds how_long) {
    int n = 0;
    auto until = Clock::now() + how_long;
    while (Clock::now() < until) {
      auto r = crmd.Call("POST", "/api/v1/leads", NewLead(), token);
      EXPECT_EQ(r.status, 201) << r.body;
      ++n;
    }
    return static_cast<double>(n) / std::chrono::duration<double>(how_long).count();
  };
  double alone = run_commands(std::chrono::milliseconds(1500));
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, bad_reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      while (!stop) {
        auto v = crmd.Call("GET", "/api/v1/customers/" + cus + "?as_of=" + std::to_string(head - 1),
                           nullptr, token);
        if (v.status == 200)
          ++reads;
        else
          ++bad_reads;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
  }
  double during = run_commands(std::chrono::milliseconds(3000));
  stop = true;
  for (auto& t : readers) t.join();
  std::fprintf(stderr, "commands/s alone %.0f, under as-of reads %.0f; as-of reads %d\n", alone,
               during, reads.load());
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(bad_reads.load(), 0);
  // Sharing two cores with the readers (and, under ctest -j, with another test) costs the
  // writer some speed: a third was left in a CI run. A replay that holds the read models'
  // lock costs it nearly all (2,437/s fell to 6/s), so the bound sits far below the noise
  // and far above the defect.
  EXPECT_GT(during, alone / 10) << "commands per second under a storm of as-of reads";
}

}  // namespace
}  // namespace crm::testing
