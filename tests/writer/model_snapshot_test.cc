// Decision-model snapshots: a snapshot and the log after it give exactly the model a fold
// of the whole log gives, over random stories of the whole domain; a snapshot that is
// damaged, of another log, ahead of the log or of another offset is passed over; the
// writer starts from the newest usable one.
#include "writer/model_snapshot.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "../eventstore/store_test_util.h"
#include "eventstore/rocks_event_store.h"
#include "story.h"

namespace crm::writer {
namespace {

namespace fs = std::filesystem;
using eventstore::testing::TempDir;
using testing::kStoryOffset;
using testing::Story;

// Every part of two models, one expectation each, so a failure names the part.
void ExpectSameModel(const domain::Model& a, const domain::Model& b) {
  EXPECT_EQ(a.utc_offset, b.utc_offset);
  EXPECT_TRUE(a.org == b.org) << "org tree";
  EXPECT_TRUE(a.departments == b.departments) << "departments";
  EXPECT_TRUE(a.staff == b.staff) << "staff";
  EXPECT_TRUE(a.staff_by_email == b.staff_by_email) << "staff by email";
  EXPECT_TRUE(a.policy == b.policy) << "policy";
  EXPECT_TRUE(a.leads == b.leads) << "leads";
  EXPECT_TRUE(a.customers == b.customers) << "customers";
  EXPECT_TRUE(a.opportunities == b.opportunities) << "opportunities";
  EXPECT_TRUE(a.contracts == b.contracts) << "contracts";
  EXPECT_TRUE(a.customer_by_name == b.customer_by_name) << "customer by name";
  EXPECT_TRUE(a.contract_by_number == b.contract_by_number) << "contract by number";
  EXPECT_TRUE(a.holdings == b.holdings) << "holdings";
  EXPECT_TRUE(a.claims == b.claims) << "claims";
  EXPECT_TRUE(a.recycle == b.recycle) << "recycle clocks";
  EXPECT_TRUE(a == b);
}

// A writer over a RocksDB log, on a fake clock, telling a random story.
struct History {
  History(const TempDir& dir, const std::string& name, uint32_t seed)
      : store(std::move(eventstore::OpenRocksEventStore({dir.sub(name), false})).value()),
        commands(std::move(Writer::Open(*store, clock, ids, Options())).value()),
        story(*commands, clock, seed) {
    story.Setup();
  }
  ~History() {
    commands->Close();
    store->Close();
  }
  static WriterOptions Options() {
    WriterOptions o;
    o.utc_offset = kStoryOffset;
    return o;
  }
  void Steps(int n) {
    for (int i = 0; i < n; ++i) story.Step();
  }
  // The whole log folded from position 0.
  ModelAt Folded() const {
    ModelAt m(kStoryOffset);
    EXPECT_TRUE(FoldLog(*store, m, store->Head()).ok());
    return m;
  }

  FakeClock clock{*ParseTime("2026-11-01T00:00:00Z")};
  IdGenerator ids{clock};
  std::unique_ptr<eventstore::EventStore> store;
  std::unique_ptr<Writer> commands;
  Story story;
};

// The snapshots of `store` in `dir`, whose log lines land in `said`.
std::unique_ptr<ModelSnapshots> SnapshotsOf(const eventstore::EventStore& store,
                                            const std::string& dir,
                                            std::vector<std::string>* said = nullptr,
                                            uint64_t every = 0) {
  return std::make_unique<ModelSnapshots>(
      store, ModelSnapshots::Options{dir, kStoryOffset, every, [said](std::string_view line) {
                                       if (said) said->emplace_back(line);
                                     }});
}

std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

bool Mentions(const std::vector<std::string>& said, const std::string& what) {
  for (const auto& line : said) {
    if (line.find(what) != std::string::npos) return true;
  }
  return false;
}

class SnapshotStoryTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(SnapshotStoryTest, ASnapshotAndTheLogAfterItEqualAFoldOfTheWholeLog) {
  TempDir dir;
  History h(dir, "log", GetParam());
  auto snapshots = SnapshotsOf(*h.store, dir.sub("snapshots"));
  h.Steps(600);
  ASSERT_TRUE(snapshots->BuildNow().ok());
  const uint64_t first = h.store->Head();
  h.Steps(600);
  ASSERT_TRUE(snapshots->BuildNow().ok());  // from the first snapshot and the log after it
  const uint64_t second = h.store->Head();
  h.Steps(600);
  h.story.Finale();
  ASSERT_GT(h.story.accepted(), 400u) << "the story should mostly make sense";
  ASSERT_GT(first, 0u);
  ASSERT_GT(second, first);

