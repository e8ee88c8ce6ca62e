// Customers, contacts and lead conversion, as stories.
#include "spec.h"

namespace crm::domain::testing {
namespace {

using std::chrono::days;

class CustomerTest : public Spec {
 protected:
  std::string NewCustomer(const std::string& id, const std::string& name, OptId owner = {}) {
    if (owner && model_.FindStaff(*owner)->role == Role::kSales) {
      Do(*owner, CreateCustomer{id, CustomerDetails{.name = name}, {}});
    } else {
      Do("stf_admin", CreateCustomer{id, CustomerDetails{.name = name}, owner});
    }
    return id;
  }
  ConvertLead Convert(const std::string& lead) {
    ConvertLead c;
    c.lead_id = lead;
    c.new_customer_id = "cus_new";
    c.new_contact_id = "ctc_new";
    c.new_opportunity_id = "opp_new";
    return c;
  }
};

TEST_F(CustomerTest, ACustomerClaimsItsNormalisedName) {
  auto d = When("stf_rep1", CreateCustomer{"cus_1", CustomerDetails{.name = "Acme  Trading"}, {}});
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->unique_keys.size(), 1u);
  EXPECT_EQ(d->unique_keys[0].key, "acme trading");
  const auto& e = std::get<CustomerCreated>(d->events[0].event);
  EXPECT_EQ(e.owner_id, "stf_rep1");
  EXPECT_EQ(e.name_key, "acme trading");
}

TEST_F(CustomerTest, ADuplicateNameIsRefusedWithTheHolder) {
  NewCustomer("cus_1", "Acme Trading", "stf_rep1");
  auto d =
      When("stf_rep2", CreateCustomer{"cus_2", CustomerDetails{.name = "  ACME   trading "}, {}});
  ThenError(d, ErrorKind::kConflict, "duplicate_customer");
  EXPECT_EQ(d.error().existing_id, "cus_1");
}

TEST_F(CustomerTest, RenamingMovesTheUniqueKey) {
  NewCustomer("cus_1", "Acme", "stf_rep1");
  NewCustomer("cus_2", "Globex", "stf_rep1");
  UpdateCustomer clash{"cus_2", "ACME", {}, {}, {}, {}, {}};
  ThenError(When("stf_rep1", clash), ErrorKind::kConflict, "duplicate_customer");
  auto d = When("stf_rep1", UpdateCustomer{"cus_1", "Acme Holdings", {}, {}, {}, {}, {}});
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->unique_keys.size(), 2u);
  EXPECT_TRUE(d->unique_keys[0].release);
  EXPECT_EQ(d->unique_keys[0].key, "acme");
  EXPECT_EQ(d->unique_keys[1].key, "acme holdings");
  for (const auto& e : d->events) Given(e.stream, e.event, "stf_rep1");
  // The old name is free again.
  EXPECT_TRUE(When("stf_rep2", CreateCustomer{"cus_3", CustomerDetails{.name = "acme"}, {}}).ok());
}

TEST_F(CustomerTest, OnlyEditorsEditAndAddContacts) {
  NewCustomer("cus_1", "Acme", "stf_rep1");
  ThenError(When("stf_rep2", UpdateCustomer{"cus_1", {}, "mining", {}, {}, {}, {}}),
            ErrorKind::kNotFound, "not_found");
  ThenEvents(When("stf_mgr", UpdateCustomer{"cus_1", {}, "mining", {}, {}, {}, {}}),
             {{"cus_1", CustomerUpdated{{}, "mining", {}, {}, {}, {}, {}}}});
  ThenEvents(When("stf_rep1", AddContact{"cus_1", "ctc_1", {"Liu", "CFO", {}, {}, true}}),
             {{"ctc_1", ContactCreated{"ctc_1", "cus_1", "Liu", "CFO", {}, {}, true}}});
  ThenError(When("stf_fin", AddContact{"cus_1", "ctc_1", {"Liu", {}, {}, {}, false}}),
            ErrorKind::kForbidden, "forbidden");
}

