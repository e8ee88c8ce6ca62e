// Audit end to end: the log over HTTP page by page, verification while the server runs
// and after tampering, time travel across a handover, and crmctl's rebuild and replay.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "../eventstore/tamper.h"
#include "e2e_fixture.h"

namespace crm::testing {
namespace {

class AuditTest : public E2eTest {
 protected:
  // GET /api/v1/events with `query`, as `token`; expects 200.
  json Events(const std::string& query, const std::string& token) {
    auto r = crmd_->Call("GET", "/api/v1/events?" + query, nullptr, token);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  }
};

TEST_F(AuditTest, TheLogPagesInOrderWithHashesForAuditorsAndAdminsOnly) {
  auto [rep, rep_token] = Rep("rep");
  auto [auditor, auditor_token] = Rep("auditor", "auditor");
  std::string lead = Lead(rep_token);
  ASSERT_EQ(crmd_
                ->Call("POST", "/api/v1/leads/" + lead + "/follow-ups",
                       {{"channel", "call"}, {"note", "n"}}, rep_token)
                .status,
            201);
  for (int i = 0; i < 4; ++i) Lead(rep_token);
  uint64_t head = Http(crmd_->port(), "GET", "/health").Json()["position"];

  // Page by page with the cursor: every position once, in order, each with its hash.
  std::regex hex64("[0-9a-f]{64}");
  uint64_t expect = 1;
  std::string cursor = "after=0";
  for (int pages = 0; pages < 100; ++pages) {
    json page = Events(cursor + "&limit=3", auditor_token);
    for (const auto& e : page["items"]) {
      EXPECT_EQ(e["position"], expect++);
      EXPECT_TRUE(std::regex_match(e["hash"].get<std::string>(), hex64)) << e;
      EXPECT_FALSE(e["type"].get<std::string>().empty());
      EXPECT_TRUE(e["data"].is_object());
    }
    if (page["next_cursor"].is_null()) break;
    cursor = "cursor=" + page["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(expect, head + 1) << "the pages cover the log, no more, no less";

  // One stream, in its versions; one type; both filters page the same way.
  json stream = Events("stream=" + lead, auditor_token);
  ASSERT_EQ(stream["items"].size(), 2u);
  EXPECT_EQ(stream["items"][0]["type"], "LeadCreated");
  EXPECT_EQ(stream["items"][1]["type"], "FollowUpRecorded");
  EXPECT_EQ(stream["items"][1]["version"], 2);
  EXPECT_EQ(stream["items"][1]["actor"], rep);
  EXPECT_TRUE(stream["next_cursor"].is_null());
  json created = Events("type=LeadCreated&limit=2", crmd_->token());
  ASSERT_EQ(created["items"].size(), 2u);
  json rest = Events("type=LeadCreated&cursor=" + created["next_cursor"].get<std::string>(),
                     crmd_->token());
  EXPECT_EQ(rest["items"].size(), 3u);
  for (const auto& e : rest["items"]) EXPECT_EQ(e["type"], "LeadCreated");
  EXPECT_TRUE(Events("stream=lead_nobody", auditor_token)["items"].empty());

  // A mistyped filter is refused, not ignored; others than auditors and admins are not let in.
  auto bad = crmd_->Call("GET", "/api/v1/events?type=LeadCreatd", nullptr, auditor_token);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Json()["errors"][0]["field"], "type");
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/events?after=-1", nullptr, auditor_token).status, 400);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/events?limit=501", nullptr, auditor_token).status, 400);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/events", nullptr, rep_token).status, 403);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/audit/verify", nullptr, rep_token).status, 403);
  EXPECT_EQ(Http(crmd_->port(), "GET", "/api/v1/events").status, 401);
}

