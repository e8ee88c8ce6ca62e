#include "eventstore/rocks_event_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>

#include "store_test_util.h"
#include "tamper.h"

namespace crm::eventstore::testing {
namespace {

using domain::UniqueKey;

class RocksEventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    auto s = OpenRocksEventStore({dir_.sub("log"), &clock_, 1024, false});
    ASSERT_TRUE(s.ok()) << s.error().detail;
    store_ = std::move(s).value();
  }
  void Reopen() {
    store_.reset();
    Open();
  }

  TempDir dir_;
  FakeClock clock_{*ParseTime("2026-11-22T08:00:00Z")};
  std::unique_ptr<EventStore> store_;
};

TEST_F(RocksEventStoreTest, PositionsAreDenseFromOne) {
  EXPECT_EQ(store_->Head(), 0u);
  auto a = Append(*store_, {{LeadEvent("lead_a")}, {}, {}});
  auto b = Append(*store_, {{LeadEvent("lead_b"), LeadEvent("lead_c")}, {}, {}});
  ASSERT_TRUE(a.reply.ok() && b.reply.ok());
  EXPECT_EQ(a.info.first_position, 1u);
  EXPECT_EQ(a.info.last_position, 1u);
  EXPECT_EQ(b.info.first_position, 2u);
  EXPECT_EQ(b.info.last_position, 3u);
  EXPECT_EQ(b.reply->position, 3u);
  EXPECT_EQ(store_->Head(), 3u);
  auto all = store_->ReadAll(1, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) EXPECT_EQ((*all)[i].position, i + 1);
  EXPECT_EQ((*all)[1].stream, "lead_b");
  EXPECT_EQ((*all)[0].actor, "stf_test");
  EXPECT_EQ((*all)[0].at, clock_.Now());
}

TEST_F(RocksEventStoreTest, ReadAllStartsAtAPositionAndStopsAtALimit) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Append(*store_, {{LeadEvent("lead_" + std::to_string(i))}, {}, {}}).reply.ok());
  auto page = store_->ReadAll(4, 3);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ(page->front().position, 4u);
  EXPECT_EQ(page->back().position, 6u);
  EXPECT_TRUE(store_->ReadAll(11, 5)->empty());
}

TEST_F(RocksEventStoreTest, StreamsHaveTheirOwnVersions) {
  domain::NewEvent claim{"lead_a", domain::LeadClaimed{"stf_1"}};
  ASSERT_TRUE(Append(*store_, {{LeadEvent("lead_a"), LeadEvent("lead_b")}, {}, {}}).reply.ok());
  auto d = Append(*store_, {{claim}, {}, {}});
  ASSERT_TRUE(d.reply.ok());
  EXPECT_EQ(d.info.stream_versions.at("lead_a"), 2u);
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
}

TEST_F(RocksEventStoreTest, AMultiStreamAppendIsAllOrNothing) {
  ASSERT_TRUE(Append(*store_, {{LeadEvent("lead_a")}, {}, {}}).reply.ok());
  // Three streams, one expectation wrong: nothing of it is written.
  auto d = Append(*store_, {{LeadEvent("lead_x"), LeadEvent("lead_y"), {"lead_a", domain::LeadClaimed{"s"}}},
                            {},
                            {{"lead_a", 5}}});
  ASSERT_FALSE(d.reply.ok());
  EXPECT_EQ(d.reply.error().code, "version_conflict");
  EXPECT_EQ(d.reply.error().kind, ErrorKind::kPrecondition);
  EXPECT_EQ(store_->Head(), 1u);
  EXPECT_EQ(*store_->StreamVersion("lead_x"), 0u);
  EXPECT_EQ(*store_->StreamVersion("lead_y"), 0u);
  // With the right expectation all three land.
  auto ok = Append(*store_, {{LeadEvent("lead_x"), LeadEvent("lead_y"), {"lead_a", domain::LeadClaimed{"s"}}},
                             {},
                             {{"lead_a", 1}, {"lead_x", 0}}});
  ASSERT_TRUE(ok.reply.ok());
  EXPECT_EQ(store_->Head(), 4u);
}

TEST_F(RocksEventStoreTest, ExpectingANewStreamFailsWhenItExists) {
  ASSERT_TRUE(Append(*store_, {{LeadEvent("lead_a")}, {}, {{"lead_a", 0}}}).reply.ok());
  auto d = Append(*store_, {{LeadEvent("lead_a")}, {}, {{"lead_a", 0}}});
  ASSERT_FALSE(d.reply.ok());
  EXPECT_EQ(d.reply.error().code, "version_conflict");
}

