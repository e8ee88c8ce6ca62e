// The write path end to end below HTTP: commands decided against the model on the
// writer thread, appended through the real RocksDB store.
#include "writer/writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "../eventstore/store_test_util.h"
#include "eventstore/rocks_event_store.h"

namespace crm::writer {
namespace {

namespace d = crm::domain;
using eventstore::testing::TempDir;

class WriterRocksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(eventstore::OpenRocksEventStore({dir_.sub("log"), false})).value();
    StartWriter();
    Must("system", d::CreateStaff{"stf_admin", "A", "a@x", d::Role::kAdmin, {}, {}});
    Must("stf_admin", d::CreateDepartment{"dep_1", "D", {}});
    Must("stf_admin", d::CreateStaff{"stf_rep", "R", "r@x", d::Role::kSales, "dep_1", {}});
    Must("stf_admin", d::CreateStaff{"stf_heir", "H", "h@x", d::Role::kSales, "dep_1", {}});
    Must("stf_admin", d::CreateStaff{"stf_fin", "F", "f@x", d::Role::kFinance, "dep_1", {}});
  }
  void TearDown() override {
    commands_->Close();
    store_->Close();
  }
  void StartWriter() {
    auto w = Writer::Open(*store_, clock_, ids_, {});
    ASSERT_TRUE(w.ok()) << w.error().detail;
    commands_ = std::move(w).value();
  }

  Result<WriteOutcome> Run(const std::string& actor, d::Command c) {
    return commands_->Execute({.command = std::move(c), .actor = actor});
  }
  void Must(const std::string& actor, d::Command c) {
    auto r = Run(actor, std::move(c));
    ASSERT_TRUE(r.ok()) << r.error().code << ": " << r.error().detail;
  }

  TempDir dir_;
  FakeClock clock_{*ParseTime("2026-11-20T02:00:00Z")};
  IdGenerator ids_{clock_};
  std::unique_ptr<eventstore::EventStore> store_;
  std::unique_ptr<Writer> commands_;
};

TEST_F(WriterRocksTest, ConcurrentPaymentsNeverExceedTheContractAmount) {
  Must("stf_rep", d::CreateCustomer{"cus_1", d::CustomerDetails{.name = "Acme"}, {}});
  Date day = *ParseDate("2026-11-20");
  Must("stf_rep",
       d::SignContract{"con_1", "cus_1", {}, "HT-1", "T", 10000, "CNY", day, {{day, 10000}}});
  std::atomic<int> accepted{0}, overpaid{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        auto r =
            Run("stf_fin",
                d::RecordPayment{"con_1", "pay_" + std::to_string(t * 100 + i), 300, day, {}, {}});
        if (r.ok())
          ++accepted;
        else if (r.error().code == "overpayment")
          ++overpaid;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(accepted.load(), 33);  // 33 × 300 = 9900; a 34th would be 10200
  EXPECT_EQ(overpaid.load(), 80 - 33);
  int64_t paid = 0;
  auto events = store_->ReadStream("con_1", 1, 1000);
  for (const auto& e : *events) {
    if (const auto* p = std::get_if<d::PaymentReceived>(&e.event)) paid += p->amount;
  }
  EXPECT_EQ(paid, 9900);
  EXPECT_LE(paid, 10000);
}

TEST_F(WriterRocksTest, ALargeHandoverIsOneAtomicAppend) {
  for (int i = 0; i < 3000; ++i) {
    Must("stf_rep", d::CreateLead{"lead_" + std::to_string(10000 + i),
                                  "n",
                                  "c " + std::to_string(i),
                                  {},
                                  {},
                                  {},
                                  {},
                                  {}});
  }
  for (int i = 0; i < 500; ++i) {
    Must("stf_rep", d::CreateCustomer{"cus_" + std::to_string(10000 + i),
                                      d::CustomerDetails{.name = "Customer " + std::to_string(i)},
                                      {}});
  }
  // A successor that would go over capacity refuses the whole: nothing is written.
  Must("stf_admin", d::SetPoolPolicy{d::PoolPolicy{.max_owned_leads = 2999}});
  uint64_t before = store_->Head();
  auto refused = Run("stf_admin", d::Handover{"stf_rep", "stf_heir", true});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "capacity_reached");
  EXPECT_EQ(store_->Head(), before);
  EXPECT_EQ(*store_->StreamVersion("stf_rep"), 1u);

  Must("stf_admin", d::SetPoolPolicy{d::PoolPolicy{}});
  before = store_->Head();
  Must("stf_admin", d::Handover{"stf_rep", "stf_heir", true});
  uint64_t after = store_->Head();
  EXPECT_EQ(after - before, 3000u + 500u + 2u);  // every record, the departure, the completion
  auto events = store_->ReadAll(before + 1, 10000);
  ASSERT_TRUE(events.ok());
  std::set<std::string> commands;
  for (const auto& e : *events) commands.insert(e.command_id);
  EXPECT_EQ(commands.size(), 1u) << "one command, one WriteBatch";
  EXPECT_TRUE(std::holds_alternative<d::HandoverCompleted>(events->back().event));
  EXPECT_EQ(commands_->Stats().failed_batches, 0u);
  EXPECT_EQ(store_->Stats().failed, 0u);
}

