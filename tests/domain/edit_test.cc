// Edits (PATCH), duplicate leads (撞单) and personal tasks, as stories: given these events,
// when this command, then these events or this refusal.
#include "spec.h"

namespace crm::domain::testing {
namespace {

class EditTest : public Spec {
 protected:
  std::string RepLead(const std::string& id, const std::string& rep, OptText phone,
                      const std::string& company = "", bool allow_duplicate = false) {
    Do(rep, CreateLead{id,
                       "Ma",
                       company.empty() ? "Co " + id : company,
                       phone,
                       {},
                       "web",
                       {},
                       {},
                       allow_duplicate});
    return id;
  }
  // The kLeadKeyScope entries a decision writes: key → holder ("" when released).
  static std::map<std::string, std::string> KeyEntries(const Decision& d) {
    std::map<std::string, std::string> out;
    for (const auto& k : d.unique_keys) {
      if (k.scope == kLeadKeyScope) out[k.key] = k.release ? "" : k.owner;
    }
    return out;
  }
};

TEST_F(EditTest, ALeadEditNamesOnlyTheFieldsThatChangedWithOldAndNewValues) {
  RepLead("lead_1", "stf_rep1", "13800000001");
  auto d = When("stf_rep1", EditLead{.lead_id = "lead_1",
                                     .name = "Ma",  // unchanged: not named
                                     .phone = "13900000002",
                                     .source = "",  // cleared
                                     .region = "east"});
  LeadEdited e{{{"phone", "13800000001", "13900000002"},
                {"source", "web", std::nullopt},
                {"region", std::nullopt, "east"}},
               "13900000002",
               "co lead_1\x1fma",
               std::nullopt};
  ThenEvents(d, {{"lead_1", e}});
  // The new phone is the lead's key from now on, the old one is free.
  EXPECT_EQ(KeyEntries(*d), (std::map<std::string, std::string>{{"phone:13800000001", ""},
                                                                {"phone:13900000002", "lead_1"}}));
  Given("lead_1", d->events[0].event, "stf_rep1");
  EXPECT_EQ(model_.leads.at("lead_1").phone, "13900000002");
  EXPECT_FALSE(model_.leads.at("lead_1").source);
  // Nothing to change: no event.
  ThenEvents(When("stf_rep1", EditLead{.lead_id = "lead_1", .region = "east"}), {});
}

TEST_F(EditTest, ALeadLoggedBeforeDuplicateKeysIsNotADuplicateForAnEditOfOtherFields) {
  // Two leads of one company and name from a log written before keys: no name key.
  for (const char* id : {"lead_old1", "lead_old2"}) {
    Given(id, LeadCreated{id, "Wang Wei", "Acme", {}, {}, {}, {}, "stf_rep1"}, "stf_rep1");
  }
  auto first = Do("stf_rep1", EditLead{.lead_id = "lead_old1", .region = "east"});
  EXPECT_EQ(std::get<LeadEdited>(first.events[0].event).name_key, "acme\x1fwang wei");
  // The second's edit touches neither company nor name: it is not refused for them.
  ThenEvents(
      When("stf_rep1", EditLead{.lead_id = "lead_old2", .region = "east"}),
      {{"lead_old2",
        LeadEdited{
            {{"region", std::nullopt, "east"}}, std::nullopt, "acme\x1fwang wei", std::nullopt}}});
}

TEST_F(EditTest, WhoMayEditALeadAndWhen) {
  RepLead("lead_1", "stf_rep1", std::nullopt);
  ThenError(When("stf_rep2", EditLead{.lead_id = "lead_1", .name = "x"}), ErrorKind::kNotFound,
            "not_found");
  ThenError(When("stf_fin", EditLead{.lead_id = "lead_1", .name = "x"}), ErrorKind::kForbidden,
            "forbidden");
  ThenEvents(When("stf_mgr", EditLead{.lead_id = "lead_1", .name = "x"}),
             {{"lead_1", LeadEdited{{{"name", "Ma", "x"}}, std::nullopt, "co lead_1\x1fx", {}}}});
  Do("stf_rep1", VoidLead{"lead_1", "spam"});
  ThenError(When("stf_rep1", EditLead{.lead_id = "lead_1", .name = "x"}), ErrorKind::kConflict,
            "invalid_transition");
}

TEST_F(EditTest, APhoneWrittenAnotherWayIsTheSameLead) {
  EXPECT_EQ(PhoneKey("+86 138-0000-0001"), "13800000001");
  EXPECT_EQ(PhoneKey("0086 13800000001"), "13800000001");
  EXPECT_EQ(PhoneKey("(010) 8888 6666"), "01088886666");
  EXPECT_EQ(PhoneKey("86 1380000"), "861380000") << "86 without + or 00 is digits";
  EXPECT_EQ(PhoneKey("12-34"), std::nullopt) << "too short to compare";
  RepLead("lead_1", "stf_rep1", "138 0000 0001");
  auto d = When("stf_rep3", CreateLead{"lead_2", "Li", "Other", "+86 13800000001", {}, {}, {}, {}});
  ThenError(d, ErrorKind::kConflict, "duplicate_lead");
  // It names the lead and its owner, although stf_rep3 may not see it: nothing more.
  EXPECT_EQ(d.error().existing_id, "lead_1");
  EXPECT_EQ(d.error().existing_owner_id, "stf_rep1");
}

TEST_F(EditTest, TheSameCompanyAndNameIsADuplicateAndAPoolLeadHasNoOwner) {
  Do("stf_admin", CreateLead{"lead_1", "Li  Lei", "Blue Ocean", {}, {}, {}, {}, {}});
  auto d = When("stf_rep1", CreateLead{"lead_2", "li lei", "BLUE  ocean", {}, {}, {}, {}, {}});
  ThenError(d, ErrorKind::kConflict, "duplicate_lead");
  EXPECT_EQ(d.error().existing_owner_id, "") << "in the pool: shown as null";
  // Another person of the same company is not a duplicate.
  ThenEvents(When("stf_rep1", CreateLead{"lead_3", "Han Mei", "Blue Ocean", {}, {}, {}, {}, {}}),
             {{"lead_3", LeadCreated{"lead_3",
                                     "Han Mei",
                                     "Blue Ocean",
                                     {},
                                     {},
                                     {},
                                     {},
                                     "stf_rep1",
                                     std::nullopt,
                                     "blue ocean\x1fhan mei",
                                     std::nullopt}}});
}

TEST_F(EditTest, ADuplicateRecordedOnRequestShowsWhatItDuplicatesAndTheFirstLeadKeepsTheKey) {
  RepLead("lead_1", "stf_rep1", "13800000001");
  auto d = When("stf_rep2", CreateLead{"lead_2",
                                       "Li",
                                       "Other",
                                       "13800000001",
                                       {},
                                       {},
                                       {},
                                       {},
                                       /*allow_duplicate=*/true});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::get<LeadCreated>(d->events[0].event).duplicate_of, "lead_1");
  EXPECT_TRUE(KeyEntries(*d).count("phone:13800000001") == 0) << "lead_1 still holds the key";
  for (const auto& e : d->events) Given(e.stream, e.event, "stf_rep2");
  // Voiding the first passes the key to the second, which a third lead then meets.
  auto voided = Do("stf_rep1", VoidLead{"lead_1", "spam"});
  EXPECT_EQ(KeyEntries(voided).at("phone:13800000001"), "lead_2");
  auto third = When("stf_rep1", CreateLead{"lead_3", "Wu", "Third", "13800000001", {}, {}, {}, {}});
  ThenError(third, ErrorKind::kConflict, "duplicate_lead");
  EXPECT_EQ(third.error().existing_id, "lead_2");
  // Converted, it is nobody's duplicate any more.
  ConvertLead convert;
  convert.lead_id = "lead_2";
  convert.new_customer_id = "cus_1";
  Do("stf_rep2", convert);
  EXPECT_TRUE(
      When("stf_rep1", CreateLead{"lead_3", "Wu", "Third", "13800000001", {}, {}, {}, {}}).ok());
}

TEST_F(EditTest, AnEditOntoAnotherLeadsPhoneIsADuplicateButOtherEditsOfAnAcceptedOneAreNot) {
  RepLead("lead_1", "stf_rep1", "13800000001");
  RepLead("lead_2", "stf_rep1", "13900000002");
  ThenError(When("stf_rep1", EditLead{.lead_id = "lead_2", .phone = "+8613800000001"}),
            ErrorKind::kConflict, "duplicate_lead");
  auto accepted =
      When("stf_rep1",
           EditLead{.lead_id = "lead_2", .phone = "+8613800000001", .allow_duplicate = true});
  ASSERT_TRUE(accepted.ok());
  EXPECT_EQ(std::get<LeadEdited>(accepted->events[0].event).duplicate_of, "lead_1");
  for (const auto& e : accepted->events) Given(e.stream, e.event, "stf_rep1");
  ThenEvents(When("stf_rep1", EditLead{.lead_id = "lead_2", .email = "b@example.com"}),
             {{"lead_2", LeadEdited{{{"email", std::nullopt, "b@example.com"}},
                                    "13800000001",
                                    "co lead_2\x1fma",
                                    std::nullopt}}});
}

TEST_F(EditTest, AnOpportunityIsEditedWhileOpenByWhoeverMayActOnItsCustomer) {
  NewLead("lead_1", "stf_rep1");
  ConvertLead c;
  c.lead_id = "lead_1";
  c.new_customer_id = "cus_1";
  c.new_opportunity_id = "opp_1";
  c.opportunity = OpportunityDetails{"Pilot", 500000, "CNY", On("2026-12-20"), Stage::kProposal};
  Do("stf_rep1", c);
  auto d = When("stf_rep1", EditOpportunity{.opportunity_id = "opp_1",
                                            .amount = 650000,
                                            .currency = "CNY",
                                            .expected_close_date = On("2027-01-15")});
  ThenEvents(d,
             {{"opp_1", OpportunityEdited{{{"amount", "500000", "650000"},
                                           {"expected_close_date", "2026-12-20", "2027-01-15"}}}}});
  Given("opp_1", d->events[0].event, "stf_rep1");
  EXPECT_EQ(model_.opportunities.at("opp_1").amount, 650000);
  EXPECT_EQ(model_.opportunities.at("opp_1").expected_close_date, On("2027-01-15"));
  ThenError(When("stf_rep3", EditOpportunity{.opportunity_id = "opp_1", .amount = 1}),
            ErrorKind::kNotFound, "not_found");
  Do("stf_rep1", LoseOpportunity{"opp_1", "price"});
  ThenError(When("stf_rep1", EditOpportunity{.opportunity_id = "opp_1", .amount = 1}),
            ErrorKind::kConflict, "invalid_transition");
}

TEST_F(EditTest, AContactIsEditedAsItsCustomerIs) {
  Do("stf_rep1", CreateCustomer{"cus_1", CustomerDetails{.name = "Acme"}, {}});
  Do("stf_rep1", AddContact{"cus_1", "ctc_1", ContactDetails{"Liu", "CTO", {}, {}, false}});
  ThenEvents(
      When("stf_rep1", EditContact{.contact_id = "ctc_1", .title = "CEO", .decision_maker = true}),
      {{"ctc_1", ContactEdited{{{"title", "CTO", "CEO"}, {"decision_maker", "false", "true"}}}}});
  ThenError(When("stf_rep2", EditContact{.contact_id = "ctc_1", .title = "x"}),
            ErrorKind::kNotFound, "not_found");
  ThenError(When("stf_rep1", EditContact{.contact_id = "ctc_9", .title = "x"}),
            ErrorKind::kNotFound, "not_found");
  Do("stf_rep1", ReleaseCustomer{"cus_1", "not mine"});
  ThenError(When("stf_mgr", EditContact{.contact_id = "ctc_1", .title = "x"}), ErrorKind::kConflict,
            "invalid_transition");
}

TEST_F(EditTest, APersonMovedToAnotherDepartmentIsSeenByItsManagersFromTheNextCommandOn) {
  NewLead("lead_1", "stf_rep1");
  EXPECT_TRUE(When("stf_mgr", InvalidateLead{"lead_1", "x"}).ok());
  auto d = When("stf_admin", EditStaff{.staff_id = "stf_rep1", .department_id = "dep_west"});
  ThenEvents(d, {{"stf_rep1", StaffEdited{{{"department_id", "dep_east", "dep_west"}}}}});
  Given("stf_rep1", d->events[0].event);
  ThenError(When("stf_mgr", InvalidateLead{"lead_1", "x"}), ErrorKind::kNotFound, "not_found");
  ThenError(When("stf_mgr", EditStaff{.staff_id = "stf_rep2", .name = "x"}), ErrorKind::kForbidden,
            "forbidden");
}

TEST_F(EditTest, AStaffEditKeepsEmailsUniqueAndNoOneLosesRecordsOrTheirOwnAdminRole) {
  ThenError(When("stf_admin", EditStaff{.staff_id = "stf_rep1", .email = "ZHANG@x"}),
            ErrorKind::kValidation, "validation_failed");
  auto d = When("stf_admin", EditStaff{.staff_id = "stf_rep1", .email = "wang2@x"});
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->unique_keys.size(), 2u);
  EXPECT_TRUE(d->unique_keys[0].release);
  EXPECT_EQ(d->unique_keys[0].key, "wang@x");
  EXPECT_EQ(d->unique_keys[1].key, "wang2@x");
  Given("stf_rep1", d->events[0].event);
  EXPECT_EQ(model_.staff_by_email.count("wang@x"), 0u);
  EXPECT_EQ(model_.staff_by_email.at("wang2@x"), "stf_rep1");

