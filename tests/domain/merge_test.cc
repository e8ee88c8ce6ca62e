// Customer merge (合并客户), as stories.
#include "spec.h"

namespace crm::domain::testing {
namespace {

class MergeTest : public Spec {
 protected:
  void SetUp() override {
    Spec::SetUp();
    Do("stf_rep1", CreateCustomer{"cus_1", CustomerDetails{.name = "Acme"}, {}});
    Do("stf_rep1", CreateCustomer{"cus_2", CustomerDetails{.name = "Acme Ltd"}, {}});
    Do("stf_rep1", AddContact{"cus_2", "ctc_1", ContactDetails{"Ms Li", {}, {}, {}, false}});
    Do("stf_rep1",
       CreateOpportunity{"opp_1", "cus_2", {"Pilot", 500, "CNY", On("2026-12-31"), {}}});
    Do("stf_rep1", SignContract{"con_1",
                                "cus_2",
                                {},
                                "HT-1",
                                "T",
                                1000,
                                "CNY",
                                On("2026-11-01"),
                                {{On("2026-12-01"), 1000}}});
  }
};

TEST_F(MergeTest, EveryRecordMovesToTheSurvivorAndTheMergedNameIsReleased) {
  auto d = When("stf_mgr", MergeCustomers{"cus_1", "cus_2"});
  ThenEvents(d, {{"ctc_1", RecordMoved{"cus_1", "cus_2", std::nullopt}},
                 {"opp_1", RecordMoved{"cus_1", "cus_2", "stf_rep1"}},
                 {"con_1", RecordMoved{"cus_1", "cus_2", "stf_rep1"}},
                 {"cus_2", CustomerMerged{"cus_1"}},
                 {"cus_1", CustomerAbsorbed{"cus_2"}}});
  EXPECT_EQ(d->primary, "cus_1");
  ASSERT_EQ(d->unique_keys.size(), 1u);
  EXPECT_EQ(d->unique_keys[0].scope, kCustomerNameScope);
  EXPECT_EQ(d->unique_keys[0].key, "acme ltd");
  EXPECT_TRUE(d->unique_keys[0].release);
  for (const auto& e : d->events) Given(e.stream, e.event, "stf_mgr");

  const CustomerRecord& survivor = model_.customers.at("cus_1");
  EXPECT_EQ(survivor.contacts, std::vector<Id>{"ctc_1"});
  EXPECT_EQ(survivor.opportunities, std::vector<Id>{"opp_1"});
  EXPECT_EQ(survivor.contracts, std::vector<Id>{"con_1"});
  EXPECT_TRUE(survivor.has_signed_contract);  // the contract it absorbed
  const CustomerRecord& merged = model_.customers.at("cus_2");
  EXPECT_EQ(merged.merged_into, "cus_1");
  EXPECT_TRUE(merged.contacts.empty() && merged.opportunities.empty() && merged.contracts.empty());
  EXPECT_EQ(model_.contacts.at("ctc_1").customer_id, "cus_1");
  EXPECT_EQ(model_.contracts.at("con_1").customer_id, "cus_1");
  EXPECT_EQ(model_.HoldingsOf("stf_rep1").customers, std::set<Id>{"cus_1"});
  // Its name is free again; the merged customer takes no command.
  EXPECT_TRUE(
      When("stf_rep1", CreateCustomer{"cus_9", CustomerDetails{.name = "ACME LTD"}, {}}).ok());
  ThenError(When("stf_rep1", ClaimCustomer{"cus_2"}), ErrorKind::kConflict, "invalid_transition");
  ThenError(
      When("stf_rep1", CreateOpportunity{"opp_2", "cus_2", {"X", 1, "CNY", On("2026-12-31"), {}}}),
      ErrorKind::kValidation, "validation_failed");
  ThenError(When("stf_mgr", MergeCustomers{"cus_1", "cus_2"}), ErrorKind::kConflict,
            "invalid_transition");
  ThenError(When("stf_mgr", MergeCustomers{"cus_2", "cus_1"}), ErrorKind::kConflict,
            "invalid_transition");
  // Its deals are the survivor's: new work on them goes through the survivor.
  EXPECT_TRUE(When("stf_rep1", ChangeStage{"opp_1", Stage::kProposal}).ok());
}

TEST_F(MergeTest, OnlyAnAdminOrAManagerWhoMayActOnBothMerges) {
  ThenError(When("stf_rep1", MergeCustomers{"cus_1", "cus_2"}), ErrorKind::kForbidden, "forbidden");
  ThenError(When("stf_fin", MergeCustomers{"cus_1", "cus_2"}), ErrorKind::kForbidden, "forbidden");
  ThenError(When("stf_mgr", MergeCustomers{"cus_1", "cus_1"}), ErrorKind::kValidation,
            "validation_failed");
  ThenError(When("stf_mgr", MergeCustomers{"cus_1", "cus_404"}), ErrorKind::kValidation,
            "validation_failed");
  // West's customer is invisible to East's manager: unknown as `from`, 404 as the survivor.
  Do("stf_rep3", CreateCustomer{"cus_3", CustomerDetails{.name = "Globex"}, {}});
  ThenError(When("stf_mgr", MergeCustomers{"cus_1", "cus_3"}), ErrorKind::kValidation,
            "validation_failed");
  ThenError(When("stf_mgr", MergeCustomers{"cus_3", "cus_1"}), ErrorKind::kNotFound, "not_found");
  EXPECT_TRUE(When("stf_admin", MergeCustomers{"cus_3", "cus_1"}).ok());
  // Neither may be in the pool: its rules (claim limits, capacity) would be skipped.
  Do("stf_rep1", ReleaseCustomer{"cus_2", "not mine"});
  ThenError(When("stf_mgr", MergeCustomers{"cus_1", "cus_2"}), ErrorKind::kConflict,
            "invalid_transition");
  ThenError(When("stf_admin", MergeCustomers{"cus_2", "cus_1"}), ErrorKind::kConflict,
            "invalid_transition");
}

TEST_F(MergeTest, TheDealsTakeTheSurvivorsOwner) {
  Do("stf_rep2", CreateCustomer{"cus_3", CustomerDetails{.name = "Initech"}, {}});
  Do("stf_rep2", CreateOpportunity{"opp_3", "cus_3", {"Big", 900, "CNY", On("2026-12-31"), {}}});
  auto d = Do("stf_mgr", MergeCustomers{"cus_1", "cus_3"});
  ASSERT_EQ(d.events.size(), 3u);
  EXPECT_EQ(model_.opportunities.at("opp_3").owner_id, "stf_rep1");
  EXPECT_TRUE(model_.HoldingsOf("stf_rep2").customers.empty());
  // An unsigned survivor keeps its recycle clock; the merged customer has none.
  EXPECT_FALSE(CustomerRecycleAt(model_.customers.at("cus_3"), model_.policy).has_value());
  ThenError(When("stf_rep2", ChangeStage{"opp_3", Stage::kProposal}), ErrorKind::kNotFound,
            "not_found");
}

}  // namespace
}  // namespace crm::domain::testing
