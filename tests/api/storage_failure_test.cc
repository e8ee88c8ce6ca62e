// A disk that loses a write: fsync fails (EIO) under a running crmd, through a preloaded
// shim. Whether the failed batch reached the disk is unknown, so the writer halts: that
// command and every later one answer 503, /health says so, and only a restart (which
// replays what the log really holds) brings commands back. A retry with the same
// Idempotency-Key then makes the command happen exactly once.
#include <gtest/gtest.h>

#include <fstream>

#include "../eventstore/store_test_util.h"
#include "crmd_process.h"

namespace crm::testing {
namespace {

using eventstore::testing::TempDir;

size_t LeadsNamed(Crmd& crmd, const std::string& name) {
  auto list = crmd.Call("GET", "/api/v1/leads?limit=500");
  EXPECT_EQ(list.status, 200) << list.body;
  json items = list.Json()["items"];  // kept: a loop over a temporary's member would dangle
  size_t n = 0;
  for (const auto& l : items) n += l["name"] == name;
  return n;
}

TEST(StorageFailureTest, WhenFsyncFailsTheWriterHaltsAndARestartRecoversExactlyOnce) {
  TempDir dir;
  const std::string flag = dir.sub("fail-sync");
  Crmd crmd(dir.sub("data"));
  crmd.set_env(std::string("LD_PRELOAD=") + FAIL_SYNC_PATH);
  crmd.set_env("EVCRM_FAIL_SYNC=" + flag);
  // An AddressSanitizer build wants its runtime first in the list; the shim comes first.
  const char* asan = std::getenv("ASAN_OPTIONS");
  crmd.set_env(std::string("ASAN_OPTIONS=") + (asan ? std::string(asan) + ":" : "") +
               "verify_asan_link_order=0");
  ASSERT_TRUE(crmd.Start()) << crmd.stderr_text();
  json lead = {{"name", "before"}, {"company", "C"}};
  ASSERT_EQ(crmd.Call("POST", "/api/v1/leads", lead).status, 201);

  std::ofstream(flag).put('x');  // from now on every fsync fails
  json lost = {{"name", "lost"}, {"company", "C"}};
  auto failed = crmd.Call("POST", "/api/v1/leads", lost, "", {{"Idempotency-Key", "retry-me"}});
  EXPECT_EQ(failed.status, 503) << failed.body;
  EXPECT_EQ(failed.Json()["code"], "unavailable");
  EXPECT_NE(failed.Json()["detail"].get<std::string>().find("whether this command took effect"),
            std::string::npos)
      << failed.body;

  // Halted: reads go on, /health and /metrics say so, every command is refused.
  auto health = Http(crmd.port(), "GET", "/health");
  EXPECT_EQ(health.status, 503);
  EXPECT_EQ(health.Json()["status"], "halted");
  EXPECT_NE(crmd.Call("GET", "/metrics").body.find("evcrm_writer_halted 1"), std::string::npos);
  std::remove(flag.c_str());  // the disk is back, but the writer cannot know what it holds
  auto refused = crmd.Call("POST", "/api/v1/leads", {{"name", "after"}, {"company", "C"}});
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("until crmd restarts"), std::string::npos) << refused.body;
  EXPECT_EQ(crmd.Call("GET", "/api/v1/leads?limit=500").status, 200);
  EXPECT_NE(crmd.stderr_text().find("the writer halts"), std::string::npos);
  EXPECT_EQ(crmd.Stop(), 0) << crmd.stderr_text();

  // Restarted (without the shim): the log verifies, and the retry happens exactly once,
  // whether or not the failed write had reached the disk.
  int rc = 0;
  std::string report = RunTool(CrmctlPath() + " verify --data-dir " + dir.sub("data"), &rc);
  EXPECT_EQ(rc, 0) << report;
  crmd.clear_env();
  ASSERT_TRUE(crmd.Start()) << crmd.stderr_text();
  EXPECT_EQ(Http(crmd.port(), "GET", "/health").Json()["status"], "ok");
  auto retry = crmd.Call("POST", "/api/v1/leads", lost, "", {{"Idempotency-Key", "retry-me"}});
  EXPECT_EQ(retry.status, 201) << retry.body;
  EXPECT_EQ(LeadsNamed(crmd, "lost"), 1u);
  EXPECT_EQ(LeadsNamed(crmd, "before"), 1u);
  EXPECT_EQ(crmd.Call("POST", "/api/v1/leads", {{"name", "after"}, {"company", "C"}}).status, 201);
}

}  // namespace
}  // namespace crm::testing
