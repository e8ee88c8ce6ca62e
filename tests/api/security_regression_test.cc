// One test per defect a hostile review found in crmd (issue 6): each failed before its
// fix. The classes they belong to are covered more widely by the access matrix, the
// HTTP conformance and resource tests, and the fuzz targets.
#include <gtest/gtest.h>

#include <cstdio>

#include "../eventstore/store_test_util.h"
#include "crmd_process.h"
#include "eventstore/rocks_event_store.h"

namespace crm::testing {
namespace {

using eventstore::testing::TempDir;

class SecurityRegressionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crmd_ = std::make_unique<Crmd>(dir_.sub("data"));
    ASSERT_TRUE(crmd_->Start());
  }
  uint64_t Head() { return Http(crmd_->port(), "GET", "/health").Json()["position"]; }
  std::string Dept(const std::string& name, const std::string& parent = "") {
    json body = {{"name", name}};
    if (!parent.empty()) body["parent_id"] = parent;
    return crmd_->Call("POST", "/api/v1/departments", body).Json()["id"];
  }
  std::pair<std::string, std::string> Staff(const std::string& name, const std::string& role,
                                            const std::string& dept) {
    auto r = crmd_->Call("POST", "/api/v1/staff",
                         {{"name", name},
                          {"email", name + "@example.com"},
                          {"role", role},
                          {"department_id", dept}});
    EXPECT_EQ(r.status, 201) << r.body;
    return {r.Json()["id"], r.Json()["token"]};
  }

  TempDir dir_;
  std::unique_ptr<Crmd> crmd_;
};

// Defect 1: a body nested 100,000 deep with an Idempotency-Key crashed the server
// (serialising the parsed body to hash the key recursed).
TEST_F(SecurityRegressionTest, ADeeplyNestedBodyIsRefusedAndTheServerLives) {
  const int n = 100000;
  std::string deep =
      "{\"a\":" + std::string(n, '[') + std::string(n, ']') + ",\"name\":\"n\",\"company\":\"c\"}";
  uint64_t before = Head();
  for (bool with_key : {true, false}) {
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Authorization", "Bearer " + crmd_->token()}};
    if (with_key) headers.emplace_back("Idempotency-Key", "k1");
    auto r = Http(crmd_->port(), "POST", "/api/v1/leads", deep, headers);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(r.Json()["code"], "malformed_json");
  }
  // Just at the limit is fine; one deeper is not.
  std::string at_limit = "{\"name\":\"n\",\"company\":\"c\",\"x\":" + std::string(63, '[') +
                         std::string(63, ']') + "}";
  std::string over = "{\"name\":\"n\",\"company\":\"c\",\"x\":" + std::string(64, '[') +
                     std::string(64, ']') + "}";
  EXPECT_EQ(Http(crmd_->port(), "POST", "/api/v1/leads", at_limit,
                 {{"Authorization", "Bearer " + crmd_->token()}, {"Idempotency-Key", "k2"}})
                .status,
            201);
  EXPECT_EQ(Http(crmd_->port(), "POST", "/api/v1/leads", over,
                 {{"Authorization", "Bearer " + crmd_->token()}, {"Idempotency-Key", "k3"}})
                .Json()["code"],
            "malformed_json");
  EXPECT_EQ(Head(), before + 1);
  EXPECT_EQ(Http(crmd_->port(), "GET", "/health").status, 200);
}

// The key's hash is of the bytes sent: the same bytes replay, other bytes are another request.
TEST_F(SecurityRegressionTest, AnIdempotencyKeyBindsTheBytesOfTheBody) {
  std::string body = R"({"name":"n","company":"c"})";
  std::vector<std::pair<std::string, std::string>> h = {
      {"Authorization", "Bearer " + crmd_->token()}, {"Idempotency-Key", "bytes-1"}};
  auto a = Http(crmd_->port(), "POST", "/api/v1/leads", body, h);
  auto b = Http(crmd_->port(), "POST", "/api/v1/leads", body, h);
  ASSERT_EQ(a.status, 201);
  EXPECT_EQ(b.body, a.body);
  auto spaced = Http(crmd_->port(), "POST", "/api/v1/leads", R"({"name": "n", "company": "c"})", h);
  EXPECT_EQ(spaced.status, 422);
  EXPECT_EQ(spaced.Json()["code"], "idempotency_key_reused");
}

