// The writer on its own, against an in-memory store: batching, decisions that see their
// batch, expected versions, unique keys, idempotency, failures.
#include "writer/writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <future>
#include <thread>

#include "fake_event_store.h"

namespace crm::writer::testing {
namespace {

namespace d = crm::domain;

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Open();
    Must("system", d::CreateStaff{"stf_admin", "A", "a@x", d::Role::kAdmin, {}, {}});
    Must("stf_admin", d::CreateDepartment{"dep_1", "D", {}});
    Must("stf_admin", d::CreateStaff{"stf_rep", "R", "r@x", d::Role::kSales, "dep_1", {}});
    Must("stf_admin", d::CreateStaff{"stf_two", "T", "t@x", d::Role::kSales, "dep_1", {}});
  }
  void TearDown() override { writer_->Close(); }

  // Customer names compare case-blind here, as ICU's case folding does in the server.
  static WriterOptions Options() {
    WriterOptions o;
    o.normalize_name = [](std::string_view s) {
      std::string out(s);
      for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return out;
    };
    return o;
  }

  void Open(WriterOptions options = Options()) {
    if (writer_) writer_->Close();
    auto w = Writer::Open(store_, clock_, ids_, std::move(options));
    ASSERT_TRUE(w.ok()) << w.error().detail;
    writer_ = std::move(w).value();
  }

  WriteRequest Request(const std::string& actor, d::Command c, std::optional<std::string> key = {},
                       std::string hash = std::string(32, 'h')) {
    WriteRequest r;
    r.command = std::move(c);
    r.actor = actor;
    r.idempotency_key = std::move(key);
    r.request_hash = std::move(hash);
    return r;
  }
  // Submits without waiting: the future holds the outcome.
  std::future<Result<WriteOutcome>> Send(WriteRequest r) {
    auto p = std::make_shared<std::promise<Result<WriteOutcome>>>();
    auto f = p->get_future();
    writer_->Submit(std::move(r), [p](Result<WriteOutcome> o) { p->set_value(std::move(o)); });
    return f;
  }
  Result<WriteOutcome> Run(WriteRequest r) { return Send(std::move(r)).get(); }
  Result<WriteOutcome> Run(const std::string& actor, d::Command c) {
    return Run(Request(actor, std::move(c)));
  }
  void Must(const std::string& actor, d::Command c) {
    auto r = Run(actor, std::move(c));
    ASSERT_TRUE(r.ok()) << r.error().code << ": " << r.error().detail;
  }
  static d::CreateCustomer Customer(const std::string& id, const std::string& name) {
    return d::CreateCustomer{id, d::CustomerDetails{.name = name}, {}};
  }
  static d::CreateLead Lead(const std::string& id) {
    return d::CreateLead{id, "n", "Co " + id, {}, {}, {}, {}, {}};
  }

  // Holds the store so that the next commands queue up behind `first` and go in one batch.
  template <class... Requests>
  std::vector<Result<WriteOutcome>> InOneBatch(WriteRequest first, Requests... rest) {
    int before = store_.appends();
    store_.Hold();
    auto f = Send(std::move(first));
    store_.WaitForAppends(before + 1);
    std::vector<std::future<Result<WriteOutcome>>> futures;
    (futures.push_back(Send(std::move(rest))), ...);
    // They are queued once Submit returned; let the held batch go.
    store_.Release();
    std::vector<Result<WriteOutcome>> out;
    out.push_back(f.get());
    for (auto& x : futures) out.push_back(x.get());
    return out;
  }

  FakeEventStore store_;
  FakeClock clock_{*ParseTime("2026-11-20T02:00:00Z")};
  IdGenerator ids_{clock_};
  std::unique_ptr<Writer> writer_;
};

