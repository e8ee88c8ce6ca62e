// End-to-end: a real crmd process on a free loopback port, spoken to over HTTP.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "../eventstore/store_test_util.h"
#include "../eventstore/tamper.h"
#include "crmd_process.h"
#include "e2e_fixture.h"

namespace crm::testing {
namespace {

using eventstore::testing::TempDir;

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
  auto bad = Http(crmd_->port(), "POST", "/api/v1/leads",
                  "{\"name\":", {{"Authorization", "Bearer " + crmd_->token()}});
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
  auto fu =
      crmd_->Call("POST", "/api/v1/leads/" + id + "/follow-ups",
                  {{"channel", "call"}, {"note", "first call"}}, token, {{"If-Match", "\"1\""}});
  ASSERT_EQ(fu.status, 201) << fu.body;
  EXPECT_EQ(fu.Json()["version"], 2);
  EXPECT_EQ(fu.Json()["lead_id"], id);
  auto v = crmd_->Call("GET", "/api/v1/leads/" + id, nullptr, token).Json();
  EXPECT_EQ(v["state"], "following");
  EXPECT_EQ(v["follow_ups"][0]["note"], "first call");
  EXPECT_EQ(
      crmd_->Call("POST", "/api/v1/leads/" + id + "/void", {{"reason", "spam"}}, token).status,
      200);
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
  std::string own = Lead(tb);
  auto list = crmd_->Call("GET", "/api/v1/leads?limit=500", nullptr, tb);
  ASSERT_EQ(list.status, 200) << list.body;
  std::set<std::string> ids;
  json items = list.Json()["items"];
  for (const auto& l : items) ids.insert(l["id"]);
  EXPECT_EQ(ids.count(own), 1u) << "the list answers, with b's own lead";
  EXPECT_EQ(ids.count(id), 0u) << "and without a's";
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
  json staff = {
      {"name", "x"}, {"email", "x@example.com"}, {"role", "sales"}, {"department_id", dept_}};
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
  auto lag = crmd_->Call("GET", "/api/v1/leads?min_position=" + std::to_string(head + 1000),
                         nullptr, token);
  EXPECT_EQ(lag.status, 503);
  EXPECT_EQ(lag.Json()["code"], "projection_lagging");
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/leads?min_position=abc", nullptr, token).status, 400);

