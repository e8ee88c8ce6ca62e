// The day-to-day work of API.md's "Day-to-day work": strict lists, edits with If-Match,
// duplicate leads (撞单), against a real crmd.
#include <gtest/gtest.h>

#include <ctime>
#include <set>
#include <string>

#include "e2e_fixture.h"
#include "ws_client.h"

namespace crm::testing {
namespace {

using DayToDayTest = E2eTest;

std::set<std::string> ErrorFields(const json& problem) {
  std::set<std::string> fields;
  for (const auto& e : problem["errors"]) fields.insert(e["field"]);
  return fields;
}

TEST_F(DayToDayTest, ListsRefuseUnknownParametersNamingThem) {
  auto [rep, token] = Rep("wang");
  Lead(token);
  auto typo = crmd_->Call("GET", "/api/v1/leads?stat=following&ownerid=x", nullptr, token);
  ASSERT_EQ(typo.status, 400) << typo.body;
  EXPECT_EQ(typo.Json()["code"], "validation_failed");
  EXPECT_EQ(ErrorFields(typo.Json()), (std::set<std::string>{"stat", "ownerid"}));
  // What a list does take still works, min_position and the page included.
  auto ok =
      crmd_->Call("GET", "/api/v1/leads?state=pending&limit=5&min_position=1", nullptr, token);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Json()["items"].size(), 1u);
  // One record's GET takes no list parameters; an anonymous caller learns nothing.
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/pool/me?limit=5", nullptr, token).status, 400);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/customers?levle=A", nullptr, "-").status, 401);
  for (const char* path :
       {"/api/v1/customers?owner=x", "/api/v1/opportunities?state=won",
        "/api/v1/contracts?overdue=true", "/api/v1/receivables?status=paid",
        "/api/v1/pool?type=lead", "/api/v1/staff?q=wang", "/api/v1/dashboard?month=2026-11",
        "/api/v1/events?after=0&kind=x", "/api/v1/audit/verify?deep=1"}) {
    auto r = crmd_->Call("GET", path, nullptr);
    EXPECT_EQ(r.status, 400) << path << ": " << r.body;
    EXPECT_EQ(r.Json()["errors"].size(), 1u) << path;
  }
}

std::string Quoted(const json& version) {
  return "\"" + std::to_string(version.get<uint64_t>()) + "\"";
}

uint64_t Head(const Crmd& crmd) { return Http(crmd.port(), "GET", "/health").Json()["position"]; }

// The changes of the newest event of `stream`, as the audit log shows them.
json LastChanges(Crmd& crmd, const std::string& stream) {
  auto events = crmd.Call("GET", "/api/v1/events?limit=500&stream=" + stream).Json()["items"];
  return events.empty() ? json() : events.back()["data"]["changes"];
}

