// Rebuilding the read models from position 1 gives exactly what the live build gave, for
// random command sequences over the whole domain, with a restart of the live projections
// from their checkpoints in the middle.
#include <gtest/gtest.h>

#include <future>
#include <numeric>
#include <random>
#include <sstream>
#include <thread>

#include "../eventstore/store_test_util.h"
#include "../writer/story.h"
#include "domain/overloaded.h"
#include "eventstore/rocks_event_store.h"
#include "projections/read_models.h"
#include "writer/writer.h"

namespace crm::projections {
namespace {

namespace d = crm::domain;
using eventstore::testing::TempDir;
using std::chrono::hours;

using writer::testing::kStoryOffset;
using writer::testing::Story;
const Seconds kOffset = kStoryOffset;

// One set of projections over one local store.
writer::WriterOptions WriterOptions() {
  writer::WriterOptions o;
  o.utc_offset = kOffset;
  return o;
}

// One read side, as the server builds it, over one local store.
struct ReadSide {
  explicit ReadSide(eventstore::EventStore& store, const std::string& path)
      : local(std::move(LocalStore::Open(path)).value()),
        read(store, *local, {kOffset, nullptr}),
        runner(read.runner()) {}
  std::unique_ptr<LocalStore> local;
  ReadModels read;
  ProjectionRunner& runner;
};

std::vector<std::pair<std::string, std::string>> ReadModelRows(const LocalStore& local) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const char* prefix :
       {"org/", "leads/", "pool/", "customers/", "dashboard/", "history/", "timeline/", "meta/"}) {
    auto part = local.Dump(prefix);
    rows.insert(rows.end(), part.begin(), part.end());
  }
  return rows;
}

// Every figure of a dashboard sum, as text, so two sums compare in one EXPECT.
std::string DashboardText(const DashboardFigures& f) {
  std::ostringstream out;
  auto money = [&](const Money& m) {
    for (const auto& [c, a] : m) out << c << "=" << a << ",";
    out << ";";
  };
  out << f.leads_created << " " << f.leads_assigned << " " << f.leads_converted << " " << f.claimed
      << " " << f.recycled << " " << f.contracts_signed << " " << f.payments << " " << f.pool_leads
      << " " << f.pool_customers << " | ";
  money(f.contract_amount);
  money(f.received);
  for (int64_t n : f.leads_by_state) out << n << " ";
  for (const auto& stage : f.by_stage) {
    out << stage.count << " ";
    money(stage.amount);
    money(stage.weighted);
  }
  money(f.forecast);
  money(f.outstanding);
  money(f.overdue);
  return out.str();
}

// A writer on a RocksDB log under `dir`, on a fake clock from 2026-11-01.
struct WriteSide {
  explicit WriteSide(const TempDir& dir)
      : store(std::move(eventstore::OpenRocksEventStore({dir.sub("log"), false})).value()),
        commands(std::move(writer::Writer::Open(*store, clock, ids, WriterOptions())).value()) {}
  ~WriteSide() {
    commands->Close();
    store->Close();
  }
  writer::FakeClock clock{*ParseTime("2026-11-01T00:00:00Z")};
  writer::IdGenerator ids{clock};
  std::unique_ptr<eventstore::EventStore> store;
  std::unique_ptr<writer::Writer> commands;
};

// Two read sides' stores hold the same rows, byte for byte.
void ExpectSameRows(const LocalStore& a_store, const LocalStore& b_store) {
  auto a = ReadModelRows(a_store);
  auto b = ReadModelRows(b_store);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].first, b[i].first);
    EXPECT_EQ(a[i].second, b[i].second) << "row " << a[i].first << " differs";
  }
}

// Two read sides' dashboards sum alike for each of `people` in October to December.
void ExpectSameDashboards(const ReadModels::View& a, const ReadModels::View& b,
                          const std::vector<std::string>& people, Date today) {
  for (unsigned month : {10u, 11u, 12u}) {
    for (const auto& person : people) {
      EXPECT_EQ(DashboardText(a.dashboard().Sum({2026, month}, {person}, today)),
                DashboardText(b.dashboard().Sum({2026, month}, {person}, today)))
          << person << " in month " << month;
    }
  }
}

class RebuildTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(RebuildTest, RebuildingFromPositionOneEqualsTheLiveBuild) {
  TempDir dir;
  WriteSide w(dir);
  eventstore::EventStore* store = w.store.get();
  Story story(*w.commands, w.clock, GetParam());

