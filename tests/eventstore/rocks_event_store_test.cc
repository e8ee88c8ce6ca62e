#include "eventstore/rocks_event_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "eventstore/coding.h"
#include "store_test_util.h"
#include "tamper.h"

namespace crm::eventstore::testing {
namespace {

class RocksEventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    auto s = OpenRocksEventStore({dir_.sub("log"), false});
    ASSERT_TRUE(s.ok()) << s.error().detail;
    store_ = std::move(s).value();
  }
  void Reopen() {
    store_.reset();
    Open();
  }
  Result<uint64_t> Put(std::vector<domain::NewEvent> events, std::vector<IndexWrite> index = {}) {
    return store_->Append(Batch(*store_, events, at_, std::move(index)));
  }

  TempDir dir_;
  Time at_ = *ParseTime("2026-11-22T08:00:00Z");
  std::unique_ptr<EventStore> store_;
};

TEST_F(RocksEventStoreTest, PositionsAreDenseFromOne) {
  EXPECT_EQ(store_->Head(), 0u);
  auto a = Put({LeadEvent("lead_a")});
  auto b = Put({LeadEvent("lead_b"), LeadEvent("lead_c")});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, 1u);
  EXPECT_EQ(*b, 2u);
  EXPECT_EQ(store_->Head(), 3u);
  auto all = store_->ReadAll(1, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) EXPECT_EQ((*all)[i].position, i + 1);
  EXPECT_EQ((*all)[1].stream, "lead_b");
  EXPECT_EQ((*all)[0].actor, "stf_test");
  EXPECT_EQ((*all)[0].command_id, "cmd_test");
  EXPECT_EQ((*all)[0].correlation_id, "corr_test");
  EXPECT_EQ((*all)[0].at, at_);
}

// RocksDB's own LOG on a disk that refuses every write (/dev/full): its lines are lost,
// the store is not. (RocksDB's file logger aborted the process at the line after a failed
// write.)
TEST(RocksEventStoreLogTest, AStoreWhoseLogFileCannotBeWrittenKeepsWorking) {
  TempDir dir;
  std::filesystem::create_directories(dir.sub("log"));
  std::filesystem::create_symlink("/dev/full", dir.sub("log") + "/LOG");
  Time at = *ParseTime("2026-11-22T08:00:00Z");
  for (int open = 0; open < 2; ++open) {  // a first open, and a reopen that recovers
    auto s = OpenRocksEventStore({dir.sub("log"), false});
    ASSERT_TRUE(s.ok()) << s.error().detail;
    auto& store = **s;
    for (int i = 0; i < 50; ++i) {
      auto put =
          store.Append(Batch(store, {LeadEvent("lead_" + std::to_string(open * 50 + i))}, at));
      ASSERT_TRUE(put.ok()) << put.error().detail;
    }
    EXPECT_EQ(store.Head(), 50u * (open + 1));
    store.Close();
  }
  EXPECT_TRUE(std::filesystem::is_symlink(dir.sub("log") + "/LOG"));
}

TEST_F(RocksEventStoreTest, ReadAllStartsAtAPositionAndStopsAtALimit) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Put({LeadEvent("lead_" + std::to_string(i))}).ok());
  auto page = store_->ReadAll(4, 3);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ(page->front().position, 4u);
  EXPECT_EQ(page->back().position, 6u);
  EXPECT_TRUE(store_->ReadAll(11, 5)->empty());
}

TEST_F(RocksEventStoreTest, StreamsHaveTheirOwnVersions) {
  domain::NewEvent claim{"lead_a", domain::LeadClaimed{"stf_1"}};
  ASSERT_TRUE(Put({LeadEvent("lead_a"), LeadEvent("lead_b")}).ok());
  ASSERT_TRUE(Put({claim}).ok());
  EXPECT_EQ(*store_->StreamVersion("lead_a"), 2u);
  EXPECT_EQ(*store_->StreamVersion("lead_b"), 1u);
  EXPECT_EQ(*store_->StreamVersion("lead_"), 0u);  // a prefix is not a stream
  auto events = store_->ReadStream("lead_a", 1, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].version, 2u);
  EXPECT_EQ((*events)[1].position, 3u);
  EXPECT_TRUE(std::holds_alternative<domain::LeadClaimed>((*events)[1].event));
  EXPECT_EQ(store_->ReadStream("lead_a", 2, 10)->size(), 1u);
  auto window = store_->ReadStreamBetween("lead_a", 1, 3, 10);
  ASSERT_TRUE(window.ok());
  ASSERT_EQ(window->size(), 1u);
  EXPECT_EQ(window->front().position, 3u);
  auto first = store_->ReadStreamBetween("lead_a", 0, 3, 1);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u) << "at most max_count";
  EXPECT_EQ(first->front().position, 1u);
}

