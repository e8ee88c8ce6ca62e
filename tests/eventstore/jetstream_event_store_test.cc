#include "eventstore/jetstream_event_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "eventstore/coding.h"
#include "eventstore/jetstream_client.h"
#include "nats_server.h"
#include "store_test_util.h"

namespace crm::eventstore::testing {
namespace {

using namespace std::chrono_literals;

class JetStreamEventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!NatsServer::Installed()) GTEST_SKIP() << kNoNatsServer;
    ASSERT_TRUE(nats_.ok()) << "nats-server is installed but did not start";
  }
  Result<std::unique_ptr<EventStore>> Node(const std::string& name) {
    JetStreamOptions o;
    o.servers = {nats_.url()};
    o.node = name;
    o.local.path = dir_.sub(name);
    return OpenJetStreamEventStore(o);
  }
  static void Settles(const EventStore& a, const EventStore& b) {
    for (int i = 0; i < 200 && a.Head() != b.Head(); ++i) std::this_thread::sleep_for(20ms);
    ASSERT_EQ(a.Head(), b.Head());
    auto va = a.Verify(), vb = b.Verify();
    ASSERT_TRUE(va.ok) << va.detail;
    ASSERT_TRUE(vb.ok) << vb.detail;
    EXPECT_EQ(va.head_hash, vb.head_hash);
  }

  TempDir dir_;
  NatsServer nats_{dir_.sub("nats")};
};

TEST_F(JetStreamEventStoreTest, ACommitIsOneMessageAndEveryNodeEndsWithTheSameLog) {
  auto a = Node("a");
  ASSERT_TRUE(a.ok()) << a.error().detail;
  ASSERT_TRUE((*a)->Append(Batch(**a, {LeadEvent("lead_1")})).ok());
  // Index writes travel with their events; an index-only commit too.
  ASSERT_TRUE((*a)->Append(Batch(**a, {LeadEvent("lead_2"), LeadEvent("lead_3")},
                                 *ParseTime("2026-11-22T08:00:00Z"),
                                 {{Index::kUnique, "phone", "13800000000", "lead_2"}}))
                  .ok());
  ASSERT_TRUE((*a)->Append(Batch(**a, {}, *ParseTime("2026-11-22T08:00:00Z"),
                                 {{Index::kIdempotency, "stf_1", "key-1", "record"}}))
                  .ok());
  EXPECT_EQ((*a)->Head(), 3u);
  EXPECT_EQ(AppliedSequence(**a), 3u);
  // A node that starts now catches up before it opens, then follows.
  auto b = Node("b");
  ASSERT_TRUE(b.ok()) << b.error().detail;
  EXPECT_EQ((*b)->Head(), 3u);
  EXPECT_EQ(*(*b)->ReadIndex(Index::kUnique, "phone", "13800000000"), "lead_2");
  EXPECT_EQ(*(*b)->ReadIndex(Index::kIdempotency, "stf_1", "key-1"), "record");
  ASSERT_TRUE((*a)->Append(Batch(**a, {LeadEvent("lead_4")})).ok());
  Settles(**a, **b);
  EXPECT_EQ((*b)->Head(), 4u);
}