TEST_F(DayToDayTest, ALeadIsEditedWithIfMatchAndTheEventNamesEachChangeWithOldAndNew) {
  auto [rep, token] = Rep("wang");
  std::string id = Lead(token, {{"phone", "13800000001"}, {"source", "web"}});
  std::string path = "/api/v1/leads/" + id;
  auto got = crmd_->Call("GET", path, nullptr, token);
  std::string etag = got.Header("etag");
  // A stale version is refused and changes nothing.
  auto stale =
      crmd_->Call("PATCH", path, {{"phone", "13900000002"}}, token, {{"If-Match", "\"99\""}});
  EXPECT_EQ(stale.status, 412) << stale.body;
  EXPECT_EQ(stale.Json()["code"], "version_conflict");
  auto ok = crmd_->Call("PATCH", path,
                        {{"phone", "13900000002"}, {"source", nullptr}, {"region", "东区"}}, token,
                        {{"If-Match", etag}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Json()["version"], 2);
  auto after =
      crmd_
          ->Call("GET",
                 path + "?min_position=" + std::to_string(ok.Json()["position"].get<uint64_t>()),
                 nullptr, token)
          .Json();
  EXPECT_EQ(after["phone"], "13900000002");
  EXPECT_TRUE(after["source"].is_null());
  EXPECT_EQ(after["region"], "东区");
  json changes = LastChanges(*crmd_, id);
  ASSERT_EQ(changes.size(), 3u) << changes;
  EXPECT_EQ(changes[0], (json{{"field", "phone"}, {"old", "13800000001"}, {"new", "13900000002"}}));
  EXPECT_EQ(changes[1], (json{{"field", "source"}, {"old", "web"}, {"new", nullptr}}));
  EXPECT_EQ(changes[2], (json{{"field", "region"}, {"old", nullptr}, {"new", "东区"}}));
  // An edit that changes nothing writes nothing; a field no edit changes is refused.
  uint64_t head = Head(*crmd_);
  EXPECT_EQ(crmd_->Call("PATCH", path, {{"region", "东区"}}, token).status, 200);
  EXPECT_EQ(Head(*crmd_), head);
  auto unknown = crmd_->Call("PATCH", path, {{"owner_id", rep}, {"name", ""}}, token);
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(ErrorFields(unknown.Json()), (std::set<std::string>{"owner_id", "name"}));
  EXPECT_EQ(crmd_->Call("PATCH", path, json::object(), token).status, 400);
  // Another rep does not see it; their manager may edit it.
  auto [other, other_token] = Rep("li");
  EXPECT_EQ(crmd_->Call("PATCH", path, {{"name", "x"}}, other_token).status, 404);
  auto [mgr, mgr_token] = Rep("boss", "manager");
  EXPECT_EQ(crmd_->Call("PATCH", path, {{"name", "Ma Jun"}}, mgr_token).status, 200);
  // A converted lead is history.
  ASSERT_EQ(crmd_->Call("POST", path + "/convert", json::object(), token).status, 200);
  auto late = crmd_->Call("PATCH", path, {{"name", "again"}}, token);
  EXPECT_EQ(late.status, 409);
  EXPECT_EQ(late.Json()["code"], "invalid_transition");
}

TEST_F(DayToDayTest, ADuplicateLeadIsRefusedNamingTheLeadAndItsOwnerOrRecordedOnRequest) {
  auto [rep, token] = Rep("wang");
  std::string west = crmd_->Call("POST", "/api/v1/departments", {{"name", "West"}}).Json()["id"];
  auto [rival, rival_token] = Person("zhao", "sales", west);
  std::string first = Lead(token, {{"phone", "138 0000 0001"}});
  // The same number written another way, by a rep who cannot see the first lead.
  uint64_t head = Head(*crmd_);
  json twin = {{"name", "Someone"}, {"company", "Other Co"}, {"phone", "+86 138-0000-0001"}};
  auto refused = crmd_->Call("POST", "/api/v1/leads", twin, rival_token);
  ASSERT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.Json()["code"], "duplicate_lead");
  EXPECT_EQ(refused.Json()["existing_id"], first);
  EXPECT_EQ(refused.Json()["owner_id"], rep);
  EXPECT_EQ(refused.Json().count("name"), 0u) << "nothing else of the lead is revealed";
  EXPECT_EQ(Head(*crmd_), head) << "a refused duplicate writes nothing";
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/leads/" + first, nullptr, rival_token).status, 404);
  twin["phone"] = "0086 13800000001";
  EXPECT_EQ(crmd_->Call("POST", "/api/v1/leads", twin, rival_token).status, 409);
  // Recorded all the same when the rep says so: it shows what it duplicates.
  twin["allow_duplicate"] = true;
  auto kept = crmd_->Call("POST", "/api/v1/leads", twin, rival_token);
  ASSERT_EQ(kept.status, 201) << kept.body;
  std::string second = kept.Json()["id"];
  EXPECT_EQ(
      crmd_->Call("GET", "/api/v1/leads/" + second, nullptr, rival_token).Json()["duplicate_of"],
      first);
  // The same company and name, in another case and width, is a duplicate too; a pool
  // lead's owner is null.
  std::string pooled =
      crmd_->Call("POST", "/api/v1/leads", {{"name", "Li Lei"}, {"company", "Blue Ocean Ltd"}})
          .Json()["id"];
  auto by_name = crmd_->Call("POST", "/api/v1/leads",
                             {{"name", "LI  LEI"}, {"company", "ｂｌｕｅ ocean ltd"}}, token);
  ASSERT_EQ(by_name.status, 409) << by_name.body;
  EXPECT_EQ(by_name.Json()["existing_id"], pooled);
  EXPECT_TRUE(by_name.Json()["owner_id"].is_null());
  // An edit onto another lead's phone is a duplicate; a voided lead is nobody's.
  std::string third = Lead(token, {{"phone", "13700000003"}});
  auto edit = crmd_->Call("PATCH", "/api/v1/leads/" + third, {{"phone", "13800000001"}}, token);
  EXPECT_EQ(edit.status, 409);
  EXPECT_EQ(edit.Json()["code"], "duplicate_lead");
  for (const std::string& id : {first, second}) {
    std::string owner_token = id == first ? token : rival_token;
    ASSERT_EQ(crmd_->Call("POST", "/api/v1/leads/" + id + "/void", {{"reason", "dup"}}, owner_token)
                  .status,
              200);
  }
  EXPECT_EQ(
      crmd_->Call("PATCH", "/api/v1/leads/" + third, {{"phone", "13800000001"}}, token).status,
      200);
}