TEST_F(RocksEventStoreTest, AMultiStreamAppendIsAllOrNothing) {
  ASSERT_TRUE(Put({LeadEvent("lead_a")}).ok());
  // Three streams, one of them not continuing its stream (lead_a is at 1, not 4): nothing
  // of the batch is written.
  AppendBatch bad =
      Batch(*store_,
            {LeadEvent("lead_x"), LeadEvent("lead_y"), {"lead_a", domain::LeadClaimed{"s"}}}, at_);
  bad.events[2].version = 5;
  auto refused = store_->Append(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "version_conflict");
  EXPECT_EQ(refused.error().kind, ErrorKind::kPrecondition);
  EXPECT_EQ(store_->Head(), 1u);
  EXPECT_EQ(*store_->StreamVersion("lead_x"), 0u);
  EXPECT_EQ(*store_->StreamVersion("lead_y"), 0u);
  // Continuing every stream, all three land.
  ASSERT_TRUE(
      Put({LeadEvent("lead_x"), LeadEvent("lead_y"), {"lead_a", domain::LeadClaimed{"s"}}}).ok());
  EXPECT_EQ(store_->Head(), 4u);
}

TEST_F(RocksEventStoreTest, ABatchDecidedOnAnotherHeadIsRefused) {
  ASSERT_TRUE(Put({LeadEvent("lead_a")}).ok());
  AppendBatch stale = Batch(*store_, {LeadEvent("lead_b")}, at_);
  stale.after = 0;
  auto refused = store_->Append(stale);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "head_moved");
  EXPECT_EQ(store_->Head(), 1u);
  stale.after = 1;
  EXPECT_EQ(*store_->Append(stale), 2u);
}

TEST_F(RocksEventStoreTest, ANewStreamMustNotExistYet) {
  ASSERT_TRUE(Put({LeadEvent("lead_a")}).ok());
  AppendBatch again = Batch(*store_, {LeadEvent("lead_b")}, at_);
  again.events[0].stream = "lead_a";  // version 1 of a stream that has one
  auto refused = store_->Append(again);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "version_conflict");
  EXPECT_EQ(store_->Head(), 1u);
}

TEST_F(RocksEventStoreTest, IndexEntriesAreWrittenWithTheirBatch) {
  auto put = [](Index i, std::string key, std::optional<std::string> value) {
    return IndexWrite{i, "customer_name", std::move(key), std::move(value)};
  };
  ASSERT_TRUE(Put({LeadEvent("cus_1")}, {put(Index::kUnique, "acme", "cus_1"),
                                         put(Index::kIdempotency, "acme", "record")})
                  .ok());
  EXPECT_EQ(store_->ReadIndex(Index::kUnique, "customer_name", "acme")->value_or(""), "cus_1");
  EXPECT_EQ(store_->ReadIndex(Index::kIdempotency, "customer_name", "acme")->value_or(""),
            "record");
  EXPECT_FALSE(store_->ReadIndex(Index::kUnique, "customer_name", "other")->has_value());
  // A refused batch writes none of its entries.
  AppendBatch bad =
      Batch(*store_, {LeadEvent("cus_1")}, at_, {put(Index::kUnique, "globex", "cus_2")});
  bad.events[0].version = 1;  // cus_1 has a version 1 already
  ASSERT_FALSE(store_->Append(bad).ok());
  EXPECT_FALSE(store_->ReadIndex(Index::kUnique, "customer_name", "globex")->has_value());
  // Entries without events: the head stays, the next position is answered.
  auto only_index = Put({}, {put(Index::kUnique, "acme", std::nullopt)});
  ASSERT_TRUE(only_index.ok());
  EXPECT_EQ(*only_index, 2u);
  EXPECT_EQ(store_->Head(), 1u);
  Reopen();
  EXPECT_FALSE(store_->ReadIndex(Index::kUnique, "customer_name", "acme")->has_value());
  EXPECT_EQ(store_->ReadIndex(Index::kIdempotency, "customer_name", "acme")->value_or(""),
            "record");
}