TEST_F(RocksEventStoreTest, UniqueKeysAreClaimedWithTheEvents) {
  auto claim = [](const std::string& key, const std::string& owner) {
    return UniqueKey{"customer_name", key, owner, false};
  };
  ASSERT_TRUE(Append(*store_, {{LeadEvent("cus_1")}, {claim("acme", "cus_1")}, {}}).reply.ok());
  auto d = Append(*store_, {{LeadEvent("cus_2")}, {claim("acme", "cus_2")}, {}});
  ASSERT_FALSE(d.reply.ok());
  EXPECT_EQ(d.reply.error().code, "duplicate_customer");
  EXPECT_EQ(d.reply.error().existing_id, "cus_1");
  EXPECT_EQ(*store_->StreamVersion("cus_2"), 0u);  // the refused events were not written
  // The holder may claim its own key again; giving it up frees it.
  ASSERT_TRUE(Append(*store_, {{}, {claim("acme", "cus_1")}, {}}).reply.ok());
  ASSERT_TRUE(Append(*store_, {{}, {UniqueKey{"customer_name", "acme", "cus_1", true}}, {}}).reply.ok());
  EXPECT_TRUE(Append(*store_, {{LeadEvent("cus_2")}, {claim("acme", "cus_2")}, {}}).reply.ok());
  Reopen();
  auto again = Append(*store_, {{LeadEvent("cus_3")}, {claim("acme", "cus_3")}, {}});
  ASSERT_FALSE(again.reply.ok());
  EXPECT_EQ(again.reply.error().existing_id, "cus_2");
}

TEST_F(RocksEventStoreTest, AnIdempotentRetryGetsTheStoredReply) {
  auto sub = [](const std::string& hash) {
    Submission s = Propose({{LeadEvent("lead_a")}, {}, {}});
    s.idempotency = Submission::Idempotency{"stf_test", "key-1", std::string(32, hash[0])};
    s.make_reply = [](const CommitInfo& info) {
      return Reply{201, "{\"position\":" + std::to_string(info.last_position) + "}", 0};
    };
    return s;
  };
  auto first = SubmitAndWait(*store_, sub("a"));
  ASSERT_TRUE(first.reply.ok());
  EXPECT_EQ(first.reply->status, 201);
  auto retry = SubmitAndWait(*store_, sub("a"));
  ASSERT_TRUE(retry.reply.ok());
  EXPECT_EQ(retry.reply->status, 201);
  EXPECT_EQ(retry.reply->body, first.reply->body);
  EXPECT_EQ(retry.reply->position, 1u);
  EXPECT_EQ(store_->Head(), 1u);  // the retry wrote nothing
  auto other = SubmitAndWait(*store_, sub("b"));
  ASSERT_FALSE(other.reply.ok());
  EXPECT_EQ(other.reply.error().code, "idempotency_key_reused");
  Reopen();  // the key is durable
  auto after = SubmitAndWait(*store_, sub("a"));
  ASSERT_TRUE(after.reply.ok());
  EXPECT_EQ(after.reply->body, first.reply->body);
  EXPECT_EQ(store_->Head(), 1u);
}

TEST_F(RocksEventStoreTest, ARefusedDecisionWritesNothing) {
  Submission s;
  s.decide = [](const WriterView&) -> Result<Proposal> {
    return RuleRefused("claim_limit_reached", "3 of 3");
  };
  auto d = SubmitAndWait(*store_, std::move(s));
  ASSERT_FALSE(d.reply.ok());
  EXPECT_EQ(d.reply.error().code, "claim_limit_reached");
  EXPECT_EQ(store_->Head(), 0u);
}

TEST_F(RocksEventStoreTest, ConcurrentSubmittersAreGroupCommitted) {
  // The first decision holds the writer until the others are queued, so they must all
  // go in one batch behind it.
  constexpr int kOthers = 16;
  std::latch queued(kOthers);
  std::atomic<bool> first_running{false};
  Submission blocker = Propose({{LeadEvent("lead_first")}, {}, {}});
  blocker.decide = [&](const WriterView&) -> Result<Proposal> {
    first_running = true;
    queued.wait();
    return Proposal{{LeadEvent("lead_first")}, {}, {}};
  };
  std::atomic<int> done{0};
  blocker.done = [&](Result<Reply>, const CommitInfo&) { ++done; };
  store_->Submit(std::move(blocker));
  while (!first_running) std::this_thread::yield();
  std::vector<std::thread> threads;
  for (int i = 0; i < kOthers; ++i) {
    threads.emplace_back([&, i] {
      Submission s = Propose({{LeadEvent("lead_" + std::to_string(i))}, {}, {}});
      s.done = [&](Result<Reply> r, const CommitInfo&) {
        EXPECT_TRUE(r.ok());
        ++done;
      };
      store_->Submit(std::move(s));
      queued.count_down();
    });
  }
  for (auto& t : threads) t.join();
  while (done < kOthers + 1) std::this_thread::yield();
  WriterStats stats = store_->Stats();
  EXPECT_EQ(stats.submissions, kOthers + 1u);
  EXPECT_EQ(stats.events, kOthers + 1u);
  EXPECT_EQ(stats.largest_batch, static_cast<uint64_t>(kOthers));
  EXPECT_EQ(stats.batches, 2u);
  EXPECT_EQ(store_->Head(), kOthers + 1u);
}