TEST_F(DayToDayTest, OpportunitiesAndContactsAreEditedAndTheDashboardFollows) {
  auto [rep, token] = Rep("wang");
  std::string cus =
      crmd_->Call("POST", "/api/v1/customers", {{"name", "Edit Co"}}, token).Json()["id"];
  auto opp = crmd_->Call("POST", "/api/v1/opportunities",
                         {{"customer_id", cus},
                          {"name", "Pilot"},
                          {"amount", 100000},
                          {"currency", "CNY"},
                          {"expected_close_date", Day(30)},
                          {"stage", "proposal"}},
                         token);
  ASSERT_EQ(opp.status, 201) << opp.body;
  std::string opp_id = opp.Json()["id"];
  auto edited = crmd_->Call("PATCH", "/api/v1/opportunities/" + opp_id,
                            {{"amount", 250000}, {"expected_close_date", Day(45)}}, token,
                            {{"If-Match", Quoted(opp.Json()["version"])}});
  ASSERT_EQ(edited.status, 200) << edited.body;
  auto dash = crmd_
                  ->Call("GET",
                         "/api/v1/dashboard?min_position=" +
                             std::to_string(edited.Json()["position"].get<uint64_t>()),
                         nullptr, token)
                  .Json();
  json proposal;
  for (const auto& s : dash["pipeline"]["by_stage"])
    if (s["stage"] == "proposal") proposal = s;
  EXPECT_EQ(proposal["amount"], (json{{"CNY", 250000}}));
  EXPECT_EQ(proposal["weighted"], (json{{"CNY", 125000}}));
  EXPECT_EQ(LastChanges(*crmd_, opp_id)[0],
            (json{{"field", "amount"}, {"old", "100000"}, {"new", "250000"}}));
  ASSERT_EQ(crmd_->Call("POST", "/api/v1/opportunities/" + opp_id + "/lose", json::object(), token)
                .status,
            200);
  EXPECT_EQ(crmd_->Call("PATCH", "/api/v1/opportunities/" + opp_id, {{"amount", 1}}, token).status,
            409);

  auto contact = crmd_->Call("POST", "/api/v1/customers/" + cus + "/contacts",
                             {{"name", "Liu"}, {"title", "CTO"}}, token);
  ASSERT_EQ(contact.status, 201) << contact.body;
  std::string ctc = contact.Json()["id"];
  auto c2 = crmd_->Call("PATCH", "/api/v1/contacts/" + ctc,
                        {{"title", "CEO"}, {"decision_maker", true}, {"email", "liu@example.com"}},
                        token);
  ASSERT_EQ(c2.status, 200) << c2.body;
  auto list = crmd_->Call("GET",
                          "/api/v1/customers/" + cus + "/contacts?min_position=" +
                              std::to_string(c2.Json()["position"].get<uint64_t>()),
                          nullptr, token);
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.Json()["items"].size(), 1u);
  EXPECT_EQ(list.Json()["items"][0]["title"], "CEO");
  EXPECT_EQ(list.Json()["items"][0]["decision_maker"], true);
  EXPECT_EQ(list.Json()["items"][0]["version"], 2);
  // The customer's timeline shows the edit; another rep sees neither.
  auto timeline = crmd_->Call("GET", "/api/v1/customers/" + cus + "/timeline", nullptr, token);
  EXPECT_NE(timeline.body.find("ContactEdited"), std::string::npos);
  auto [other, other_token] = Rep("li");
  EXPECT_EQ(crmd_->Call("PATCH", "/api/v1/contacts/" + ctc, {{"title", "x"}}, other_token).status,
            404);
  EXPECT_EQ(
      crmd_->Call("GET", "/api/v1/customers/" + cus + "/contacts", nullptr, other_token).status,
      404);
}

