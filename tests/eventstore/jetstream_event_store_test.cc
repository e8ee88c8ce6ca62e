#include "eventstore/jetstream_event_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
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
  JetStreamOptions Options(const std::string& name, const std::string& stream = "evcrm") {
    JetStreamOptions o;
    o.servers = {nats_.url()};
    o.stream = stream;
    o.subject = stream + ".log";
    o.node = name;
    o.local.path = dir_.sub(name);
    return o;
  }
  Result<std::unique_ptr<EventStore>> Node(const std::string& name,
                                           const std::string& stream = "evcrm") {
    return OpenJetStreamEventStore(Options(name, stream));
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

// Every index entry of a log, as a map.
std::map<std::string, std::string> Indexes(const EventStore& log) {
  std::map<std::string, std::string> out;
  EXPECT_TRUE(ScanIndexes(log, [&](const IndexWrite& w) {
                if (w.scope != "$replication") {
                  out[std::to_string(static_cast<int>(w.index)) + "/" + w.scope + "/" + w.key] =
                      *w.value;
                }
                return true;
              }).ok());
  return out;
}

TEST_F(JetStreamEventStoreTest, ALogMigratesIntoAStreamAndBackWithItsPositionsHashesAndIndexes) {
  // A RocksDB log over several minutes, with unique keys, a credential and an idempotency
  // record; its events large enough that the stream takes them in several commits.
  auto plain = OpenRocksEventStore({dir_.sub("plain"), false});
  ASSERT_TRUE(plain.ok());
  const Time t0 = *ParseTime("2026-11-22T08:00:00Z");
  const std::string big(60000, 'n');
  for (int i = 0; i < 200; ++i) {
    std::string id = "lead_" + std::to_string(i);
    ASSERT_TRUE((*plain)
                    ->Append(Batch(**plain, {LeadEvent(id, big + id)}, t0 + std::chrono::seconds(i),
                                   {{Index::kUnique, "phone", "138" + std::to_string(i), id}}))
                    .ok());
  }
  ASSERT_TRUE((*plain)
                  ->Append(Batch(**plain, {}, t0 + 200s,
                                 {{Index::kUnique, "$token", "a1b2", "stf_1"},
                                  {Index::kIdempotency, "stf_1", "key-1", "record"}}))
                  .ok());
  const VerifyReport source = (*plain)->Verify();
  ASSERT_TRUE(source.ok);
  const auto source_index = Indexes(**plain);
  ASSERT_EQ(source_index.size(), 202u);

  uint64_t progressed = 0;
  auto moved = MigrateToStream(**plain, Options("crmctl", "moved"),
                               [&](uint64_t done, uint64_t) { progressed = done; });
  ASSERT_TRUE(moved.ok()) << moved.error().detail;
  EXPECT_EQ(moved->events, 200u);
  EXPECT_EQ(moved->index_entries, 202u);
  EXPECT_EQ(moved->head_hash, source.head_hash);
  EXPECT_GE(moved->sequence, 3u) << "12 MB of events take two messages, the index one more";
  EXPECT_EQ(progressed, 200u);
  // Into a stream that holds anything, never.
  auto again = MigrateToStream(**plain, Options("crmctl", "moved"), nullptr);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "stream_not_empty");

  // A node on an empty data dir rebuilds the same log from the stream.
  auto fresh = Node("fresh", "moved");
  ASSERT_TRUE(fresh.ok()) << fresh.error().detail;
  EXPECT_EQ((*fresh)->Head(), 200u);
  VerifyReport copied = (*fresh)->Verify();
  EXPECT_TRUE(copied.ok) << copied.detail;
  EXPECT_EQ(copied.head_hash, source.head_hash);
  EXPECT_EQ(Indexes(LocalLog(**fresh)), source_index);
  EXPECT_EQ((*fresh)->ReadAll(150, 1)->front().at, t0 + 149s) << "each event keeps its time";
  // It writes on from there.
  ASSERT_TRUE((*fresh)->Append(Batch(**fresh, {LeadEvent("lead_new")}, t0 + 300s)).ok());
  const std::string fresh_head = (*fresh)->Verify().head_hash;
  (*fresh)->Close();

  // The source, marked as the copy of the stream, resumes as a node would.
  ASSERT_TRUE(MarkAsCopy(**plain, moved->sequence).ok());
  EXPECT_TRUE(IsStreamCopy(**plain));
  (*plain)->Close();
  plain->reset();
  JetStreamOptions resumed_options = Options("plain", "moved");
  auto resumed = OpenJetStreamEventStore(resumed_options);
  ASSERT_TRUE(resumed.ok()) << resumed.error().detail;
  EXPECT_EQ((*resumed)->Head(), 201u) << "the source, then what the fresh node wrote";
  EXPECT_EQ((*resumed)->Verify().head_hash, fresh_head);
  (*resumed)->Close();

  // And back: a log of its own, equal to the stream's.
  JetStreamOptions back = Options("back", "moved");
  uint64_t sequences = 0;
  auto returned = MigrateFromStream(back, [&](uint64_t done, uint64_t) { sequences = done; });
  ASSERT_TRUE(returned.ok()) << returned.error().detail;
  EXPECT_EQ(returned->events, 201u);
  EXPECT_EQ(returned->sequence, moved->sequence + 1);
  EXPECT_EQ(sequences, returned->sequence);
  auto own = OpenRocksEventStore({dir_.sub("back"), false});
  ASSERT_TRUE(own.ok()) << own.error().detail;
  EXPECT_FALSE(IsStreamCopy(**own));
  VerifyReport back_verified = (*own)->Verify();
  EXPECT_TRUE(back_verified.ok);
  EXPECT_EQ(back_verified.head_hash, returned->head_hash);
  EXPECT_EQ(Indexes(**own), source_index);
  auto refused = MigrateFromStream(back, nullptr);
  ASSERT_FALSE(refused.ok()) << "not into a data dir that holds anything";
}