  NewLead("lead_1", "stf_rep1");
  ThenError(When("stf_admin", EditStaff{.staff_id = "stf_rep1", .role = Role::kFinance}),
            ErrorKind::kConflict, "invalid_transition");
  ThenEvents(When("stf_admin", EditStaff{.staff_id = "stf_rep1", .role = Role::kManager}),
             {{"stf_rep1", StaffEdited{{{"role", "sales", "manager"}}}}});
  ThenError(When("stf_admin", EditStaff{.staff_id = "stf_admin", .role = Role::kSales}),
            ErrorKind::kConflict, "invalid_transition");
  ThenError(When("stf_admin", EditStaff{.staff_id = "stf_rep1", .department_id = "dep_none"}),
            ErrorKind::kValidation, "validation_failed");
  Do("stf_admin", Handover{"stf_rep2", {}, true});
  ThenError(When("stf_admin", EditStaff{.staff_id = "stf_rep2", .name = "x"}), ErrorKind::kConflict,
            "invalid_transition");
}

TEST_F(EditTest, ADepartmentMovesAnywhereButInsideItself) {
  ThenEvents(When("stf_admin", EditDepartment{.department_id = "dep_west",
                                              .name = "West 2",
                                              .parent_id = OptId("dep_east")}),
             {{"dep_west", DepartmentEdited{{{"name", "West", "West 2"},
                                             {"parent_id", "dep_sales", "dep_east"}}}}});
  ThenError(When("stf_admin",
                 EditDepartment{.department_id = "dep_sales", .parent_id = OptId("dep_east")}),
            ErrorKind::kConflict, "invalid_transition");
  ThenError(When("stf_admin",
                 EditDepartment{.department_id = "dep_east", .parent_id = OptId("dep_east")}),
            ErrorKind::kConflict, "invalid_transition");
  ThenError(When("stf_admin",
                 EditDepartment{.department_id = "dep_east", .parent_id = OptId("dep_nowhere")}),
            ErrorKind::kValidation, "validation_failed");
  ThenError(When("stf_mgr", EditDepartment{.department_id = "dep_east", .name = "x"}),
            ErrorKind::kForbidden, "forbidden");
  // Moved to the top, West leaves the Sales subtree.
  Do("stf_admin", EditDepartment{.department_id = "dep_west", .parent_id = OptId()});
  EXPECT_FALSE(model_.org.InSubtree("dep_west", "dep_sales"));
}

}  // namespace
}  // namespace crm::domain::testing