TEST_F(DayToDayTest, MovingAPersonOrADepartmentChangesWhoSeesWhatAtOnceOnOpenSocketsToo) {
  auto [mgr, mgr_token] = Rep("boss", "manager");
  auto [rep, token] = Rep("wang");
  std::string west = crmd_->Call("POST", "/api/v1/departments", {{"name", "West"}}).Json()["id"];
  std::string lead = Lead(token);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/leads/" + lead, nullptr, mgr_token).status, 200);

  WsClient ws(crmd_->port(), "Bearer " + mgr_token);
  ASSERT_TRUE(ws.ok());
  ws.Send({{"op", "subscribe"}, {"topic", "dashboard"}});
  auto snap = ws.NextWhere([](const json& m) { return m.value("type", "") == "snapshot"; });
  ASSERT_TRUE(snap);
  EXPECT_EQ((*snap)["data"]["leads"]["by_state"]["pending"], 1);

  // The rep moves to West: East's manager no longer sees their lead, at once.
  auto staff = crmd_->Call("GET", "/api/v1/staff/" + rep).Json();
  auto moved = crmd_->Call("PATCH", "/api/v1/staff/" + rep, {{"department_id", west}}, "",
                           {{"If-Match", Quoted(staff["version"])}});
  ASSERT_EQ(moved.status, 200) << moved.body;
  std::string min = "?min_position=" + std::to_string(moved.Json()["position"].get<uint64_t>());
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/leads/" + lead + min, nullptr, mgr_token).status, 404);
  auto update = ws.NextWhere([](const json& m) {
    return m.value("type", "") == "update" && m["data"]["leads"]["by_state"]["pending"] == 0;
  });
  EXPECT_TRUE(update) << "the manager's open dashboard still counts the moved rep's lead";
  EXPECT_EQ(LastChanges(*crmd_, rep)[0]["field"], "department_id");

  // West moves under East: East's manager sees the rep's lead again.
  std::string east = crmd_->Call("GET", "/api/v1/staff/" + mgr).Json()["department_id"];
  ASSERT_EQ(crmd_->Call("PATCH", "/api/v1/departments/" + west, {{"parent_id", east}}).status, 200);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/leads/" + lead, nullptr, mgr_token).status, 200);
  // East cannot then move under West, its own child.
  auto cycle = crmd_->Call("PATCH", "/api/v1/departments/" + east, {{"parent_id", west}});
  EXPECT_EQ(cycle.status, 409);
  EXPECT_EQ(cycle.Json()["code"], "invalid_transition");
  // Only admins edit people and departments; a role that owns nothing waits for a handover.
  EXPECT_EQ(crmd_->Call("PATCH", "/api/v1/staff/" + rep, {{"name", "x"}}, mgr_token).status, 403);
  auto role = crmd_->Call("PATCH", "/api/v1/staff/" + rep, {{"role", "finance"}});
  EXPECT_EQ(role.status, 409) << role.body;
  // A new email signs in; the old one no longer names anyone.
  ASSERT_EQ(
      crmd_->Call("PATCH", "/api/v1/staff/" + rep, {{"email", "wang.new@example.com"}}).status,
      200);
  auto taken = crmd_->Call("PATCH", "/api/v1/staff/" + mgr, {{"email", "WANG.NEW@example.com"}});
  EXPECT_EQ(taken.status, 400);
  EXPECT_EQ(ErrorFields(taken.Json()), (std::set<std::string>{"email"}));
}

// The month of the business day `offset` days from today ("2026-11").
std::string MonthOf(int offset) { return Day(offset).substr(0, 7); }