TEST_F(RocksEventStoreTest, ADecisionSeesWhatEarlierOnesInItsBatchStaged) {
  std::latch release(1);
  std::atomic<bool> first_running{false};
  Submission blocker;
  blocker.decide = [&](const WriterView&) -> Result<Proposal> {
    first_running = true;
    release.wait();
    return Proposal{};
  };
  blocker.done = [](Result<Reply>, const CommitInfo&) {};
  store_->Submit(std::move(blocker));
  while (!first_running) std::this_thread::yield();
  // Two creations of the same stream expecting it new, both in the next batch.
  std::vector<std::shared_ptr<std::promise<Done>>> results;
  std::vector<uint64_t> seen_versions(2);
  for (int i = 0; i < 2; ++i) {
    auto p = std::make_shared<std::promise<Done>>();
    results.push_back(p);
    Submission s;
    s.decide = [&, i](const WriterView& view) -> Result<Proposal> {
      seen_versions[i] = view.StreamVersion("lead_same");
      return Proposal{{LeadEvent("lead_same")}, {}, {{"lead_same", 0}}};
    };
    s.done = [p](Result<Reply> r, const CommitInfo& info) { p->set_value({std::move(r), info}); };
    store_->Submit(std::move(s));
  }
  release.count_down();
  auto a = results[0]->get_future().get();
  auto b = results[1]->get_future().get();
  EXPECT_TRUE(a.reply.ok());
  ASSERT_FALSE(b.reply.ok());
  EXPECT_EQ(b.reply.error().code, "version_conflict");
  EXPECT_EQ(seen_versions[0], 0u);
  EXPECT_EQ(seen_versions[1], 1u);
}

TEST_F(RocksEventStoreTest, VerifyPassesOnAnUntouchedLogAndSurvivesReopen) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Append(*store_, {{LeadEvent("lead_" + std::to_string(i))}, {}, {}}).reply.ok());
  VerifyReport r = store_->Verify();
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.events, 5u);
  EXPECT_EQ(r.head_position, 5u);
  EXPECT_EQ(r.head_hash.size(), 64u);
  auto last = store_->ReadAll(5, 1);
  EXPECT_EQ(ToHex(last->front().hash), r.head_hash);
  Reopen();
  ASSERT_TRUE(Append(*store_, {{LeadEvent("lead_more")}, {}, {}}).reply.ok());
  VerifyReport again = store_->Verify();
  EXPECT_TRUE(again.ok) << again.detail;
  EXPECT_EQ(again.events, 6u);
}

TEST_F(RocksEventStoreTest, VerifyNamesTheTamperedEvent) {
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(Append(*store_, {{LeadEvent("lead_" + std::to_string(i))}, {}, {}}).reply.ok());
  store_.reset();
  Tamper(dir_.sub("log"), 4, false);
  Open();
  VerifyReport r = store_->Verify();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_position, 4u) << r.detail;
}