// The store does not know what an idempotency record holds: the predicate it is given
// (the writer's, in crmd) says which have expired, and a compaction drops those, without
// reading anything else of the log.
TEST_F(RocksEventStoreTest, ACompactionDropsTheIdempotencyRecordsThePredicateCallsExpired) {
  store_.reset();
  std::atomic<int> asked{0};
  StoreOptions options{dir_.sub("log")};
  options.idempotency_expired = [&asked](std::string_view record) {
    ++asked;
    return record.starts_with("old");
  };
  options.idempotency_compaction = std::chrono::hours(24);
  auto opened = OpenRocksEventStore(options);
  ASSERT_TRUE(opened.ok()) << opened.error().detail;
  store_ = std::move(opened).value();
  auto idem = [](std::string key, std::string value) {
    return IndexWrite{Index::kIdempotency, "stf_1", std::move(key), std::move(value)};
  };
  ASSERT_TRUE(Put({LeadEvent("lead_1")}, {idem("k1", "old record"), idem("k2", "new record"),
                                          IndexWrite{Index::kUnique, "name", "old", "lead_1"}})
                  .ok());
  // Until a compaction reaches them, they are there (the writer ignores expired ones).
  EXPECT_TRUE(store_->ReadIndex(Index::kIdempotency, "stf_1", "k1")->has_value());
  ASSERT_TRUE(CompactIdempotencyIndex(*store_).ok());
  EXPECT_GE(asked.load(), 2);
  EXPECT_FALSE(store_->ReadIndex(Index::kIdempotency, "stf_1", "k1")->has_value());
  EXPECT_EQ(store_->ReadIndex(Index::kIdempotency, "stf_1", "k2")->value_or(""), "new record");
  // Nothing else is touched: the unique index, the log, the chain.
  EXPECT_EQ(store_->ReadIndex(Index::kUnique, "name", "old")->value_or(""), "lead_1");
  EXPECT_EQ(store_->Head(), 1u);
  EXPECT_TRUE(store_->Verify().ok);
  store_.reset();  // before `asked`, which its filter uses, goes
}

TEST_F(RocksEventStoreTest, VerifyPassesOnAnUntouchedLogAndSurvivesReopen) {
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(store_->Append(Batch(*store_, {LeadEvent("lead_" + std::to_string(i))})).ok());
  VerifyReport r = store_->Verify();
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.events, 5u);
  EXPECT_EQ(r.head_position, 5u);
  EXPECT_EQ(r.head_hash.size(), 64u);
  auto last = store_->ReadAll(5, 1);
  EXPECT_EQ(ToHex(last->front().hash), r.head_hash);
  Reopen();
  ASSERT_TRUE(store_->Append(Batch(*store_, {LeadEvent("lead_more")})).ok());
  VerifyReport again = store_->Verify();
  EXPECT_TRUE(again.ok) << again.detail;
  EXPECT_EQ(again.events, 6u);
}

TEST_F(RocksEventStoreTest, VerifyNamesTheTamperedEvent) {
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(store_->Append(Batch(*store_, {LeadEvent("lead_" + std::to_string(i))})).ok());
  store_.reset();
  Tamper(dir_.sub("log"), 4, false);
  Open();
  VerifyReport r = store_->Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_position, 4u) << r.detail;
}

TEST_F(RocksEventStoreTest, RewritingAnEventWithItsHashBreaksTheNextLink) {
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(store_->Append(Batch(*store_, {LeadEvent("lead_" + std::to_string(i))})).ok());
  store_.reset();
  Tamper(dir_.sub("log"), 3, true);
  Open();
  VerifyReport r = store_->Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_position, 4u) << r.detail;
}

