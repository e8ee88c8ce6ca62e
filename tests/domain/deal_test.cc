// Opportunities, contracts, payments and handover, as stories.
#include "spec.h"

namespace crm::domain::testing {
namespace {

class DealTest : public Spec {
 protected:
  void SetUp() override {
    Spec::SetUp();
    Do("stf_rep1", CreateCustomer{"cus_1", CustomerDetails{.name = "Acme"}, {}});
    Do("stf_rep1",
       CreateOpportunity{"opp_1", "cus_1", {"Pilot", 500000, "CNY", On("2026-12-31"), {}}});
  }
  SignContract Contract(const std::string& id, int64_t amount, std::vector<PlannedInstallment> plan,
                        OptId opp = {}) {
    return SignContract{id, "cus_1", opp, "HT-" + id, "T", amount, "CNY", On("2026-11-01"), plan};
  }
};

TEST_F(DealTest, AnOpportunityMovesThroughOpenStages) {
  ThenEvents(When("stf_rep1", ChangeStage{"opp_1", Stage::kProposal}),
             {{"opp_1", OpportunityStageChanged{Stage::kProposal, Stage::kQualification}}});
  // The same stage again changes nothing.
  ThenEvents(When("stf_rep1", ChangeStage{"opp_1", Stage::kQualification}), {});
  ThenError(When("stf_rep1", ChangeStage{"opp_1", Stage::kWon}), ErrorKind::kValidation,
            "validation_failed");
}

TEST_F(DealTest, AClosedOpportunityTakesNoMoreChanges) {
  Do("stf_rep1", LoseOpportunity{"opp_1", "price"});
  ThenError(When("stf_rep1", ChangeStage{"opp_1", Stage::kNegotiation}), ErrorKind::kConflict,
            "invalid_transition");
  ThenError(When("stf_rep1", WinOpportunity{"opp_1", ""}), ErrorKind::kConflict,
            "invalid_transition");
}

TEST_F(DealTest, OthersCannotTouchAnOpportunity) {
  ThenError(When("stf_rep2", WinOpportunity{"opp_1", ""}), ErrorKind::kNotFound, "not_found");
  ThenEvents(When("stf_mgr", WinOpportunity{"opp_1", "signed"}),
             {{"opp_1", OpportunityWon{"signed", {}}}});
}

TEST_F(DealTest, InstallmentsMustAddUp) {
  auto d = When("stf_rep1", Contract("con_1", 1000, {{On("2026-12-01"), 999}}));
  ThenError(d, ErrorKind::kRule, "plan_mismatch");
}

TEST_F(DealTest, SigningWinsTheOpenOpportunityAndCreditsTheOwner) {
  auto d = When("stf_mgr", Contract("con_1", 1000,
                                    {{On("2026-12-01"), 400}, {On("2027-01-01"), 600}}, "opp_1"));
  ASSERT_TRUE(d.ok()) << d.error().detail;
  ASSERT_EQ(d->events.size(), 2u);
  const auto& signed_ = std::get<ContractSigned>(d->events[0].event);
  EXPECT_EQ(signed_.signed_by, "stf_rep1");  // the customer's owner, not the manager
  EXPECT_EQ(signed_.owner_id, "stf_rep1");
  EXPECT_TRUE(d->events[1].event == Event(OpportunityWon{"contract signed", "con_1"}));
  EXPECT_EQ(d->unique_keys.at(0).key, "HT-CON_1");
}

TEST_F(DealTest, ALostOpportunityCannotBeSignedFor) {
  Do("stf_rep1", LoseOpportunity{"opp_1", "price"});
  ThenError(When("stf_rep1", Contract("con_1", 10, {{On("2026-12-01"), 10}}, "opp_1")),
            ErrorKind::kConflict, "invalid_transition");
}

TEST_F(DealTest, ContractNumbersAreUniqueIgnoringCase) {
  Do("stf_rep1", Contract("con_1", 10, {{On("2026-12-01"), 10}}));
  SignContract again = Contract("con_2", 10, {{On("2026-12-01"), 10}});
  again.number = "ht-con_1";
  auto d = When("stf_rep1", again);
  ThenError(d, ErrorKind::kConflict, "duplicate_contract_number");
  EXPECT_EQ(d.error().existing_id, "con_1");
}

TEST_F(DealTest, AClashingContractNumberNamesTheContractOnlyToWhoMaySeeIt) {
  Do("stf_rep1", Contract("con_1", 10, {{On("2026-12-01"), 10}}));
  Do("stf_rep3", CreateCustomer{"cus_3", CustomerDetails{.name = "West Co"}, {}});
  SignContract theirs{
      "con_3", "cus_3", {}, "HT-con_1", "T", 10, "CNY", On("2026-11-01"), {{On("2026-12-01"), 10}}};
  auto d = When("stf_rep3", theirs);
  ThenError(d, ErrorKind::kConflict, "duplicate_contract_number");
  EXPECT_EQ(d.error().existing_id, "") << "con_1 is not rep3's to see";
}

TEST_F(DealTest, OnlyTheCustomersPeopleSign) {
  ThenError(When("stf_rep3", Contract("con_1", 10, {{On("2026-12-01"), 10}})),
            ErrorKind::kValidation, "validation_failed");
  ThenError(When("stf_fin", Contract("con_1", 10, {{On("2026-12-01"), 10}})), ErrorKind::kForbidden,
            "forbidden");
}

TEST_F(DealTest, PaymentsFillTheEarliestInstallmentFirst) {
  Do("stf_rep1", Contract("con_1", 1000, {{On("2026-11-10"), 400}, {On("2026-12-10"), 600}}));
  ThenEvents(
      When("stf_fin", RecordPayment{"con_1", "pay_1", 500, On("2026-11-20"), {}, {}}),
      {{"con_1", PaymentReceived{"pay_1", 500, On("2026-11-20"), {}, {}, {{0, 400}, {1, 100}}}}});
  Do("stf_fin", RecordPayment{"con_1", "pay_1", 500, On("2026-11-20"), {}, {}});
  EXPECT_EQ(model_.contracts.at("con_1").outstanding(), 500);
}

TEST_F(DealTest, AnOverpaymentIsRefused) {
  Do("stf_rep1", Contract("con_1", 1000, {{On("2026-11-10"), 1000}}));
  Do("stf_fin", RecordPayment{"con_1", "pay_1", 300, On("2026-11-20"), {}, {}});
  auto d = When("stf_fin", RecordPayment{"con_1", "pay_2", 701, On("2026-11-20"), {}, {}});
  ThenError(d, ErrorKind::kRule, "overpayment");
  Do("stf_fin", RecordPayment{"con_1", "pay_2", 700, On("2026-11-20"), {}, {}});
  ThenError(When("stf_fin", RecordPayment{"con_1", "pay_3", 1, On("2026-11-20"), {}, {}}),
            ErrorKind::kRule, "overpayment");
}

TEST_F(DealTest, PaymentsInSequenceNeverExceedTheAmount) {
  // The writer decides one command after another; each sees the ones before it.
  Do("stf_rep1", Contract("con_1", 1000, {{On("2026-11-10"), 1000}}));
  int accepted = 0;
  for (int i = 0; i < 10; ++i) {
    auto d =
        When("stf_fin",
             RecordPayment{"con_1", "pay_" + std::to_string(i), 300, On("2026-11-20"), {}, {}});
    if (!d.ok()) continue;
    ++accepted;
    for (const auto& e : d->events) Given(e.stream, e.event, "stf_fin");
  }
  EXPECT_EQ(accepted, 3);
  EXPECT_EQ(model_.contracts.at("con_1").paid, 900);
}

TEST_F(DealTest, OnlyFinanceAndAdminsRecordPayments) {
  Do("stf_rep1", Contract("con_1", 1000, {{On("2026-11-10"), 1000}}));
  ThenError(When("stf_rep1", RecordPayment{"con_1", "p", 1, On("2026-11-20"), {}, {}}),
            ErrorKind::kForbidden, "forbidden");
  EXPECT_TRUE(When("stf_admin", RecordPayment{"con_1", "p", 1, On("2026-11-20"), {}, {}}).ok());
}

// ---- deals belong to their customer ---------------------------------------------------

TEST_F(DealTest, DealsFollowTheirCustomerOnTransferReleaseAndClaim) {
  Do("stf_rep1", Contract("con_1", 10, {{On("2026-12-01"), 10}}));
  ThenEvents(When("stf_mgr", TransferCustomer{"cus_1", "stf_rep2"}),
             {{"cus_1", CustomerTransferred{"stf_rep2", "stf_rep1"}},
              {"opp_1", DealOwnerChanged{"cus_1", "stf_rep2", "stf_rep1"}},
              {"con_1", DealOwnerChanged{"cus_1", "stf_rep2", "stf_rep1"}}});
  Do("stf_mgr", TransferCustomer{"cus_1", "stf_rep2"});
  // The previous owner no longer sees, and cannot act on, what went with the customer.
  ThenError(When("stf_rep1", LoseOpportunity{"opp_1", "x"}), ErrorKind::kNotFound, "not_found");
  ThenError(When("stf_rep1", RecordPayment{"con_1", "p", 1, On("2026-11-20"), {}, {}}),
            ErrorKind::kNotFound, "not_found");
  ThenEvents(When("stf_rep2", ReleaseCustomer{"cus_1", "not for me"}),
             {{"cus_1", CustomerReleased{"stf_rep2", "not for me"}},
              {"opp_1", DealOwnerChanged{"cus_1", std::nullopt, "stf_rep2"}},
              {"con_1", DealOwnerChanged{"cus_1", std::nullopt, "stf_rep2"}}});
}

TEST_F(DealTest, ARecycledCustomerTakesItsOpportunitiesToThePool) {
  SetPolicy(PoolPolicy{.recycle_no_follow_up = std::chrono::days(15)});
  Advance(std::chrono::days(16));
  ThenEvents(When("system", RecycleDue{1000}),
             {{"cus_1", CustomerRecycled{"stf_rep1", RecycleRule::kNoFollowUp}},
              {"opp_1", DealOwnerChanged{"cus_1", std::nullopt, "stf_rep1"}}});
}

TEST_F(DealTest, NothingActsOnAPoolCustomersRecordsButAClaim) {
  Do("stf_rep1", Contract("con_1", 10, {{On("2026-12-01"), 10}}));
  Do("stf_rep1", ReleaseCustomer{"cus_1", "x"});
  // Everyone sees the pool; a manager of another department could act on it before.
  Given("stf_boss3", StaffCreated{"stf_boss3", "W", "w@x", Role::kManager, "dep_west", {}});
  ThenError(When("stf_boss3", WinOpportunity{"opp_1", ""}), ErrorKind::kConflict,
            "invalid_transition");
  ThenError(When("stf_mgr", ChangeStage{"opp_1", Stage::kProposal}), ErrorKind::kConflict,
            "invalid_transition");
  ThenError(
      When("stf_admin", CreateOpportunity{"opp_9", "cus_1", {"X", 5, "CNY", On("2026-12-31"), {}}}),
      ErrorKind::kConflict, "invalid_transition");
  ThenError(When("stf_admin", Contract("con_2", 10, {{On("2026-12-01"), 10}})),
            ErrorKind::kConflict, "invalid_transition");
  ThenError(When("stf_fin", RecordPayment{"con_1", "p", 1, On("2026-11-20"), {}, {}}),
            ErrorKind::kConflict, "invalid_transition");
  ThenError(When("stf_mgr", AddContact{"cus_1", "ctc_9", {"Liu", {}, {}, {}, false}}),
            ErrorKind::kConflict, "invalid_transition");
  ThenError(When("stf_mgr", UpdateCustomer{"cus_1", {}, "mining", {}, {}, {}, {}}),
            ErrorKind::kConflict, "invalid_transition");
  // A rep may not edit a pool customer at all: that is still the 403 it was.
  ThenError(When("stf_rep2", AddContact{"cus_1", "ctc_9", {"Liu", {}, {}, {}, false}}),
            ErrorKind::kForbidden, "forbidden");
  // Claiming it brings its deals along, and work resumes.
  Do("stf_rep2", ClaimCustomer{"cus_1"});
  EXPECT_EQ(model_.opportunities.at("opp_1").owner_id, "stf_rep2");
  EXPECT_EQ(model_.contracts.at("con_1").owner_id, "stf_rep2");
  EXPECT_TRUE(When("stf_fin", RecordPayment{"con_1", "p", 1, On("2026-11-20"), {}, {}}).ok());
}

TEST_F(DealTest, AConversionIntoAnotherOwnersCustomerGivesTheOpportunityToThatOwner) {
  NewLead("lead_1", "stf_rep2");
  ConvertLead c;
  c.lead_id = "lead_1";
  c.customer_id = "cus_1";
  c.new_customer_id = "cus_x";
  c.new_contact_id = "ctc_x";
  c.new_opportunity_id = "opp_x";
  c.opportunity = OpportunityDetails{"Upsell", 100, "CNY", On("2026-12-31"), {}};
  Do("stf_mgr", c);
  EXPECT_EQ(model_.opportunities.at("opp_x").owner_id, "stf_rep1");
}

TEST_F(DealTest, AConversionCannotReachIntoAPoolCustomer) {
  Do("stf_rep1", ReleaseCustomer{"cus_1", "x"});
  NewLead("lead_1", "stf_rep2");
  ConvertLead c;
  c.lead_id = "lead_1";
  c.customer_id = "cus_1";
  c.new_customer_id = "cus_x";
  c.new_contact_id = "ctc_x";
  c.contact = ContactDetails{"Liu", {}, {}, {}, false};
  ThenError(When("stf_rep2", c), ErrorKind::kConflict, "invalid_transition");
  // Matched by name instead: a duplicate naming the pool customer, to be claimed first.
  Do("stf_rep2", CreateLead{"lead_2", "Ms Liu", "ACME", {}, {}, {}, {}, {}});
  ConvertLead by_name;
  by_name.lead_id = "lead_2";
  by_name.new_customer_id = "cus_y";
  by_name.new_contact_id = "ctc_y";
  auto d = When("stf_rep2", by_name);
  ThenError(d, ErrorKind::kConflict, "duplicate_customer");
  EXPECT_EQ(d.error().existing_id, "cus_1");
}

// ---- handover ------------------------------------------------------------------------

class HandoverTest : public DealTest {};

TEST_F(HandoverTest, EverythingMovesInOneDecision) {
  NewLead("lead_1", "stf_rep1");
  NewLead("lead_2", "stf_rep1");
  Do("stf_rep1", VoidLead{"lead_2", "spam"});  // voided leads stay where they are
  Do("stf_rep1", Contract("con_1", 10, {{On("2026-12-01"), 10}}, "opp_1"));
  Do("stf_rep1", CreateOpportunity{"opp_2", "cus_1", {"More", 5, "CNY", On("2026-12-31"), {}}});
  auto d = When("stf_mgr", Handover{"stf_rep1", "stf_rep2", true});
  // Deals belong to their customer: the won opp_1 moves with cus_1 like the open opp_2.
  ThenEvents(d, {
                    {"lead_1", RecordHandedOver{"stf_rep1", "stf_rep2"}},
                    {"cus_1", RecordHandedOver{"stf_rep1", "stf_rep2"}},
                    {"opp_1", RecordHandedOver{"stf_rep1", "stf_rep2"}},
                    {"opp_2", RecordHandedOver{"stf_rep1", "stf_rep2"}},
                    {"con_1", RecordHandedOver{"stf_rep1", "stf_rep2"}},
                    {"stf_rep1", StaffDeparted{"stf_rep1"}},
                    {"stf_rep1", HandoverCompleted{"stf_rep1", "stf_rep2", true, 1, 1, 2, 1}},
                });
  for (const auto& e : d->events) Given(e.stream, e.event, "stf_mgr");
  EXPECT_EQ(model_.contracts.at("con_1").signed_by, "stf_rep1");
  EXPECT_EQ(model_.contracts.at("con_1").owner_id, "stf_rep2");
  EXPECT_EQ(model_.opportunities.at("opp_1").owner_id, "stf_rep2");
  EXPECT_EQ(model_.HoldingsOf("stf_rep2").customers.count("cus_1"), 1u);
  EXPECT_TRUE(model_.HoldingsOf("stf_rep1").leads.empty());
  ThenError(When("stf_admin", AssignLead{"lead_1", "stf_rep1"}), ErrorKind::kRule,
            "staff_departed");
}

TEST_F(HandoverTest, ToThePoolLeadsAndCustomersBecomeClaimable) {
  NewLead("lead_1", "stf_rep1");
  Do("stf_admin", Handover{"stf_rep1", {}, false});
  EXPECT_EQ(model_.leads.at("lead_1").state, LeadState::kUnassigned);
  ThenEvents(When("stf_rep2", ClaimLead{"lead_1"}), {{"lead_1", LeadClaimed{"stf_rep2"}}});
  // The customer's opportunity waits in the pool with it and comes with the claim.
  EXPECT_EQ(model_.opportunities.at("opp_1").owner_id, std::nullopt);
  ThenEvents(When("stf_rep2", ClaimCustomer{"cus_1"}),
             {{"cus_1", CustomerClaimed{"stf_rep2"}},
              {"opp_1", DealOwnerChanged{"cus_1", "stf_rep2", std::nullopt}}});
}

TEST_F(HandoverTest, ADepartedOrFullSuccessorRefusesTheWhole) {
  for (int i = 0; i < 5; ++i) NewLead("lead_" + std::to_string(i), "stf_rep1");
  Given("stf_rep3", StaffDeparted{"stf_rep3"});
  ThenError(When("stf_admin", Handover{"stf_rep1", "stf_rep3", true}), ErrorKind::kRule,
            "staff_departed");
  SetPolicy(PoolPolicy{.max_owned_leads = 5});
  NewLead("lead_x", "stf_rep2");
  ThenError(When("stf_mgr", Handover{"stf_rep1", "stf_rep2", true}), ErrorKind::kRule,
            "capacity_reached");
}

TEST_F(HandoverTest, ALargePortfolioMovesWhole) {
  for (int i = 0; i < 3000; ++i) {
    Given("lead_" + std::to_string(i),
          LeadCreated{"lead_" + std::to_string(i), "n", "c", {}, {}, {}, {}, "stf_rep1"});
  }
  auto d = When("stf_admin", Handover{"stf_rep1", "stf_rep2", false});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->events.size(), 3000u + 1 + 1 + 1);  // leads, cus_1, opp_1, completion
  EXPECT_EQ(std::get<HandoverOutcome>(d->outcome).leads, 3000);
}

TEST_F(HandoverTest, AManagersPowerReachesOnlySalesBelowAndManagersOfLowerDepartments) {
  Given("stf_admin2", StaffCreated{"stf_admin2", "A2", "a2@x", Role::kAdmin, "dep_east", {}});
  Given("stf_peer", StaffCreated{"stf_peer", "P", "p@x", Role::kManager, "dep_east", {}});
  Given("stf_fin2", StaffCreated{"stf_fin2", "F2", "f2@x", Role::kFinance, "dep_east", {}});
  Given("dep_east_a", DepartmentCreated{"dep_east_a", "East A", "dep_east"});
  Given("stf_sub", StaffCreated{"stf_sub", "S", "s@x", Role::kManager, "dep_east_a", {}});
  for (const char* who : {"stf_admin2", "stf_peer", "stf_fin2", "stf_mgr", "stf_rep3"}) {
    ThenError(When("stf_mgr", Handover{who, {}, true}), ErrorKind::kForbidden, "forbidden");
    EXPECT_FALSE(HasPowerOver(model_.org, *model_.ViewerOf("stf_mgr"), who)) << who;
  }
  EXPECT_TRUE(When("stf_mgr", Handover{"stf_sub", {}, true}).ok());
  EXPECT_TRUE(When("stf_mgr", Handover{"stf_rep1", {}, true}).ok());
  EXPECT_TRUE(When("stf_admin", Handover{"stf_admin2", {}, true}).ok());
}

TEST_F(HandoverTest, RepsCannotHandOverAndManagersOnlyTheirOwn) {
  ThenError(When("stf_rep2", Handover{"stf_rep1", "stf_rep2", false}), ErrorKind::kForbidden,
            "forbidden");
  Given("stf_boss3", StaffCreated{"stf_boss3", "W", "w@x", Role::kManager, "dep_west", {}});
  ThenError(When("stf_boss3", Handover{"stf_rep1", {}, false}), ErrorKind::kForbidden, "forbidden");
  ThenError(When("stf_admin", Handover{"stf_nobody", {}, false}), ErrorKind::kNotFound,
            "not_found");
  ThenError(When("stf_admin", Handover{"stf_rep1", "stf_rep1", false}), ErrorKind::kValidation,
            "validation_failed");
}

}  // namespace
}  // namespace crm::domain::testing
