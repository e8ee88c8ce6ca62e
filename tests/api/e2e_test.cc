// End-to-end: a real crmd process on a free loopback port, spoken to over HTTP.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <fstream>
#include <set>

#include "../eventstore/store_test_util.h"
#include "../eventstore/tamper.h"
#include "crmd_process.h"

namespace crm::testing {
namespace {

using eventstore::testing::TempDir;

class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crmd_ = std::make_unique<Crmd>(dir_.sub("data"), std::vector<std::string>{"--recycle-interval", "1"});
    ASSERT_TRUE(crmd_->Start()) << "crmd did not start";
  }

  // A department and a sales rep in it; returns {staff id, token}.
  std::pair<std::string, std::string> Rep(const std::string& name, const std::string& role = "sales") {
    if (dept_.empty()) {
      auto d = crmd_->Call("POST", "/api/v1/departments", {{"name", "East"}});
      EXPECT_EQ(d.status, 201) << d.body;
      dept_ = d.Json()["id"];
    }
    auto r = crmd_->Call("POST", "/api/v1/staff",
                         {{"name", name}, {"email", name + "@example.com"}, {"role", role},
                          {"department_id", dept_}});
    EXPECT_EQ(r.status, 201) << r.body;
    return {r.Json()["id"], r.Json()["token"]};
  }

  std::string Lead(const std::string& token, json extra = json::object()) {
    json body = {{"name", "Ma"}, {"company", "Blue Sky"}};
    body.update(extra);
    auto r = crmd_->Call("POST", "/api/v1/leads", body, token);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", "");
  }

  TempDir dir_;
  std::unique_ptr<Crmd> crmd_;
  std::string dept_;
};

TEST_F(E2eTest, HealthNeedsNoTokenEverythingElseDoes) {
  auto h = Http(crmd_->port(), "GET", "/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.Json()["status"], "ok");
  EXPECT_TRUE(h.Json()["projections"].contains("leads"));
  auto r = crmd_->Call("GET", "/api/v1/leads", nullptr, "-");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  EXPECT_EQ(r.Json()["code"], "unauthorized");
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/leads", nullptr, "wrong").status, 401);
}

TEST_F(E2eTest, UnknownPathsAndMethodsAreProblems) {
  auto r = crmd_->Call("GET", "/api/v1/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Json()["code"], "not_found");
  auto m = crmd_->Call("DELETE", "/api/v1/leads");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.Json()["code"], "method_not_allowed");
  EXPECT_NE(m.Header("allow").find("POST"), std::string::npos);
}

TEST_F(E2eTest, EveryInvalidFieldIsListedAndNothingIsWritten) {
  uint64_t before = Http(crmd_->port(), "GET", "/health").Json()["position"];
  auto r = crmd_->Call("POST", "/api/v1/leads", {{"name", 42}, {"email", "not-an-email"}});
  EXPECT_EQ(r.status, 400) << r.body;
  json problem = r.Json();
  std::set<std::string> fields;
  for (const auto& e : problem["errors"]) fields.insert(e["field"]);
  EXPECT_EQ(fields, (std::set<std::string>{"name", "company", "email"}));
  EXPECT_EQ(crmd_->Call("POST", "/api/v1/leads", nullptr, "", {}).status, 400);
  auto bad = Http(crmd_->port(), "POST", "/api/v1/leads", "{\"name\":",
                  {{"Authorization", "Bearer " + crmd_->token()}});
  EXPECT_EQ(bad.Json()["code"], "malformed_json");
  uint64_t after = Http(crmd_->port(), "GET", "/health").Json()["position"];
  EXPECT_EQ(after, before);
}

TEST_F(E2eTest, ABodyOverOneMebibyteIs413) {
  std::string big = "{\"name\":\"" + std::string(1100000, 'x') + "\",\"company\":\"y\"}";
  auto r = Http(crmd_->port(), "POST", "/api/v1/leads", big,
                {{"Authorization", "Bearer " + crmd_->token()}});
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.Json()["code"], "payload_too_large");
  EXPECT_EQ(Http(crmd_->port(), "GET", "/health").status, 200);
}