TEST_F(JetStreamEventStoreTest, AnIndexOfManySmallEntriesMigratesInCommitsTheStreamTakes) {
  // 60,000 entries of 150 bytes: over one message's worth, counted as FlatBuffers spends.
  auto plain = OpenRocksEventStore({dir_.sub("plain"), false});
  ASSERT_TRUE(plain.ok());
  std::vector<IndexWrite> entries;
  for (int i = 0; i < 60000; ++i) {
    entries.push_back({Index::kUnique, "phone", "1390000" + std::to_string(100000 + i),
                       std::string(120, 'v') + std::to_string(i)});
  }
  ASSERT_TRUE((*plain)
                  ->Append(Batch(**plain, {LeadEvent("lead_1")}, *ParseTime("2026-11-22T08:00:00Z"),
                                 std::move(entries)))
                  .ok());
  auto moved = MigrateToStream(**plain, Options("crmctl", "many"), nullptr);
  ASSERT_TRUE(moved.ok()) << moved.error().detail;
  EXPECT_EQ(moved->index_entries, 60000u);
  EXPECT_GE(moved->sequence, 3u) << "the event, then the index in two commits at least";
  auto fresh = Node("fresh", "many");
  ASSERT_TRUE(fresh.ok()) << fresh.error().detail;
  EXPECT_EQ(Indexes(LocalLog(**fresh)), Indexes(**plain));
}

TEST_F(JetStreamEventStoreTest, AMigrationThatStoppedHalfWayIsNeverTakenForAWholeLog) {
  // The stream takes the first commit, then refuses an event larger than a message.
  auto plain = OpenRocksEventStore({dir_.sub("plain"), false});
  ASSERT_TRUE(plain.ok());
  const std::string big(60000, 'n');
  for (int i = 0; i < 150; ++i) {
    ASSERT_TRUE(
        (*plain)->Append(Batch(**plain, {LeadEvent("lead_" + std::to_string(i), big)})).ok());
  }
  ASSERT_TRUE(
      (*plain)->Append(Batch(**plain, {LeadEvent("lead_huge", std::string(9 << 20, 'h'))})).ok());
  auto moved = MigrateToStream(**plain, Options("crmctl", "half"), nullptr);
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().code, "commit_too_large") << moved.error().detail;
  // The stream holds the first commit; no node serves it, and it does not migrate back.
  auto node = Node("node", "half");
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.error().code, "migration_unfinished") << node.error().detail;
  auto back = MigrateFromStream(Options("back", "half"), nullptr);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code, "migration_unfinished") << back.error().detail;
}

}  // namespace
}  // namespace crm::eventstore::testing
