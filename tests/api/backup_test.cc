// Backup and restore end to end: `crmctl backup` while crmd serves commands (through its
// control socket) and while it is stopped (from the stores), `crmctl restore` into a new
// data dir, and a crmd on the copy that verifies, ends at the backup's head and hash, and
// serves the same records and tokens.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "e2e_fixture.h"

namespace crm::testing {
namespace {

class BackupTest : public E2eTest {
 protected:
  json Tool(const std::string& args, int* code) {
    std::string out = RunTool(CrmctlPath() + " " + args + " 2>&1", code);
    json parsed = json::parse(out, nullptr, false);
    return parsed.is_discarded() ? json{{"output", out}} : parsed;
  }
};

TEST_F(BackupTest, ABackupTakenWhileServingRestoresToTheSameLogRecordsAndTokens) {
  auto [rep, token] = Rep("keeper");
  std::vector<std::string> before;
  for (int i = 0; i < 30; ++i) before.push_back(Lead(token));
  std::map<std::string, std::string> bodies;
  for (const auto& id : before)
    bodies[id] = crmd_->Call("GET", "/api/v1/leads/" + id, nullptr, token).body;

  // Commands keep coming while the backup is taken.
  std::atomic<bool> stop{false};
  std::atomic<int> during{0};
  std::thread writer([&, token = token] {
    while (!stop) {
      if (crmd_->Call("POST", "/api/v1/leads", NewLead(), token).status == 201) ++during;
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int code = -1;
  const std::string copy = dir_.sub("backup");
  json made = Tool("backup --data-dir " + dir_.sub("data") + " --to " + copy, &code);
  stop = true;
  writer.join();
  ASSERT_EQ(code, 0) << made.dump();
  EXPECT_GT(during.load(), 0);
  ASSERT_TRUE(made.contains("head")) << made.dump();
  EXPECT_NE(crmd_->stderr_text().find("backup at " + copy), std::string::npos)
      << "crmd took it, through its control socket";
  uint64_t head = made["head"];
  std::string hash = made["head_hash"];
  EXPECT_GE(head, before.size());

  // A backup never overwrites.
  json again = Tool("backup --data-dir " + dir_.sub("data") + " --to " + copy, &code);
  EXPECT_NE(code, 0);
  EXPECT_NE(again.dump().find("exists"), std::string::npos) << again.dump();

  json restored = Tool("restore --from " + copy + " --data-dir " + dir_.sub("restored"), &code);
  ASSERT_EQ(code, 0) << restored.dump();
  EXPECT_EQ(restored["head"], head);
  EXPECT_EQ(restored["head_hash"], hash);

  Crmd copy_server(dir_.sub("restored"));
  ASSERT_TRUE(copy_server.Start()) << copy_server.stderr_text();
  auto verified = copy_server.Call("GET", "/api/v1/audit/verify");
  ASSERT_EQ(verified.status, 200) << verified.body;
  EXPECT_EQ(verified.Json()["ok"], true);
  EXPECT_EQ(verified.Json()["head_position"], head);
  EXPECT_EQ(verified.Json()["head_hash"], hash);
  // The records as they were, read with the rep's own token: the token hashes came too.
  for (const auto& id : before) {
    auto r = copy_server.Call("GET", "/api/v1/leads/" + id, nullptr, token);
    EXPECT_EQ(r.status, 200) << id;
    EXPECT_EQ(r.body, bodies[id]) << id;
  }
  // A restore never goes over a data dir in use.
  json over = Tool("restore --from " + copy + " --data-dir " + dir_.sub("data"), &code);
  EXPECT_NE(code, 0);
  EXPECT_NE(over.dump().find("not empty"), std::string::npos) << over.dump();
}

// The control socket answers what it does not take with an error, and goes on.
TEST_F(BackupTest, TheControlSocketRefusesWhatItDoesNotTake) {
  auto ask = [&](const std::string& bytes) {
    int code = -1;
    std::string script =
        "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
        "s.sendall(sys.argv[2].encode().decode('unicode_escape').encode('latin-1')); "
        "s.shutdown(socket.SHUT_WR); print(s.makefile().readline().strip())";
    return RunTool(
        "python3 -c \"" + script + "\" " + dir_.sub("data") + "/crmd.sock '" + bytes + "'", &code);
  };
  EXPECT_NE(ask("hello\\n").find("unknown request"), std::string::npos);
  EXPECT_NE(ask("backup relative/path\\n").find("unknown request"), std::string::npos);
  EXPECT_NE(ask("backup /no/line/break").find("line break"), std::string::npos);
  EXPECT_NE(ask("backup " + dir_.sub("data") + "/inside\\n").find("inside the data dir"),
            std::string::npos);
  // A path that is not UTF-8 fails in words, and the server goes on.
  EXPECT_NE(ask("backup /proc/caf\\xe9/x\\n").find("error"), std::string::npos);
  EXPECT_EQ(Http(crmd_->port(), "GET", "/health").status, 200);
}

TEST_F(BackupTest, AStoppedServersDataDirIsBackedUpFromItsStores) {
  auto [rep, token] = Rep("quiet");
  std::string lead = Lead(token);
  uint64_t head = Http(crmd_->port(), "GET", "/health").Json()["position"];
  ASSERT_EQ(crmd_->Stop(), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_.sub("data") + "/crmd.sock"))
      << "a clean stop removes it";
  int code = -1;
  json made = Tool("backup --data-dir " + dir_.sub("data") + " --to " + dir_.sub("cold"), &code);
  ASSERT_EQ(code, 0) << made.dump();
  EXPECT_EQ(made["head"], head);
  json restored =
      Tool("restore --from " + dir_.sub("cold") + " --data-dir " + dir_.sub("r"), &code);
  ASSERT_EQ(code, 0) << restored.dump();
  Crmd copy_server(dir_.sub("r"));
  ASSERT_TRUE(copy_server.Start()) << copy_server.stderr_text();
  EXPECT_EQ(copy_server.Call("GET", "/api/v1/leads/" + lead, nullptr, token).status, 200);
  copy_server.Stop();
  // A manifest that does not match the log is found by the restore, which then leaves
  // nothing behind; so is a log that is no log.
  std::string manifest;
  {
    std::ifstream in(dir_.sub("cold") + "/backup.json");
    std::getline(in, manifest);
  }
  json edited = json::parse(manifest);
  edited["head"] = head + 1;
  std::ofstream(dir_.sub("cold") + "/backup.json", std::ios::trunc) << edited.dump() << "\n";
  json wrong = Tool("restore --from " + dir_.sub("cold") + " --data-dir " + dir_.sub("r2"), &code);
  EXPECT_NE(code, 0) << wrong.dump();
  EXPECT_NE(wrong.dump().find("its manifest says"), std::string::npos) << wrong.dump();
  std::ofstream(dir_.sub("cold") + "/backup.json", std::ios::trunc) << manifest << "\n";
  std::filesystem::remove_all(dir_.sub("cold") + "/log");
  std::filesystem::copy(dir_.sub("r") + "/readmodels", dir_.sub("cold") + "/log",
                        std::filesystem::copy_options::recursive);
  json bad = Tool("restore --from " + dir_.sub("cold") + " --data-dir " + dir_.sub("r2"), &code);
  EXPECT_NE(code, 0) << bad.dump();
  EXPECT_FALSE(std::filesystem::exists(dir_.sub("r2")));
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path()))
    EXPECT_EQ(entry.path().filename().string().find(".restoring-"), std::string::npos);
  // A mistyped data dir is refused, not backed up as empty.
  json none = Tool("backup --data-dir " + dir_.sub("nothing") + " --to " + dir_.sub("b3"), &code);
  EXPECT_NE(code, 0) << none.dump();
  EXPECT_FALSE(std::filesystem::exists(dir_.sub("b3")));
  EXPECT_FALSE(std::filesystem::exists(dir_.sub("nothing")));
}

}  // namespace
}  // namespace crm::testing