  auto live = std::make_unique<ReadSide>(*store, dir.sub("live"));
  ASSERT_TRUE(live->runner.Start().ok());
  story.Setup();
  for (int i = 0; i < 900; ++i) story.Step();
  // Restart the live read side: it must resume from its checkpoints.
  ASSERT_TRUE(live->runner.WaitApplied(store->Head(), std::chrono::seconds(30)));
  live.reset();
  live = std::make_unique<ReadSide>(*store, dir.sub("live"));
  ASSERT_TRUE(live->runner.Start().ok());
  EXPECT_GT(live->runner.applied(), 0u) << "the restarted read side forgot its checkpoint";
  for (int i = 0; i < 900; ++i) story.Step();
  story.Finale();
  ASSERT_TRUE(live->runner.WaitApplied(store->Head(), std::chrono::seconds(30)));
  live->runner.Stop();

  ReadSide rebuilt(*store, dir.sub("rebuilt"));
  ASSERT_TRUE(rebuilt.runner.Start().ok());
  ASSERT_TRUE(rebuilt.runner.WaitApplied(store->Head(), std::chrono::seconds(30)));
  rebuilt.runner.Stop();

  EXPECT_GT(story.accepted(), 400u) << "the story should mostly make sense";
  ASSERT_NO_FATAL_FAILURE(ExpectSameRows(*live->local, *rebuilt.local));
  // The dashboard's state figures live in memory only: the live side (restarted, so
  // loaded once from its rows) and the rebuilt one sum alike for every person, and the
  // company's figures equal the sums of the records themselves.
  auto live_view = live->read.Read();
  auto rebuilt_view = rebuilt.read.Read();
  std::vector<std::string> everyone = {""};
  for (const auto& [id, row] : live_view.org().staff()) everyone.push_back(id);
  Date today = BusinessDay(w.clock.Now(), kOffset);
  ExpectSameDashboards(live_view, rebuilt_view, everyone, today);
  auto all = live_view.dashboard().Sum({2026, 11}, everyone, today);
  std::map<std::string, int64_t> by_state;
  for (const auto& [id, lead] : live_view.leads().rows()) ++by_state[lead.state];
  for (size_t i = 0; i < kLeadStates.size(); ++i) {
    EXPECT_EQ(all.leads_by_state[i], by_state[kLeadStates[i]]) << kLeadStates[i];
  }
  Money outstanding, overdue;
  for (const auto& [id, k] : live_view.customers().contracts()) {
    if (k.amount > k.paid) outstanding[k.currency] += k.amount - k.paid;
    if (int64_t o = OverdueAmount(k, today)) overdue[k.currency] += o;
  }
  EXPECT_EQ(all.outstanding, outstanding);
  EXPECT_EQ(all.overdue, overdue);
  EXPECT_FALSE(outstanding.empty()) << "the story should sign contracts";

  // Every event type of the domain occurred, so the comparison covered them all.
  std::set<size_t> types;
  for (uint64_t p = 1; p <= store->Head(); p += 500) {
    auto page = store->ReadAll(p, 500);
    ASSERT_TRUE(page.ok());
    for (const auto& e : *page) types.insert(e.event.index());
  }
  std::set<std::string> missing;
  for (size_t t = 0; t < std::variant_size_v<d::Event>; ++t) {
    if (!types.count(t)) missing.insert(std::to_string(t));
  }
  EXPECT_TRUE(missing.empty()) << "event types never produced: "
                               << ::testing::PrintToString(missing);
}

INSTANTIATE_TEST_SUITE_P(Seeds, RebuildTest, ::testing::Values(1u, 2u, 3u));