TEST_F(WriterTest, ACommandAnswersWhereItsEventsAreAndWhatItMade) {
  uint64_t head = store_.Head();
  auto r = Run("stf_rep", Lead("lead_1"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->replayed);
  EXPECT_EQ(r->result.primary, "lead_1");
  EXPECT_EQ(r->result.primary_version, 1u);
  EXPECT_EQ(r->result.first_position, head + 1);
  EXPECT_EQ(r->result.last_position, head + 1);
  auto fup = Run("stf_rep", d::FollowUpLead{"lead_1", "fup_1", d::Channel::kCall, "n", {}});
  ASSERT_TRUE(fup.ok());
  EXPECT_EQ(fup->result.created, "fup_1");
  EXPECT_EQ(fup->result.primary_version, 2u);
  auto events = store_.ReadAll(head + 1, 10);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].actor, "stf_rep");
  EXPECT_FALSE((*events)[0].command_id.empty());
  EXPECT_EQ((*events)[0].correlation_id, (*events)[0].command_id);
}

TEST_F(WriterTest, ConcurrentCommandsAreGroupCommitted) {
  WriterStats before = writer_->Stats();
  int appends = store_.appends();
  auto results =
      InOneBatch(Request("stf_rep", Lead("lead_first")), Request("stf_rep", Lead("lead_0")),
                 Request("stf_rep", Lead("lead_1")), Request("stf_two", Lead("lead_2")),
                 Request("stf_two", Lead("lead_3")), Request("stf_rep", Lead("lead_4")));
  for (const auto& r : results) EXPECT_TRUE(r.ok());
  WriterStats after = writer_->Stats();
  EXPECT_EQ(store_.appends(), appends + 2) << "one append for the first, one for the rest";
  EXPECT_EQ(after.batches - before.batches, 2u);
  EXPECT_EQ(after.commands - before.commands, 6u);
  EXPECT_EQ(after.largest_batch, 5u);
  // Batch sizes by bucket (1, 2-4, 5-16, 17-64, more): one of 1 and one of 5 more.
  EXPECT_EQ(after.batch_size.counts[0] - before.batch_size.counts[0], 1u);
  EXPECT_EQ(after.batch_size.counts[2] - before.batch_size.counts[2], 1u);
  EXPECT_EQ(after.batch_size.sum - before.batch_size.sum, 6u);
  // Positions follow the order the commands were taken.
  for (size_t i = 1; i < results.size(); ++i) {
    EXPECT_EQ(results[i]->result.last_position, results[i - 1]->result.last_position + 1);
  }
}

TEST_F(WriterTest, ADecisionSeesWhatEarlierOnesInItsBatchStaged) {
  auto results =
      InOneBatch(Request("stf_rep", Lead("lead_x")), Request("stf_rep", Customer("cus_1", "Acme")),
                 Request("stf_two", Customer("cus_2", "ACME")),
                 Request("stf_rep", d::FollowUpLead{"lead_x", "fup", d::Channel::kCall, "n", {}}));
  ASSERT_TRUE(results[1].ok());
  ASSERT_FALSE(results[2].ok());
  EXPECT_EQ(results[2].error().code, "duplicate_customer");
  EXPECT_EQ(results[2].error().existing_id, "cus_1");
  ASSERT_TRUE(results[3].ok());
  EXPECT_EQ(results[3]->result.primary_version, 2u);
}

TEST_F(WriterTest, AnIdempotentRetryGetsTheFirstResultAndWritesNothing) {
  auto first = Run(Request("stf_rep", Customer("cus_1", "Acme"), "key-1", std::string(32, 'a')));
  ASSERT_TRUE(first.ok());
  uint64_t head = store_.Head();
  // The retry carries new ids (the edge makes them per request): the first result wins.
  auto retry = Run(Request("stf_rep", Customer("cus_9", "Acme"), "key-1", std::string(32, 'a')));
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->result.primary, "cus_1");
  EXPECT_EQ(retry->result.last_position, first->result.last_position);
  EXPECT_EQ(store_.Head(), head);
  // The same key with another request is refused.
  auto other = Run(Request("stf_rep", Customer("cus_8", "Other"), "key-1", std::string(32, 'b')));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "idempotency_key_reused");
  // Keys are the caller's own: another person's same key is another command.
  auto theirs = Run(Request("stf_two", Customer("cus_7", "Globex"), "key-1", std::string(32, 'a')));
  ASSERT_TRUE(theirs.ok());
  EXPECT_FALSE(theirs->replayed);
  EXPECT_EQ(theirs->result.primary, "cus_7");
  // Kept in the store: a writer that starts again answers the same.
  Open();
  auto later = Run(Request("stf_rep", Customer("cus_6", "Acme"), "key-1", std::string(32, 'a')));
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->replayed);
  EXPECT_EQ(later->result.primary, "cus_1");
}