// The stored head is what the chain must end at: what is done at the end of the log,
// where no later link can break, shows only there.
TEST_F(RocksEventStoreTest, VerifyComparesTheChainWithTheStoredHead) {
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(store_->Append(Batch(*store_, {LeadEvent("lead_" + std::to_string(i))})).ok());
  std::string head_hash = store_->Verify().head_hash;
  store_.reset();
  // The last event rewritten together with its hash.
  Tamper(dir_.sub("log"), 6, true);
  auto reader = OpenRocksEventStore({dir_.sub("log"), true});
  ASSERT_TRUE(reader.ok()) << reader.error().detail;
  VerifyReport rewritten = (*reader)->Verify();
  EXPECT_FALSE(rewritten.ok);
  EXPECT_EQ(rewritten.first_bad_position, 6u) << rewritten.detail;
  reader->reset();
  // The last two cut off, the head left as it was: the writer refuses to go on, a
  // reader opens it to report where the log now ends.
  CutTail(dir_.sub("log"), 6, 2, /*keep_head=*/true);
  EXPECT_FALSE(OpenRocksEventStore({dir_.sub("log"), false}).ok());
  reader = OpenRocksEventStore({dir_.sub("log"), true});
  ASSERT_TRUE(reader.ok()) << reader.error().detail;
  VerifyReport cut = (*reader)->Verify();
  EXPECT_FALSE(cut.ok);
  EXPECT_EQ(cut.first_bad_position, 5u) << cut.detail;
  reader->reset();
  // An event slipped in after the head.
  CutTail(dir_.sub("log"), 4, 0, /*keep_head=*/false);
  AppendBehindTheWritersBack(dir_.sub("log"), 4);
  reader = OpenRocksEventStore({dir_.sub("log"), true});
  ASSERT_TRUE(reader.ok());
  VerifyReport added = (*reader)->Verify();
  EXPECT_FALSE(added.ok);
  EXPECT_EQ(added.first_bad_position, 5u) << added.detail;
  reader->reset();
  // Cut with the head rewritten to match is a shorter, valid log: only a head hash an
  // auditor kept outside the server tells it from the original.
  CutTail(dir_.sub("log"), 5, 1, /*keep_head=*/false);
  reader = OpenRocksEventStore({dir_.sub("log"), true});
  ASSERT_TRUE(reader.ok());
  VerifyReport shorter = (*reader)->Verify();
  EXPECT_TRUE(shorter.ok) << shorter.detail;
  EXPECT_EQ(shorter.head_position, 4u);
  EXPECT_NE(shorter.head_hash, head_hash);
}

TEST_F(RocksEventStoreTest, AnAppendMayNotGoBackInTime) {
  ASSERT_TRUE(Put({LeadEvent("lead_a")}).ok());
  auto earlier = store_->Append(Batch(*store_, {LeadEvent("lead_b")}, at_ - Millis(1)));
  ASSERT_FALSE(earlier.ok());
  EXPECT_EQ(store_->Head(), 1u);
}

TEST_F(RocksEventStoreTest, PositionAtFindsTheLastEventAtOrBeforeATime) {
  Time t0 = at_;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Put({LeadEvent("lead_" + std::to_string(i))}).ok());
    at_ += Millis(1000);
  }
  EXPECT_EQ(*store_->PositionAt(t0 - Millis(1)), 0u);
  EXPECT_EQ(*store_->PositionAt(t0), 1u);
  EXPECT_EQ(*store_->PositionAt(t0 + Millis(2500)), 3u);
  EXPECT_EQ(*store_->PositionAt(t0 + Millis(100000)), 5u);
}

TEST_F(RocksEventStoreTest, WaitersHearOfNewEvents) {
  std::thread t([&] { ASSERT_TRUE(Put({LeadEvent("lead_a")}).ok()); });
  EXPECT_EQ(store_->WaitForHead(0, std::chrono::seconds(10)), 1u);
  t.join();
  // A wait with nothing new times out with the current head.
  EXPECT_EQ(store_->WaitForHead(1, std::chrono::milliseconds(20)), 1u);
}

TEST_F(RocksEventStoreTest, ASecondOpenOfTheSameDirectoryIsRefused) {
  auto second = OpenRocksEventStore({dir_.sub("log"), false});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, ErrorKind::kUnavailable);
}

TEST_F(RocksEventStoreTest, AfterCloseAppendsAreRefused) {
  store_->Close();
  auto refused = Put({LeadEvent("lead_a")});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "unavailable");
}

}  // namespace
}  // namespace crm::eventstore::testing