// Keys belong to their caller: another person's identical request with the same key is
// decided for them, and shows nothing of the first.
TEST_F(SecurityRegressionTest, IdempotencyKeysAreScopedToTheCaller) {
  std::string dept = Dept("East");
  auto [a, ta] = Staff("a", "sales", dept);
  auto [b, tb] = Staff("b", "sales", dept);
  // The second is another rep's lead for the same prospect: recorded all the same.
  json body = {{"name", "Ma"}, {"company", "Same Co"}, {"allow_duplicate", true}};
  auto first = crmd_->Call("POST", "/api/v1/leads", body, ta, {{"Idempotency-Key", "shared-key"}});
  auto second = crmd_->Call("POST", "/api/v1/leads", body, tb, {{"Idempotency-Key", "shared-key"}});
  ASSERT_EQ(first.status, 201);
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_NE(second.Json()["id"], first.Json()["id"]);
  EXPECT_GT(second.Json()["position"].get<uint64_t>(), first.Json()["position"].get<uint64_t>());
  EXPECT_EQ(
      crmd_->Call("GET", "/api/v1/leads/" + second.Json()["id"].get<std::string>(), nullptr, tb)
          .Json()["owner_id"],
      b);
  // And a's key still answers a with a's lead.
  auto again = crmd_->Call("POST", "/api/v1/leads", body, ta, {{"Idempotency-Key", "shared-key"}});
  EXPECT_EQ(again.Json()["id"], first.Json()["id"]);
}

// Defect 2: a manager could depart an admin (or finance, or a peer manager) of their department.
TEST_F(SecurityRegressionTest, AManagerCannotDepartAnAdminFinanceOrPeerOfTheirDepartment) {
  std::string north = Dept("North");
  auto [mgr, mgr_token] = Staff("mgr", "manager", north);
  auto [adm, adm_token] = Staff("adm", "admin", north);
  auto [fin, fin_token] = Staff("fin", "finance", north);
  auto [peer, peer_token] = Staff("peer", "manager", north);
  uint64_t before = Head();
  for (const auto& [who, token] :
       {std::pair{adm, adm_token}, {fin, fin_token}, {peer, peer_token}}) {
    auto r = crmd_->Call("POST", "/api/v1/staff/" + who + "/handover",
                         {{"to", "pool"}, {"depart", true}}, mgr_token);
    EXPECT_EQ(r.status, 403) << who << ": " << r.body;
    EXPECT_EQ(crmd_->Call("GET", "/api/v1/staff/" + who + "/portfolio", nullptr, mgr_token).status,
              403);
    EXPECT_EQ(crmd_->Call("GET", "/api/v1/leads", nullptr, token).status, 200)
        << "their token still works";
  }
  EXPECT_EQ(Head(), before);
}

// Defect 3: an opportunity stayed with the previous owner after its customer moved.
TEST_F(SecurityRegressionTest, DealsMoveWithTheirCustomer) {
  std::string dept = Dept("D");
  auto [n, tn] = Staff("repn", "sales", dept);
  auto [s, ts] = Staff("reps", "sales", dept);
  std::string cus =
      crmd_->Call("POST", "/api/v1/customers", {{"name", "Moving Co"}}, tn).Json()["id"];
  std::string opp = crmd_
                        ->Call("POST", "/api/v1/opportunities",
                               {{"customer_id", cus},
                                {"name", "o"},
                                {"amount", 10},
                                {"currency", "CNY"},
                                {"expected_close_date", "2026-12-31"}},
                               tn)
                        .Json()["id"];
  ASSERT_EQ(crmd_->Call("POST", "/api/v1/customers/" + cus + "/transfer", {{"to", s}}).status, 200);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/opportunities/" + opp, nullptr, tn).status, 404);
  EXPECT_EQ(
      crmd_->Call("POST", "/api/v1/opportunities/" + opp + "/lose", {{"reason", "x"}}, tn).status,
      404);
  auto now = crmd_->Call("GET", "/api/v1/opportunities/" + opp, nullptr, ts);
  ASSERT_EQ(now.status, 200);
  EXPECT_EQ(now.Json()["owner_id"], s);
  // Its own history shows the move.
  json timeline = crmd_->Call("GET", "/api/v1/customers/" + cus + "/timeline").Json()["items"];
  bool moved = false;
  for (const auto& e : timeline) moved |= e["type"] == "DealOwnerChanged" && e["stream"] == opp;
  EXPECT_TRUE(moved);
}