TEST_F(WriterTest, ARetryInTheSameBatchGetsTheFirstResult) {
  auto results = InOneBatch(Request("stf_rep", Lead("lead_x")),
                            Request("stf_rep", Lead("lead_a"), "k", std::string(32, 'a')),
                            Request("stf_rep", Lead("lead_b"), "k", std::string(32, 'a')));
  ASSERT_TRUE(results[1].ok() && results[2].ok());
  EXPECT_TRUE(results[2]->replayed);
  EXPECT_EQ(results[2]->result.primary, "lead_a");
  EXPECT_EQ(*store_.StreamVersion("lead_b"), 0u);
}

TEST_F(WriterTest, AUniqueKeyHeldInTheStoreRefusesEvenWhenTheModelDoesNotKnowIt) {
  // An entry the model never saw (written by another writer, or left from an older one).
  ASSERT_TRUE(
      store_
          .Append(
              {clock_.Now(), {}, {{eventstore::Index::kUnique, "customer_name", "acme", "cus_x"}}})
          .ok());
  auto r = Run("stf_rep", Customer("cus_1", "Acme"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "duplicate_customer");
  EXPECT_EQ(r.error().existing_id, "cus_x");
  EXPECT_EQ(*store_.StreamVersion("cus_1"), 0u);
}

TEST_F(WriterTest, AnExpectedVersionThatDoesNotMatchRefusesTheCommand) {
  Must("stf_rep", Lead("lead_1"));
  WriteRequest stale =
      Request("stf_rep", d::FollowUpLead{"lead_1", "f1", d::Channel::kCall, "n", {}});
  stale.expected_version = {"lead_1", 7};
  auto r = Run(stale);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "version_conflict");
  EXPECT_EQ(r.error().kind, ErrorKind::kPrecondition);
  stale.expected_version = {"lead_1", 1};
  EXPECT_TRUE(Run(stale).ok());
}

