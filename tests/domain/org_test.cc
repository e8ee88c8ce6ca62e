// Organisation, visibility by the org tree, and the pool policy.
#include "domain/org.h"

#include "spec.h"

namespace crm::domain::testing {
namespace {

class OrgTest : public Spec {
 protected:
  Viewer V(const std::string& id) { return *model_.ViewerOf(id); }
};

TEST_F(OrgTest, ARepSeesItsOwnAndThePool) {
  EXPECT_TRUE(CanSee(model_.org, V("stf_rep1"), std::string("stf_rep1")));
  EXPECT_TRUE(CanSee(model_.org, V("stf_rep1"), std::nullopt));
  EXPECT_FALSE(CanSee(model_.org, V("stf_rep1"), std::string("stf_rep2")));
}

TEST_F(OrgTest, AManagerSeesTheirDepartmentSubtree) {
  EXPECT_TRUE(CanSee(model_.org, V("stf_mgr"), std::string("stf_rep1")));
  EXPECT_FALSE(CanSee(model_.org, V("stf_mgr"), std::string("stf_rep3")));
  Given("stf_boss", StaffCreated{"stf_boss", "Boss", "boss@x", Role::kManager, "dep_sales", {}});
  EXPECT_TRUE(CanSee(model_.org, V("stf_boss"), std::string("stf_rep3")));
  EXPECT_TRUE(CanSee(model_.org, V("stf_boss"), std::string("stf_rep1")));
}

TEST_F(OrgTest, FinanceAuditorsAndAdminsSeeEverything) {
  for (auto who : {"stf_fin", "stf_aud", "stf_admin"}) {
    EXPECT_TRUE(CanSee(model_.org, V(who), std::string("stf_rep3"))) << who;
  }
}

TEST_F(OrgTest, NestedDepartmentsAreInTheSubtree) {
  Given("dep_east_a", DepartmentCreated{"dep_east_a", "East A", "dep_east"});
  Given("stf_deep", StaffCreated{"stf_deep", "Deep", "deep@x", Role::kSales, "dep_east_a", {}});
  EXPECT_TRUE(Manages(model_.org, V("stf_mgr"), "stf_deep"));
  EXPECT_TRUE(model_.org.InSubtree("dep_east_a", "dep_sales"));
  EXPECT_FALSE(model_.org.InSubtree("dep_sales", "dep_east_a"));
}

TEST_F(OrgTest, OnlyAdminsCreateDepartmentsAndStaff) {
  ThenError(When("stf_mgr", CreateDepartment{"dep_x", "X", {}}), ErrorKind::kForbidden,
            "forbidden");
  ThenError(When("stf_rep1", CreateStaff{"stf_x", "X", "x@x", Role::kSales, "dep_east", {}}),
            ErrorKind::kForbidden, "forbidden");
}

TEST_F(OrgTest, ADepartmentNeedsAKnownParent) {
  auto d = When("stf_admin", CreateDepartment{"dep_x", "X", "dep_missing"});
  ThenError(d, ErrorKind::kValidation, "validation_failed");
  EXPECT_EQ(d.error().fields.at(0).field, "parent_id");
}

TEST_F(OrgTest, StaffEmailsAreUniqueIgnoringCase) {
  auto d = When("stf_admin", CreateStaff{"stf_x", "X", "WANG@x", Role::kSales, "dep_east", {}});
  ThenError(d, ErrorKind::kValidation, "validation_failed");
  EXPECT_EQ(d.error().fields.at(0).field, "email");
}

TEST_F(OrgTest, CreatingStaffClaimsTheirEmail) {
  auto d =
      When("stf_admin", CreateStaff{"stf_x", "X", "X@Example.com", Role::kSales, "dep_east", {}});
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->unique_keys.size(), 1u);
  EXPECT_EQ(d->unique_keys[0].key, "x@example.com");
}

TEST_F(OrgTest, AnAdminSetsAnyonesPasswordAndEveryoneTheirOwn) {
  // The event says only that it was set; who set it is the envelope's actor.
  ThenEvents(When("stf_admin", SetPassword{"stf_rep1"}), {{"stf_rep1", PasswordSet{"stf_rep1"}}});
  ThenEvents(When("stf_rep1", SetPassword{"stf_rep1"}), {{"stf_rep1", PasswordSet{"stf_rep1"}}});
  ThenEvents(When("stf_aud", SetPassword{"stf_aud"}), {{"stf_aud", PasswordSet{"stf_aud"}}});
}

TEST_F(OrgTest, NobodyButAnAdminSetsAnotherPersonsPassword) {
  // Not even their manager: a password is the person's own.
  ThenError(When("stf_mgr", SetPassword{"stf_rep1"}), ErrorKind::kForbidden, "forbidden");
  ThenError(When("stf_rep2", SetPassword{"stf_rep1"}), ErrorKind::kForbidden, "forbidden");
  ThenError(When("stf_admin", SetPassword{"stf_nobody"}), ErrorKind::kNotFound, "not_found");
}

TEST_F(OrgTest, ADepartedPersonGetsNoPassword) {
  Do("stf_admin", Handover{"stf_rep2", "stf_rep1", true});
  ThenError(When("stf_admin", SetPassword{"stf_rep2"}), ErrorKind::kRule, "staff_departed");
}

TEST_F(OrgTest, OnlyAdminsSetThePoolPolicy) {
  ThenError(When("stf_mgr", SetPoolPolicy{}), ErrorKind::kForbidden, "forbidden");
  PoolPolicy p{.recycle_no_follow_up = std::chrono::days(15), .daily_claim_limit = 20};
  ThenEvents(When("stf_admin", SetPoolPolicy{p}), {{"pool_policy", PoolPolicySet{p}}});
}

TEST_F(OrgTest, AManagerSetsTargetsOnlyForTheirPeople) {
  Period nov{2026, 11};
  ThenEvents(When("stf_mgr", SetTarget{nov, "stf_rep1", {}, 100, "CNY"}),
             {{"targets", TargetSet{nov, "stf_rep1", {}, 100, "CNY"}}});
  ThenError(When("stf_mgr", SetTarget{nov, "stf_rep3", {}, 100, "CNY"}), ErrorKind::kForbidden,
            "forbidden");
  ThenError(When("stf_mgr", SetTarget{nov, {}, "dep_west", 100, "CNY"}), ErrorKind::kForbidden,
            "forbidden");
  ThenError(When("stf_rep1", SetTarget{nov, "stf_rep1", {}, 100, "CNY"}), ErrorKind::kForbidden,
            "forbidden");
  // A person's target is a power over that person: not over oneself or a peer manager.
  ThenError(When("stf_mgr", SetTarget{nov, "stf_mgr", {}, 100, "CNY"}), ErrorKind::kForbidden,
            "forbidden");
}

}  // namespace
}  // namespace crm::domain::testing
