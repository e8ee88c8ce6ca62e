// The fixture of the end-to-end tests: a real crmd with a department and helpers to add
// people and leads to it.
#ifndef CRM_TESTS_API_E2E_FIXTURE_H_
#define CRM_TESTS_API_E2E_FIXTURE_H_

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../eventstore/store_test_util.h"
#include "crmd_process.h"

namespace crm::testing {

// The business day at +08:00, `offset` days from today.
inline std::string Day(int offset) {
  auto t =
      std::chrono::system_clock::now() + std::chrono::hours(8) + std::chrono::hours(24 * offset);
  auto days = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd(days);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crmd_ = std::make_unique<Crmd>(dir_.sub("data"),
                                   std::vector<std::string>{"--recycle-interval", "1"});
    ASSERT_TRUE(crmd_->Start()) << "crmd did not start";
  }

  // A department and a sales rep in it; returns {staff id, token}.
  std::pair<std::string, std::string> Rep(const std::string& name,
                                          const std::string& role = "sales") {
    if (dept_.empty()) {
      auto d = crmd_->Call("POST", "/api/v1/departments", {{"name", "East"}});
      EXPECT_EQ(d.status, 201) << d.body;
      dept_ = d.Json()["id"];
    }
    return Person(name, role, dept_);
  }

  // A person of `role` in `department`; returns {staff id, token}.
  std::pair<std::string, std::string> Person(const std::string& name, const std::string& role,
                                             const std::string& department) {
    auto r = crmd_->Call("POST", "/api/v1/staff",
                         {{"name", name},
                          {"email", name + "@example.com"},
                          {"role", role},
                          {"department_id", department}});
    EXPECT_EQ(r.status, 201) << r.body;
    return {r.Json()["id"], r.Json()["token"]};
  }

  // A lead "Ma" of "Blue Sky #<n>" (each one another company: 撞单 refuses a second
  // lead of the same company and name), with the fields of `extra`.
  std::string Lead(const std::string& token, json extra = json::object()) {
    json body = {{"name", "Ma"}, {"company", "Blue Sky" + NewLead("")["name"].get<std::string>()}};
    body.update(extra);
    auto r = crmd_->Call("POST", "/api/v1/leads", body, token);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", "");
  }

  eventstore::testing::TempDir dir_;
  std::unique_ptr<Crmd> crmd_;
  std::string dept_;
};

}  // namespace crm::testing

#endif  // CRM_TESTS_API_E2E_FIXTURE_H_