  // Read back exactly as written, at both positions.
  for (uint64_t position : {first, second}) {
    char name[64];
    std::snprintf(name, sizeof name, "/model-%020llu.snap",
                  static_cast<unsigned long long>(position));
    auto read = ReadModelSnapshot(dir.sub("snapshots") + name, kStoryOffset);
    ASSERT_TRUE(read.ok()) << read.error().detail;
    ModelAt folded(kStoryOffset);
    ASSERT_TRUE(FoldLog(*h.store, folded, position).ok());
    EXPECT_EQ(read->position, position);
    EXPECT_EQ(read->hash, folded.hash);
    EXPECT_EQ(read->at, folded.at);
    ASSERT_NO_FATAL_FAILURE(ExpectSameModel(read->model, folded.model));
  }

  // The newest snapshot and the rest of the log give the whole fold.
  ModelAt from_snapshot = snapshots->Newest();
  EXPECT_EQ(from_snapshot.position, second);
  ASSERT_TRUE(FoldLog(*h.store, from_snapshot, h.store->Head()).ok());
  ModelAt whole = h.Folded();
  EXPECT_EQ(from_snapshot.position, whole.position);
  EXPECT_EQ(from_snapshot.hash, whole.hash);
  ASSERT_NO_FATAL_FAILURE(ExpectSameModel(from_snapshot.model, whole.model));
  // The story reached every corner the snapshot stores.
  const auto& m = whole.model;
  EXPECT_FALSE(m.leads.empty());
  EXPECT_FALSE(m.contracts.empty());
  EXPECT_FALSE(m.claims.empty());
  EXPECT_FALSE(m.holdings.empty());
  EXPECT_FALSE(m.contacts.empty());
  EXPECT_FALSE(m.lead_by_key.empty());
  EXPECT_TRUE(m.policy != domain::PoolPolicy{});
  bool lost = false, followed = false, paid = false;
  for (const auto& [id, l] : m.leads) {
    lost |= !l.own.lost_at.empty();
    followed |= l.own.last_follow_up_at.has_value();
  }
  bool reversed = false;
  for (const auto& [id, k] : m.contracts) {
    paid |= k.paid > 0;
    for (const auto& p : k.payments) reversed |= p.reversed;
  }
  EXPECT_TRUE(reversed) << "no payment was reversed";
  EXPECT_FALSE(m.invoices.empty());
  EXPECT_FALSE(m.invoice_by_number.empty());
  EXPECT_FALSE(m.tasks.empty());
  bool merged = false;
  for (const auto& [id, c] : m.customers) merged |= c.merged_into.has_value();
  EXPECT_TRUE(merged) << "no customer was merged";
  EXPECT_TRUE(lost) << "no lead changed hands";
  EXPECT_TRUE(followed) << "no lead was followed up";
  EXPECT_TRUE(paid) << "no contract is paid";
}

INSTANTIATE_TEST_SUITE_P(Seeds, SnapshotStoryTest, ::testing::Values(1u, 2u, 3u));

TEST(ModelSnapshotsTest, AWriterStartsFromTheNewestSnapshotAndFoldsOnlyTheRest) {
  TempDir dir;
  auto store = std::move(eventstore::OpenRocksEventStore({dir.sub("log"), false})).value();
  FakeClock clock{*ParseTime("2026-11-01T00:00:00Z")};
  IdGenerator ids{clock};
  auto snapshots = SnapshotsOf(*store, dir.sub("snapshots"));
  WriterOptions options = History::Options();
  options.snapshots = snapshots.get();
  auto commands = std::move(Writer::Open(*store, clock, ids, options)).value();
  EXPECT_EQ(commands->Stats().loaded_from, 0u);
  Story story(*commands, clock, 7);
  story.Setup();
  for (int i = 0; i < 300; ++i) story.Step();
  ASSERT_TRUE(snapshots->BuildNow().ok());
  const uint64_t at = store->Head();
  for (int i = 0; i < 50; ++i) story.Step();
  commands->Close();

  // The story's writer is done with (it holds that one): a new one answers from here.
  commands = std::move(Writer::Open(*store, clock, ids, options)).value();
  WriterStats loaded = commands->Stats();
  EXPECT_EQ(loaded.loaded_from, at);
  EXPECT_EQ(loaded.loaded_events, store->Head() - at);
  // It decides as before: a new person's email is free, an existing one's is not.
  auto taken = commands->Execute(
      {.command = domain::CreateStaff{"stf_new", "N", "a@x", domain::Role::kSales, {}, {}},
       .actor = "stf_admin"});
  ASSERT_FALSE(taken.ok());
  ASSERT_EQ(taken.error().fields.size(), 1u);
  EXPECT_EQ(taken.error().fields[0].message, "already used by stf_admin");
  auto fresh = commands->Execute(
      {.command = domain::CreateStaff{"stf_new", "N", "new@x", domain::Role::kSales, {}, {}},
       .actor = "stf_admin"});
  EXPECT_TRUE(fresh.ok()) << fresh.error().detail;
  commands->Close();
  store->Close();
}

TEST(ModelSnapshotsTest, AnUnusableSnapshotIsPassedOverForAnOlderOneOrTheWholeLog) {
  TempDir dir;
  History a(dir, "a", 11);
  std::vector<std::string> said;
  const std::string snaps = dir.sub("snapshots");
  auto snapshots = SnapshotsOf(*a.store, snaps, &said);
  a.Steps(200);
  ASSERT_TRUE(snapshots->BuildNow().ok());
  const uint64_t older = a.store->Head();
  a.Steps(200);
  ASSERT_TRUE(snapshots->BuildNow().ok());
  const uint64_t newer = a.store->Head();
  ASSERT_EQ(Files(snaps).size(), 2u);
  const std::string newest = snaps + "/" + Files(snaps).back();

  // A damaged byte in the middle of the newest: its checksum fails, the older is used.
  std::string bytes;
  {
    std::ifstream in(newest, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::string damaged = bytes;
  damaged[damaged.size() / 2] ^= 0x40;
  std::ofstream(newest, std::ios::binary | std::ios::trunc) << damaged;
  EXPECT_EQ(snapshots->Newest().position, older);
  EXPECT_TRUE(Mentions(said, "damaged")) << ::testing::PrintToString(said);

  // Cut short: the same.
  said.clear();
  std::ofstream(newest, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 7);
  EXPECT_EQ(snapshots->Newest().position, older);
  EXPECT_TRUE(Mentions(said, "damaged")) << ::testing::PrintToString(said);

  // Whole again, it is used; read with another business-day offset, it is not.
  std::ofstream(newest, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_EQ(snapshots->Newest().position, newer);
  auto other_offset = ReadModelSnapshot(newest, std::chrono::hours(0));
  ASSERT_FALSE(other_offset.ok());
  EXPECT_NE(other_offset.error().detail.find("offset"), std::string::npos);

  // Another log with more events: its hash at the snapshots' positions differs.
  History b(dir, "b", 12);
  b.Steps(600);
  ASSERT_GT(b.store->Head(), newer);
  said.clear();
  auto theirs = SnapshotsOf(*b.store, snaps, &said);
  EXPECT_EQ(theirs->Newest().position, 0u);
  EXPECT_TRUE(Mentions(said, "another log")) << ::testing::PrintToString(said);

  // A shorter log (restored from an older copy, say): the snapshots are ahead of it.
  History c(dir, "c", 13);
  ASSERT_LT(c.store->Head(), older);
  said.clear();
  auto behind = SnapshotsOf(*c.store, snaps, &said);
  EXPECT_EQ(behind->Newest().position, 0u);
  EXPECT_TRUE(Mentions(said, "log ends at")) << ::testing::PrintToString(said);
  // Its next build keeps only its own: those it passed over are of no use to it.
  ASSERT_TRUE(behind->BuildNow().ok());
  char own[64];
  std::snprintf(own, sizeof own, "model-%020llu.snap",
                static_cast<unsigned long long>(c.store->Head()));
  EXPECT_EQ(Files(snaps), std::vector<std::string>{own});
  EXPECT_EQ(behind->Newest().position, c.store->Head());
}

// A person's holdings are cut into pieces across frames, and merged again on load.
TEST(ModelSnapshotsTest, HoldingsLargerThanAFrameComeBackWhole) {
  TempDir dir;
  ModelAt m(kStoryOffset);
  Time at = *ParseTime("2026-11-01T00:00:00Z");
  for (int i = 0; i < 10'000; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "lead_%06d", i);
    std::string owner = i % 1000 == 0 ? "stf_b" : "stf_a";
    domain::Evolve(m.model, {id, 1, static_cast<uint64_t>(i + 1), at, owner},
                   domain::LeadCreated{id, "n", "c", {}, {}, {}, {}, owner});
  }
  m.model.holdings["stf_idle"];  // a person who holds nothing is kept too
  m.position = 10'000;
  m.hash = std::string(32, 'x');
  ASSERT_TRUE(WriteModelSnapshot(dir.path(), m).ok());
  auto read = ReadModelSnapshot(dir.path() + "/" + Files(dir.path()).front(), kStoryOffset);
  ASSERT_TRUE(read.ok()) << read.error().detail;
  EXPECT_EQ(read->model.holdings.at("stf_a").leads.size(), 9'990u);
  ASSERT_NO_FATAL_FAILURE(ExpectSameModel(read->model, m.model));
}

TEST(ModelSnapshotsTest, OnlyTheTwoNewestAreKeptAndAnUnfinishedFileIsRemoved) {
  TempDir dir;
  History h(dir, "log", 21);
  const std::string snaps = dir.sub("snapshots");
  fs::create_directories(snaps);
  std::ofstream(snaps + "/model-00000000000000000009.snap.tmp") << "half";
  auto snapshots = SnapshotsOf(*h.store, snaps);
  EXPECT_TRUE(Files(snaps).empty()) << "the unfinished file stays";
  // A stray file whose number does not fit is not a snapshot (and throws nothing).
  std::ofstream(snaps + "/model-99999999999999999999.snap") << "stray";
  EXPECT_EQ(snapshots->Newest().position, 0u);
  std::filesystem::remove(snaps + "/model-99999999999999999999.snap");
  for (int i = 0; i < 3; ++i) {
    h.Steps(50);
    ASSERT_TRUE(snapshots->BuildNow().ok());
  }
  ASSERT_TRUE(snapshots->BuildNow().ok());  // nothing new: nothing written
  auto files = Files(snaps);
  ASSERT_EQ(files.size(), 2u);
  char newest[64];
  std::snprintf(newest, sizeof newest, "model-%020llu.snap",
                static_cast<unsigned long long>(h.store->Head()));
  EXPECT_EQ(files.back(), newest);
  EXPECT_EQ(snapshots->Stats().written, 3u);
}

TEST(ModelSnapshotsTest, TheBackgroundBuilderWritesOneOnceTheLogIsFarEnoughAhead) {
  TempDir dir;
  History h(dir, "log", 31);
  auto snapshots = SnapshotsOf(*h.store, dir.sub("snapshots"), nullptr, 100);
  snapshots->Start();
  h.Steps(300);
  const uint64_t head = h.store->Head();
  ASSERT_GE(head, 100u);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (snapshots->Stats().written == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  SnapshotStats stats = snapshots->Stats();
  ASSERT_GE(stats.written, 1u);
  EXPECT_GE(stats.newest_position, 100u);
  snapshots->Stop();
  // The snapshot it wrote loads, and folds to the same model as the whole log.
  ModelAt m = SnapshotsOf(*h.store, dir.sub("snapshots"))->Newest();
  EXPECT_EQ(m.position, stats.newest_position);
  ASSERT_TRUE(FoldLog(*h.store, m, h.store->Head()).ok());
  ASSERT_NO_FATAL_FAILURE(ExpectSameModel(m.model, h.Folded().model));
}

}  // namespace
}  // namespace crm::writer
