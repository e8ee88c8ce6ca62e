// Given/when/then for the deciders: given these events, when this command, then these
// events or this error. No I/O: the model is folded in memory.
#ifndef CRM_TESTS_DOMAIN_SPEC_H_
#define CRM_TESTS_DOMAIN_SPEC_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "domain/decide.h"
#include "domain/model.h"

namespace crm::domain::testing {

// A stand-in for the ICU normaliser: lower-case ASCII, spaces folded and trimmed.
inline std::string SimpleNormalize(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

inline Time At(std::string_view rfc3339) { return *ParseTime(rfc3339); }
inline Date On(std::string_view ymd) { return *ParseDate(ymd); }

class Spec : public ::testing::Test {
 protected:
  // An organisation every story starts from:
  //   Sales (dep_sales) ├─ East (dep_east): manager stf_mgr, reps stf_rep1, stf_rep2
  //                     └─ West (dep_west): rep stf_rep3
  //   stf_admin (no department), stf_fin (finance), stf_aud (auditor) in Sales.
  void SetUp() override {
    Given("stf_admin", StaffCreated{"stf_admin", "Admin", "admin@x", Role::kAdmin, {}, {}},
          "system");
    Given("dep_sales", DepartmentCreated{"dep_sales", "Sales", {}});
    Given("dep_east", DepartmentCreated{"dep_east", "East", "dep_sales"});
    Given("dep_west", DepartmentCreated{"dep_west", "West", "dep_sales"});
    Given("stf_mgr", StaffCreated{"stf_mgr", "Li", "li@x", Role::kManager, "dep_east", {}});
    Given("stf_rep1", StaffCreated{"stf_rep1", "Wang", "wang@x", Role::kSales, "dep_east", "east"});
    Given("stf_rep2",
          StaffCreated{"stf_rep2", "Zhang", "zhang@x", Role::kSales, "dep_east", "north"});
    Given("stf_rep3", StaffCreated{"stf_rep3", "Chen", "chen@x", Role::kSales, "dep_west", "west"});
    Given("stf_fin", StaffCreated{"stf_fin", "Zhao", "zhao@x", Role::kFinance, "dep_sales", {}});
    Given("stf_aud", StaffCreated{"stf_aud", "Sun", "sun@x", Role::kAuditor, "dep_sales", {}});
  }

  // Folds an event into the model as if it had been recorded now.
  void Given(const std::string& stream, Event e, const std::string& actor = "stf_admin") {
    EventMeta meta{stream, ++versions_[stream], ++position_, now_, actor};
    Evolve(model_, meta, e);
    // The recycle clocks and duplicate keys Evolve keeps are always those the records give.
    Model derived = model_;
    derived.recycle = {};
    derived.lead_by_key = {};
    IndexDerived(derived);
    EXPECT_TRUE(derived.recycle == model_.recycle) << "recycle clocks out of step after " << stream;
    EXPECT_TRUE(derived.lead_by_key == model_.lead_by_key)
        << "duplicate keys out of step after " << stream;
  }

  Result<Decision> When(const std::string& actor, Command c) {
    Context ctx{actor, now_, SimpleNormalize};
    return Decide(model_, c, ctx);
  }

  // Decides and, when accepted, records the events: the next step of a story.
  Decision Do(const std::string& actor, Command c) {
    auto d = When(actor, std::move(c));
    EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().code + ": " + d.error().detail);
    if (!d.ok()) return Decision{};
    for (const auto& e : d->events) Given(e.stream, e.event, actor);
    return *d;
  }

  static void ThenError(const Result<Decision>& d, ErrorKind kind, const std::string& code) {
    ASSERT_FALSE(d.ok()) << "expected " << code << ", the command was accepted";
    EXPECT_EQ(d.error().code, code) << d.error().detail;
    EXPECT_EQ(d.error().kind, kind) << d.error().code;
  }

  static void ThenEvents(const Result<Decision>& d, const std::vector<NewEvent>& expected) {
    ASSERT_TRUE(d.ok()) << d.error().code << ": " << d.error().detail;
    ASSERT_EQ(d->events.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(d->events[i].stream, expected[i].stream) << "event " << i;
      EXPECT_EQ(EventTypeName(d->events[i].event), EventTypeName(expected[i].event))
          << "event " << i;
      EXPECT_TRUE(d->events[i].event == expected[i].event) << "event " << i << " differs";
    }
  }

  // A lead owned by `owner` (nullopt: in the pool), created by the admin.
  std::string NewLead(const std::string& id, OptId owner = {}, OptText region = {}) {
    CreateLead c{id, "Contact " + id, "Company " + id, {}, {}, {}, region, owner};
    Do("stf_admin", c);
    return id;
  }

  void SetPolicy(PoolPolicy p) { Do("stf_admin", SetPoolPolicy{p}); }
  void Advance(Seconds s) { now_ += s; }

  Model model_;
  Time now_ = At("2026-11-20T02:00:00Z");  // 10:00 in Beijing
  uint64_t position_ = 0;
  std::map<std::string, uint64_t> versions_;
};

}  // namespace crm::domain::testing

#endif  // CRM_TESTS_DOMAIN_SPEC_H_
