// As-of views from snapshots: the same answer as folding the customer's whole history,
// at every position, while replaying fewer than kSnapshotEvery events.
#include "projections/customer_history.h"

#include <gtest/gtest.h>

#include "../eventstore/store_test_util.h"
#include "eventstore/rocks_event_store.h"
#include "projections/runner.h"
#include "writer/writer.h"

namespace crm::projections {
namespace {

namespace d = crm::domain;
using eventstore::testing::TempDir;

class CustomerHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(eventstore::OpenRocksEventStore({dir_.sub("log"), false})).value();
    commands_ = std::move(writer::Writer::Open(*store_, clock_, ids_, {})).value();
    local_ = std::move(LocalStore::Open(dir_.sub("rm"))).value();
    history_ = std::make_unique<CustomerHistoryProjection>(customers_, local_.get());
    runner_ = std::make_unique<ProjectionRunner>(
        *store_, *local_, std::vector<Projection*>{&customers_, history_.get()});
    ASSERT_TRUE(runner_->Start().ok());
    Must("system", d::CreateStaff{"stf_admin", "A", "a@x", d::Role::kAdmin, {}, {}});
    Must("stf_admin", d::CreateDepartment{"dep_1", "D", {}});
    Must("stf_admin", d::CreateStaff{"stf_rep", "R", "r@x", d::Role::kSales, "dep_1", {}});
    Must("stf_admin", d::CreateStaff{"stf_two", "T", "t@x", d::Role::kSales, "dep_1", {}});
    Must("stf_admin", d::CreateStaff{"stf_fin", "F", "f@x", d::Role::kFinance, "dep_1", {}});
  }
  void TearDown() override {
    runner_->Stop();
    commands_->Close();
    store_->Close();
  }

  void Must(const std::string& actor, d::Command c) {
    auto r = commands_->Execute({.command = std::move(c), .actor = actor});
    ASSERT_TRUE(r.ok()) << r.error().code << ": " << r.error().detail;
    clock_.Advance(std::chrono::minutes(7));
  }

  // The customer at `position` the slow way: every event of its streams folded from 1.
  std::string FullFold(const std::string& id, const std::vector<std::string>& records,
                       uint64_t position) {
    CustomerProjection then;
    std::vector<eventstore::RecordedEvent> events;
    std::vector<std::string> streams = {id};
    streams.insert(streams.end(), records.begin(), records.end());
    for (const auto& stream : streams) {
      auto all = store_->ReadStream(stream, 1, SIZE_MAX);
      EXPECT_TRUE(all.ok());
      if (!all.ok()) continue;
      for (auto& e : *all) {
        if (e.position <= position) events.push_back(std::move(e));
      }
    }
    std::sort(events.begin(), events.end(),
              [](auto& a, auto& b) { return a.position < b.position; });
    Topics ignored;
    for (const auto& e : events) then.Apply(e, ignored);
    return then.Snapshot(id);
  }

  TempDir dir_;
  writer::FakeClock clock_{*ParseTime("2026-11-01T02:00:00Z")};
  writer::IdGenerator ids_{clock_};
  std::unique_ptr<eventstore::EventStore> store_;
  std::unique_ptr<writer::Writer> commands_;
  std::unique_ptr<LocalStore> local_;
  CustomerProjection customers_;
  std::unique_ptr<CustomerHistoryProjection> history_;
  std::unique_ptr<ProjectionRunner> runner_;
};