TEST_F(DayToDayTest, AReversalTakesAPaymentBackAndCountsInItsOwnPeriodAndInvoicesAddUp) {
  auto [rep, token] = Rep("wang");
  auto [fin, fin_token] = Rep("zhao", "finance");
  std::string cus =
      crmd_->Call("POST", "/api/v1/customers", {{"name", "Money Co"}}, token).Json()["id"];
  auto signed_contract = crmd_->Call(
      "POST", "/api/v1/contracts",
      {{"customer_id", cus},
       {"number", "HT-9"},
       {"title", "T"},
       {"amount", 1000},
       {"currency", "CNY"},
       {"signed_on", Day(-40)},
       {"installments",
        {{{"due_on", Day(-35)}, {"amount", 400}}, {{"due_on", Day(30)}, {"amount", 600}}}}},
      token);
  ASSERT_EQ(signed_contract.status, 201) << signed_contract.body;
  std::string con = signed_contract.Json()["id"];
  std::string base = "/api/v1/contracts/" + con;
  // Received 40 days ago, in full; reversed today.
  auto paid = crmd_->Call("POST", base + "/payments", {{"amount", 1000}, {"received_on", Day(-38)}},
                          fin_token);
  ASSERT_EQ(paid.status, 201) << paid.body;
  std::string pay = paid.Json()["id"];
  EXPECT_EQ(
      crmd_->Call("POST", base + "/payments/" + pay + "/reverse", {{"reason", "x"}}, token).status,
      403);
  auto reversed = crmd_->Call("POST", base + "/payments/" + pay + "/reverse",
                              {{"reason", "bounced"}}, fin_token);
  ASSERT_EQ(reversed.status, 200) << reversed.body;
  EXPECT_EQ(reversed.Json()["id"], pay);
  EXPECT_EQ(reversed.Json()["contract_id"], con);
  std::string min = "?min_position=" + std::to_string(reversed.Json()["position"].get<uint64_t>());
  auto again =
      crmd_->Call("POST", base + "/payments/" + pay + "/reverse", {{"reason", "x"}}, fin_token);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.Json()["code"], "invalid_transition");

  json k = crmd_->Call("GET", base + min, nullptr, fin_token).Json();
  EXPECT_EQ(k["status"], "active");
  EXPECT_EQ(k["paid"], 0);
  EXPECT_EQ(k["outstanding"], 1000);
  EXPECT_EQ(k["payments"][0]["reversed"], true);
  EXPECT_EQ(k["payments"][0]["reversal"]["reason"], "bounced");
  EXPECT_EQ(k["installments"][0]["status"], "overdue");
  // Receivables are exact again: both installments are owed.
  auto owed = crmd_->Call("GET", "/api/v1/receivables" + min, nullptr, fin_token).Json()["items"];
  int64_t owed_sum = 0;
  for (const auto& r : owed) owed_sum += r["amount"].get<int64_t>() - r["paid"].get<int64_t>();
  EXPECT_EQ(owed_sum, 1000) << owed;
  // The payment counts in its month, the reversal, negative, in this one.
  auto dash = [&](const std::string& month) {
    return crmd_->Call("GET", "/api/v1/dashboard?period=" + month, nullptr, fin_token)
        .Json()["payments"];
  };
  if (MonthOf(-38) != MonthOf(0)) {
    EXPECT_EQ(dash(MonthOf(-38))["received"], (json{{"CNY", 1000}}));
    EXPECT_EQ(dash(MonthOf(0))["received"], (json{{"CNY", -1000}}));
  } else {
    EXPECT_EQ(dash(MonthOf(0))["received"], (json{{"CNY", 0}}));
  }
  EXPECT_EQ(dash(MonthOf(0))["received"].is_object(), true);

  // Invoices: numbers unique, never more than the contract, totals in the 360 view.
  auto inv = [&](const std::string& number, int64_t amount) {
    return crmd_->Call("POST", base + "/invoices",
                       {{"number", number},
                        {"amount", amount},
                        {"currency", "CNY"},
                        {"issued_on", Day(0)},
                        {"kind", "vat_special"},
                        {"tax_rate_pct", 13}},
                       fin_token);
  };
  EXPECT_EQ(crmd_
                ->Call("POST", base + "/invoices",
                       {{"number", "FP-1"},
                        {"amount", 1},
                        {"currency", "CNY"},
                        {"issued_on", Day(0)},
                        {"kind", "vat_special"}},
                       token)
                .status,
            403);
  auto first = inv("FP-1", 700);
  ASSERT_EQ(first.status, 201) << first.body;
  std::string inv1 = first.Json()["id"];
  EXPECT_EQ(inv1.rfind("inv_", 0), 0u);
  EXPECT_EQ(first.Json()["version"], 1);
  auto dup = inv("fp-1", 100);
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(dup.Json()["code"], "duplicate_invoice_number");
  EXPECT_EQ(dup.Json()["existing_id"], inv1);
  auto over = inv("FP-2", 301);
  EXPECT_EQ(over.status, 422);
  EXPECT_EQ(over.Json()["code"], "overinvoiced");
  ASSERT_EQ(
      crmd_->Call("POST", base + "/payments", {{"amount", 500}, {"received_on", Day(0)}}, fin_token)
          .status,
      201);
  auto second = inv("FP-2", 300);
  ASSERT_EQ(second.status, 201) << second.body;
  auto voided =
      crmd_->Call("POST", "/api/v1/invoices/" + second.Json()["id"].get<std::string>() + "/void",
                  {{"reason", "wrong title"}}, fin_token);
  ASSERT_EQ(voided.status, 200) << voided.body;
  min = "?min_position=" + std::to_string(voided.Json()["position"].get<uint64_t>());
  json totals =
      crmd_->Call("GET", "/api/v1/customers/" + cus + min, nullptr, token).Json()["totals"];
  EXPECT_EQ(totals["paid"], (json{{"CNY", 500}}));
  EXPECT_EQ(totals["invoiced"], (json{{"CNY", 700}}));
  EXPECT_EQ(totals["invoiced_unpaid"], (json{{"CNY", 200}}));
  EXPECT_EQ(totals["paid_uninvoiced"], (json{{"CNY", 0}}));
  auto list =
      crmd_->Call("GET", "/api/v1/invoices?customer_id=" + cus, nullptr, token).Json()["items"];
  ASSERT_EQ(list.size(), 2u);
  std::set<std::string> statuses;
  for (const auto& i : list) statuses.insert(i["status"]);
  EXPECT_EQ(statuses, (std::set<std::string>{"issued", "voided"}));
  auto one = crmd_->Call("GET", "/api/v1/invoices/" + inv1, nullptr, fin_token);
  EXPECT_EQ(one.Json()["number"], "FP-1");
  EXPECT_EQ(one.Header("etag"), "\"1\"");
  // Another rep sees neither the invoice nor the contract's list.
  auto [other, other_token] = Rep("li");
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/invoices/" + inv1, nullptr, other_token).status, 404);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/invoices?contract_id=" + con, nullptr, other_token)
                .Json()["items"]
                .size(),
            0u);
  // The audit log has both, the timeline of the customer too.
  auto timeline = crmd_->Call("GET", "/api/v1/customers/" + cus + "/timeline", nullptr, token).body;
  EXPECT_NE(timeline.find("PaymentReversed"), std::string::npos);
  EXPECT_NE(timeline.find("InvoiceVoided"), std::string::npos);
}