TEST_F(CustomerTest, ReleaseAndClaimMoveOwnership) {
  NewCustomer("cus_1", "Acme", "stf_rep1");
  ThenEvents(When("stf_rep1", ReleaseCustomer{"cus_1", "not mine"}),
             {{"cus_1", CustomerReleased{"stf_rep1", "not mine"}}});
  Do("stf_rep1", ReleaseCustomer{"cus_1", "not mine"});
  ThenEvents(When("stf_rep2", ClaimCustomer{"cus_1"}), {{"cus_1", CustomerClaimed{"stf_rep2"}}});
}

TEST_F(CustomerTest, CustomerCapacityIsEnforcedOnClaim) {
  SetPolicy(PoolPolicy{.max_owned_customers = 1});
  NewCustomer("cus_own", "Own", "stf_rep1");
  NewCustomer("cus_1", "Pool Co");
  ThenError(When("stf_rep1", ClaimCustomer{"cus_1"}), ErrorKind::kRule, "capacity_reached");
}

TEST_F(CustomerTest, AClaimedCustomerIsNotInThePool) {
  NewCustomer("cus_1", "Acme", "stf_rep1");
  ThenError(When("stf_rep1", ClaimCustomer{"cus_1"}), ErrorKind::kRule, "not_in_pool");
}

TEST_F(CustomerTest, TransferIsForManagersWithinTheirDepartments) {
  NewCustomer("cus_1", "Acme", "stf_rep1");
  ThenError(When("stf_rep1", TransferCustomer{"cus_1", "stf_rep2"}), ErrorKind::kForbidden,
            "forbidden");
  ThenError(When("stf_mgr", TransferCustomer{"cus_1", "stf_rep3"}), ErrorKind::kForbidden,
            "forbidden");
  ThenEvents(When("stf_mgr", TransferCustomer{"cus_1", "stf_rep2"}),
             {{"cus_1", CustomerTransferred{"stf_rep2", "stf_rep1"}}});
  ThenError(When("stf_mgr", TransferCustomer{"cus_1", "stf_rep1"}), ErrorKind::kConflict,
            "invalid_transition");
}

TEST_F(CustomerTest, TransferRespectsCapacityAndDeparture) {
  SetPolicy(PoolPolicy{.max_owned_customers = 1});
  NewCustomer("cus_1", "Acme", "stf_rep1");
  NewCustomer("cus_2", "Globex", "stf_rep2");
  ThenError(When("stf_mgr", TransferCustomer{"cus_1", "stf_rep2"}), ErrorKind::kRule,
            "capacity_reached");
  Given("stf_rep2", StaffDeparted{"stf_rep2"});
  ThenError(When("stf_mgr", TransferCustomer{"cus_1", "stf_rep2"}), ErrorKind::kRule,
            "staff_departed");
}

TEST_F(CustomerTest, ALockedCustomerIsNeitherReleasedNorRecycled) {
  SetPolicy(PoolPolicy{.recycle_no_follow_up = days(15)});
  NewCustomer("cus_1", "Acme", "stf_rep1");
  ThenError(When("stf_rep1", LockCustomer{"cus_1", "key account"}), ErrorKind::kForbidden,
            "forbidden");
  Do("stf_mgr", LockCustomer{"cus_1", "key account"});
  ThenError(When("stf_mgr", LockCustomer{"cus_1", "again"}), ErrorKind::kConflict,
            "invalid_transition");
  ThenError(When("stf_rep1", ReleaseCustomer{"cus_1", "x"}), ErrorKind::kConflict,
            "invalid_transition");
  Advance(days(100));
  ThenEvents(When("system", RecycleDue{}), {});
  Do("stf_mgr", UnlockCustomer{"cus_1"});
  ThenEvents(When("system", RecycleDue{}),
             {{"cus_1", CustomerRecycled{"stf_rep1", RecycleRule::kNoFollowUp}}});
}

