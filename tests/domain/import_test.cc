// Lead import (导入线索), as stories: every row decided as CreateLead would be, duplicates
// of live leads and of earlier rows skipped and reported, a dry run writing nothing.
#include "spec.h"

namespace crm::domain::testing {
namespace {

CreateLead Row(const std::string& id, const std::string& name, OptText phone) {
  return CreateLead{id, name, "Co " + name, phone, {}, "import", {}, {}, false};
}

class ImportTest : public Spec {
 protected:
  void SetUp() override {
    Spec::SetUp();
    Do("stf_rep2", Row("lead_0", "Old", "13800000001"));
  }
  static const ImportOutcome& Outcome(const Result<Decision>& d) {
    return std::get<ImportOutcome>(d->outcome);
  }
};

TEST_F(ImportTest, ValidRowsAreCreatedAndDuplicatesOfLiveLeadsOrEarlierRowsAreSkipped) {
  auto d = When("stf_rep1", ImportLeads{{Row("lead_1", "A", "139 0000 0001"),
                                         Row("lead_2", "B", "+86 138 0000 0001"),  // lead_0's
                                         Row("lead_3", "C", "0086 13900000001"),   // lead_1's
                                         Row("lead_4", "D", {})},
                                        false});
  ASSERT_TRUE(d.ok()) << d.error().detail;
  const ImportOutcome& out = Outcome(d);
  ASSERT_EQ(out.rows.size(), 4u);
  EXPECT_EQ(out.created, 2);
  EXPECT_EQ(out.rows[0].created, "lead_1");
  EXPECT_EQ(out.rows[1].duplicate_of, "lead_0") << "a live lead, even another rep's";
  EXPECT_EQ(out.rows[2].duplicate_of, "lead_1") << "an earlier row of the same import";
  EXPECT_EQ(out.rows[3].created, "lead_4");
  // One LeadCreated per created row, owned by the rep who imported them, with the index
  // entries of their keys, in the same decision.
  ASSERT_EQ(d->events.size(), 2u);
  const auto& first = std::get<LeadCreated>(d->events[0].event);
  EXPECT_EQ(first.owner_id, "stf_rep1");
  EXPECT_EQ(first.phone_key, "13900000001");
  size_t phone_keys = 0;
  for (const auto& k : d->unique_keys) phone_keys += k.scope == kLeadKeyScope && !k.release;
  EXPECT_EQ(phone_keys, 3u) << "lead_1's phone and name keys, lead_4's name key";
  for (const auto& e : d->events) Given(e.stream, e.event, "stf_rep1");
  EXPECT_EQ(model_.HoldingsOf("stf_rep1").leads, (std::set<Id>{"lead_1", "lead_4"}));
  // Imported again, every row is a duplicate now.
  auto again = When("stf_rep1", ImportLeads{{Row("lead_5", "A", "13900000001")}, false});
  EXPECT_EQ(Outcome(again).rows[0].duplicate_of, "lead_1");
  EXPECT_TRUE(again->events.empty());
}

TEST_F(ImportTest, ADryRunDecidesTheSameAndRecordsNothing) {
  std::vector<CreateLead> rows = {Row("lead_1", "A", "13900000001"),
                                  Row("lead_2", "B", "13800000001")};
  auto dry = When("stf_mgr", ImportLeads{rows, true});
  auto real = When("stf_mgr", ImportLeads{rows, false});
  ASSERT_TRUE(dry.ok() && real.ok());
  EXPECT_TRUE(dry->events.empty());
  EXPECT_TRUE(dry->unique_keys.empty());
  EXPECT_EQ(Outcome(dry).created, Outcome(real).created);
  EXPECT_EQ(Outcome(dry).rows[1].duplicate_of, Outcome(real).rows[1].duplicate_of);
  // A manager's import goes to the pool.
  ASSERT_EQ(real->events.size(), 1u);
  EXPECT_FALSE(std::get<LeadCreated>(real->events[0].event).owner_id.has_value());
}

TEST_F(ImportTest, TheImportersRoleAndTheSizeAreChecked) {
  ThenError(When("stf_fin", ImportLeads{{Row("lead_1", "A", {})}, false}), ErrorKind::kForbidden,
            "forbidden");
  ThenError(When("stf_aud", ImportLeads{{Row("lead_1", "A", {})}, false}), ErrorKind::kForbidden,
            "forbidden");
  std::vector<CreateLead> many;
  for (size_t i = 0; i <= kMaxImportRows; ++i) {
    many.push_back(Row("lead_x" + std::to_string(i), "N" + std::to_string(i), {}));
  }
  ThenError(When("stf_admin", ImportLeads{many, true}), ErrorKind::kValidation,
            "validation_failed");
  many.pop_back();
  auto full = When("stf_admin", ImportLeads{many, true});
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(Outcome(full).created, static_cast<int64_t>(kMaxImportRows));
}

}  // namespace
}  // namespace crm::domain::testing