TEST_F(E2eTest, ALeadMovesThroughItsLifeWithVersionsAndETags) {
  auto [rep, token] = Rep("wang");
  std::string id = Lead(token);
  auto g = crmd_->Call("GET", "/api/v1/leads/" + id, nullptr, token);
  ASSERT_EQ(g.status, 200);
  EXPECT_EQ(g.Json()["state"], "pending");
  EXPECT_EQ(g.Json()["owner_id"], rep);
  EXPECT_EQ(g.Header("etag"), "\"1\"");
  EXPECT_FALSE(g.Header("x-position").empty());
  // A stale If-Match is refused and changes nothing.
  auto stale = crmd_->Call("POST", "/api/v1/leads/" + id + "/follow-ups",
                           {{"channel", "call"}, {"note", "x"}}, token, {{"If-Match", "\"7\""}});
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(stale.Json()["code"], "version_conflict");
  auto fu = crmd_->Call("POST", "/api/v1/leads/" + id + "/follow-ups",
                        {{"channel", "call"}, {"note", "first call"}}, token, {{"If-Match", "\"1\""}});
  ASSERT_EQ(fu.status, 201) << fu.body;
  EXPECT_EQ(fu.Json()["version"], 2);
  EXPECT_EQ(fu.Json()["lead_id"], id);
  auto v = crmd_->Call("GET", "/api/v1/leads/" + id, nullptr, token).Json();
  EXPECT_EQ(v["state"], "following");
  EXPECT_EQ(v["follow_ups"][0]["note"], "first call");
  EXPECT_EQ(crmd_->Call("POST", "/api/v1/leads/" + id + "/void", {{"reason", "spam"}}, token).status, 200);
  auto again = crmd_->Call("POST", "/api/v1/leads/" + id + "/follow-ups",
                           {{"channel", "call"}, {"note", "x"}}, token);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.Json()["code"], "invalid_transition");
}

TEST_F(E2eTest, OthersLeadsAreNotFound) {
  auto [a, ta] = Rep("a");
  auto [b, tb] = Rep("b");
  std::string id = Lead(ta);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/leads/" + id, nullptr, tb).status, 404);
  auto list = crmd_->Call("GET", "/api/v1/leads?limit=500", nullptr, tb).Json();
  for (const auto& l : list["items"]) EXPECT_NE(l["id"], id);
}

