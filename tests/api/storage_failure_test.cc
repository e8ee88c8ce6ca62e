// Storage faults under a running crmd: a disk that loses a write (fsync fails with EIO), a
// write that fails (EIO), both through a preloaded shim (fail_sync.cc), and a full disk
// (the data dir on a small tmpfs of its own). Whether the failed batch reached the disk is
// unknown, so the writer halts: that command and every later one answer 503, /health says
// so, reads go on, and only a restart (which replays what the log really holds) brings
// commands back. A retry with the same Idempotency-Key then makes the command happen
// exactly once, the chain verifies and the read models equal a rebuild.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cstring>
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

// Has `crmd` start with the fault shim preloaded: while the file `flag` exists, the fault
// `fault_env` names (EVCRM_FAIL_SYNC or EVCRM_FAIL_WRITE) hits writes to files under `under`.
void PreloadFaults(Crmd& crmd, const std::string& fault_env, const std::string& flag,
                   const std::string& under) {
  crmd.set_env(std::string("LD_PRELOAD=") + FAIL_SYNC_PATH);
  crmd.set_env(fault_env + "=" + flag);
  crmd.set_env("EVCRM_FAIL_UNDER=" + under);
  // An AddressSanitizer build wants its runtime first in the list; the shim comes first.
  const char* asan = std::getenv("ASAN_OPTIONS");
  crmd.set_env(std::string("ASAN_OPTIONS=") + (asan ? std::string(asan) + ":" : "") +
               "verify_asan_link_order=0");
}

// Which fault the shim injects: the name of its flag variable and what the flag holds.
struct Fault {
  const char* env;
  const char* what;
};

class StorageFaultTest : public ::testing::TestWithParam<Fault> {};

TEST_P(StorageFaultTest, TheWriterHaltsReadsGoOnAndARestartRecoversExactlyOnce) {
  TempDir dir;
  const std::string flag = dir.sub("fault");
  Crmd crmd(dir.sub("data"));
  PreloadFaults(crmd, GetParam().env, flag, dir.sub("data") + "/");
  ASSERT_TRUE(crmd.Start()) << crmd.stderr_text();
  json lead = {{"name", "before"}, {"company", "C"}};
  ASSERT_EQ(crmd.Call("POST", "/api/v1/leads", lead).status, 201);

  std::ofstream(flag) << GetParam().what;  // from now on every fsync, or write, fails
  json lost = {{"name", "lost"}, {"company", "C"}};
  auto failed = crmd.Call("POST", "/api/v1/leads", lost, "", {{"Idempotency-Key", "retry-me"}});
  EXPECT_EQ(failed.status, 503) << failed.body;
  EXPECT_EQ(failed.Json()["code"], "unavailable");
  EXPECT_NE(failed.Json()["detail"].get<std::string>().find("whether this command took effect"),
            std::string::npos)
      << failed.body;

  // Halted: nothing of the failed command is visible, reads go on, /health and /metrics
  // say so, every command is refused.
  EXPECT_EQ(LeadsNamed(crmd, "lost"), 0u);
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
  ExpectDataDirSound(dir.sub("data"));
  crmd.clear_env();
  ASSERT_TRUE(crmd.Start()) << crmd.stderr_text();
  EXPECT_EQ(Http(crmd.port(), "GET", "/health").Json()["status"], "ok");
  auto retry = crmd.Call("POST", "/api/v1/leads", lost, "", {{"Idempotency-Key", "retry-me"}});
  EXPECT_EQ(retry.status, 201) << retry.body;
  EXPECT_EQ(LeadsNamed(crmd, "lost"), 1u);
  EXPECT_EQ(LeadsNamed(crmd, "before"), 1u);
  EXPECT_EQ(crmd.Call("POST", "/api/v1/leads", {{"name", "after"}, {"company", "C"}}).status, 201);
  EXPECT_EQ(crmd.Stop(), 0) << crmd.stderr_text();
  ExpectDataDirSound(dir.sub("data"));
}

