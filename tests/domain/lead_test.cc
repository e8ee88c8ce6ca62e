// The lead lifecycle and the pool rules, as stories.
#include "spec.h"

namespace crm::domain::testing {
namespace {

using std::chrono::days;
using std::chrono::hours;

class LeadTest : public Spec {};

TEST_F(LeadTest, ASalesRepOwnsTheLeadItCreates) {
  auto d = When("stf_rep1", CreateLead{"lead_1", "Ma", "Blue Sky", {}, {}, "web", "east", {}});
  LeadCreated created{"lead_1", "Ma", "Blue Sky", {}, {}, "web", "east", "stf_rep1"};
  created.name_key = "blue sky\x1fma";  // the normalised company and name: its duplicate key
  ThenEvents(d, {{"lead_1", created}});
  Given("lead_1", d->events[0].event, "stf_rep1");
  EXPECT_EQ(model_.leads.at("lead_1").state, LeadState::kPending);
  EXPECT_EQ(model_.HoldingsOf("stf_rep1").leads.count("lead_1"), 1u);
}

TEST_F(LeadTest, ALeadCreatedWithoutOwnerByAnAdminGoesToThePool) {
  NewLead("lead_1");
  EXPECT_EQ(model_.leads.at("lead_1").state, LeadState::kUnassigned);
  EXPECT_FALSE(model_.leads.at("lead_1").own.owner_id);
}

TEST_F(LeadTest, ASalesRepCannotCreateLeadsForOthers) {
  ThenError(When("stf_rep1", CreateLead{"lead_1", "Ma", "Co", {}, {}, {}, {}, "stf_rep2"}),
            ErrorKind::kForbidden, "forbidden");
}

TEST_F(LeadTest, AuditorsAndFinanceCreateNothing) {
  ThenError(When("stf_aud", CreateLead{"lead_1", "Ma", "Co", {}, {}, {}, {}, {}}),
            ErrorKind::kForbidden, "forbidden");
  ThenError(When("stf_fin", CreateLead{"lead_1", "Ma", "Co", {}, {}, {}, {}, {}}),
            ErrorKind::kForbidden, "forbidden");
}

TEST_F(LeadTest, ADepartedActorIsUnauthorized) {
  Given("stf_rep1", StaffDeparted{"stf_rep1"});
  ThenError(When("stf_rep1", CreateLead{"lead_1", "Ma", "Co", {}, {}, {}, {}, {}}),
            ErrorKind::kUnauthorized, "unauthorized");
}

TEST_F(LeadTest, AManagerAssignsAPoolLead) {
  NewLead("lead_1");
  ThenEvents(When("stf_mgr", AssignLead{"lead_1", "stf_rep2"}),
             {{"lead_1", LeadAssigned{"stf_rep2", {}, AssignStrategy::kManual}}});
}

TEST_F(LeadTest, ARepMayNotAssign) {
  NewLead("lead_1");
  ThenError(When("stf_rep1", AssignLead{"lead_1", "stf_rep1"}), ErrorKind::kForbidden, "forbidden");
}

TEST_F(LeadTest, AManagerCannotAssignOutsideTheirDepartments) {
  NewLead("lead_1");
  ThenError(When("stf_mgr", AssignLead{"lead_1", "stf_rep3"}), ErrorKind::kForbidden, "forbidden");
}

TEST_F(LeadTest, AssigningToAnUnknownPersonIsAValidationError) {
  NewLead("lead_1");
  auto d = When("stf_admin", AssignLead{"lead_1", "stf_nobody"});
  ThenError(d, ErrorKind::kValidation, "validation_failed");
  EXPECT_EQ(d.error().fields.at(0).field, "owner_id");
}

TEST_F(LeadTest, AssigningToADepartedPersonIsRefused) {
  NewLead("lead_1");
  Given("stf_rep2", StaffDeparted{"stf_rep2"});
  ThenError(When("stf_admin", AssignLead{"lead_1", "stf_rep2"}), ErrorKind::kRule,
            "staff_departed");
}

TEST_F(LeadTest, AssignmentRespectsCapacity) {
  SetPolicy(PoolPolicy{.max_owned_leads = 1});
  NewLead("lead_1", "stf_rep1");
  NewLead("lead_2");
  ThenError(When("stf_mgr", AssignLead{"lead_2", "stf_rep1"}), ErrorKind::kRule,
            "capacity_reached");
}

TEST_F(LeadTest, AnotherDepartmentsLeadIsNotFound) {
  NewLead("lead_1", "stf_rep1");
  ThenError(When("stf_rep3", FollowUpLead{"lead_1", "fup_1", Channel::kCall, "x", {}}),
            ErrorKind::kNotFound, "not_found");
  ThenError(When("stf_rep2", ReleaseLead{"lead_1", "x"}), ErrorKind::kNotFound, "not_found");
}

TEST_F(LeadTest, TheLifecycleFollowsTheStateMachine) {
  NewLead("lead_1", "stf_rep1");
  Do("stf_rep1", FollowUpLead{"lead_1", "fup_1", Channel::kCall, "first call", {}});
  EXPECT_EQ(model_.leads.at("lead_1").state, LeadState::kFollowing);
  Do("stf_rep1", InvalidateLead{"lead_1", "no answer"});
  EXPECT_EQ(model_.leads.at("lead_1").state, LeadState::kInvalid);
  ThenError(When("stf_rep1", InvalidateLead{"lead_1", "again"}), ErrorKind::kConflict,
            "invalid_transition");
  Do("stf_rep1", FollowUpLead{"lead_1", "fup_2", Channel::kVisit, "tried again", {}});
  EXPECT_EQ(model_.leads.at("lead_1").state, LeadState::kFollowing);
  Do("stf_rep1", VoidLead{"lead_1", "spam"});
  EXPECT_EQ(model_.leads.at("lead_1").state, LeadState::kVoided);
  EXPECT_EQ(model_.HoldingsOf("stf_rep1").leads.count("lead_1"), 0u);
  ThenError(When("stf_rep1", FollowUpLead{"lead_1", "fup_3", Channel::kCall, "x", {}}),
            ErrorKind::kConflict, "invalid_transition");
  ThenError(When("stf_rep1", VoidLead{"lead_1", "again"}), ErrorKind::kConflict,
            "invalid_transition");
}

TEST_F(LeadTest, OnlyTheOwnerRecordsFollowUps) {
  NewLead("lead_1", "stf_rep1");
  ThenError(When("stf_mgr", FollowUpLead{"lead_1", "fup_1", Channel::kCall, "x", {}}),
            ErrorKind::kForbidden, "forbidden");
}

TEST_F(LeadTest, ReleaseByTheOwnersManagerPutsTheLeadInThePool) {
  NewLead("lead_1", "stf_rep1");
  ThenEvents(When("stf_mgr", ReleaseLead{"lead_1", "reorganising"}),
             {{"lead_1", LeadReleased{"stf_rep1", "reorganising"}}});
}

TEST_F(LeadTest, APoolLeadCannotBeReleased) {
  NewLead("lead_1");
  ThenError(When("stf_mgr", ReleaseLead{"lead_1", "x"}), ErrorKind::kConflict,
            "invalid_transition");
}

TEST_F(LeadTest, ClaimTakesAPoolLead) {
  NewLead("lead_1");
  ThenEvents(When("stf_rep1", ClaimLead{"lead_1"}), {{"lead_1", LeadClaimed{"stf_rep1"}}});
}

TEST_F(LeadTest, AnOwnedLeadIsNotInThePool) {
  NewLead("lead_1", "stf_rep1");
  ThenError(When("stf_rep1", ClaimLead{"lead_1"}), ErrorKind::kRule, "not_in_pool");
  ThenError(When("stf_rep3", ClaimLead{"lead_1"}), ErrorKind::kNotFound, "not_found");
}

TEST_F(LeadTest, AVoidedLeadCannotBeClaimed) {
  NewLead("lead_1");
  Do("stf_admin", VoidLead{"lead_1", "duplicate"});
  ThenError(When("stf_rep1", ClaimLead{"lead_1"}), ErrorKind::kConflict, "invalid_transition");
}

TEST_F(LeadTest, FinanceCannotClaim) {
  NewLead("lead_1");
  ThenError(When("stf_fin", ClaimLead{"lead_1"}), ErrorKind::kForbidden, "forbidden");
}

TEST_F(LeadTest, ClaimFailsWhenDailyLimitReached) {
  SetPolicy(PoolPolicy{.daily_claim_limit = 2});
  for (auto id : {"lead_1", "lead_2", "lead_3"}) NewLead(id);
  Do("stf_rep1", ClaimLead{"lead_1"});
  Do("stf_rep1", ClaimLead{"lead_2"});
  auto d = When("stf_rep1", ClaimLead{"lead_3"});
  ThenError(d, ErrorKind::kRule, "claim_limit_reached");
  EXPECT_EQ(d.error().detail, "2 of 2 claims used today");
  // Another rep has their own count.
  ThenEvents(When("stf_rep2", ClaimLead{"lead_3"}), {{"lead_3", LeadClaimed{"stf_rep2"}}});
}

TEST_F(LeadTest, TheDailyLimitResetsAtTheStartOfTheBusinessDay) {
  SetPolicy(PoolPolicy{.daily_claim_limit = 1});
  NewLead("lead_1");
  NewLead("lead_2");
  now_ = At("2026-11-20T15:59:00Z");  // 23:59 at +08:00
  Do("stf_rep1", ClaimLead{"lead_1"});
  ThenError(When("stf_rep1", ClaimLead{"lead_2"}), ErrorKind::kRule, "claim_limit_reached");
  now_ = At("2026-11-20T16:00:00Z");  // midnight at +08:00: a new business day
  ThenEvents(When("stf_rep1", ClaimLead{"lead_2"}), {{"lead_2", LeadClaimed{"stf_rep1"}}});
}

TEST_F(LeadTest, CustomerClaimsCountTowardsTheSameDailyLimit) {
  SetPolicy(PoolPolicy{.daily_claim_limit = 1});
  Do("stf_admin", CreateCustomer{"cus_1", CustomerDetails{.name = "Acme"}, {}});
  NewLead("lead_1");
  Do("stf_rep1", ClaimCustomer{"cus_1"});
  ThenError(When("stf_rep1", ClaimLead{"lead_1"}), ErrorKind::kRule, "claim_limit_reached");
}

TEST_F(LeadTest, APreviousOwnerCannotReclaimWithinTheBlock) {
  SetPolicy(PoolPolicy{.previous_owner_block = days(7)});
  NewLead("lead_1", "stf_rep1");
  Do("stf_rep1", ReleaseLead{"lead_1", "not my region"});
  ThenError(When("stf_rep1", ClaimLead{"lead_1"}), ErrorKind::kRule, "previous_owner_blocked");
  Advance(days(7));
  ThenEvents(When("stf_rep1", ClaimLead{"lead_1"}), {{"lead_1", LeadClaimed{"stf_rep1"}}});
}

TEST_F(LeadTest, ThePreviousOwnerBlockDoesNotStopOthers) {
  SetPolicy(PoolPolicy{.previous_owner_block = days(7)});
  NewLead("lead_1", "stf_rep1");
  Do("stf_rep1", ReleaseLead{"lead_1", "x"});
  ThenEvents(When("stf_rep2", ClaimLead{"lead_1"}), {{"lead_1", LeadClaimed{"stf_rep2"}}});
}

TEST_F(LeadTest, ClaimFailsAtCapacity) {
  SetPolicy(PoolPolicy{.max_owned_leads = 1});
  Do("stf_rep1", CreateLead{"lead_own", "A", "B", {}, {}, {}, {}, {}});
  NewLead("lead_1");
  ThenError(When("stf_rep1", ClaimLead{"lead_1"}), ErrorKind::kRule, "capacity_reached");
}

TEST_F(LeadTest, ARepsOwnNewLeadIsNeverRefusedForCapacityButCounts) {
  SetPolicy(PoolPolicy{.max_owned_leads = 1});
  Do("stf_rep1", CreateLead{"lead_a", "A", "B", {}, {}, {}, {}, {}});
  Do("stf_rep1", CreateLead{"lead_b", "A2", "B", {}, {}, {}, {}, {}});
  EXPECT_EQ(model_.HoldingsOf("stf_rep1").leads.size(), 2u);
}

TEST_F(LeadTest, InvalidLeadsCountTowardsCapacityButVoidedOnesDoNot) {
  SetPolicy(PoolPolicy{.max_owned_leads = 1});
  Do("stf_rep1", CreateLead{"lead_a", "A", "B", {}, {}, {}, {}, {}});
  Do("stf_rep1", InvalidateLead{"lead_a", "wrong number"});
  NewLead("lead_1");
  ThenError(When("stf_rep1", ClaimLead{"lead_1"}), ErrorKind::kRule, "capacity_reached");
  Do("stf_rep1", VoidLead{"lead_a", "spam"});
  ThenEvents(When("stf_rep1", ClaimLead{"lead_1"}), {{"lead_1", LeadClaimed{"stf_rep1"}}});
}

TEST_F(LeadTest, RoundRobinSpreadsLeadsInTurn) {
  for (auto id : {"lead_1", "lead_2", "lead_3", "lead_4"}) NewLead(id);
  auto d = When("stf_mgr", AutoAssignLeads{std::vector<Id>{"lead_1", "lead_2", "lead_3", "lead_4"},
                                           AssignStrategy::kRoundRobin,
                                           {"stf_rep1", "stf_rep2"}});
  ThenEvents(d, {
                    {"lead_1", LeadAssigned{"stf_rep1", {}, AssignStrategy::kRoundRobin}},
                    {"lead_2", LeadAssigned{"stf_rep2", {}, AssignStrategy::kRoundRobin}},
                    {"lead_3", LeadAssigned{"stf_rep1", {}, AssignStrategy::kRoundRobin}},
                    {"lead_4", LeadAssigned{"stf_rep2", {}, AssignStrategy::kRoundRobin}},
                });
  EXPECT_EQ(std::get<AutoAssignOutcome>(d->outcome).assignments.size(), 4u);
}

TEST_F(LeadTest, LeastLoadedFillsTheEmptiestFirst) {
  NewLead("lead_a", "stf_rep1");
  NewLead("lead_b", "stf_rep1");
  for (auto id : {"lead_1", "lead_2", "lead_3"}) NewLead(id);
  auto d =
      When("stf_mgr", AutoAssignLeads{{}, AssignStrategy::kLeastLoaded, {"stf_rep1", "stf_rep2"}});
  // rep2 starts empty: it takes two before rep1 (two owned) gets the third.
  ThenEvents(d, {
                    {"lead_1", LeadAssigned{"stf_rep2", {}, AssignStrategy::kLeastLoaded}},
                    {"lead_2", LeadAssigned{"stf_rep2", {}, AssignStrategy::kLeastLoaded}},
                    {"lead_3", LeadAssigned{"stf_rep1", {}, AssignStrategy::kLeastLoaded}},
                });
}

TEST_F(LeadTest, RegionAssignmentMatchesRegionsAndLeavesTheRest) {
  NewLead("lead_1", {}, "EAST");
  NewLead("lead_2", {}, "north");
  NewLead("lead_3", {}, "south");
  auto d = When("stf_mgr", AutoAssignLeads{{}, AssignStrategy::kRegion, {"stf_rep1", "stf_rep2"}});
  ThenEvents(d, {
                    {"lead_1", LeadAssigned{"stf_rep1", {}, AssignStrategy::kRegion}},
                    {"lead_2", LeadAssigned{"stf_rep2", {}, AssignStrategy::kRegion}},
                });
  EXPECT_EQ(std::get<AutoAssignOutcome>(d->outcome).unassigned, std::vector<Id>{"lead_3"});
}

TEST_F(LeadTest, AutoAssignmentSkipsPeopleAtCapacity) {
  SetPolicy(PoolPolicy{.max_owned_leads = 1});
  NewLead("lead_a", "stf_rep1");
  NewLead("lead_1");
  NewLead("lead_2");
  auto d =
      When("stf_mgr", AutoAssignLeads{{}, AssignStrategy::kRoundRobin, {"stf_rep1", "stf_rep2"}});
  ThenEvents(d, {{"lead_1", LeadAssigned{"stf_rep2", {}, AssignStrategy::kRoundRobin}}});
  EXPECT_EQ(std::get<AutoAssignOutcome>(d->outcome).unassigned, std::vector<Id>{"lead_2"});
}

TEST_F(LeadTest, AutoAssignmentWithEveryoneFullIsRefused) {
  SetPolicy(PoolPolicy{.max_owned_leads = 1});
  NewLead("lead_a", "stf_rep1");
  NewLead("lead_1");
  ThenError(When("stf_mgr", AutoAssignLeads{{}, AssignStrategy::kRoundRobin, {"stf_rep1"}}),
            ErrorKind::kRule, "capacity_reached");
}

TEST_F(LeadTest, AutoAssignmentNamesTheBadPerson) {
  NewLead("lead_1");
  auto d =
      When("stf_mgr", AutoAssignLeads{{}, AssignStrategy::kRoundRobin, {"stf_rep1", "stf_ghost"}});
  ThenError(d, ErrorKind::kValidation, "validation_failed");
  EXPECT_EQ(d.error().fields.at(0).field, "staff_ids[1]");
}

TEST_F(LeadTest, ANeglectedLeadIsRecycledBySystem) {
  SetPolicy(PoolPolicy{.recycle_no_follow_up = days(15)});
  NewLead("lead_1", "stf_rep1");
  Advance(days(14));
  auto early = When("system", RecycleDue{});
  ThenEvents(early, {});
  Advance(days(1));
  ThenEvents(When("system", RecycleDue{}),
             {{"lead_1", LeadRecycled{"stf_rep1", RecycleRule::kNoFollowUp}}});
}

TEST_F(LeadTest, AFollowUpPostponesRecycling) {
  SetPolicy(PoolPolicy{.recycle_no_follow_up = days(15)});
  NewLead("lead_1", "stf_rep1");
  Advance(days(10));
  Do("stf_rep1", FollowUpLead{"lead_1", "fup_1", Channel::kCall, "x", {}});
  Advance(days(10));
  ThenEvents(When("system", RecycleDue{}), {});
  EXPECT_EQ(LeadRecycleAt(model_.leads.at("lead_1"), model_.policy), now_ + days(5));
}

TEST_F(LeadTest, RecyclingIsOffWhenThePolicySaysNull) {
  NewLead("lead_1", "stf_rep1");
  Advance(days(1000));
  ThenEvents(When("system", RecycleDue{}), {});
}

TEST_F(LeadTest, ARecycledLeadCountsAsLostForThePreviousOwnerBlock) {
  SetPolicy(PoolPolicy{.recycle_no_follow_up = hours(1), .previous_owner_block = days(1)});
  NewLead("lead_1", "stf_rep1");
  Advance(hours(2));
  Do("system", RecycleDue{});
  EXPECT_EQ(model_.leads.at("lead_1").state, LeadState::kUnassigned);
  ThenError(When("stf_rep1", ClaimLead{"lead_1"}), ErrorKind::kRule, "previous_owner_blocked");
}

TEST_F(LeadTest, OneSweepRecyclesAtMostItsLimit) {
  SetPolicy(PoolPolicy{.recycle_no_follow_up = hours(1)});
  for (auto id : {"lead_1", "lead_2", "lead_3"}) NewLead(id, "stf_rep1");
  Advance(hours(2));
  auto d = When("system", RecycleDue{2});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->events.size(), 2u);
  EXPECT_TRUE(std::get<RecycleOutcome>(d->outcome).more);
}

TEST_F(LeadTest, TheMostOverdueAreRecycledFirst) {
  SetPolicy(PoolPolicy{.recycle_no_follow_up = hours(10)});
  NewLead("lead_1", "stf_rep1");
  Advance(hours(1));
  NewLead("lead_2", "stf_rep2");
  Advance(hours(1));
  NewLead("lead_3", "stf_rep1");
  Advance(hours(1));
  Do("stf_rep1", FollowUpLead{"lead_1", "fup_1", Channel::kCall, "x", {}});  // now the newest clock
  Advance(hours(20));
  auto d = When("system", RecycleDue{2});
  ThenEvents(d, {{"lead_2", LeadRecycled{"stf_rep2", RecycleRule::kNoFollowUp}},
                 {"lead_3", LeadRecycled{"stf_rep1", RecycleRule::kNoFollowUp}}});
  EXPECT_TRUE(std::get<RecycleOutcome>(d->outcome).more);
}

TEST_F(LeadTest, OnlyTheSystemRecycles) {
  ThenError(When("stf_admin", RecycleDue{}), ErrorKind::kForbidden, "forbidden");
}

}  // namespace
}  // namespace crm::domain::testing