TEST_F(RocksEventStoreTest, RewritingAnEventWithItsHashBreaksTheNextLink) {
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(Append(*store_, {{LeadEvent("lead_" + std::to_string(i))}, {}, {}}).reply.ok());
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
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(Append(*store_, {{LeadEvent("lead_" + std::to_string(i))}, {}, {}}).reply.ok());
  std::string head_hash = store_->Verify().head_hash;
  store_.reset();
  // The last event rewritten together with its hash.
  Tamper(dir_.sub("log"), 6, true);
  auto reader = OpenRocksEventStore({dir_.sub("log"), &clock_, 1, true});
  ASSERT_TRUE(reader.ok()) << reader.error().detail;
  VerifyReport rewritten = (*reader)->Verify();
  EXPECT_FALSE(rewritten.ok);
  EXPECT_EQ(rewritten.first_bad_position, 6u) << rewritten.detail;
  reader->reset();
  // The last two cut off, the head left as it was: the writer refuses to go on, a
  // reader opens it to report where the log now ends.
  CutTail(dir_.sub("log"), 6, 2, /*keep_head=*/true);
  EXPECT_FALSE(OpenRocksEventStore({dir_.sub("log"), &clock_, 1, false}).ok());
  reader = OpenRocksEventStore({dir_.sub("log"), &clock_, 1, true});
  ASSERT_TRUE(reader.ok()) << reader.error().detail;
  VerifyReport cut = (*reader)->Verify();
  EXPECT_FALSE(cut.ok);
  EXPECT_EQ(cut.first_bad_position, 5u) << cut.detail;
  reader->reset();
  // An event slipped in after the head.
  CutTail(dir_.sub("log"), 4, 0, /*keep_head=*/false);
  AppendBehindTheWritersBack(dir_.sub("log"), 4);
  reader = OpenRocksEventStore({dir_.sub("log"), &clock_, 1, true});
  ASSERT_TRUE(reader.ok());
  VerifyReport added = (*reader)->Verify();
  EXPECT_FALSE(added.ok);
  EXPECT_EQ(added.first_bad_position, 5u) << added.detail;
  reader->reset();
  // Cut with the head rewritten to match is a shorter, valid log: only a head hash an
  // auditor kept outside the server tells it from the original.
  CutTail(dir_.sub("log"), 5, 1, /*keep_head=*/false);
  reader = OpenRocksEventStore({dir_.sub("log"), &clock_, 1, true});
  ASSERT_TRUE(reader.ok());
  VerifyReport shorter = (*reader)->Verify();
  EXPECT_TRUE(shorter.ok) << shorter.detail;
  EXPECT_EQ(shorter.head_position, 4u);
  EXPECT_NE(shorter.head_hash, head_hash);
}

TEST_F(RocksEventStoreTest, TimestampsNeverGoBackwards) {
  ASSERT_TRUE(Append(*store_, {{LeadEvent("lead_a")}, {}, {}}).reply.ok());
  Time first = clock_.Now();
  clock_.Advance(Millis(-60000));  // the system clock steps back a minute
  ASSERT_TRUE(Append(*store_, {{LeadEvent("lead_b")}, {}, {}}).reply.ok());
  auto all = store_->ReadAll(1, 10);
  EXPECT_EQ((*all)[1].at, first);
}

TEST_F(RocksEventStoreTest, PositionAtFindsTheLastEventAtOrBeforeATime) {
  Time t0 = clock_.Now();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(Append(*store_, {{LeadEvent("lead_" + std::to_string(i))}, {}, {}}).reply.ok());
    clock_.Advance(Millis(1000));
  }
  EXPECT_EQ(*store_->PositionAt(t0 - Millis(1)), 0u);
  EXPECT_EQ(*store_->PositionAt(t0), 1u);
  EXPECT_EQ(*store_->PositionAt(t0 + Millis(2500)), 3u);
  EXPECT_EQ(*store_->PositionAt(t0 + Millis(100000)), 5u);
}

TEST_F(RocksEventStoreTest, WaitersAndListenersHearOfNewEvents) {
  std::atomic<uint64_t> heard{0};
  store_->AddListener([&](uint64_t head) { heard = head; });
  std::thread t([&] { ASSERT_TRUE(Append(*store_, {{LeadEvent("lead_a")}, {}, {}}).reply.ok()); });
  EXPECT_EQ(store_->WaitForHead(0, std::chrono::seconds(10)), 1u);
  t.join();
  EXPECT_EQ(heard.load(), 1u);
  // A wait with nothing new times out with the current head.
  EXPECT_EQ(store_->WaitForHead(1, std::chrono::milliseconds(20)), 1u);
}

TEST_F(RocksEventStoreTest, ASecondOpenOfTheSameDirectoryIsRefused) {
  auto second = OpenRocksEventStore({dir_.sub("log"), &clock_, 1024, false});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, ErrorKind::kUnavailable);
}

TEST_F(RocksEventStoreTest, AfterCloseSubmissionsAreRefused) {
  store_->Close();
  auto d = Append(*store_, {{LeadEvent("lead_a")}, {}, {}});
  ASSERT_FALSE(d.reply.ok());
  EXPECT_EQ(d.reply.error().code, "unavailable");
}

TEST_F(RocksEventStoreTest, TheObserverSeesEveryStagedEvent) {
  struct Recorder : WriteObserver {
    std::vector<uint64_t> positions;
    void Staged(const RecordedEvent& e) override { positions.push_back(e.position); }
    void Aborted() override {}
  } rec;
  store_->SetObserver(&rec);
  ASSERT_TRUE(Append(*store_, {{LeadEvent("lead_a"), LeadEvent("lead_b")}, {}, {}}).reply.ok());
  EXPECT_EQ(rec.positions, (std::vector<uint64_t>{1, 2}));
  store_->SetObserver(nullptr);
}

}  // namespace
}  // namespace crm::eventstore::testing