INSTANTIATE_TEST_SUITE_P(Faults, StorageFaultTest,
                         ::testing::Values(Fault{"EVCRM_FAIL_SYNC", "EIO"},
                                           Fault{"EVCRM_FAIL_WRITE", "EIO"}),
                         [](const auto& param_info) {
                           return std::string(param_info.param.env) == "EVCRM_FAIL_SYNC"
                                      ? "FsyncFails"
                                      : "WriteFails";
                         });

// The read models' store failing a write does not stop anything: commands go on, queries
// are answered from memory, /health says degraded; the next start rebuilds the read
// models from the log.
TEST(StorageFailureTest, AReadModelStoreThatFailsAWriteIsRebuiltAtTheNextStart) {
  TempDir dir;
  const std::string flag = dir.sub("fault");
  Crmd crmd(dir.sub("data"));
  PreloadFaults(crmd, "EVCRM_FAIL_WRITE", flag, dir.sub("data") + "/readmodels/");
  ASSERT_TRUE(crmd.Start()) << crmd.stderr_text();
  std::ofstream(flag) << "EIO";
  for (int i = 0; i < 20; ++i) {
    json lead = {{"name", "n" + std::to_string(i)}, {"company", "C"}};
    ASSERT_EQ(crmd.Call("POST", "/api/v1/leads", lead).status, 201);
  }
  EXPECT_EQ(LeadsNamed(crmd, "n19"), 1u);
  auto health = Http(crmd.port(), "GET", "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.Json()["status"], "degraded") << health.body;
  EXPECT_NE(crmd.Call("GET", "/metrics").body.find("evcrm_read_models_store_failed 1"),
            std::string::npos);
  EXPECT_EQ(crmd.Stop(), 0) << crmd.stderr_text();
  std::remove(flag.c_str());

  crmd.clear_env();
  ASSERT_TRUE(crmd.Start()) << crmd.stderr_text();
  EXPECT_EQ(Http(crmd.port(), "GET", "/health").Json()["status"], "ok");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(LeadsNamed(crmd, "n" + std::to_string(i)), 1u);
  EXPECT_EQ(crmd.Stop(), 0) << crmd.stderr_text();
  ExpectDataDirSound(dir.sub("data"));
}

// A tmpfs of `megabytes` mounted at `path` for the test's life; skipped (with why) where
// the test may not mount one: that needs root, or CAP_SYS_ADMIN in a container.
class SmallDisk {
 public:
  SmallDisk(const std::string& path, int megabytes) : path_(path) {
    ::mkdir(path.c_str(), 0700);
    std::string options = "size=" + std::to_string(megabytes) + "m,mode=0700";
    if (::mount("evcrm-test", path.c_str(), "tmpfs", 0, options.c_str()) == 0) {
      mounted_ = true;
    } else {
      why_not_ = std::strerror(errno);
    }
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& why_not() const { return why_not_; }

  // Writes a file until the disk is full; its size.
  size_t Fill(const std::string& name) {
    std::FILE* f = std::fopen((path_ + "/" + name).c_str(), "w");
    if (f == nullptr) return 0;
    std::vector<char> chunk(64 * 1024, 'x');
    size_t written = 0;
    while (std::fwrite(chunk.data(), 1, chunk.size(), f) == chunk.size()) written += chunk.size();
    std::fclose(f);
    return written;
  }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string why_not_;
};

TEST(StorageFaultTest, AFullDiskAnswers503KeepsServingReadsAndRecoversAfterARestart) {
  TempDir dir;
  SmallDisk disk(dir.sub("disk"), 96);
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << disk.why_not();
  const std::string data = dir.sub("disk") + "/data";
  Crmd crmd(data);
  ASSERT_TRUE(crmd.Start()) << crmd.stderr_text();
  std::string dept = crmd.Call("POST", "/api/v1/departments", {{"name", "East"}}).Json()["id"];
  std::string rep = crmd.Call("POST", "/api/v1/staff",
                              {{"name", "Wang"},
                               {"email", "wang@example.com"},
                               {"role", "sales"},
                               {"department_id", dept}})
                        .Json()["token"];
  std::string lead =
      crmd.Call("POST", "/api/v1/leads", {{"name", "Ma"}, {"company", "C"}}, rep).Json()["id"];

  // Follow-ups of 15 KB each; after the 20th the disk is filled; on until it refuses one.
  std::string note;
  for (int i = 0; i < 5000; ++i) note += "满";
  json follow_up = {{"channel", "visit"}, {"note", note}};
  std::vector<uint64_t> acked;
  HttpResult refused;
  for (int i = 0; i < 6000; ++i) {
    if (i == 20) {
      ASSERT_GT(disk.Fill("filler"), 0u);
    }
    auto r = crmd.Call("POST", "/api/v1/leads/" + lead + "/follow-ups", follow_up, rep,
                       {{"Idempotency-Key", "fu-" + std::to_string(i)}});
    if (r.status != 201) {
      refused = r;
      break;
    }
    acked.push_back(r.Json()["version"]);
  }
  ASSERT_GE(acked.size(), 20u);
  ASSERT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.Json()["code"], "unavailable");
  std::string key = "fu-" + std::to_string(acked.size());

  // Halted: /health says the log failed and why; reads go on; commands are refused.
  auto health = Http(crmd.port(), "GET", "/health");
  EXPECT_EQ(health.status, 503);
  EXPECT_EQ(health.Json()["status"], "halted");
  EXPECT_NE(health.Json()["detail"].get<std::string>().find("the log could not be written"),
            std::string::npos)
      << health.body;
  auto read = crmd.Call("GET", "/api/v1/leads/" + lead);
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.Json()["version"], acked.back()) << "the refused follow-up is visible";
  EXPECT_EQ(crmd.Call("POST", "/api/v1/leads", {{"name", "Li"}, {"company", "C"}}).status, 503);
  crmd.Stop();

  // Room again: the next start replays what the log holds; every acknowledged follow-up
  // is there, and the refused one, retried, happens exactly once.
  std::remove((dir.sub("disk") + "/filler").c_str());
  ExpectDataDirSound(data);
  ASSERT_TRUE(crmd.Start()) << crmd.stderr_text();
  EXPECT_EQ(Http(crmd.port(), "GET", "/health").Json()["status"], "ok");
  auto before = crmd.Call("GET", "/api/v1/leads/" + lead).Json();
  EXPECT_GE(before["version"].get<uint64_t>(), acked.back());
  auto retry = crmd.Call("POST", "/api/v1/leads/" + lead + "/follow-ups", follow_up, rep,
                         {{"Idempotency-Key", key}});
  EXPECT_EQ(retry.status, 201) << retry.body;
  auto again = crmd.Call("POST", "/api/v1/leads/" + lead + "/follow-ups", follow_up, rep,
                         {{"Idempotency-Key", key}});
  EXPECT_EQ(again.body, retry.body);
  uint64_t events = 0;
  json page = crmd.Call("GET", "/api/v1/events?limit=500&stream=" + lead).Json();
  for (const auto& e : page["items"]) events += e["type"] == "FollowUpRecorded";
  while (!page["next_cursor"].is_null()) {
    page = crmd.Call("GET", "/api/v1/events?limit=500&stream=" + lead +
                                "&cursor=" + page["next_cursor"].get<std::string>())
               .Json();
    for (const auto& e : page["items"]) events += e["type"] == "FollowUpRecorded";
  }
  EXPECT_EQ(events, acked.size() + 1) << "each acknowledged follow-up once, the retried one once";
  EXPECT_EQ(crmd.Stop(), 0) << crmd.stderr_text();
  ExpectDataDirSound(data);
}

}  // namespace
}  // namespace crm::testing
