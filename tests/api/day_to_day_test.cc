// The day-to-day work of API.md's "Day-to-day work": strict lists, edits with If-Match,
// duplicate leads (撞单), against a real crmd.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "e2e_fixture.h"

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
  auto ok = crmd_->Call("GET", "/api/v1/leads?state=pending&limit=5&min_position=1", nullptr, token);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Json()["items"].size(), 1u);
  // One record's GET takes no list parameters; an anonymous caller learns nothing.
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/pool/me?limit=5", nullptr, token).status, 400);
  EXPECT_EQ(crmd_->Call("GET", "/api/v1/customers?levle=A", nullptr, "-").status, 401);
  for (const char* path : {"/api/v1/customers?owner=x", "/api/v1/opportunities?state=won",
                           "/api/v1/contracts?overdue=true", "/api/v1/receivables?status=paid",
                           "/api/v1/pool?type=lead", "/api/v1/staff?q=wang",
                           "/api/v1/dashboard?month=2026-11", "/api/v1/events?after=0&kind=x",
                           "/api/v1/audit/verify?deep=1"}) {
    auto r = crmd_->Call("GET", path, nullptr);
    EXPECT_EQ(r.status, 400) << path << ": " << r.body;
    EXPECT_EQ(r.Json()["errors"].size(), 1u) << path;
  }
}

}  // namespace
}  // namespace crm::testing
