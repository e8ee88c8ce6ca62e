// Rebuilding the read models from position 1 gives exactly what the live build gave, for
// random command sequences over the whole domain, with a restart of the live projections
// from their checkpoints in the middle.
#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <thread>

#include "../eventstore/store_test_util.h"
#include "domain/overloaded.h"
#include "eventstore/rocks_event_store.h"
#include "projections/read_models.h"
#include "writer/writer.h"

namespace crm::projections {
namespace {

namespace d = crm::domain;
using eventstore::testing::TempDir;
using std::chrono::hours;

const Seconds kOffset = hours(8);

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

// Drives random commands, most of them sensible, some refused.
class Story {
 public:
  Story(writer::Writer& commands, writer::FakeClock& clock, uint32_t seed)
      : commands_(commands), clock_(clock), rng_(seed) {}

  void Setup() {
    admin_ = Do("system", d::CreateStaff{"stf_admin", "Admin", "a@x", d::Role::kAdmin, {}, {}});
    Do("stf_admin", d::CreateDepartment{"dep_a", "A", {}});
    Do("stf_admin", d::CreateDepartment{"dep_b", "B", "dep_a"});
    Do("stf_admin", d::CreateStaff{"stf_mgr", "M", "m@x", d::Role::kManager, "dep_a", {}});
    for (int i = 0; i < 4; ++i) {
      std::string id = "stf_rep" + std::to_string(i);
      Do("stf_admin", d::CreateStaff{id, "R" + std::to_string(i), id + "@x", d::Role::kSales,
                                     i % 2 ? "dep_a" : "dep_b", i % 2 ? "east" : "west"});
      reps_.push_back(id);
    }
    Do("stf_admin", d::CreateStaff{"stf_fin", "F", "f@x", d::Role::kFinance, "dep_a", {}});
    Do("stf_fin", d::SetPassword{"stf_fin"});
  }