TEST_F(CustomerHistoryTest, AsOfEqualsTheFullFoldAtEveryPositionAndReplaysLittle) {
  Must("stf_rep", d::CreateCustomer{"cus_1", d::CustomerDetails{.name = "Acme"}, {}});
  Must("stf_rep", d::CreateCustomer{"cus_2", d::CustomerDetails{.name = "Other"}, {}});
  Date day = *ParseDate("2026-11-01");
  int contacts = 0;
  std::string owner = "stf_rep";  // of cus_1; transfers move it between the two reps
  for (int i = 0; i < 700; ++i) {
    // Mostly follow-ups, with every other kind of change woven in, on two customers.
    bool other = i % 5 == 0;
    std::string target = other ? "cus_2" : "cus_1";
    std::string actor = other ? "stf_rep" : owner;
    switch (i % 50) {
      case 7:
        Must(actor,
             d::AddContact{target, "ctc_" + std::to_string(++contacts), {"C", {}, {}, {}, false}});
        break;
      case 11:
        Must(owner,
             d::CreateOpportunity{"opp_" + std::to_string(i), "cus_1", {"O", 100, "CNY", day, {}}});
        break;
      case 13:
        Must(owner, d::SignContract{"con_" + std::to_string(i),
                                    "cus_1",
                                    {},
                                    "HT" + std::to_string(i),
                                    "T",
                                    100,
                                    "CNY",
                                    day,
                                    {{day, 100}}});
        break;
      case 17:
        Must("stf_fin",
             d::RecordPayment{
                 "con_" + std::to_string(i - 4), "pay_" + std::to_string(i), 40, day, {}, {}});
        break;
      case 23:
        owner = owner == "stf_rep" ? "stf_two" : "stf_rep";
        Must("stf_admin", d::TransferCustomer{"cus_1", owner});
        break;
      case 29:
        Must(owner, d::UpdateCustomer{"cus_1", {}, "mining " + std::to_string(i), {}, {}, {}, {}});
        break;
      default:
        Must(actor, d::FollowUpCustomer{target,
                                        "fup_" + std::to_string(i),
                                        d::Channel::kCall,
                                        "n" + std::to_string(i),
                                        {}});
    }
  }
  ASSERT_TRUE(runner_->WaitApplied(store_->Head(), std::chrono::seconds(30)));
  const auto* now = customers_.FindCustomer("cus_1");
  ASSERT_NE(now, nullptr);
  ASSERT_GT(now->event_count, 2 * CustomerHistoryProjection::kSnapshotEvery);
  std::vector<std::string> records = now->contact_ids;
  records.insert(records.end(), now->opportunity_ids.begin(), now->opportunity_ids.end());
  records.insert(records.end(), now->contract_ids.begin(), now->contract_ids.end());

  size_t checked = 0, from_snapshots = 0;
  for (uint64_t p = 6; p <= store_->Head(); p += 3) {  // cus_1 is at position 6
    auto then = CustomerAsOf(*store_, *history_, "cus_1", records, p);
    ASSERT_TRUE(then.ok()) << p << ": " << then.error().detail;
    ASSERT_EQ((*then)->rows.Snapshot("cus_1"), FullFold("cus_1", records, p))
        << "at position " << p;
    EXPECT_LT((*then)->replayed, CustomerHistoryProjection::kSnapshotEvery) << "at position " << p;
    if (history_->Latest("cus_1", p)) ++from_snapshots;
    ++checked;
  }
  EXPECT_GT(checked, 200u);
  EXPECT_GT(from_snapshots, 100u) << "most of the positions should start from a snapshot";
  // Before the customer existed there is nothing to show.
  auto before = CustomerAsOf(*store_, *history_, "cus_1", records, 5);
  ASSERT_FALSE(before.ok());
  EXPECT_EQ(before.error().code, "not_found");
}

TEST_F(CustomerHistoryTest, SnapshotsAreRebuiltTheSameFromTheLog) {
  Must("stf_rep", d::CreateCustomer{"cus_1", d::CustomerDetails{.name = "Acme"}, {}});
  for (int i = 0; i < 600; ++i) {
    Must("stf_rep",
         d::FollowUpCustomer{"cus_1", "fup_" + std::to_string(i), d::Channel::kCall, "n", {}});
  }
  ASSERT_TRUE(runner_->WaitApplied(store_->Head(), std::chrono::seconds(30)));
  auto live = local_->Dump("history/");
  EXPECT_EQ(live.size(), 601 / CustomerHistoryProjection::kSnapshotEvery);
  ASSERT_TRUE(runner_->Rebuild().ok());
  ASSERT_TRUE(runner_->WaitApplied(store_->Head(), std::chrono::seconds(30)));
  EXPECT_EQ(local_->Dump("history/"), live);
}

}  // namespace
}  // namespace crm::projections
