// Nothing acknowledged is lost when the process is killed mid-load: commands through the
// writer, appended to the RocksDB store.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>

#include "../eventstore/store_test_util.h"
#include "eventstore/rocks_event_store.h"

extern char** environ;

namespace crm::eventstore::testing {
namespace {

TEST(CrashTest, EveryAcknowledgedAppendSurvivesSigkill) {
  TempDir dir;
  std::string path = dir.sub("log");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::string helper = CRASH_WRITER_PATH;
  std::string seconds = "30";  // the helper stops by itself if the test never kills it
  char* argv[] = {helper.data(), path.data(), seconds.data(), nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, helper.c_str(), &actions, nullptr, argv, environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);

  // Read acknowledgements until enough have arrived (or 20 s pass), then kill it while
  // it is still writing.
  std::set<std::string> acked;
  std::string pending;
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (acked.size() < 400 && std::chrono::steady_clock::now() < deadline) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    pending.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      acked.insert(pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  // Whatever was acknowledged before the kill landed in the pipe: take it all.
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) pending.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  for (size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1)) {
    acked.insert(pending.substr(0, nl));
  }
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended before it was killed";
  ASSERT_GE(acked.size(), 100u);

  auto reopened = OpenRocksEventStore({path, false});
  ASSERT_TRUE(reopened.ok()) << reopened.error().detail;
  auto& store = *reopened.value();
  for (const auto& stream : acked) {
    auto v = store.StreamVersion(stream);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, 1u) << stream << " was acknowledged but is missing";
  }
  EXPECT_GE(store.Head(), acked.size() + 3);  // and the three of the setup
  VerifyReport r = store.Verify();
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.events, store.Head());
}

}  // namespace
}  // namespace crm::eventstore::testing