namespace crm::domain::testing {
namespace {

class TaskTest : public Spec {};

TEST_F(TaskTest, APersonSetsThemselfATaskAboutARecordTheySeeAndOnlyTheyCompleteIt) {
  NewLead("lead_1", "stf_rep1");
  auto d =
      When("stf_rep1", CreateTask{"task_1", "call back", At("2026-11-21T02:00:00Z"), "lead_1"});
  ThenEvents(d, {{"task_1", TaskCreated{"task_1", "stf_rep1", "call back",
                                        At("2026-11-21T02:00:00Z"), "lead_1"}}});
  Given("task_1", d->events[0].event, "stf_rep1");
  // About a record they cannot see: as if it did not exist.
  ThenError(When("stf_rep3", CreateTask{"task_2", "x", At("2026-11-21T02:00:00Z"), "lead_1"}),
            ErrorKind::kValidation, "validation_failed");
  // Someone else's task reads as missing, even to an admin.
  ThenError(When("stf_rep2", CompleteTask{"task_1"}), ErrorKind::kNotFound, "not_found");
  ThenError(When("stf_admin", CompleteTask{"task_1"}), ErrorKind::kNotFound, "not_found");
  ThenEvents(When("stf_rep1", CompleteTask{"task_1"}), {{"task_1", TaskCompleted{}}});
  Do("stf_rep1", CompleteTask{"task_1"});
  ThenError(When("stf_rep1", CompleteTask{"task_1"}), ErrorKind::kConflict, "invalid_transition");
}

}  // namespace
}  // namespace crm::domain::testing