  void Step() {
    clock_.Advance(Millis(Pick(1, 3 * 3600 * 1000)));  // up to three hours pass
    std::string rep = PickOf(reps_);
    std::string actor = Pick(0, 1) == 0 ? "stf_mgr" : rep;
    switch (Pick(0, 33)) {
      case 0:
      case 1:
      case 2: {
        std::string id = NewId("lead");
        d::OptId owner;
        if (Pick(0, 1)) owner = PickOf(reps_);
        Do(owner ? "stf_admin" : actor, d::CreateLead{id,
                                                      "L" + id,
                                                      "Co " + std::to_string(Pick(0, 40)),
                                                      {},
                                                      {},
                                                      "web",
                                                      Pick(0, 1) ? "east" : "west",
                                                      owner});
        leads_.push_back(id);
        break;
      }
      case 3:
        if (!leads_.empty()) Do(rep, d::ClaimLead{PickOf(leads_)});
        break;
      case 4:
      case 31:
        if (!leads_.empty()) Do(actor, d::ReleaseLead{PickOf(leads_), "r"});
        break;
      case 5:
      case 6:
        if (!leads_.empty())
          Do(rep, d::FollowUpLead{PickOf(leads_), NewId("fup"), d::Channel::kCall, "n", {}});
        break;
      case 7:
        if (!leads_.empty()) Do("stf_mgr", d::AssignLead{PickOf(leads_), rep});
        break;
      case 8:
        if (!leads_.empty()) Do(actor, d::InvalidateLead{PickOf(leads_), "x"});
        break;
      case 9:
        if (!leads_.empty() && Pick(0, 3) == 0) Do(actor, d::VoidLead{PickOf(leads_), "x"});
        break;
      case 10:
      case 29: {
        if (leads_.empty()) break;
        d::ConvertLead c;
        c.lead_id = PickOf(leads_);
        Do("stf_mgr", d::ClaimLead{c.lead_id});  // a pool lead is claimed first
        c.new_customer_id = NewId("cus");
        c.new_contact_id = NewId("ctc");
        c.new_opportunity_id = NewId("opp");
        c.contact = d::ContactDetails{"C", {}, {}, {}, true};
        if (!customers_.empty() && Pick(0, 2) == 0) c.customer_id = PickOf(customers_);
        if (Pick(0, 1))
          c.opportunity = d::OpportunityDetails{"O", 1000 * Pick(1, 9), "CNY", Date{}, {}};
        auto dec = Do("stf_mgr", c);
        if (dec) {
          const auto& out = std::get<d::ConversionOutcome>(dec->result.outcome);
          if (out.customer_created) customers_.push_back(out.customer_id);
          if (out.opportunity_id) opps_.push_back(*out.opportunity_id);
        }
        break;
      }
      case 11:
      case 12: {
        std::string id = NewId("cus");
        // A manager's customer goes to the pool unless it names an owner; deals wait for one.
        d::OptId owner;
        if (actor == "stf_mgr" && Pick(0, 2)) owner = PickOf(reps_);
        Do(actor, d::CreateCustomer{
                      id, d::CustomerDetails{.name = "Cus " + std::to_string(Pick(0, 60))}, owner});
        customers_.push_back(id);
        break;
      }
      case 13:
        if (!customers_.empty())
          Do(actor, d::UpdateCustomer{PickOf(customers_), {}, "mining", {}, "B", {}, {}});
        break;
      case 14:
        if (!customers_.empty()) Do(rep, d::ClaimCustomer{PickOf(customers_)});
        break;
      case 15:
        if (!customers_.empty()) Do(actor, d::ReleaseCustomer{PickOf(customers_), "r"});
        break;
      case 16:
        if (!customers_.empty())
          Do("stf_mgr", d::TransferCustomer{PickOf(customers_), PickOf(reps_)});
        break;
      case 17:
        if (!customers_.empty()) Do("stf_mgr", d::LockCustomer{PickOf(customers_), "vip"});
        break;
      case 18:
        if (!customers_.empty()) Do("stf_mgr", d::UnlockCustomer{PickOf(customers_)});
        break;
      case 19:
        if (!customers_.empty())
          Do(rep,
             d::FollowUpCustomer{PickOf(customers_), NewId("fup"), d::Channel::kVisit, "v", {}});
        break;
      case 20: {
        if (customers_.empty()) break;
        std::string id = NewId("opp");
        Do(actor, d::CreateOpportunity{id, PickOf(customers_), {"O", 5000, "CNY", Date{}, {}}});
        opps_.push_back(id);
        break;
      }
      case 33:
        if (!opps_.empty())
          Do("stf_mgr", d::ChangeStage{PickOf(opps_), static_cast<d::Stage>(Pick(0, 3))});
        break;
      case 21:
        if (!opps_.empty())
          Do(actor, d::ChangeStage{PickOf(opps_), static_cast<d::Stage>(Pick(0, 3))});
        [[fallthrough]];
      case 22:
      case 32:
        if (!opps_.empty()) {
          if (Pick(0, 1))
            Do(actor, d::WinOpportunity{PickOf(opps_), "w"});
          else
            Do(actor, d::LoseOpportunity{PickOf(opps_), "l"});
        }
        break;
      case 23: {
        if (customers_.empty()) break;
        std::string id = NewId("con");
        int64_t a = 100 * Pick(1, 50), b = 100 * Pick(1, 50);
        Date day = BusinessDay(clock_.Now(), kOffset);
        d::OptId opp;
        if (!opps_.empty() && Pick(0, 1)) opp = PickOf(opps_);
        Do(actor, d::SignContract{id,
                                  PickOf(customers_),
                                  opp,
                                  id,
                                  "T",
                                  a + b,
                                  "CNY",
                                  day,
                                  {{day + std::chrono::days(Pick(-5, 5)), a},
                                   {day + std::chrono::days(30), b}}});
        contracts_.push_back(id);
        break;
      }
      case 24:
      case 30:
        if (!contracts_.empty()) {
          Do("stf_fin", d::RecordPayment{PickOf(contracts_),
                                         NewId("pay"),
                                         100 * Pick(1, 40),
                                         BusinessDay(clock_.Now(), kOffset),
                                         "bank",
                                         {}});
        }
        break;
      case 25: {
        d::PoolPolicy p;
        if (Pick(0, 1)) p.recycle_no_follow_up = hours(Pick(1, 48));
        if (Pick(0, 1)) p.recycle_no_deal = hours(Pick(24, 96));
        if (Pick(0, 1)) p.daily_claim_limit = Pick(1, 5);
        if (Pick(0, 1)) p.previous_owner_block = hours(Pick(1, 24));
        if (Pick(0, 2) == 0) p.max_owned_leads = Pick(3, 30);
        if (Pick(0, 2) == 0) p.max_owned_customers = Pick(3, 30);
        Do("stf_admin", d::SetPoolPolicy{p});
        break;
      }
      case 26:
        Do("system", d::RecycleDue{1000});
        break;
      case 27:
        if (Pick(0, 5) == 0) {
          std::string from = PickOf(reps_), to = PickOf(reps_);
          Do("stf_mgr", d::Handover{from, Pick(0, 2) == 0 ? d::OptId() : d::OptId(to), false});
        }
        break;
      case 28:
        Do("stf_mgr", d::SetTarget{Period{2026, static_cast<unsigned>(Pick(10, 12))},
                                   PickOf(reps_),
                                   {},
                                   100000 * Pick(1, 9),
                                   "CNY"});
        break;
    }
  }

  // The last act: a rep leaves, handing everything to a colleague.
  void Finale() { Do("stf_mgr", d::Handover{reps_[0], reps_[1], true}); }

  size_t accepted() const { return accepted_; }

 private:
  std::optional<writer::WriteOutcome> Do(const std::string& actor, d::Command c) {
    auto out = commands_.Execute({.command = std::move(c), .actor = actor});
    if (!out.ok()) return std::nullopt;
    ++accepted_;
    return std::move(out).value();
  }
  int64_t Pick(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  const std::string& PickOf(const std::vector<std::string>& v) {
    return v[static_cast<size_t>(Pick(0, static_cast<int64_t>(v.size()) - 1))];
  }
  std::string NewId(const std::string& prefix) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s_%08d", prefix.c_str(), ++counter_);
    return buf;
  }

  writer::Writer& commands_;
  writer::FakeClock& clock_;
  std::mt19937 rng_;
  int counter_ = 0;
  size_t accepted_ = 0;
  std::optional<writer::WriteOutcome> admin_;
  std::vector<std::string> reps_, leads_, customers_, opps_, contracts_;
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
  for (int i = 0; i < 600; ++i) story.Step();
  // Restart the live read side: it must resume from its checkpoints.
  ASSERT_TRUE(live->runner.WaitApplied(store->Head(), std::chrono::seconds(30)));
  live.reset();
  live = std::make_unique<ReadSide>(*store, dir.sub("live"));
  ASSERT_TRUE(live->runner.Start().ok());
  EXPECT_GT(live->runner.applied(), 0u) << "the restarted read side forgot its checkpoint";
  for (int i = 0; i < 600; ++i) story.Step();
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

}  // namespace
}  // namespace crm::projections