TEST_F(AuditTest, VerifyRunsBesideTheServerAndNamesATamperedPosition) {
  auto [auditor, auditor_token] = Rep("auditor", "auditor");
  auto [rep, rep_token] = Rep("rep");
  for (int i = 0; i < 20; ++i) Lead(rep_token);
  uint64_t head = Http(crmd_->port(), "GET", "/health").Json()["position"];
  auto ok = crmd_->Call("GET", "/api/v1/audit/verify", nullptr, auditor_token);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Json()["ok"], true);
  EXPECT_EQ(ok.Json()["events"], head);
  EXPECT_EQ(ok.Json()["head_position"], head);
  std::string head_hash = ok.Json()["head_hash"];
  json last = Events("after=" + std::to_string(head - 1), auditor_token)["items"][0];
  EXPECT_EQ(last["hash"], head_hash) << "the head hash is the last event's";

  // Verifications while commands are written: each sees a log and a head that belong
  // together.
  std::atomic<bool> stop{false};
  std::thread writer([&, rep_token = rep_token] {
    while (!stop) Lead(rep_token);
  });
  for (int i = 0; i < 10; ++i) {
    auto v = crmd_->Call("GET", "/api/v1/audit/verify", nullptr, auditor_token);
    EXPECT_EQ(v.Json()["ok"], true) << v.body;
  }
  stop = true;
  writer.join();

  // An event rewritten behind the server's back, found over HTTP and by crmctl.
  head = Http(crmd_->port(), "GET", "/health").Json()["position"];
  ASSERT_EQ(crmd_->Stop(), 0);
  eventstore::testing::Tamper(dir_.sub("data") + "/log", 7, false);
  int rc = 0;
  json offline = json::parse(RunTool(CrmctlPath() + " verify --data-dir " + dir_.sub("data"), &rc));
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(offline["first_bad_position"], 7);
  ASSERT_TRUE(crmd_->Start());
  auto bad = crmd_->Call("GET", "/api/v1/audit/verify", nullptr, auditor_token);
  ASSERT_EQ(bad.status, 200) << bad.body;
  EXPECT_EQ(bad.Json()["ok"], false);
  EXPECT_EQ(bad.Json()["first_bad_position"], 7);
  EXPECT_FALSE(bad.Json()["detail"].get<std::string>().empty());
}

TEST_F(AuditTest, AsOfAHandoverShowsTheOwnerOfEachSideAndCrmctlReplaysAndRebuilds) {
  auto [mgr, mgr_token] = Rep("boss", "manager");
  auto [leaver, leaver_token] = Rep("leaver");
  auto [heir, heir_token] = Rep("heir");
  auto c = crmd_->Call("POST", "/api/v1/customers", {{"name", "Handover Co"}}, leaver_token);
  ASSERT_EQ(c.status, 201) << c.body;
  std::string cus = c.Json()["id"];
  uint64_t before = c.Json()["position"];
  auto h = crmd_->Call("POST", "/api/v1/staff/" + leaver + "/handover",
                       {{"to", heir}, {"depart", true}}, mgr_token);
  ASSERT_EQ(h.status, 200) << h.body;
  uint64_t after = h.Json()["position"];
  auto as_of = [&, heir_token = heir_token](uint64_t p) {
    return crmd_->Call("GET", "/api/v1/customers/" + cus + "?as_of=" + std::to_string(p), nullptr,
                       heir_token);
  };
  EXPECT_EQ(as_of(before).Json()["owner_id"], leaver);
  EXPECT_EQ(as_of(after).Json()["owner_id"], heir);
  json history = as_of(after).Json()["owner_history"];
  EXPECT_EQ(history.back()["reason"], "handover");
  json now = crmd_->Call("GET", "/api/v1/customers/" + cus, nullptr, heir_token).Json();

  // Offline: replay shows what the server showed; a rebuild gives the same views back.
  ASSERT_EQ(crmd_->Stop(), 0);
  int rc = 0;
  std::string replay = CrmctlPath() + " replay --data-dir " + dir_.sub("data") + " --until ";
  json then = json::parse(RunTool(replay + std::to_string(before) + " customer " + cus, &rc));
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(then["owner_id"], leaver);
  EXPECT_EQ(then["as_of"]["position"], before);
  RunTool(replay + "1 customer cus_none", &rc);
  EXPECT_EQ(rc, 2);
  json rebuilt =
      json::parse(RunTool(CrmctlPath() + " rebuild --data-dir " + dir_.sub("data"), &rc));
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(rebuilt["position"], after);
  for (const auto& [name, position] : rebuilt["projections"].items()) {
    EXPECT_EQ(position, after) << name;
  }
  ASSERT_TRUE(crmd_->Start());
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/customers/" + cus, nullptr, heir_token).Json(), now);
}

}  // namespace
}  // namespace crm::testing