TEST_F(CustomerTest, NoDealRecyclesACustomerWithoutAContract) {
  SetPolicy(PoolPolicy{.recycle_no_deal = days(90)});
  NewCustomer("cus_1", "Acme", "stf_rep1");
  Advance(days(60));
  Do("stf_rep1", FollowUpCustomer{"cus_1", "fup_1", Channel::kVisit, "visit", {}});
  Advance(days(30));
  // Follow-ups do not help against the no-deal rule.
  ThenEvents(When("system", RecycleDue{}),
             {{"cus_1", CustomerRecycled{"stf_rep1", RecycleRule::kNoDeal}}});
}

TEST_F(CustomerTest, ACustomerDueUnderBothRulesIsRecycledOnceUnderTheEarlier) {
  SetPolicy(PoolPolicy{.recycle_no_follow_up = days(15), .recycle_no_deal = days(10)});
  NewCustomer("cus_1", "Acme", "stf_rep1");
  Advance(days(20));
  ThenEvents(When("system", RecycleDue{}),
             {{"cus_1", CustomerRecycled{"stf_rep1", RecycleRule::kNoDeal}}});
}

TEST_F(CustomerTest, ASignedContractExemptsACustomerFromBothRules) {
  SetPolicy(PoolPolicy{.recycle_no_follow_up = days(15), .recycle_no_deal = days(90)});
  NewCustomer("cus_1", "Acme", "stf_rep1");
  Do("stf_rep1", SignContract{"con_1",
                              "cus_1",
                              {},
                              "HT-1",
                              "T",
                              100,
                              "CNY",
                              On("2026-11-20"),
                              {{On("2026-12-20"), 100}}});
  Advance(days(365));
  ThenEvents(When("system", RecycleDue{}), {});
}

TEST_F(CustomerTest, TheEarlierRuleDecides) {
  SetPolicy(PoolPolicy{.recycle_no_follow_up = days(15), .recycle_no_deal = days(10)});
  NewCustomer("cus_1", "Acme", "stf_rep1");
  RecycleRule rule;
  auto at = CustomerRecycleAt(model_.customers.at("cus_1"), model_.policy, &rule);
  EXPECT_EQ(at, now_ + days(10));
  EXPECT_EQ(rule, RecycleRule::kNoDeal);
}

TEST_F(CustomerTest, OnlyTheOwnerFollowsUpACustomer) {
  NewCustomer("cus_1", "Acme", "stf_rep1");
  ThenError(When("stf_mgr", FollowUpCustomer{"cus_1", "f", Channel::kCall, "x", {}}),
            ErrorKind::kForbidden, "forbidden");
  ThenEvents(When("stf_rep1", FollowUpCustomer{"cus_1", "f", Channel::kCall, "x", {}}),
             {{"cus_1", FollowUpRecorded{"f", Channel::kCall, "x", {}}}});
}

// ---- conversion -------------------------------------------------------------------------