TEST_F(WriterTest, ARefusedCommandWritesNothing) {
  Must("stf_rep", Lead("lead_1"));
  int appends = store_.appends();
  uint64_t head = store_.Head();
  auto r = Run("stf_two", d::FollowUpLead{"lead_1", "f", d::Channel::kCall, "n", {}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "not_found");
  EXPECT_EQ(store_.Head(), head);
  EXPECT_EQ(store_.appends(), appends) << "a batch of refusals appends nothing";
}

TEST_F(WriterTest, WhenTheLogFailsToWriteTheWriterHaltsUntilItIsOpenedAgain) {
  int appends = store_.appends();
  store_.FailAppendNumber(appends + 2);
  uint64_t head = store_.Head();
  auto results =
      InOneBatch(Request("stf_rep", Lead("lead_first")),
                 Request("stf_rep", Customer("cus_1", "Acme"), "key-n", std::string(32, 'n')),
                 Request("stf_two", Customer("cus_2", "ACME")));
  ASSERT_TRUE(results[0].ok());
  // Whether a failed write reached the disk is unknown: every answer of the batch says
  // so, the refusal too (it rested on what the batch had staged).
  for (size_t i = 1; i < 3; ++i) {
    ASSERT_FALSE(results[i].ok());
    EXPECT_EQ(results[i].error().code, "unavailable");
    EXPECT_NE(results[i].error().detail.find("whether this command took effect"), std::string::npos)
        << results[i].error().detail;
  }
  EXPECT_EQ(store_.Head(), head + 1);
  EXPECT_EQ(writer_->Stats().failed_batches, 1u);
  // From now on every command is refused, before it is decided, until a restart.
  EXPECT_NE(writer_->Stats().halted.find("the disk is full"), std::string::npos);
  auto after = Run("stf_rep", Lead("lead_after"));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, "unavailable");
  EXPECT_NE(after.error().detail.find("until crmd restarts"), std::string::npos);
  EXPECT_EQ(store_.Head(), head + 1);

  // Opened again, the writer knows what the log holds: not Acme, and the key holds
  // nothing, so the retry is decided.
  Open();
  EXPECT_TRUE(writer_->Stats().halted.empty());
  auto retry = Run(Request("stf_rep", Customer("cus_1", "Acme"), "key-n", std::string(32, 'n')));
  ASSERT_TRUE(retry.ok()) << retry.error().detail;
  EXPECT_FALSE(retry->replayed);
  auto dup = Run("stf_two", Customer("cus_2", "ACME"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "duplicate_customer");
}

TEST_F(WriterTest, ABatchTheStoreRefusesBeforeWritingIsForgottenAndTheWriterGoesOn) {
  store_.FailAppendNumber(store_.appends() + 1,
                          MakeError(ErrorKind::kPrecondition, "version_conflict", "injected"));
  auto refused = Run(Request("stf_rep", Customer("cus_1", "Acme"), "key-a", std::string(32, 'a')));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "unavailable");
  EXPECT_NE(refused.error().detail.find("nothing was written"), std::string::npos);
  EXPECT_TRUE(writer_->Stats().halted.empty());
  // The model forgot Acme: the same name and key are decided afresh.
  auto retry = Run(Request("stf_rep", Customer("cus_1", "Acme"), "key-a", std::string(32, 'a')));
  ASSERT_TRUE(retry.ok()) << retry.error().detail;
  EXPECT_FALSE(retry->replayed);
}

TEST_F(WriterTest, WhenTheModelCannotBeReloadedTheWriterHalts) {
  store_.FailAppendNumber(store_.appends() + 1, Internal("injected"));
  store_.FailReadAll(true);
  auto refused = Run("stf_rep", Customer("cus_1", "Acme"));
  ASSERT_FALSE(refused.ok());
  // A model that holds half the log would decide on stale state (a lead claimed twice):
  // the writer refuses everything instead, even once the log reads again.
  store_.FailReadAll(false);
  EXPECT_NE(writer_->Stats().halted.find("could not be reloaded"), std::string::npos);
  uint64_t head = store_.Head();
  auto next = Run("stf_rep", Lead("lead_next"));
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().code, "unavailable");
  EXPECT_EQ(store_.Head(), head);
}

TEST_F(WriterTest, AFailedReadRefusesOnlyTheCommandThatMadeIt) {
  Must("stf_rep", Lead("lead_bad"));
  store_.FailReadsOf("lead_bad");
  auto results = InOneBatch(
      Request("stf_rep", Lead("lead_first")),
      Request("stf_rep", d::FollowUpLead{"lead_bad", "fup_b", d::Channel::kCall, "n", {}}),
      Request("stf_rep", Lead("lead_fine"), "key-f", std::string(32, 'f')),
      Request("stf_two", Lead("lead_fine2")));
  store_.FailReadsOf("");
  ASSERT_TRUE(results[0].ok());
  ASSERT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].error().code, "unavailable");
  EXPECT_TRUE(results[2].ok()) << results[2].error().detail;
  EXPECT_TRUE(results[3].ok()) << results[3].error().detail;
  EXPECT_EQ(results[2]->result.primary_version, 1u);
}