// The rows in memory reach the store only at checkpoints (ServedFromStore projections
// aside). A crash between two checkpoints leaves the store as of the last one: a read
// side started on that image resumes from it and ends equal to a build from nothing.
TEST(RunnerTest, ACrashBetweenCheckpointsResumesFromTheLastOneAndEqualsARebuild) {
  TempDir dir;
  WriteSide w(dir);
  eventstore::EventStore* store = w.store.get();
  Story story(*w.commands, w.clock, 11);
  auto live = std::make_unique<ReadSide>(*store, dir.sub("live"));
  live->runner.SetCheckpointEvery(std::chrono::hours(1));
  ASSERT_TRUE(live->runner.Start().ok());
  story.Setup();
  for (int i = 0; i < 200; ++i) story.Step();
  ASSERT_TRUE(live->runner.WaitApplied(store->Head(), std::chrono::seconds(30)));
  ASSERT_TRUE(live->runner.Checkpoint().ok());
  uint64_t checkpointed = store->Head();
  for (int i = 0; i < 200; ++i) story.Step();
  ASSERT_TRUE(live->runner.WaitApplied(store->Head(), std::chrono::seconds(30)));
  ASSERT_GT(store->Head(), checkpointed);

  // The crash image: what the store holds now, before any further checkpoint.
  auto image = LocalStore::Open(dir.sub("image"));
  ASSERT_TRUE(image.ok());
  LocalBatch copy;
  auto rows = ReadModelRows(*live->local);
  for (const auto& [key, value] : rows) copy.Put(key, value);
  ASSERT_TRUE((*image)->Write(copy, true).ok());
  auto stored = [&](const char* name) {
    auto cp = live->local->Get(std::string("meta/checkpoint/") + name);
    return cp && cp->size() == 8 ? eventstore::GetFixed64(*cp) : 0;
  };
  EXPECT_EQ(stored("leads"), checkpointed) << "the leads' rows were written before a checkpoint";
  EXPECT_EQ(stored("timeline"), store->Head()) << "the timeline is written with every batch";
  image->reset();

  for (int i = 0; i < 100; ++i) story.Step();
  story.Finale();
  auto resumed = std::make_unique<ReadSide>(*store, dir.sub("image"));
  ASSERT_TRUE(resumed->runner.Start().ok());
  ASSERT_TRUE(resumed->runner.WaitApplied(store->Head(), std::chrono::seconds(30)));
  resumed->runner.Stop();
  live->runner.Stop();

  ReadSide rebuilt(*store, dir.sub("rebuilt"));
  ASSERT_TRUE(rebuilt.runner.Start().ok());
  ASSERT_TRUE(rebuilt.runner.WaitApplied(store->Head(), std::chrono::seconds(30)));
  rebuilt.runner.Stop();
  ASSERT_NO_FATAL_FAILURE(ExpectSameRows(*resumed->local, *rebuilt.local));
  // The dashboard's state figures, in memory only, were summed from the rows loaded at
  // the checkpoint, then followed the replay: they equal the rebuilt ones.
  auto resumed_view = resumed->read.Read();
  auto rebuilt_view = rebuilt.read.Read();
  std::vector<std::string> everyone = {""};
  for (const auto& [id, row] : resumed_view.org().staff()) everyone.push_back(id);
  ExpectSameDashboards(resumed_view, rebuilt_view, everyone, BusinessDay(w.clock.Now(), kOffset));
}

TEST(RunnerTest, CheckpointsComeByThemselvesWhileEventsComeAndOnceTheyStop) {
  TempDir dir;
  WriteSide w(dir);
  eventstore::EventStore* store = w.store.get();
  Story story(*w.commands, w.clock, 5);
  ReadSide side(*store, dir.sub("rm"));
  side.runner.SetCheckpointEvery(std::chrono::milliseconds(10));
  ASSERT_TRUE(side.runner.Start().ok());
  auto stored = [&] {
    auto cp = side.local->Get("meta/checkpoint/leads");
    return cp && cp->size() == 8 ? eventstore::GetFixed64(*cp) : 0;
  };
  story.Setup();
  for (int i = 0; i < 100; ++i) story.Step();
  // No Checkpoint() and no Stop(): the stored checkpoint reaches the head by itself, the
  // last one written while the log is quiet.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (stored() < store->Head() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(stored(), store->Head());
  side.runner.Stop();
}

TEST(RunnerTest, ARebuildWhileRunningStartsOverFromPositionOne) {
  TempDir dir;
  WriteSide w(dir);
  eventstore::EventStore* store = w.store.get();
  Story story(*w.commands, w.clock, 7);
  ReadSide side(*store, dir.sub("rm"));
  ASSERT_TRUE(side.runner.Start().ok());
  story.Setup();
  for (int i = 0; i < 100; ++i) story.Step();
  ASSERT_TRUE(side.runner.WaitApplied(store->Head(), std::chrono::seconds(30)));
  ASSERT_TRUE(side.runner.Checkpoint().ok());
  auto before = ReadModelRows(*side.local);
  ASSERT_TRUE(side.runner.Rebuild().ok());
  ASSERT_TRUE(side.runner.WaitApplied(store->Head(), std::chrono::seconds(30)));
  side.runner.Stop();
  EXPECT_EQ(ReadModelRows(*side.local), before);
}