TEST_F(JetStreamEventStoreTest, AWriterOvertakenByAnotherIsRefusedAndWritesNothing) {
  auto a = Node("a");
  ASSERT_TRUE(a.ok()) << a.error().detail;
  ASSERT_TRUE((*a)->Append(Batch(**a, {LeadEvent("lead_1")})).ok());
  // Another client publishes behind a's back, as a second writer would.
  auto c = JetStreamClient::Connect({{nats_.url()}, "rogue", 2000ms});
  ASSERT_TRUE(c.ok());
  auto stale = (*c)->Publish("evcrm.log", "not a commit", "rogue-1", 0);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, "wrong_last_sequence");
  auto rogue = (*c)->Publish("evcrm.log", "not a commit", "rogue-2", 1);
  ASSERT_TRUE(rogue.ok()) << rogue.error().detail;
  // a, which has not applied sequence 2, is refused: by the stream (its expected last
  // sequence is stale) or, when its follower met the message first, by its own copy,
  // which cannot apply what is no commit. Either way nothing of its batch is stored.
  auto refused = (*a)->Append(Batch(**a, {LeadEvent("lead_2")}));
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.error().code == "wrong_last_sequence" ||
              refused.error().detail.find("stopped following") != std::string::npos)
      << refused.error().code << ": " << refused.error().detail;
  EXPECT_EQ((*a)->Head(), 1u);
  EXPECT_EQ((*c)->State("evcrm")->messages, 2u);
  // The message that is no commit stops the follower: nothing is applied past it, and the
  // copy says why.
  for (int i = 0; i < 100 && ReplicaOf(**a)->broken.empty(); ++i) std::this_thread::sleep_for(20ms);
  EXPECT_NE(ReplicaOf(**a)->broken, "");
  EXPECT_EQ((*a)->Head(), 1u);
  EXPECT_EQ(AppliedSequence(**a), 1u);
  auto after = (*a)->Append(Batch(**a, {LeadEvent("lead_3")}));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().kind, ErrorKind::kUnavailable);
}

TEST_F(JetStreamEventStoreTest, ABatchDecidedOnAnOlderHeadIsRefused) {
  auto a = Node("a");
  ASSERT_TRUE(a.ok()) << a.error().detail;
  ASSERT_TRUE((*a)->Append(Batch(**a, {LeadEvent("lead_1")})).ok());
  AppendBatch stale = Batch(**a, {LeadEvent("lead_2")});
  stale.after = 0;
  auto refused = (*a)->Append(stale);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "head_moved");
  stale.after = 1;
  EXPECT_EQ(*(*a)->Append(stale), 2u);
}

TEST_F(JetStreamEventStoreTest, APublishRetriedWithItsMessageIdIsStoredOnce) {
  auto c = JetStreamClient::Connect({{nats_.url()}, "client", 2000ms});
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->EnsureStream({"evcrm", "evcrm.log", 1}).ok());
  auto first = (*c)->Publish("evcrm.log", "x", "id-1", 0);
  ASSERT_TRUE(first.ok()) << first.error().detail;
  // The same id with the expected sequence it had: acknowledged as the first.
  auto again = (*c)->Publish("evcrm.log", "x", "id-1", 0);
  ASSERT_TRUE(again.ok()) << again.error().detail;
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->sequence, first->sequence);
  EXPECT_EQ((*c)->State("evcrm")->messages, 1u);
}

TEST_F(JetStreamEventStoreTest, ANodeResumesFromItsCopyAndRefusesAnotherStreamsCopy) {
  {
    auto a = Node("a");
    ASSERT_TRUE(a.ok()) << a.error().detail;
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE((*a)->Append(Batch(**a, {LeadEvent("lead_" + std::to_string(i))})).ok());
    }
  }
  auto again = Node("a");
  ASSERT_TRUE(again.ok()) << again.error().detail;
  EXPECT_EQ((*again)->Head(), 5u);
  EXPECT_EQ(AppliedSequence(**again), 5u);
  ASSERT_TRUE((*again)->Append(Batch(**again, {LeadEvent("lead_x")})).ok());
  EXPECT_EQ(AppliedSequence(**again), 6u);
  (*again)->Close();
  // A RocksDB log that is no copy of the stream is not taken for one.
  {
    auto plain = OpenRocksEventStore({dir_.sub("plain"), false});
    ASSERT_TRUE(plain.ok());
    ASSERT_TRUE((*plain)->Append(Batch(**plain, {LeadEvent("lead_p")})).ok());
  }
  JetStreamOptions o;
  o.servers = {nats_.url()};
  o.node = "plain";
  o.local.path = dir_.sub("plain");
  auto refused = OpenJetStreamEventStore(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kInternal);
}

}  // namespace
}  // namespace crm::eventstore::testing