// Defect 7: one invalid byte in a stored correlation id made `crmctl export` abort. The
// header is now refused; a stored one (an older log) renders with U+FFFD.
TEST_F(SecurityRegressionTest, HeaderValuesThatReachEventsAreCheckedAndAnyStoredTextRenders) {
  std::string token = crmd_->token();
  uint64_t before = Head();
  auto bad = Http(crmd_->port(), "POST", "/api/v1/leads", R"({"name":"n","company":"c"})",
                  {{"Authorization", "Bearer " + token}, {"X-Correlation-Id", "abc\xff\xfe"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Json()["errors"][0]["field"], "X-Correlation-Id");
  EXPECT_EQ(Head(), before);
  // A long id of multi-byte characters is cut on a character boundary.
  std::string han;
  for (int i = 0; i < 100; ++i) han += "线";  // 3 bytes each
  auto ok = Http(crmd_->port(), "POST", "/api/v1/leads", R"({"name":"n","company":"c"})",
                 {{"Authorization", "Bearer " + token}, {"X-Correlation-Id", han}});
  ASSERT_EQ(ok.status, 201);
  // Unknown ids with invalid bytes in a path get a clean 404.
  auto path = Http(crmd_->port(), "GET", "/api/v1/leads/%FF%FE", "",
                   {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(path.status, 404);
  EXPECT_FALSE(path.Json().is_discarded());
  ASSERT_EQ(crmd_->Stop(), 0);

  // A log written before the check: an event whose correlation id is not UTF-8.
  {
    auto store =
        std::move(eventstore::OpenRocksEventStore({dir_.sub("data") + "/log", false})).value();
    auto last = store->ReadAll(store->Head(), 1);
    auto batch = eventstore::testing::Batch(
        *store, {eventstore::testing::LeadEvent("lead_legacy", "bad \xc3")}, last->front().at);
    batch.events[0].correlation_id = std::string("cut mid-character \xe7\xba");
    ASSERT_TRUE(store->Append(batch).ok());
    store->Close();
  }
  int rc = 0;
  std::string out = RunTool(CrmctlPath() + " export --data-dir " + dir_.sub("data"), &rc);
  EXPECT_EQ(rc, 0);
  size_t lines = 0, cut_ok = 0;
  for (size_t pos = 0, nl; (nl = out.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    json e = json::parse(out.substr(pos, nl - pos), nullptr, false);
    ASSERT_FALSE(e.is_discarded()) << out.substr(pos, nl - pos);
    ++lines;
    if (e.value("correlation_id", "").find("线") != std::string::npos) {
      EXPECT_LE(e["correlation_id"].get<std::string>().size(), 200u);
      ++cut_ok;
    }
  }
  EXPECT_EQ(lines, before + 2);
  EXPECT_EQ(cut_ok, 1u);
  EXPECT_NE(out.find("\xef\xbf\xbd"), std::string::npos) << "bad bytes come out as U+FFFD";
  // The server reads such a log too, and shows the event.
  ASSERT_TRUE(crmd_->Start());
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/leads/lead_legacy").status, 200);
}

// Found by a hostile review: values the server accepted but could not write back.
TEST_F(SecurityRegressionTest, WhatCouldNotBeWrittenBackIsRefused) {
  std::string dept = Dept("D");
  auto [rep, token] = Staff("late", "sales", dept);
  std::string lead =
      crmd_->Call("POST", "/api/v1/leads", {{"name", "n"}, {"company", "c"}}, token).Json()["id"];
  auto far = crmd_->Call(
      "POST", "/api/v1/leads/" + lead + "/follow-ups",
      {{"channel", "call"}, {"note", "x"}, {"next_at", "9999-12-31T23:59:59-14:00"}}, token);
  EXPECT_EQ(far.status, 400) << far.body;
  json policy = {{"recycle_no_follow_up", "P12000000D"},
                 {"recycle_no_deal", nullptr},
                 {"remind_before", nullptr},
                 {"daily_claim_limit", nullptr},
                 {"previous_owner_block", nullptr},
                 {"max_owned_customers", nullptr},
                 {"max_owned_leads", nullptr}};
  EXPECT_EQ(crmd_->Call("PUT", "/api/v1/pool/policy", policy).status, 400);
  policy["recycle_no_follow_up"] = "P3650D";
  EXPECT_EQ(crmd_->Call("PUT", "/api/v1/pool/policy", policy).status, 200);
  // An as_of past the head is answered as of the head, and says so.
  std::string cus =
      crmd_->Call("POST", "/api/v1/customers", {{"name", "Now Co"}}, token).Json()["id"];
  auto as_of = crmd_->Call("GET", "/api/v1/customers/" + cus + "?as_of=18446744073709551615",
                           nullptr, token);
  ASSERT_EQ(as_of.status, 200) << as_of.body;
  EXPECT_EQ(as_of.Json()["as_of"]["position"], Head());
}

}  // namespace
}  // namespace crm::testing