  // A query that asks for a position not yet written waits for it: another client's
  // command writes it meanwhile, and the answer shows it.
  head = Http(crmd_->port(), "GET", "/health").Json()["position"];
  HttpResult waited;
  std::thread reader([&, token = token] {
    waited = crmd_->Call("GET", "/api/v1/leads?limit=500&min_position=" + std::to_string(head + 1),
                         nullptr, token);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string id = Lead(token);
  reader.join();
  ASSERT_EQ(waited.status, 200) << waited.body;
  EXPECT_GE(std::stoull(waited.Header("x-position")), head + 1);
  bool listed = false;
  json items = waited.Json()["items"];
  for (const auto& l : items) listed |= l["id"] == id;
  EXPECT_TRUE(listed) << "the answer waited for the lead written after the query arrived";
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
      if (r.status == 200)
        ++wins;
      else if (r.status == 404 || r.status == 422)
        ++others;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(others.load(), 7);
}

TEST_F(E2eTest, TheRecycleJobReturnsNeglectedLeadsAsTheSystem) {
  auto [rep, token] = Rep("slow");
  json off = {{"recycle_no_follow_up", "PT1S"},  {"recycle_no_deal", nullptr},
              {"remind_before", nullptr},        {"daily_claim_limit", nullptr},
              {"previous_owner_block", nullptr}, {"max_owned_customers", nullptr},
              {"max_owned_leads", nullptr}};
  ASSERT_EQ(crmd_->Call("PUT", "/api/v1/pool/policy", off).status, 200);
  std::string id = Lead(token);
  std::string cus =
      crmd_->Call("POST", "/api/v1/customers", {{"name", "Slow Co"}}, token).Json()["id"];
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
  // The recycle is an event of the system actor, in the record's history.
  std::string recycled_by;
  for (int i = 0; i < 60 && recycled_by.empty(); ++i) {
    json timeline = crmd_->Call("GET", "/api/v1/customers/" + cus + "/timeline").Json()["items"];
    for (const auto& e : timeline) {
      if (e["type"] == "CustomerRecycled") recycled_by = e["actor"];
    }
    if (recycled_by.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(recycled_by, "system");
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
  // It must have exited, with 1 and a message that says why; not hung, not crashed.
  EXPECT_EQ(second.exit_code(), 1);
  EXPECT_NE(second.stderr_text().find("another crmd is using"), std::string::npos)
      << second.stderr_text();
}

TEST_F(E2eTest, AcknowledgedCommandsSurviveSigkill) {
  auto [rep, token] = Rep("crash");
  std::vector<std::string> acked;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, token = token] {
      while (!stop) {
        auto r = crmd_->Call("POST", "/api/v1/leads", NewLead(), token);
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

// With snapshots every 20 events, a start after SIGKILL loads the newest and folds only
// the rest of the log, and decides exactly as a fold of the whole log would.
TEST_F(E2eTest, AStartLoadsTheNewestDecisionModelSnapshotAndFoldsOnlyTheRest) {
  crmd_->Stop();
  crmd_ =
      std::make_unique<Crmd>(dir_.sub("data"), std::vector<std::string>{"--snapshot-every", "20"});
  ASSERT_TRUE(crmd_->Start());
  auto [rep, token] = Rep("snap");
  auto [other, other_token] = Rep("rival");
  auto customer = crmd_->Call("POST", "/api/v1/customers", {{"name", "Snap Trading"}}, token);
  ASSERT_EQ(customer.status, 201) << customer.body;
  for (int i = 0; i < 25; ++i) Lead(token);
  double snapshot = 0;
  for (int i = 0; i < 200 && snapshot == 0; ++i) {
    snapshot = Metric(*crmd_, "evcrm_model_snapshot_position");
    if (snapshot == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GT(snapshot, 0) << "no snapshot was written";
  std::string last = Lead(token);  // after the snapshot: folded from the log at the start
  const double head = Metric(*crmd_, "evcrm_log_head_position");
  ASSERT_GT(head, snapshot);

  crmd_->Stop(SIGKILL);
  ASSERT_TRUE(crmd_->Start());
  EXPECT_EQ(Metric(*crmd_, "evcrm_model_loaded_from_position"), snapshot);
  EXPECT_EQ(Metric(*crmd_, "evcrm_model_loaded_events"), head - snapshot);
  EXPECT_NE(crmd_->stderr_text().find("decision model loaded"), std::string::npos);
  // Facts from the snapshot: the name is taken, the rep's email too.
  auto twin = crmd_->Call("POST", "/api/v1/customers", {{"name", "snap trading"}}, token);
  EXPECT_EQ(twin.status, 409) << twin.body;
  EXPECT_EQ(twin.Json()["code"], "duplicate_customer");
  auto again = crmd_->Call("POST", "/api/v1/staff",
                           {{"name", "x"}, {"email", "snap@example.com"}, {"role", "sales"}});
  EXPECT_EQ(again.status, 400) << again.body;
  // Facts from the log after it: the last lead is the rep's, not the rival's to follow up.
  json follow_up = {{"channel", "call"}, {"note", "n"}};
  EXPECT_EQ(
      crmd_->Call("POST", "/api/v1/leads/" + last + "/follow-ups", follow_up, other_token).status,
      404);
  EXPECT_EQ(crmd_->Call("POST", "/api/v1/leads/" + last + "/follow-ups", follow_up, token).status,
            201);
}

TEST_F(E2eTest, CustomerNamesAreUniqueAcrossWidthCaseAndSpace) {
  auto [rep, token] = Rep("wu");
  auto a = crmd_->Call("POST", "/api/v1/customers", {{"name", "ＡＣＭＥ　Trading"}}, token);
  ASSERT_EQ(a.status, 201) << a.body;
  auto b = crmd_->Call("POST", "/api/v1/customers", {{"name", "  acme   TRADING "}});
  EXPECT_EQ(b.status, 409);
  EXPECT_EQ(b.Json()["code"], "duplicate_customer");
  EXPECT_EQ(b.Json()["existing_id"], a.Json()["id"]);
}

TEST_F(E2eTest, SearchFoldsWidthAndCaseFindsPhonesByDigitsAndHidesWhatOthersHold) {
  auto [a, ta] = Rep("a");
  auto [b, tb] = Rep("b");
  std::string lead = Lead(
      ta, {{"name", "王小明"}, {"company", "ＢＬＵＥ Sky 贸易"}, {"phone", "+86 138-0013-8000"}});
  auto customer = crmd_->Call("POST", "/api/v1/customers", {{"name", "蓝天科技"}}, ta);
  ASSERT_EQ(customer.status, 201) << customer.body;
  std::string cid = customer.Json()["id"];
  auto contact = crmd_->Call("POST", "/api/v1/customers/" + cid + "/contacts",
                             {{"name", "李娜"}, {"phone", "139 1234 5678"}}, ta);
  ASSERT_EQ(contact.status, 201) << contact.body;
  auto ids = [&](const std::string& target, const std::string& token) {
    auto r = crmd_->Call("GET", target, nullptr, token);
    EXPECT_EQ(r.status, 200) << target << ": " << r.body;
    std::vector<std::string> out;
    json page = r.Json();
    for (const auto& item : page["items"]) out.push_back(item["id"]);
    return out;
  };
  using Ids = std::vector<std::string>;
  // Width and case fold: "blue" finds "ＢＬＵＥ"; one Chinese character finds its name.
  EXPECT_EQ(ids("/api/v1/leads?q=blue", ta), Ids{lead});
  EXPECT_EQ(ids("/api/v1/leads?q=%E7%8E%8B", ta), Ids{lead});  // 王
  // A phone number by its digits, however it was written or is typed.
  EXPECT_EQ(ids("/api/v1/leads?q=13800138000", ta), Ids{lead});
  EXPECT_EQ(ids("/api/v1/leads?q=0013-8000", ta), Ids{lead});
  // A contact's mobile and name find its customer.
  EXPECT_EQ(ids("/api/v1/customers?q=13912345678", ta), Ids{cid});
  EXPECT_EQ(ids("/api/v1/customers?q=%E6%9D%8E%E5%A8%9C", ta), Ids{cid});  // 李娜
  EXPECT_TRUE(ids("/api/v1/customers?q=13800000000", ta).empty());
  // A search within one owner's records keeps to them.
  EXPECT_EQ(ids("/api/v1/leads?owner_id=" + a + "&q=blue", ""), Ids{lead});
  EXPECT_TRUE(ids("/api/v1/leads?owner_id=" + b + "&q=blue", "").empty());
  EXPECT_TRUE(ids("/api/v1/customers?owner_id=" + b + "&q=13912345678", "").empty());
  // What another rep holds stays out of their searches.
  EXPECT_TRUE(ids("/api/v1/leads?q=blue", tb).empty());
  EXPECT_TRUE(ids("/api/v1/customers?q=13912345678", tb).empty());
  // The index is rebuilt at start: the same answers after a restart.
  crmd_->Stop();
  ASSERT_TRUE(crmd_->Start());
  EXPECT_EQ(ids("/api/v1/customers?q=13912345678", ta), Ids{cid});
  EXPECT_EQ(ids("/api/v1/leads?q=BLUE%20SKY", ta), Ids{lead});
}

TEST_F(E2eTest, AConversionFeedsTheCustomer360AndItsTimeline) {
  auto [rep, token] = Rep("li");
  std::string lead = Lead(token, {{"company", "Blue Sky Ltd"}});
  auto conv = crmd_->Call("POST", "/api/v1/leads/" + lead + "/convert",
                          {{"contact", {{"name", "Mr Ma"}, {"title", "CEO"}}},
                           {"opportunity",
                            {{"name", "Pilot"},
                             {"amount", 500000},
                             {"currency", "CNY"},
                             {"expected_close_date", Day(30)}}}},
                          token);
  ASSERT_EQ(conv.status, 200) << conv.body;
  json c = conv.Json();
  EXPECT_EQ(c["customer_created"], true);
  std::string cus = c["customer_id"];
  auto view = crmd_->Call("GET", "/api/v1/customers/" + cus, nullptr, token);
  ASSERT_EQ(view.status, 200);
  json v = view.Json();
  EXPECT_EQ(v["name"], "Blue Sky Ltd");
  EXPECT_EQ(v["owner_id"], rep);
  EXPECT_EQ(v["source_lead_ids"][0], lead);
  EXPECT_EQ(v["contacts"][0]["name"], "Mr Ma");
  EXPECT_EQ(v["opportunities"][0]["probability"], 10);
  EXPECT_EQ(v["owner_history"][0]["reason"], "converted");
  EXPECT_EQ(v["totals"]["paid"], json::object());
  // A second lead of the same company joins the customer.
  std::string lead2 = Lead(token, {{"company", "BLUE SKY LTD"}});
  auto join =
      crmd_->Call("POST", "/api/v1/leads/" + lead2 + "/convert", json::object(), token).Json();
  EXPECT_EQ(join["customer_created"], false);
  EXPECT_EQ(join["customer_id"], cus);
  // The timeline, newest first, paged.
  auto t1 =
      crmd_->Call("GET", "/api/v1/customers/" + cus + "/timeline?limit=2", nullptr, token).Json();
  ASSERT_EQ(t1["items"].size(), 2u);
  EXPECT_EQ(t1["items"][0]["type"], "LeadConverted");
  EXPECT_EQ(t1["items"][1]["type"], "CustomerLeadAttached");
  ASSERT_TRUE(t1["next_cursor"].is_string());
  auto t2 = crmd_
                ->Call("GET",
                       "/api/v1/customers/" + cus +
                           "/timeline?limit=50&cursor=" + t1["next_cursor"].get<std::string>(),
                       nullptr, token)
                .Json();
  std::set<std::string> types;
  for (const auto& e : t2["items"]) types.insert(e["type"]);
  EXPECT_EQ(types, (std::set<std::string>{"CustomerCreated", "ContactCreated", "OpportunityCreated",
                                          "LeadConverted"}));
  EXPECT_LT(t2["items"][0]["position"].get<uint64_t>(), t1["items"][1]["position"].get<uint64_t>());
}

TEST_F(E2eTest, ContractsPlansPaymentsAndReceivables) {
  auto [rep, token] = Rep("zhou");
  auto [fin, fin_token] = Rep("cash", "finance");
  std::string cus =
      crmd_->Call("POST", "/api/v1/customers", {{"name", "Globex"}}, token).Json()["id"];
  json contract = {
      {"customer_id", cus},
      {"number", "HT-1"},
      {"title", "Pilot"},
      {"amount", 1000000},
      {"currency", "CNY"},
      {"signed_on", Day(-40)},
      {"installments",
       {{{"due_on", Day(-10)}, {"amount", 400000}}, {{"due_on", Day(20)}, {"amount", 600000}}}}};
  json wrong = contract;
  wrong["installments"][1]["amount"] = 500000;
  EXPECT_EQ(crmd_->Call("POST", "/api/v1/contracts", wrong, token).Json()["code"], "plan_mismatch");
  for (json bad : {json(0), json(-5), json(1e20), json("100")}) {
    json b = contract;
    b["amount"] = bad;
    EXPECT_EQ(crmd_->Call("POST", "/api/v1/contracts", b, token).status, 400) << bad;
  }
  json bad_date = contract;
  bad_date["signed_on"] = "2026-02-30";
  EXPECT_EQ(crmd_->Call("POST", "/api/v1/contracts", bad_date, token).status, 400);
  auto k = crmd_->Call("POST", "/api/v1/contracts", contract, token);
  ASSERT_EQ(k.status, 201) << k.body;
  std::string id = k.Json()["id"];
  EXPECT_EQ(crmd_->Call("POST", "/api/v1/contracts", contract, token).Json()["code"],
            "duplicate_contract_number");
  EXPECT_EQ(crmd_
                ->Call("POST", "/api/v1/contracts/" + id + "/payments",
                       {{"amount", 1}, {"received_on", Day(0)}}, token)
                .status,
            403);
  auto pay =
      crmd_->Call("POST", "/api/v1/contracts/" + id + "/payments",
                  {{"amount", 300000}, {"received_on", Day(0)}, {"reference", "TX1"}}, fin_token);
  ASSERT_EQ(pay.status, 201) << pay.body;
  EXPECT_EQ(pay.Json()["id"].get<std::string>().substr(0, 4), "pay_");
  json got = crmd_->Call("GET", "/api/v1/contracts/" + id, nullptr, fin_token).Json();
  EXPECT_EQ(got["paid"], 300000);
  EXPECT_EQ(got["outstanding"], 700000);
  EXPECT_EQ(got["status"], "active");
  EXPECT_EQ(got["installments"][0]["status"], "overdue");
  EXPECT_EQ(got["installments"][0]["days_overdue"], 10);
  EXPECT_EQ(got["installments"][1]["status"], "pending");
  json totals = crmd_->Call("GET", "/api/v1/customers/" + cus, nullptr, token).Json()["totals"];
  EXPECT_EQ(totals["overdue"]["CNY"], 100000);
  EXPECT_EQ(totals["outstanding"]["CNY"], 700000);
  json rec = crmd_->Call("GET", "/api/v1/receivables?overdue=true", nullptr, fin_token).Json();
  ASSERT_EQ(rec["items"].size(), 1u);
  EXPECT_EQ(rec["items"][0]["outstanding"], 100000);
  auto over = crmd_->Call("POST", "/api/v1/contracts/" + id + "/payments",
                          {{"amount", 700001}, {"received_on", Day(0)}}, fin_token);
  EXPECT_EQ(over.Json()["code"], "overpayment");
  ASSERT_EQ(crmd_
                ->Call("POST", "/api/v1/contracts/" + id + "/payments",
                       {{"amount", 700000}, {"received_on", Day(0)}}, fin_token)
                .status,
            201);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/contracts/" + id, nullptr, fin_token).Json()["status"],
            "paid");
  EXPECT_TRUE(
      crmd_->Call("GET", "/api/v1/receivables", nullptr, fin_token).Json()["items"].empty());
}

TEST_F(E2eTest, AHandoverMovesThePortfolioAndEndsTheLeaversAccess) {
  auto [mgr, mgr_token] = Rep("boss", "manager");
  auto [leaver, leaver_token] = Rep("leaver");
  auto [heir, heir_token] = Rep("heir");
  for (int i = 0; i < 3; ++i) Lead(leaver_token);
  std::string cus =
      crmd_->Call("POST", "/api/v1/customers", {{"name", "Initech"}}, leaver_token).Json()["id"];
  auto k = crmd_->Call("POST", "/api/v1/contracts",
                       {{"customer_id", cus},
                        {"number", "HT-L"},
                        {"title", "t"},
                        {"amount", 8000},
                        {"currency", "CNY"},
                        {"signed_on", Day(0)},
                        {"installments", {{{"due_on", Day(30)}, {"amount", 8000}}}}},
                       leaver_token);
  ASSERT_EQ(k.status, 201) << k.body;
  json pf = crmd_->Call("GET", "/api/v1/staff/" + leaver + "/portfolio", nullptr, mgr_token).Json();
  EXPECT_EQ(pf["counts"],
            json({{"leads", 3}, {"customers", 1}, {"opportunities", 0}, {"contracts", 1}}));
  EXPECT_EQ(
      crmd_->Call("GET", "/api/v1/staff/" + leaver + "/portfolio", nullptr, heir_token).status,
      403);
  auto h = crmd_->Call("POST", "/api/v1/staff/" + leaver + "/handover",
                       {{"to", heir}, {"depart", true}}, mgr_token);
  ASSERT_EQ(h.status, 200) << h.body;
  EXPECT_EQ(h.Json()["moved"]["leads"], 3);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/leads", nullptr, leaver_token).status, 401);
  json v = crmd_->Call("GET", "/api/v1/customers/" + cus, nullptr, heir_token).Json();
  EXPECT_EQ(v["owner_id"], heir);
  EXPECT_EQ(v["owner_history"].back()["reason"], "handover");
  EXPECT_FALSE(v["owner_history"][0]["to"].is_null());
  EXPECT_EQ(crmd_
                ->Call("GET", "/api/v1/contracts/" + k.Json()["id"].get<std::string>(), nullptr,
                       heir_token)
                .Json()["signed_by"],
            leaver);
  std::string pool_lead = Lead(crmd_->token());
  EXPECT_EQ(crmd_->Call("POST", "/api/v1/leads/" + pool_lead + "/assign", {{"owner_id", leaver}})
                .Json()["code"],
            "staff_departed");
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/staff/" + leaver).Json()["departed"], true);
}

TEST_F(E2eTest, ACustomerCanBeSeenAsItWas) {
  auto [rep, token] = Rep("time");
  auto c = crmd_->Call("POST", "/api/v1/customers", {{"name", "Time Co"}, {"industry", "mining"}},
                       token);
  uint64_t then = c.Json()["position"];
  std::string id = c.Json()["id"];
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto patched = crmd_->Call("PATCH", "/api/v1/customers/" + id,
                             {{"industry", "software"}, {"phone", nullptr}}, token);
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/customers/" + id, nullptr, token).Json()["industry"],
            "software");
  json old = crmd_
                 ->Call("GET", "/api/v1/customers/" + id + "?as_of=" + std::to_string(then),
                        nullptr, token)
                 .Json();
  EXPECT_EQ(old["industry"], "mining");
  EXPECT_EQ(old["as_of"]["position"], then);
  std::string at = old["as_of"]["at"];
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/customers/" + id + "?as_of=" + at, nullptr, token)
                .Json()["industry"],
            "mining");
  EXPECT_EQ(crmd_
                ->Call("GET", "/api/v1/customers/" + id + "?as_of=" + std::to_string(then - 1),
                       nullptr, token)
                .status,
            404);
  EXPECT_EQ(
      crmd_->Call("GET", "/api/v1/customers/" + id + "?as_of=yesterday", nullptr, token).status,
      400);
  EXPECT_EQ(crmd_->Call("PATCH", "/api/v1/customers/" + id, json::object(), token).status, 400);
  EXPECT_EQ(crmd_->Call("PATCH", "/api/v1/customers/" + id, {{"owner_id", rep}}, token).status,
            400);
}

TEST(E2eBootstrapTest, WithoutAnAdminTokenOneIsWrittenOwnerReadableOnly) {
  TempDir dir;
  Crmd crmd(dir.sub("data"), {}, "");
  ASSERT_TRUE(crmd.Start());
  std::string path = dir.sub("data") + "/admin.token";
  struct stat st {};
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
    ASSERT_EQ(crmd.Call("POST", "/api/v1/leads", NewLead()).status, 201);
  }
  uint64_t head = Http(crmd.port(), "GET", "/health").Json()["position"];
  ASSERT_EQ(crmd.Stop(), 0);
  std::string verify = CrmctlPath() + " verify --data-dir " + dir.sub("data");
  int rc = 0;
  json report = json::parse(RunTool(verify, &rc));
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(report["ok"], true);
  EXPECT_EQ(report["events"], head);
  std::string lines = RunTool(CrmctlPath() + " export --data-dir " + dir.sub("data"), &rc);
  EXPECT_EQ(rc, 0);
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
  json bad = json::parse(RunTool(verify, &rc));
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(bad["ok"], false);
  EXPECT_EQ(bad["first_bad_position"], 2);
}

}  // namespace
}  // namespace crm::testing
