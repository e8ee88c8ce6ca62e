// `crmctl bench` keeps working: each scenario, a second against a real crmd, answers
// without errors and writes its JSON. A smoke test of the tool, not a timed assertion.
#include <gtest/gtest.h>

#include <fstream>

#include "e2e_fixture.h"

namespace crm::testing {
namespace {

class BenchSmokeTest : public E2eTest {};

TEST_F(BenchSmokeTest, EveryScenarioRunsWithoutErrors) {
  for (std::string scenario :
       {"hello", "commands", "reads", "lists", "dashboard", "search", "mix"}) {
    std::string out = dir_.sub(scenario + ".json");
    int rc = -1;
    RunTool(CrmctlPath() + " bench --quiet --listen 127.0.0.1:" + std::to_string(crmd_->port()) +
                " --token " + crmd_->token() + " --scenario " + scenario +
                " --connections 4 --seconds 1 --warmup 0.2 --reps 2 --customers 8 --json " + out,
            &rc);
    ASSERT_EQ(rc, 0) << scenario;
    std::ifstream in(out);
    json result = json::parse(in, nullptr, false);
    ASSERT_FALSE(result.is_discarded()) << scenario;
    EXPECT_GT(result["total"]["answered"].get<int64_t>(), 0) << scenario;
    EXPECT_EQ(result["total"]["non_2xx"], 0) << scenario << ": " << result.dump();
    EXPECT_EQ(result["total"]["errors"], 0) << scenario << ": " << result.dump();
  }
}

TEST_F(BenchSmokeTest, LiveSubscribersSeeEveryCreationAndAreTimed) {
  // One second of commands with `subscribers` watching: what the run says of them.
  auto live = [&](int subscribers, const std::string& as) {
    std::string out = dir_.sub("live" + as + ".json");
    int rc = -1;
    RunTool(CrmctlPath() + " bench --quiet --listen 127.0.0.1:" + std::to_string(crmd_->port()) +
                " --token " + crmd_->token() +
                " --scenario commands --connections 4 --seconds 1 --warmup 0.2 --reps 2"
                " --customers 2 --subscribers " +
                std::to_string(subscribers) + " " + as + " --json " + out,
            &rc);
    EXPECT_EQ(rc, 0);
    std::ifstream in(out);
    json result = json::parse(in, nullptr, false);
    return result.is_object() ? result.value("live", json()) : json();
  };
  json admin = live(20, "");
  ASSERT_TRUE(admin.is_object());
  EXPECT_EQ(admin["subscribers"], 20);
  EXPECT_EQ(admin["as"], "admin");
  EXPECT_GT(admin["answered"].get<int64_t>(), 0) << admin.dump();
  EXPECT_EQ(admin["errors"], 0) << "creations some subscriber never saw: " << admin.dump();
  // As the reps, each watching their own dashboard: each sees its own creations.
  json reps = live(6, "--subscribe-as-reps");
  ASSERT_TRUE(reps.is_object());
  EXPECT_EQ(reps["as"], "reps");
  EXPECT_GT(reps["answered"].get<int64_t>(), 0) << reps.dump();
  EXPECT_EQ(reps["errors"], 0) << reps.dump();
  int rc = -1;
  // Subscribers are timed by lead creations, which the reads scenario has none of.
  RunTool(CrmctlPath() + " bench --quiet --listen 127.0.0.1:" + std::to_string(crmd_->port()) +
              " --token " + crmd_->token() + " --scenario reads --subscribers 2 2>/dev/null",
          &rc);
  EXPECT_NE(rc, 0);
}

TEST_F(BenchSmokeTest, AnOfferedRateIsKeptAndBadOptionsAreRefused) {
  std::string out = dir_.sub("rate.json");
  int rc = -1;
  RunTool(CrmctlPath() + " bench --quiet --listen 127.0.0.1:" + std::to_string(crmd_->port()) +
              " --scenario hello --connections 2 --seconds 1 --warmup 0 --rate 200 --json " + out,
          &rc);
  ASSERT_EQ(rc, 0);
  std::ifstream in(out);
  json result = json::parse(in);
  // 200 a second for a second, give or take the edges of the window.
  EXPECT_NEAR(result["total"]["answered"].get<double>(), 200, 40) << result.dump();
  RunTool(CrmctlPath() + " bench --quiet --scenario nonsense 2>/dev/null", &rc);
  EXPECT_NE(rc, 0);
  RunTool(CrmctlPath() + " bench --quiet --scenario mix --listen 127.0.0.1:" +
              std::to_string(crmd_->port()) + " 2>/dev/null",
          &rc);
  EXPECT_NE(rc, 0) << "mix needs an admin's token";
}

TEST_F(BenchSmokeTest, SeedWritesAHistoryTheServerServes) {
  int rc = -1;
  RunTool(CrmctlPath() + " seed --data-dir " + dir_.sub("data") + " --leads 30 2>/dev/null", &rc);
  EXPECT_NE(rc, 0) << "the server holds the data dir";
  ASSERT_EQ(crmd_->Stop(), 0);
  std::string out = RunTool(CrmctlPath() + " seed --data-dir " + dir_.sub("data") +
                                " --leads 30 --customers 12 --reps 4 --departments 2 2>/dev/null",
                            &rc);
  ASSERT_EQ(rc, 0) << out;
  // 30 leads (20 owned, each with a follow-up), 12 customers with a contact each, and the
  // organisation: 2 departments and 4 reps.
  EXPECT_EQ(json::parse(out)["events"], 30 + 20 + 24 + 2 + 4) << out;
  ASSERT_TRUE(crmd_->Start());
  auto leads = crmd_->Call("GET", "/api/v1/leads?limit=500");
  ASSERT_EQ(leads.status, 200);
  EXPECT_EQ(leads.Json()["items"].size(), 30u);
  auto pool = crmd_->Call("GET", "/api/v1/pool?kind=lead&limit=500");
  EXPECT_EQ(pool.Json()["items"].size(), 10u);
  auto customers = crmd_->Call("GET", "/api/v1/customers?limit=500");
  EXPECT_EQ(customers.Json()["items"].size(), 12u);
}

}  // namespace
}  // namespace crm::testing
