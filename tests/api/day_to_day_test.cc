// The day-to-day work of API.md's "Day-to-day work": strict lists, edits with If-Match,
// duplicate leads (撞单), against a real crmd.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <set>
#include <string>
#include <vector>

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
  auto dash = [&, fin_token = fin_token](const std::string& month) {
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
  auto inv = [&, fin_token = fin_token](const std::string& number, int64_t amount) {
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

// Excel's "CSV (逗号分隔)" on a Chinese Windows: GB18030 (GBK) with CRLF, Chinese headers,
// a quoted comma and a quoted line break. Rows: 2 valid, 3 a duplicate of a live lead
// (+86 folded), 4 an invalid email, 5 a duplicate of row 2, 6 valid.
const std::string kExcelCsv =
    "\xd0\xd5\xc3\xfb,\xb9\xab\xcb\xbe,\xb5\xe7\xbb\xb0,\xd3\xca\xcf\xe4,\xc0\xb4\xd4\xb4,"
    "\xb5\xd8\xc7\xf8\r\n\xcd\xf5\xb7\xbc,\xc0\xb6\xcc\xec\xbf\xc6\xbc\xbc,13900000011,wang@"
    "example.com,\xd5\xb9\xbb\xe1,\xbb\xaa\xb6\xab\r\n\xc0\xee\xc0\xd7,\"\xba\xec\xd0\xc7, "
    "\xd3\xd0\xcf\xde\xb9\xab\xcb\xbe\",+86 138 0000 "
    "0001,,\xcd\xf8\xd5\xbe,\xbb\xaa\xb1\xb1\r\n\xd5\xd4\xcb\xc4,\xb0\xd7\xd4\xc6\xb9\xab\xcb\xbe,"
    "13900000022,not-an-email,,\r\n\xc7\xae\xce\xe5,\"\xc2\xcc\xb5\xd8\n\xbc\xaf\xcd\xc5\",139 "
    "0000 "
    "0011,,,\r\n\xcb\xef\xc1\xf9,\xbb\xc6\xba\xd3\xb9\xab\xcb\xbe,13900000033,,"
    "\xd7\xaa\xbd\xe9\xc9\xdc,\xce\xf7\xc4\xcf\r\n";

TEST_F(DayToDayTest, AnImportPreviewsEachRowThenCreatesTheValidOnesInOneCommand) {
  auto [rep, token] = Rep("wang");
  auto [other, other_token] = Rep("li");
  std::string existing = Lead(other_token, {{"phone", "13800000001"}});
  auto upload = [&, token = token](const std::string& query, const std::string& body,
                                   const std::string& type = "text/csv") {
    return Http(crmd_->port(), "POST", "/api/v1/leads/import" + query, body,
                {{"Authorization", "Bearer " + token}, {"Content-Type", type}});
  };
  uint64_t head = Head(*crmd_);
  auto preview = upload("?dry_run=true", kExcelCsv);
  ASSERT_EQ(preview.status, 200) << preview.body;
  json p = preview.Json();
  EXPECT_EQ(p["dry_run"], true);
  EXPECT_EQ(p["rows"], 5);
  EXPECT_EQ(p["created"], 2);
  EXPECT_EQ(p["duplicates"], (json{{{"row", 3}, {"existing_id", existing}},
                                   {{"row", 5}, {"existing_id", nullptr}, {"same_as_row", 2}}}));
  ASSERT_EQ(p["invalid"].size(), 1u) << p;
  EXPECT_EQ(p["invalid"][0]["row"], 4);
  EXPECT_EQ(p["invalid"][0]["errors"][0]["field"], "email");
  EXPECT_EQ(Head(*crmd_), head) << "a dry run records nothing";

  // A dry run's Idempotency-Key never stands for the import: the key binds the query too,
  // so the same key with dry_run=false is another request (idempotency_key_reused), not a
  // replay of the preview.
  auto keyed = Http(crmd_->port(), "POST", "/api/v1/leads/import?dry_run=true", kExcelCsv,
                    {{"Authorization", "Bearer " + token},
                     {"Content-Type", "text/csv"},
                     {"Idempotency-Key", "import-1"}});
  ASSERT_EQ(keyed.status, 200) << keyed.body;
  auto reused = Http(crmd_->port(), "POST", "/api/v1/leads/import", kExcelCsv,
                     {{"Authorization", "Bearer " + token},
                      {"Content-Type", "text/csv"},
                      {"Idempotency-Key", "import-1"}});
  EXPECT_EQ(reused.status, 422) << reused.body;
  EXPECT_EQ(reused.Json()["code"], "idempotency_key_reused");
  EXPECT_EQ(Head(*crmd_), head);
  // An anonymous caller never gets the upload limit: 2 MiB is refused before it is read.
  auto anonymous = Http(crmd_->port(), "POST", "/api/v1/leads/import", std::string(2 << 20, 'a'),
                        {{"Content-Type", "text/csv"}});
  EXPECT_EQ(anonymous.status, 413);

  auto done = upload("", kExcelCsv);
  ASSERT_EQ(done.status, 200) << done.body;
  json r = done.Json();
  EXPECT_EQ(r["dry_run"], false);
  EXPECT_EQ(r["created"], 2);
  ASSERT_EQ(r["leads"].size(), 2u);
  EXPECT_EQ(r["leads"][0]["row"], 2);
  EXPECT_EQ(r["duplicates"][1]["existing_id"], r["leads"][0]["id"]);
  EXPECT_EQ(Head(*crmd_), head + 2) << "one command, one event per created lead";
  std::string min = "?min_position=" + std::to_string(r["position"].get<uint64_t>());
  json lead = crmd_
                  ->Call("GET", "/api/v1/leads/" + r["leads"][0]["id"].get<std::string>() + min,
                         nullptr, token)
                  .Json();
  EXPECT_EQ(lead["name"], "王芳");
  EXPECT_EQ(lead["company"], "蓝天科技");
  EXPECT_EQ(lead["source"], "展会");
  EXPECT_EQ(lead["owner_id"], rep) << "a rep's import is theirs";
  // Imported again, every row is a duplicate now.
  json again = upload("?dry_run=true", kExcelCsv).Json();
  EXPECT_EQ(again["created"], 0);
  EXPECT_EQ(again["duplicates"].size(), 4u);

  // UTF-8 with a BOM and English headers; a JSON array of lead bodies.
  auto utf8 = upload("?dry_run=true",
                     "\xEF\xBB\xBFname,company,phone\r\nJoe,\"Acme \"\"Big\"\"\",555 0101\r\n");
  ASSERT_EQ(utf8.status, 200) << utf8.body;
  EXPECT_EQ(utf8.Json()["created"], 1);
  auto array = upload("",
                      json::array({{{"name", "Ann"}, {"company", "Initech"}},
                                   {{"name", "Bo"}, {"company", "Initech"}, {"owner_id", rep}},
                                   42})
                          .dump(),
                      "application/json");
  ASSERT_EQ(array.status, 200) << array.body;
  EXPECT_EQ(array.Json()["created"], 1);
  EXPECT_EQ(array.Json()["invalid"].size(), 2u) << array.body;

  // Refused as a whole, changing nothing: an unknown column, no company column, bad bytes,
  // more than 10,000 rows, an auditor, a mistyped parameter.
  auto [auditor, auditor_token] = Rep("sun", "auditor");
  head = Head(*crmd_);
  auto unknown = upload("", "姓名,公司,备注\r\nA,B,C\r\n");
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_NE(unknown.body.find("备注"), std::string::npos) << unknown.body;
  EXPECT_EQ(upload("", "name,phone\r\nA,1\r\n").status, 400);
  EXPECT_EQ(upload("", "name,company\r\n\"A,B\r\n").status, 400) << "an unclosed quote";
  std::string many = "name,company\r\n";
  for (int i = 0; i <= 10000; ++i)
    many += "N" + std::to_string(i) + ",C" + std::to_string(i) + "\r\n";
  auto too_many = upload("?dry_run=true", many);
  EXPECT_EQ(too_many.status, 400) << too_many.body;
  EXPECT_EQ(Http(crmd_->port(), "POST", "/api/v1/leads/import", kExcelCsv,
                 {{"Authorization", "Bearer " + auditor_token}, {"Content-Type", "text/csv"}})
                .status,
            403);
  EXPECT_EQ(upload("?dryrun=true", kExcelCsv).status, 400);
  EXPECT_EQ(upload("?dry_run=yes", kExcelCsv).status, 400);
  EXPECT_EQ(Head(*crmd_), head);
}

TEST_F(DayToDayTest, AMergedCustomerHandsOverEveryRecordAndItsPastAndFreesItsName) {
  auto [rep, token] = Rep("wang");
  auto [mgr, mgr_token] = Rep("li", "manager");
  auto customer = [&, token = token](const std::string& name) -> std::string {
    auto c = crmd_->Call("POST", "/api/v1/customers", {{"name", name}}, token);
    EXPECT_EQ(c.status, 201) << c.body;
    return c.Json()["id"];
  };
  std::string a = customer("Acme"), b = customer("Acme Trading");
  // A lead converted into the customer that will be merged away.
  std::string lead = Lead(token, {{"name", "Mr Wu"}, {"company", "Acme Trading"}});
  auto converted =
      crmd_->Call("POST", "/api/v1/leads/" + lead + "/convert", {{"customer_id", b}}, token);
  ASSERT_EQ(converted.status, 200) << converted.body;
  ASSERT_EQ(crmd_->Call("POST", "/api/v1/customers/" + b + "/contacts", {{"name", "Ms Li"}}, token)
                .status,
            201);
  ASSERT_EQ(crmd_
                ->Call("POST", "/api/v1/customers/" + b + "/follow-ups",
                       {{"channel", "visit"}, {"note", "met at the fair"}}, token)
                .status,
            201);
  auto opp = crmd_->Call("POST", "/api/v1/opportunities",
                         {{"customer_id", b},
                          {"name", "Pilot"},
                          {"amount", 5000},
                          {"currency", "CNY"},
                          {"expected_close_date", Day(30)}},
                         token);
  ASSERT_EQ(opp.status, 201) << opp.body;
  uint64_t before = Head(*crmd_);

  std::string merge = "/api/v1/customers/" + a + "/merge";
  EXPECT_EQ(crmd_->Call("POST", merge, {{"from", b}}, token).status, 403) << "a rep cannot merge";
  EXPECT_EQ(crmd_->Call("POST", merge, {{"from", a}}, mgr_token).status, 400);
  EXPECT_EQ(crmd_->Call("POST", merge, {}, mgr_token).status, 400);
  auto merged = crmd_->Call("POST", merge, {{"from", b}}, mgr_token);
  ASSERT_EQ(merged.status, 200) << merged.body;
  EXPECT_EQ(merged.Json()["id"], a);
  std::string min = "?min_position=" + std::to_string(merged.Json()["position"].get<uint64_t>());

  json gone = crmd_->Call("GET", "/api/v1/customers/" + b + min, nullptr, token).Json();
  EXPECT_EQ(gone["merged_into"], a);
  EXPECT_EQ(gone["contacts"].size(), 0u);
  json survivor = crmd_->Call("GET", "/api/v1/customers/" + a + min, nullptr, token).Json();
  EXPECT_EQ(survivor["merged_into"], nullptr);
  EXPECT_EQ(survivor["merged_from"], json::array({b}));
  ASSERT_EQ(survivor["contacts"].size(), 1u);
  EXPECT_EQ(survivor["contacts"][0]["customer_id"], a);
  EXPECT_EQ(survivor["opportunities"].size(), 1u);
  EXPECT_EQ(survivor["opportunities"][0]["customer_id"], a);
  ASSERT_EQ(survivor["follow_ups"].size(), 1u);
  EXPECT_EQ(survivor["follow_ups"][0]["note"], "met at the fair");
  // The lead converted into the merged customer now leads to the survivor.
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/leads/" + lead + min, nullptr, token).Json()["customer_id"],
            a);
  // Every list hides it; the survivor's timeline holds both pasts.
  auto listed = crmd_->Call("GET", "/api/v1/customers" + min, nullptr, token).Json()["items"];
  ASSERT_EQ(listed.size(), 1u) << listed;
  EXPECT_EQ(listed[0]["id"], a);
  EXPECT_EQ(
      crmd_->Call("GET", "/api/v1/customers?q=Trading", nullptr, token).Json()["items"].size(), 0u);
  auto timeline =
      crmd_->Call("GET", "/api/v1/customers/" + a + "/timeline?limit=100", nullptr, token)
          .Json()["items"];
  std::set<std::string> types;
  for (const auto& e : timeline)
    types.insert(e["type"].get<std::string>() + "@" + e["stream"].get<std::string>());
  EXPECT_TRUE(types.count("CustomerCreated@" + b)) << timeline;
  EXPECT_TRUE(types.count("FollowUpRecorded@" + b)) << timeline;
  EXPECT_TRUE(types.count("CustomerAbsorbed@" + a)) << timeline;
  // As it was before the merge, the survivor had nothing of the other.
  json then = crmd_
                  ->Call("GET", "/api/v1/customers/" + a + "?as_of=" + std::to_string(before),
                         nullptr, token)
                  .Json();
  EXPECT_EQ(then["contacts"].size(), 0u) << then;
  EXPECT_EQ(then["merged_from"].size(), 0u);
  // And the merged one had its own, though they have moved since.
  json theirs = crmd_
                    ->Call("GET", "/api/v1/customers/" + b + "?as_of=" + std::to_string(before),
                           nullptr, token)
                    .Json();
  ASSERT_EQ(theirs["contacts"].size(), 1u) << theirs;
  EXPECT_EQ(theirs["contacts"][0]["name"], "Ms Li");
  EXPECT_EQ(theirs["opportunities"].size(), 1u);
  EXPECT_EQ(theirs["merged_into"], nullptr);

  // The merged customer takes no command; its name is free.
  EXPECT_EQ(crmd_->Call("POST", merge, {{"from", b}}, mgr_token).status, 409);
  EXPECT_EQ(
      crmd_->Call("POST", "/api/v1/customers/" + b + "/release", {{"reason", "x"}}, token).status,
      409);
  EXPECT_EQ(crmd_->Call("POST", "/api/v1/customers", {{"name", "ACME  trading"}}, token).status,
            201);
  // Someone who cannot see the survivor gets 404; a finance person cannot merge.
  std::string west = crmd_->Call("POST", "/api/v1/departments", {{"name", "West"}}).Json()["id"];
  auto [far, far_token] = Person("chen", "manager", west);
  EXPECT_EQ(crmd_->Call("POST", merge, {{"from", b}}, far_token).status, 404);
  auto [fin, fin_token] = Rep("zhao", "finance");
  EXPECT_EQ(crmd_->Call("POST", merge, {{"from", b}}, fin_token).status, 403);
}

// The lines of a CSV export, without its BOM (checked) and its CRLFs.
std::vector<std::string> CsvLines(const std::string& body) {
  EXPECT_EQ(body.substr(0, 3), "\xEF\xBB\xBF") << "Excel needs the BOM to read UTF-8";
  std::vector<std::string> lines;
  size_t at = 3;
  while (at < body.size()) {
    size_t end = body.find("\r\n", at);
    if (end == std::string::npos) end = body.size();
    lines.push_back(body.substr(at, end - at));
    at = end + 2;
  }
  return lines;
}

TEST_F(DayToDayTest, ExportsAreWhatTheCallerMaySeeWithTheListsFiltersAsCsvAndXlsx) {
  auto [rep, token] = Rep("wang");
  for (const char* name : {"张三", "李四", "=HYPERLINK(\"x\")"}) {
    Lead(token, {{"name", name}, {"region", "华东"}});
  }
  std::string west = crmd_->Call("POST", "/api/v1/departments", {{"name", "West"}}).Json()["id"];
  auto [other, other_token] = Person("chen", "sales", west);
  Lead(other_token, {{"name", "王五"}});
  auto get = [&](const std::string& target, const std::string& who) {
    return Http(crmd_->port(), "GET", target, "", {{"Authorization", "Bearer " + who}});
  };

  auto csv = get("/api/v1/leads/export?format=csv", token);
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.Header("content-type"), "text/csv; charset=utf-8");
  EXPECT_NE(csv.Header("content-disposition").find("attachment; filename=\"leads-"),
            std::string::npos);
  auto lines = CsvLines(csv.body);
  ASSERT_EQ(lines.size(), 4u) << csv.body << "the other department's lead is not theirs to see";
  EXPECT_EQ(lines[0].substr(0, 25), "id,name,company,phone,ema");
  EXPECT_NE(csv.body.find(",张三,"), std::string::npos);
  EXPECT_EQ(csv.body.find("王五"), std::string::npos);
  EXPECT_NE(csv.body.find("\"'=HYPERLINK(\"\"x\"\")\""), std::string::npos)
      << "a formula is defused with a leading apostrophe";
  // The list's filters; the admin sees everyone's.
  EXPECT_EQ(CsvLines(get("/api/v1/leads/export?q=%E5%BC%A0%E4%B8%89", token).body).size(), 2u);
  EXPECT_EQ(
      CsvLines(get("/api/v1/leads/export?region=%E5%8D%8E%E4%B8%9C", crmd_->token()).body).size(),
      4u);
  EXPECT_EQ(CsvLines(get("/api/v1/leads/export", crmd_->token()).body).size(), 5u);
  EXPECT_EQ(get("/api/v1/leads/export?format=pdf", token).status, 400);
  EXPECT_EQ(get("/api/v1/leads/export?stat=pending", token).status, 400);
  EXPECT_EQ(get("/api/v1/leads/export?state=gone", token).status, 400);
  EXPECT_EQ(get("/api/v1/leads/export", "nobody").status, 401);
  // min_position: the file holds at least what the log held there.
  EXPECT_EQ(CsvLines(get("/api/v1/leads/export?min_position=" + std::to_string(Head(*crmd_)),
                         crmd_->token())
                         .body)
                .size(),
            5u);
  EXPECT_EQ(get("/api/v1/leads/export?min_position=x", token).status, 400);

  // .xlsx, read by openpyxl (Debian's python3-openpyxl), which nobody here wrote.
  auto xlsx = get("/api/v1/leads/export?format=xlsx", token);
  ASSERT_EQ(xlsx.status, 200);
  EXPECT_EQ(xlsx.Header("content-type"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  std::string path = dir_.sub("leads.xlsx");
  {
    std::ofstream out(path, std::ios::binary);
    out << xlsx.body;
  }
  int rc = -1;
  std::string read = RunTool(
      "/usr/bin/python3 -c 'import openpyxl,sys,json; "
      "ws=openpyxl.load_workbook(sys.argv[1]).active;"
      " print(json.dumps([[c.value for c in r] for r in ws.iter_rows()], ensure_ascii=False))' " +
          path,
      &rc);
  ASSERT_EQ(rc, 0) << "python3-openpyxl is needed (tools/dev.sh test installs it)";
  json rows = json::parse(read);
  ASSERT_EQ(rows.size(), 4u) << read;
  EXPECT_EQ(rows[0][1], "name");
  std::set<std::string> names;
  for (size_t i = 1; i < rows.size(); ++i) names.insert(rows[i][1].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"张三", "李四", "=HYPERLINK(\"x\")"}))
      << "in .xlsx a formula-like text stays text, as written";

  // Receivables for finance: amounts in yuan, one row per installment still owed.
  std::string cus =
      crmd_->Call("POST", "/api/v1/customers", {{"name", "Export Co"}}, token).Json()["id"];
  ASSERT_EQ(crmd_
                ->Call("POST", "/api/v1/contracts",
                       {{"customer_id", cus},
                        {"number", "HT-X"},
                        {"title", "T"},
                        {"amount", 123456},
                        {"currency", "CNY"},
                        {"signed_on", Day(0)},
                        {"installments", {{{"due_on", Day(10)}, {"amount", 123456}}}}},
                       token)
                .status,
            201);
  auto owed = CsvLines(get("/api/v1/receivables/export", token).body);
  ASSERT_EQ(owed.size(), 2u);
  EXPECT_NE(owed[1].find(",CNY,1234.56,0.00,1234.56,pending,0"), std::string::npos) << owed[1];
  auto customers = CsvLines(get("/api/v1/customers/export?format=csv", token).body);
  ASSERT_EQ(customers.size(), 2u);
  EXPECT_NE(customers[1].find("Export Co"), std::string::npos);
}

}  // namespace
}  // namespace crm::testing