// The now of the business clock, moved by `seconds`, as RFC 3339.
std::string TimeFromNow(int seconds) {
  std::time_t t = std::time(nullptr) + seconds;
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::set<std::string> Kinds(const json& tasks) {
  std::set<std::string> kinds;
  for (const auto& t : tasks["items"]) kinds.insert(t["kind"]);
  return kinds;
}

TEST_F(DayToDayTest, TasksListWhatIsDueAndTheLiveTopicPushesANewOne) {
  auto [rep, token] = Rep("wang");
  auto [fin, fin_token] = Rep("zhao", "finance");
  auto [other, other_token] = Rep("li");
  // An installment of the rep's customer due in 3 days; a follow-up due in 2 days.
  std::string cus =
      crmd_->Call("POST", "/api/v1/customers", {{"name", "Task Co"}}, token).Json()["id"];
  ASSERT_EQ(crmd_
                ->Call("POST", "/api/v1/contracts",
                       {{"customer_id", cus},
                        {"number", "HT-T"},
                        {"title", "T"},
                        {"amount", 500},
                        {"currency", "CNY"},
                        {"signed_on", Day(0)},
                        {"installments", {{{"due_on", Day(3)}, {"amount", 500}}}}},
                       token)
                .status,
            201);
  std::string lead = Lead(token);
  ASSERT_EQ(
      crmd_
          ->Call("POST", "/api/v1/leads/" + lead + "/follow-ups",
                 {{"channel", "call"}, {"note", "n"}, {"next_at", TimeFromNow(2 * 86400)}}, token)
          .status,
      201);
  auto week = crmd_->Call("GET", "/api/v1/tasks/me?due=week", nullptr, token);
  ASSERT_EQ(week.status, 200) << week.body;
  EXPECT_EQ(Kinds(week.Json()), (std::set<std::string>{"installment", "follow_up"})) << week.body;
  EXPECT_EQ(Kinds(crmd_->Call("GET", "/api/v1/tasks/me?due=today", nullptr, token).Json()),
            std::set<std::string>{});
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/tasks/me?due=soon", nullptr, token).status, 400);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/tasks/me", nullptr, other_token).Json()["count"], 0);

  // A personal task, overdue already; its owner alone completes it.
  auto task = crmd_->Call(
      "POST", "/api/v1/tasks",
      {{"title", "send the quote"}, {"due_at", TimeFromNow(-60)}, {"record_id", cus}}, token);
  ASSERT_EQ(task.status, 201) << task.body;
  std::string task_id = task.Json()["id"];
  auto overdue = crmd_->Call("GET", "/api/v1/tasks/me?due=overdue", nullptr, token).Json();
  ASSERT_EQ(overdue["count"], 1) << overdue;
  EXPECT_EQ(overdue["items"][0]["task_id"], task_id);
  EXPECT_EQ(overdue["items"][0]["record_id"], cus);
  EXPECT_EQ(overdue["items"][0]["overdue"], true);
  EXPECT_EQ(
      crmd_->Call("POST", "/api/v1/tasks/" + task_id + "/done", json::object(), other_token).status,
      404);
  EXPECT_EQ(
      crmd_
          ->Call("POST", "/api/v1/tasks",
                 {{"title", "x"}, {"due_at", TimeFromNow(0)}, {"record_id", cus}}, other_token)
          .status,
      400);

  // The live topic: a snapshot, then the new follow-up due now arrives as an update.
  WsClient ws(crmd_->port(), "Bearer " + token);
  ASSERT_TRUE(ws.ok());
  ws.Send({{"op", "subscribe"}, {"topic", "tasks"}});
  auto snap = ws.NextWhere([](const json& m) { return m.value("type", "") == "snapshot"; });
  ASSERT_TRUE(snap);
  EXPECT_EQ((*snap)["topic"], "tasks");
  int before = (*snap)["data"]["count"];
  std::string due_now = Lead(token);
  ASSERT_EQ(crmd_
                ->Call("POST", "/api/v1/leads/" + due_now + "/follow-ups",
                       {{"channel", "call"}, {"note", "n"}, {"next_at", TimeFromNow(-1)}}, token)
                .status,
            201);
  auto update = ws.NextWhere([&](const json& m) {
    return m.value("type", "") == "update" && m["data"]["count"].get<int>() == before + 1;
  });
  ASSERT_TRUE(update) << "no update brought the follow-up due now";
  bool found = false;
  for (const auto& i : (*update)["data"]["items"]) found |= i["record_id"] == due_now;
  EXPECT_TRUE(found);
  ASSERT_EQ(crmd_->Call("POST", "/api/v1/tasks/" + task_id + "/done", json::object(), token).status,
            200);
  EXPECT_TRUE(ws.NextWhere([&](const json& m) {
    return m.value("type", "") == "update" && m["data"]["count"].get<int>() == before;
  })) << "completing the task did not reach the socket";
}

}  // namespace
}  // namespace crm::testing
