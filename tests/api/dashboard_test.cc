// The dashboard end to end: its figures, its scope by role and department, credit that
// stays with who signed across a handover, targets and attainment.
#include <gtest/gtest.h>

#include <string>

#include "e2e_fixture.h"

namespace crm::testing {
namespace {

class DashboardTest : public E2eTest {
 protected:
  json Dashboard(const std::string& token, const std::string& query = "") {
    auto r = crmd_->Call("GET", "/api/v1/dashboard" + query, nullptr, token);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  }
  static json Entry(const json& dashboard, const std::string& staff) {
    for (const auto& e : dashboard["leaderboard"]) {
      if (e["staff_id"] == staff) return e;
    }
    return nullptr;
  }
};

TEST_F(DashboardTest, FiguresFollowTheScopeTheMonthAndWhoSigned) {
  auto [mgr, mgr_token] = Rep("boss", "manager");
  auto [r1, r1_token] = Rep("r1");
  auto [r2, r2_token] = Rep("r2");
  auto [fin, fin_token] = Rep("fin", "finance");
  std::string west =
      crmd_->Call("POST", "/api/v1/departments", {{"name", "West"}}).Json()["id"];
  auto [r3, r3_token] = Person("r3", "sales", west);
  Lead(r1_token);
  Lead(r1_token);
  Lead(r3_token);
  std::string cus =
      crmd_->Call("POST", "/api/v1/customers", {{"name", "Dash Co"}}, r1_token).Json()["id"];
  auto k = crmd_->Call("POST", "/api/v1/contracts",
                       {{"customer_id", cus},
                        {"number", "D-1"},
                        {"title", "t"},
                        {"amount", 10000},
                        {"currency", "CNY"},
                        {"signed_on", Day(0)},
                        {"installments",
                         {{{"due_on", Day(-1)}, {"amount", 4000}},
                          {{"due_on", Day(30)}, {"amount", 6000}}}}},
                       r1_token);
  ASSERT_EQ(k.status, 201) << k.body;
  std::string contract = k.Json()["id"];
  ASSERT_EQ(crmd_->Call("POST", "/api/v1/contracts/" + contract + "/payments",
                        {{"amount", 3000}, {"received_on", Day(0)}}, fin_token)
                .status,
            201);

  // A rep sees their own month.
  json mine = Dashboard(r1_token);
  EXPECT_EQ(mine["leads"]["created"], 2);
  EXPECT_EQ(mine["leads"]["by_state"]["pending"], 2);
  EXPECT_EQ(mine["contracts"], json({{"signed", 1}, {"amount", {{"CNY", 10000}}}}));
  EXPECT_EQ(mine["payments"], json({{"count", 1}, {"received", {{"CNY", 3000}}}}));
  EXPECT_EQ(mine["receivables"]["outstanding"], json({{"CNY", 7000}}));
  EXPECT_EQ(mine["receivables"]["overdue"], json({{"CNY", 1000}})) << "4000 due yesterday, 3000 paid";
  ASSERT_EQ(mine["leaderboard"].size(), 1u);
  EXPECT_EQ(mine["leaderboard"][0]["received"], json({{"CNY", 3000}}));
  EXPECT_EQ(Dashboard(r3_token)["leads"]["created"], 1);
  EXPECT_EQ(Dashboard(r3_token)["payments"]["received"], json::object());
  // A manager sees the department subtree; the company sees everyone.
  json east = Dashboard(mgr_token);
  EXPECT_EQ(east["leads"]["created"], 2);
  EXPECT_TRUE(Entry(east, r2).is_object()) << "every seller of the scope is on the board";
  EXPECT_TRUE(Entry(east, r3).is_null());
  EXPECT_EQ(Dashboard(fin_token)["leads"]["created"], 3);
  EXPECT_EQ(Dashboard(crmd_->token(), "?department_id=" + west)["leads"]["created"], 1);
  // Another month has none of it.
  json last_year = Dashboard(crmd_->token(), "?period=2025-01");
  EXPECT_EQ(last_year["leads"]["created"], 0);
  EXPECT_EQ(last_year["payments"]["received"], json::object());
  EXPECT_EQ(last_year["receivables"]["outstanding"], json({{"CNY", 7000}})) << "state is now";
  // Out of scope or malformed.
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/dashboard?department_id=" + west, nullptr, r1_token).status,
            403);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/dashboard?department_id=" + west, nullptr, mgr_token).status,
            403);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/dashboard?department_id=dep_none").status, 404);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/dashboard?period=2026-13").status, 400);
  EXPECT_EQ(Http(crmd_->port(), "GET", "/api/v1/dashboard").status, 401);

  // r1 leaves; r2 takes the customer and its contract. The credit stays with r1, the
  // receivable moves to r2.
  ASSERT_EQ(crmd_->Call("POST", "/api/v1/staff/" + r1 + "/handover", {{"to", r2}, {"depart", true}},
                        mgr_token)
                .status,
            200);
  json after = Dashboard(mgr_token);
  EXPECT_EQ(Entry(after, r1)["received"], json({{"CNY", 3000}}));
  EXPECT_EQ(Entry(after, r2)["received"], json::object());
  json heir = Dashboard(r2_token);
  EXPECT_EQ(heir["receivables"]["outstanding"], json({{"CNY", 7000}}));
  EXPECT_EQ(heir["contracts"]["signed"], 0);
  EXPECT_EQ(heir["leads"]["by_state"]["pending"], 2);

  // A target: attainment is received / target in its currency.
  auto t = crmd_->Call("PUT", "/api/v1/targets",
                       {{"period", Dashboard(r2_token)["period"]}, {"staff_id", r1},
                        {"amount", 12000}, {"currency", "CNY"}},
                       mgr_token);
  ASSERT_EQ(t.status, 200) << t.body;
  EXPECT_EQ(t.Json()["staff_id"], r1);
  EXPECT_GT(t.Json()["position"], 0);
  json with_target = Dashboard(mgr_token);
  EXPECT_EQ(Entry(with_target, r1)["target"], json({{"CNY", 12000}}));
  EXPECT_DOUBLE_EQ(Entry(with_target, r1)["attainment"].get<double>(), 0.25);
  EXPECT_EQ(with_target["leaderboard"][0]["staff_id"], r1) << "the best attainment first";
  EXPECT_EQ(crmd_->Call("PUT", "/api/v1/targets",
                        {{"period", "2026-11"}, {"staff_id", r2}, {"department_id", west},
                         {"amount", 1}, {"currency", "CNY"}},
                        mgr_token)
                .status,
            400);
  EXPECT_EQ(crmd_->Call("PUT", "/api/v1/targets",
                        {{"period", "2026-11"}, {"staff_id", r2}, {"amount", 1}, {"currency", "CNY"}},
                        r2_token)
                .status,
            403);
}

}  // namespace
}  // namespace crm::testing