TEST_F(E2eTest, AnIdempotentRetryGetsTheFirstAnswer) {
  auto [rep, token] = Rep("idem");
  json body = {{"name", "N"}, {"company", "C"}};
  auto a = crmd_->Call("POST", "/api/v1/leads", body, token, {{"Idempotency-Key", "k-1"}});
  auto b = crmd_->Call("POST", "/api/v1/leads", body, token, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(a.status, 201);
  EXPECT_EQ(b.status, 201);
  EXPECT_EQ(a.body, b.body);
  body["name"] = "other";
  auto c = crmd_->Call("POST", "/api/v1/leads", body, token, {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(c.status, 422);
  EXPECT_EQ(c.Json()["code"], "idempotency_key_reused");
  // A retried staff creation never shows the token again.
  json staff = {{"name", "x"}, {"email", "x@example.com"}, {"role", "sales"}, {"department_id", dept_}};
  auto s1 = crmd_->Call("POST", "/api/v1/staff", staff, "", {{"Idempotency-Key", "s-1"}});
  auto s2 = crmd_->Call("POST", "/api/v1/staff", staff, "", {{"Idempotency-Key", "s-1"}});
  ASSERT_EQ(s1.status, 201);
  ASSERT_EQ(s2.status, 201);
  EXPECT_TRUE(s1.Json()["token"].is_string());
  EXPECT_TRUE(s2.Json()["token"].is_null());
  EXPECT_EQ(s1.Json()["id"], s2.Json()["id"]);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/leads", nullptr, s1.Json()["token"]).status, 200);
}

TEST_F(E2eTest, MinPositionWaitsForTheReadModel) {
  auto [rep, token] = Rep("reader");
  uint64_t head = Http(crmd_->port(), "GET", "/health").Json()["position"];
  auto r = crmd_->Call("GET", "/api/v1/leads?min_position=" + std::to_string(head), nullptr, token);
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(std::stoull(r.Header("x-position")), head);
  auto lag = crmd_->Call("GET", "/api/v1/leads?min_position=" + std::to_string(head + 1000), nullptr, token);
  EXPECT_EQ(lag.status, 503);
  EXPECT_EQ(lag.Json()["code"], "projection_lagging");
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/leads?min_position=abc", nullptr, token).status, 400);
}

TEST_F(E2eTest, OfManySimultaneousClaimsExactlyOneWins) {
  std::string lead = Lead(crmd_->token());
  std::vector<std::string> tokens;
  for (int i = 0; i < 8; ++i) tokens.push_back(Rep("racer" + std::to_string(i)).second);
  std::atomic<int> wins{0}, others{0};
  std::vector<std::thread> threads;
  for (const auto& t : tokens) {
    threads.emplace_back([&, t] {
      auto r = crmd_->Call("POST", "/api/v1/leads/" + lead + "/claim", json::object(), t);
      if (r.status == 200) ++wins;
      else if (r.status == 404 || r.status == 422) ++others;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(others.load(), 7);
}

TEST_F(E2eTest, TheRecycleJobReturnsNeglectedLeadsAsTheSystem) {
  auto [rep, token] = Rep("slow");
  json off = {{"recycle_no_follow_up", "PT1S"}, {"recycle_no_deal", nullptr}, {"remind_before", nullptr},
              {"daily_claim_limit", nullptr}, {"previous_owner_block", nullptr},
              {"max_owned_customers", nullptr}, {"max_owned_leads", nullptr}};
  ASSERT_EQ(crmd_->Call("PUT", "/api/v1/pool/policy", off).status, 200);
  std::string id = Lead(token);
  std::string state;
  for (int i = 0; i < 60 && state != "unassigned"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    state = crmd_->Call("GET", "/api/v1/leads/" + id).Json()["state"];
  }
  EXPECT_EQ(state, "unassigned");
  auto pool = crmd_->Call("GET", "/api/v1/pool?kind=lead", nullptr, token).Json();
  bool found = false;
  for (const auto& item : pool["items"]) {
    if (item["id"] == id) {
      found = true;
      EXPECT_EQ(item["reason"], "recycled");
      EXPECT_EQ(item["previous_owner_id"], rep);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(E2eTest, SigtermStopsCleanlyAndEverythingSurvivesARestart) {
  auto [rep, token] = Rep("keeper");
  std::string id = Lead(token);
  auto before = crmd_->Call("GET", "/api/v1/leads/" + id, nullptr, token);
  EXPECT_EQ(crmd_->Stop(SIGTERM), 0);
  ASSERT_TRUE(crmd_->Start());
  auto after = crmd_->Call("GET", "/api/v1/leads/" + id, nullptr, token);
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.body, before.body);
}

TEST_F(E2eTest, ASecondServerOnTheSameDataDirRefusesToStart) {
  Crmd second(dir_.sub("data"));
  EXPECT_FALSE(second.Start());
  EXPECT_NE(second.exit_code(), 0);
}

TEST_F(E2eTest, AcknowledgedCommandsSurviveSigkill) {
  auto [rep, token] = Rep("crash");
  std::vector<std::string> acked;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&] {
      while (!stop) {
        auto r = crmd_->Call("POST", "/api/v1/leads", {{"name", "n"}, {"company", "c"}}, token);
        if (r.status != 201) break;
        std::lock_guard<std::mutex> lock(mu);
        acked.push_back(r.Json()["id"]);
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (acked.size() >= 100) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  crmd_->Stop(SIGKILL);
  stop = true;
  for (auto& t : writers) t.join();
  ASSERT_GE(acked.size(), 20u);
  ASSERT_TRUE(crmd_->Start());
  for (const auto& id : acked) {
    EXPECT_EQ(crmd_->Call("GET", "/api/v1/leads/" + id, nullptr, token).status, 200) << id;
  }
  auto verify = crmd_->Stop(SIGTERM);
  EXPECT_EQ(verify, 0);
}

TEST(E2eBootstrapTest, WithoutAnAdminTokenOneIsWrittenOwnerReadableOnly) {
  TempDir dir;
  Crmd crmd(dir.sub("data"), {}, "");
  ASSERT_TRUE(crmd.Start());
  std::string path = dir.sub("data") + "/admin.token";
  struct stat st{};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::ifstream in(path);
  std::string token;
  in >> token;
  EXPECT_GE(token.size(), 32u);
  EXPECT_EQ(crmd.Call("GET", "/api/v1/staff", nullptr, token).status, 200);
  EXPECT_EQ(crmd.Stop(), 0);
}

TEST(E2eCrmctlTest, VerifyAndExportWorkOnAStoppedServersDataDir) {
  TempDir dir;
  Crmd crmd(dir.sub("data"));
  ASSERT_TRUE(crmd.Start());
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(crmd.Call("POST", "/api/v1/leads", {{"name", "n"}, {"company", "c"}}).status, 201);
  }
  uint64_t head = Http(crmd.port(), "GET", "/health").Json()["position"];
  ASSERT_EQ(crmd.Stop(), 0);
  std::string verify = std::string(CRMCTL_PATH) + " verify --data-dir " + dir.sub("data");
  FILE* p = popen(verify.c_str(), "r");
  char buf[4096] = {0};
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  int rc = pclose(p);
  EXPECT_EQ(WEXITSTATUS(rc), 0);
  json report = json::parse(std::string(buf, n));
  EXPECT_EQ(report["ok"], true);
  EXPECT_EQ(report["events"], head);
  std::string exp = std::string(CRMCTL_PATH) + " export --data-dir " + dir.sub("data");
  p = popen(exp.c_str(), "r");
  std::string lines;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) lines.append(buf, n);
  EXPECT_EQ(WEXITSTATUS(pclose(p)), 0);
  size_t count = 0;
  uint64_t expect = 1;
  for (size_t pos = 0, nl; (nl = lines.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    json e = json::parse(lines.substr(pos, nl - pos));
    EXPECT_EQ(e["position"], expect++);
    EXPECT_EQ(e["hash"].get<std::string>().size(), 64u);
    ++count;
  }
  EXPECT_EQ(count, head);

  // An event changed behind the server's back: verify names it and exits 1.
  eventstore::testing::Tamper(dir.sub("data") + "/log", 2, false);
  p = popen(verify.c_str(), "r");
  n = fread(buf, 1, sizeof buf - 1, p);
  EXPECT_EQ(WEXITSTATUS(pclose(p)), 1);
  json bad = json::parse(std::string(buf, n));
  EXPECT_EQ(bad["ok"], false);
  EXPECT_EQ(bad["first_bad_position"], 2);
}

}  // namespace
}  // namespace crm::testing