TEST_F(WriterRocksTest, TheModelSurvivesARestartOfTheService) {
  Must("stf_admin", d::SetPoolPolicy{d::PoolPolicy{.max_owned_leads = 1}});
  Must("stf_rep", d::CreateLead{"lead_1", "n", "c", {}, {}, {}, {}, {}});
  Must("stf_admin", d::CreateLead{"lead_2", "n2", "c", {}, {}, {}, {}, {}});
  commands_->Close();
  StartWriter();
  auto r = Run("stf_rep", d::ClaimLead{"lead_2"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "capacity_reached");
}

// A replicated log's copy takes other nodes' commits beside the writer: the writer folds
// them into its model before deciding, and when idle.
TEST_F(WriterRocksTest, CommitsAnotherWriterAppendedAreFoldedBeforeDeciding) {
  auto other = Writer::Open(*store_, clock_, ids_, {});
  ASSERT_TRUE(other.ok());
  // Only the other writer knows this person...
  ASSERT_TRUE(
      (*other)
          ->Execute({.command = d::CreateStaff{"stf_new", "N", "n@x", d::Role::kSales, "dep_1", {}},
                     .actor = "stf_admin"})
          .ok());
  (*other)->Close();
  // ...yet their first command, decided here, sees them and continues the log.
  const uint64_t head = store_->Head();
  auto r = Run("stf_new", d::CreateCustomer{"cus_new", d::CustomerDetails{.name = "Nova"}, {}});
  ASSERT_TRUE(r.ok()) << r.error().code << ": " << r.error().detail;
  EXPECT_EQ(r->result.first_position, head + 1);
  EXPECT_EQ(commands_->Stats().followed_events, 1u);
  EXPECT_EQ(commands_->Stats().model_position, head + 1);
  EXPECT_TRUE(store_->Verify().ok);
}

TEST_F(WriterRocksTest, AGateRefusesEveryCommandAndNothingIsWritten) {
  commands_->Close();
  std::atomic<bool> open{false};
  WriterOptions o;
  o.gate = [&]() -> std::optional<Error> {
    if (open) return std::nullopt;
    return MakeError(ErrorKind::kUnavailable, "not_leader", "a standby");
  };
  auto w = Writer::Open(*store_, clock_, ids_, o);
  ASSERT_TRUE(w.ok());
  commands_ = std::move(w).value();
  const uint64_t head = store_->Head();
  auto refused = Run("stf_rep", d::CreateCustomer{"cus_g", d::CustomerDetails{.name = "G"}, {}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "not_leader");
  EXPECT_EQ(store_->Head(), head);
  open = true;
  EXPECT_TRUE(Run("stf_rep", d::CreateCustomer{"cus_g", d::CustomerDetails{.name = "G"}, {}}).ok());
}

}  // namespace
}  // namespace crm::writer