TEST_F(WriterTest, AnIdempotencyKeyAnswersForItsLifetimeAndIsThenFree) {
  WriterOptions options = Options();
  options.idempotency_ttl = std::chrono::hours(24);
  Open(options);
  auto first = Run(Request("stf_rep", Customer("cus_1", "Acme"), "key-t", std::string(32, 'a')));
  ASSERT_TRUE(first.ok());
  clock_.Advance(std::chrono::hours(24));  // the last moment it answers
  auto retry = Run(Request("stf_rep", Customer("cus_9", "Acme"), "key-t", std::string(32, 'a')));
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->replayed);
  auto other = Run(Request("stf_rep", Customer("cus_8", "Other"), "key-t", std::string(32, 'b')));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "idempotency_key_reused");
  // Past it, the key is free: the same key with another request is decided anew, and
  // then answers with the new result.
  clock_.Advance(std::chrono::milliseconds(1));
  auto anew = Run(Request("stf_rep", Customer("cus_8", "Other"), "key-t", std::string(32, 'b')));
  ASSERT_TRUE(anew.ok()) << anew.error().detail;
  EXPECT_FALSE(anew->replayed);
  EXPECT_EQ(anew->result.primary, "cus_8");
  auto again = Run(Request("stf_rep", Customer("cus_5", "Other"), "key-t", std::string(32, 'b')));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->result.primary, "cus_8");
}

TEST(CommandRecordTest, ARecordExpiresOnceItsLifetimeHasPassed) {
  CommandResult r;
  r.primary = "cus_1";
  r.at = *ParseTime("2026-11-20T02:00:00Z");
  std::string record = EncodeCommandRecord(std::string(32, 'h'), r);
  EXPECT_FALSE(CommandRecordExpired(record, r.at + std::chrono::hours(24), std::chrono::hours(24)));
  EXPECT_TRUE(CommandRecordExpired(record, r.at + std::chrono::hours(25), std::chrono::hours(24)));
  // Bytes that are not a record are kept (and reported where they are read).
  EXPECT_FALSE(CommandRecordExpired("junk", r.at + std::chrono::hours(99), std::chrono::hours(1)));
}

TEST_F(WriterTest, AnIdempotencyKeyWithoutTheRequestsHashIsRefused) {
  auto r = Run(Request("stf_rep", Lead("lead_k"), "key-k", ""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInternal);
  EXPECT_FALSE(store_.ReadIndex(eventstore::Index::kIdempotency, "stf_rep", "key-k")->has_value());
}

TEST_F(WriterTest, TimestampsNeverGoBackwards) {
  Must("stf_rep", Lead("lead_a"));
  Time first = clock_.Now();
  clock_.Advance(Millis(-60000));  // the system clock steps back a minute
  Must("stf_rep", Lead("lead_b"));
  auto b = store_.ReadStream("lead_b", 1, 1);
  EXPECT_EQ(b->front().at, first);
}

TEST_F(WriterTest, ListenersHearOfEachDurableBatch) {
  std::atomic<uint64_t> heard{0};
  writer_->AddListener([&](uint64_t head) { heard = head; });
  Must("stf_rep", Lead("lead_a"));
  EXPECT_EQ(heard.load(), store_.Head());
}

TEST_F(WriterTest, AfterCloseSubmissionsAreRefused) {
  writer_->Close();
  auto r = Run("stf_rep", Lead("lead_a"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "unavailable");
}

TEST_F(WriterTest, ADecisionThatThrowsFailsItsCommandAndStoresNothingUnderItsKey) {
  WriterOptions options = Options();
  options.normalize_name = [](std::string_view name) -> std::string {
    if (name == "boom") throw std::runtime_error("the normaliser failed");
    return std::string(name);
  };
  Open(options);
  auto r = Run(Request("stf_rep", Customer("cus_b", "boom"), "key-b", std::string(32, 'b')));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::kInternal);
  EXPECT_FALSE(store_.ReadIndex(eventstore::Index::kIdempotency, "stf_rep", "key-b")->has_value());
  // The writer goes on.
  EXPECT_TRUE(Run("stf_rep", Customer("cus_c", "fine")).ok());
}

}  // namespace
}  // namespace crm::writer::testing