// A projection that records which positions it applied, and throws on one while armed.
class BrittleProjection : public Projection {
 public:
  explicit BrittleProjection(uint64_t breaks_at) : breaks_at_(breaks_at) {}
  std::string_view name() const override { return "brittle"; }
  void Apply(const eventstore::RecordedEvent& event, Topics&) override {
    if (armed && event.position == breaks_at_) throw std::runtime_error("a bug");
    applied.push_back(event.position);
  }
  void Flush(LocalBatch& batch) override {
    for (; flushed_ < applied.size(); ++flushed_) {
      batch.Put("brittle/" + eventstore::Fixed64Key(applied[flushed_]), "");
    }
  }
  Status Load(const LocalStore&) override { return Status::Ok(); }
  void Clear() override { applied.clear(), flushed_ = 0; }

  bool armed = true;
  std::vector<uint64_t> applied;

 private:
  uint64_t breaks_at_;
  size_t flushed_ = 0;
};

// A projection that fails to apply an event stops before it, says so, stores nothing more
// and never skips it; the next start resumes from the stored checkpoint and applies it.
// The runner reads 512 events at a time: the first batch is stored, the second fails.
TEST(RunnerTest, AnEventAProjectionFailsToApplyIsNeverSkipped) {
  TempDir dir;
  WriteSide w(dir);
  Story story(*w.commands, w.clock, 3);
  story.Setup();
  while (w.store->Head() < 700) story.Step();
  uint64_t head = w.store->Head();
  auto local = std::move(LocalStore::Open(dir.sub("rm"))).value();
  std::vector<std::string> said;
  {
    BrittleProjection brittle(600);
    ProjectionRunner runner(*w.store, *local, {&brittle},
                            [&](std::string_view line) { said.emplace_back(line); });
    runner.SetCheckpointEvery(std::chrono::milliseconds(0));  // every batch is stored
    ASSERT_TRUE(runner.Start().ok());
    EXPECT_TRUE(runner.WaitApplied(512, std::chrono::seconds(30)));
    EXPECT_FALSE(runner.WaitApplied(513, std::chrono::milliseconds(500)));
    EXPECT_EQ(runner.applied(), 512u) << "positions of the failed batch are said to be applied";
    // A wait for a position past it ends at once, unreached.
    std::promise<bool> answered;
    runner.WhenApplied(600, ProjectionRunner::Clock::now() + std::chrono::hours(1),
                       [&](bool reached) { answered.set_value(reached); });
    EXPECT_FALSE(answered.get_future().get());
    {
      auto lock = runner.ReadLock();
      std::vector<uint64_t> before(599);
      std::iota(before.begin(), before.end(), 1);
      EXPECT_EQ(brittle.applied, before) << "an event after the failed one was applied";
    }
    EXPECT_NE(runner.failure().find("brittle failed to apply the event at position 600"),
              std::string::npos)
        << runner.failure();
    runner.Stop();  // joins the thread that logged
    ASSERT_EQ(said.size(), 1u) << "said more than once";
    EXPECT_NE(said[0].find("position 600"), std::string::npos) << said[0];
  }
  // Nothing of the failed batch was stored: the stored rows are of a checkpoint before it.
  auto cp = local->Get("meta/checkpoint/brittle");
  uint64_t stored = cp && cp->size() == 8 ? eventstore::GetFixed64(*cp) : 0;
  EXPECT_EQ(stored, 512u);
  EXPECT_EQ(local->Dump("brittle/").size(), stored);

  // Fixed, and started again: it resumes after the stored checkpoint and applies the rest.
  BrittleProjection fixed(600);
  fixed.armed = false;
  ProjectionRunner runner(*w.store, *local, {&fixed});
  ASSERT_TRUE(runner.Start().ok());
  ASSERT_TRUE(runner.WaitApplied(head, std::chrono::seconds(30)));
  std::vector<uint64_t> rest(head - stored);
  std::iota(rest.begin(), rest.end(), stored + 1);
  {
    auto lock = runner.ReadLock();
    EXPECT_EQ(fixed.applied, rest);
  }
  EXPECT_EQ(runner.failure(), "");
  EXPECT_EQ(runner.cleared_at_start(), "") << "the stored rows were not used";
  runner.Stop();
}

}  // namespace
}  // namespace crm::projections