TEST_F(CustomerTest, AConversionWritesLeadCustomerContactAndOpportunityAtOnce) {
  NewLead("lead_1", "stf_rep1", "east");
  ConvertLead c = Convert("lead_1");
  c.contact = ContactDetails{"Mr Ma", "CEO", {}, {}, true};
  c.opportunity = OpportunityDetails{"Pilot", 500000, "CNY", On("2026-12-20"), Stage::kProposal};
  auto d = When("stf_rep1", c);
  ASSERT_TRUE(d.ok()) << d.error().detail;
  ASSERT_EQ(d->events.size(), 4u);
  EXPECT_EQ(d->events[0].stream, "cus_new");
  const auto& created = std::get<CustomerCreated>(d->events[0].event);
  EXPECT_EQ(created.name, "Company lead_1");
  EXPECT_EQ(created.owner_id, "stf_rep1");
  EXPECT_EQ(created.source_lead_id, "lead_1");
  EXPECT_EQ(created.region, "east");
  EXPECT_EQ(d->events[1].stream, "ctc_new");
  EXPECT_EQ(d->events[2].stream, "opp_new");
  EXPECT_EQ(std::get<OpportunityCreated>(d->events[2].event).stage, Stage::kProposal);
  EXPECT_TRUE(d->events[3].event == Event(LeadConverted{"cus_new", true, "ctc_new", "opp_new"}));
  const auto& out = std::get<ConversionOutcome>(d->outcome);
  EXPECT_TRUE(out.customer_created);
  // The customer's name is claimed; the converted lead's duplicate key is given up.
  ASSERT_EQ(d->unique_keys.size(), 2u);
  EXPECT_EQ(d->unique_keys[0].scope, kCustomerNameScope);
  EXPECT_EQ(d->unique_keys[1].scope, kLeadKeyScope);
  EXPECT_TRUE(d->unique_keys[1].release);
}

TEST_F(CustomerTest, ASecondLeadOfTheSameCompanyJoinsTheCustomer) {
  NewLead("lead_1", "stf_rep1");
  Do("stf_rep1", Convert("lead_1"));
  Do("stf_admin", CreateLead{"lead_2", "B", "COMPANY  lead_1", {}, {}, {}, {}, "stf_rep1"});
  ConvertLead c = Convert("lead_2");
  c.new_customer_id = "cus_other";
  auto d = When("stf_rep1", c);
  ThenEvents(d, {{"cus_new", CustomerLeadAttached{"lead_2"}},
                 {"lead_2", LeadConverted{"cus_new", false, {}, {}}}});
}

TEST_F(CustomerTest, AnInvisibleNamesakeIsADuplicate) {
  NewCustomer("cus_1", "Company lead_1", "stf_rep2");
  NewLead("lead_1", "stf_rep1");
  auto d = When("stf_rep1", Convert("lead_1"));
  ThenError(d, ErrorKind::kConflict, "duplicate_customer");
  EXPECT_EQ(d.error().existing_id, "cus_1");
}

TEST_F(CustomerTest, AVoidedLeadCannotConvert) {
  NewLead("lead_1", "stf_rep1");
  Do("stf_rep1", VoidLead{"lead_1", "spam"});
  ThenError(When("stf_rep1", Convert("lead_1")), ErrorKind::kConflict, "invalid_transition");
}

TEST_F(CustomerTest, AConversionBeyondCapacityWritesNothing) {
  SetPolicy(PoolPolicy{.max_owned_customers = 1});
  NewCustomer("cus_own", "Own", "stf_rep1");
  NewLead("lead_1", "stf_rep1");
  ConvertLead c = Convert("lead_1");
  c.contact = ContactDetails{"Ma", {}, {}, {}, false};
  c.opportunity = OpportunityDetails{"Pilot", 100, "CNY", On("2026-12-20"), {}};
  auto d = When("stf_rep1", c);
  ThenError(d, ErrorKind::kRule, "capacity_reached");
  // Attaching to an existing customer needs no capacity.
  ConvertLead attach = Convert("lead_1");
  attach.customer_id = "cus_own";
  EXPECT_TRUE(When("stf_rep1", attach).ok());
}

TEST_F(CustomerTest, ConvertingIntoANamedCustomerNeedsToSeeIt) {
  NewCustomer("cus_1", "Acme", "stf_rep2");
  NewLead("lead_1", "stf_rep1");
  ConvertLead c = Convert("lead_1");
  c.customer_id = "cus_1";
  auto d = When("stf_rep1", c);
  ThenError(d, ErrorKind::kValidation, "validation_failed");
  EXPECT_EQ(d.error().fields[0].field, "customer_id");
}

}  // namespace
}  // namespace crm::domain::testing
