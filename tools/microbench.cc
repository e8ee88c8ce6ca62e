// crm_microbench: Google Benchmark microbenchmarks, each beside the raw cost it is built
// on, so that what evcrm adds shows as a ratio measured in the same run:
//
//   StoreAppend/N        the event store's synced append of N events
//   RocksSyncedBatch/N   RocksDB's synced WriteBatch of the same keys and bytes
//   Rebuild              every projection rebuilt from a log of kLogEvents events
//   ScanDecode           the same log read back and decoded (RocksDB scan + FlatBuffers)
//   Render360            one customer 360 view as JSON text
//   RenderLeadPage       a page of 50 leads written as JSON text, as lists answer
//   RenderLeadPageAsValue  the same built as a nlohmann value, then written
//   SearchIndexPut       a lead's text folded and indexed for search
//   SlowestInsert/...    the slowest of 2M inserts into a hash table that grows
//   RecycleSweep/N       the pool rules' sweep (RecycleDue) over N owned leads, none due
//   RecycleScan/N        the same question asked of every owned lead, as the sweep did
//                        before the model kept its recycle clocks
//   ModelBytesPerLead/N  the decision model's heap per lead, N leads with a phone and an
//                        e-mail (so both duplicate keys), owned by 200 reps
//
// Everything runs on scratch directories under $TMPDIR and stops by itself; the usual
// Google Benchmark flags apply (--benchmark_filter, --benchmark_format=json, ...).
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>

#include "api/handler_util.h"
#include "api/views_json.h"
#include "domain/decide.h"
#include "eventstore/event_codec.h"
#include "eventstore/rocks_event_store.h"
#include "projections/customer_projection.h"
#include "projections/read_models.h"
#include "projections/search_index.h"
#include "projections/sharded_map.h"

namespace {

namespace d = crm::domain;
namespace es = crm::eventstore;
namespace fs = std::filesystem;

constexpr uint64_t kLogEvents = 200000;

std::string Scratch(const std::string& name) {
  fs::path p =
      fs::temp_directory_path() / ("evcrm-microbench-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::string Numbered(const char* prefix, uint64_t i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s_%012llu", prefix, static_cast<unsigned long long>(i));
  return buf;
}

// The i-th lead's creation.
es::PendingEvent LeadCreation(uint64_t i) {
  es::PendingEvent e;
  e.actor = Numbered("stf", i % 200);
  e.command_id = Numbered("cmd", i);
  e.stream = Numbered("lead", i);
  e.version = 1;
  e.event =
      d::LeadCreated{e.stream, "王伟", "上海星辰科技有限公司", "13812345678", std::nullopt, "web",
                     "上海",   e.actor};
  return e;
}

// The i-th event of a realistic history: two leads created for each follow-up recorded.
es::PendingEvent HistoryEvent(uint64_t i) {
  if (i % 3 != 2) return LeadCreation(i);
  es::PendingEvent e;
  e.actor = Numbered("stf", (i - 1) % 200);
  e.command_id = Numbered("cmd", i);
  e.stream = Numbered("lead", i - 1);
  e.version = 2;
  e.event = d::FollowUpRecorded{Numbered("fup", i), d::Channel::kCall, "电话沟通，了解需求", {}};
  return e;
}

constexpr int64_t kEpochMs = 1795000000000;  // 2026-11-17

// `n` lead creations from the `first`-th on.
es::AppendBatch Creations(uint64_t first, uint64_t n) {
  es::AppendBatch batch;
  batch.at = crm::Time(std::chrono::milliseconds(kEpochMs));
  for (uint64_t i = first; i < first + n; ++i) batch.events.push_back(LeadCreation(i));
  return batch;
}

std::unique_ptr<es::EventStore> OpenStore(const std::string& dir) {
  auto opened = es::OpenRocksEventStore({dir, false});
  if (!opened.ok()) throw std::runtime_error(opened.error().detail);
  return std::move(opened).value();
}

// ---- the write path --------------------------------------------------------------------

void StoreAppend(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  auto store = OpenStore(Scratch("append") + "/log");
  uint64_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    es::AppendBatch batch = Creations(next, n);
    next += n;
    state.ResumeTiming();
    auto r = store->Append(batch);
    if (!r.ok()) state.SkipWithError(r.error().detail.c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(StoreAppend)->RangeMultiplier(8)->Range(1, 512)->Arg(1024)->UseRealTime()->MinTime(1);

// The keys and values the store writes for the same events: the event (hash + envelope)
// by position, its stream entry, the head.
void RocksSyncedBatch(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, Scratch("rocks"), &raw).ok()) {
    state.SkipWithError("cannot open RocksDB");
    return;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  uint64_t next = 0;
  const std::string hash(32, 'h');
  for (auto _ : state) {
    state.PauseTiming();
    es::AppendBatch batch = Creations(next, n);
    rocksdb::WriteBatch wb;
    for (const auto& e : batch.events) {
      ++next;
      es::EnvelopeHeader h{next, e.stream, e.version, batch.at, e.actor, e.command_id, {}};
      std::string position = Numbered("p", next);
      wb.Put(position, hash + es::EncodeEnvelope(h, e.event));
      wb.Put(e.stream + "/1", position);
    }
    wb.Put("head", Numbered("p", next) + hash);
    state.ResumeTiming();
    if (!db->Write(sync, &wb).ok()) state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(RocksSyncedBatch)
    ->RangeMultiplier(8)
    ->Range(1, 512)
    ->Arg(1024)
    ->UseRealTime()
    ->MinTime(1);

// ---- the read side's catch-up ----------------------------------------------------------

// A log of kLogEvents events, written once for the benchmarks that read it.
es::EventStore& HistoryLog() {
  static std::unique_ptr<es::EventStore> store = [] {
    auto s = OpenStore(Scratch("history") + "/log");
    constexpr uint64_t kBatch = 1000;
    for (uint64_t first = 0; first < kLogEvents; first += kBatch) {
      es::AppendBatch batch;
      batch.at = crm::Time(std::chrono::milliseconds(kEpochMs));
      for (uint64_t i = first; i < first + kBatch; ++i) batch.events.push_back(HistoryEvent(i));
      if (!s->Append(batch).ok()) throw std::runtime_error("cannot write the history");
    }
    return s;
  }();
  return *store;
}

void Rebuild(benchmark::State& state) {
  es::EventStore& log = HistoryLog();
  int run = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto local =
        std::move(crm::projections::LocalStore::Open(Scratch("rebuild" + std::to_string(run++))))
            .value();
    auto read = std::make_unique<crm::projections::ReadModels>(
        log, *local, crm::projections::ReadModels::Options{});
    state.ResumeTiming();
    if (!read->Start().ok()) state.SkipWithError("rebuild failed");
    read->runner().WaitApplied(log.Head(), std::chrono::minutes(10));
    state.PauseTiming();
    read.reset();  // freeing the rows is not the rebuild's
    local.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * log.Head()));
}
BENCHMARK(Rebuild)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

void ScanDecode(benchmark::State& state) {
  es::EventStore& log = HistoryLog();
  for (auto _ : state) {
    uint64_t seen = 0;
    for (uint64_t from = 1; from <= log.Head();) {
      auto chunk = log.ReadAll(from, 4096);
      if (!chunk.ok() || chunk->empty()) break;
      seen += chunk->size();
      from = chunk->back().position + 1;
      benchmark::DoNotOptimize(chunk->back().event.index());
    }
    if (seen != log.Head()) state.SkipWithError("short read");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * log.Head()));
}
BENCHMARK(ScanDecode)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// ---- rendering and indexing -------------------------------------------------------------

es::RecordedEvent Recorded(uint64_t position, const std::string& stream, uint64_t version,
                           d::Event event) {
  es::RecordedEvent r;
  r.position = position;
  r.stream = stream;
  r.version = version;
  r.at = crm::Time(std::chrono::milliseconds(kEpochMs + static_cast<int64_t>(position) * 1000));
  r.actor = "stf_rep";
  r.event = std::move(event);
  return r;
}

// A customer as a rep's desk sees it: three contacts, three opportunities and twenty
// follow-ups.
void Render360(benchmark::State& state) {
  crm::projections::CustomerProjection p;
  crm::projections::Topics touched;
  const std::string id = "cus_000000000001";
  uint64_t pos = 0;
  d::CustomerCreated created;
  created.customer_id = id;
  created.name = "上海星辰科技有限公司";
  created.industry = "软件";
  created.region = "上海";
  created.phone = "021-62345678";
  created.owner_id = "stf_rep";
  p.Apply(Recorded(++pos, id, 1, created), touched);
  uint64_t version = 1;
  for (int i = 0; i < 3; ++i) {
    std::string contact = Numbered("ctc", static_cast<uint64_t>(i));
    p.Apply(Recorded(++pos, contact, 1,
                     d::ContactCreated{contact, id, "李娜", "采购经理", "13912345678",
                                       "li.na@example.com", i == 0}),
            touched);
    std::string opp = Numbered("opp", static_cast<uint64_t>(i));
    d::OpportunityCreated o;
    o.opportunity_id = opp;
    o.customer_id = id;
    o.name = "年度软件采购";
    o.amount = 12000000;
    o.currency = "CNY";
    o.stage = d::Stage::kProposal;
    o.owner_id = "stf_rep";
    p.Apply(Recorded(++pos, opp, 1, o), touched);
  }
  for (int i = 0; i < 20; ++i) {
    p.Apply(Recorded(++pos, id, ++version,
                     d::FollowUpRecorded{Numbered("fup", static_cast<uint64_t>(i)),
                                         d::Channel::kVisit,
                                         "拜访客户，确认预算和时间表",
                                         {}}),
            touched);
  }
  const auto* row = p.FindCustomer(id);
  d::PoolPolicy policy;
  crm::Date today =
      crm::BusinessDay(crm::Time(std::chrono::milliseconds(kEpochMs)), crm::Seconds(8 * 3600));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = crm::api::Customer360Json(*row, p, policy, today).dump();
    bytes += text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(Render360);

// A page of 50 leads as the list shows them, each with three follow-ups.
std::vector<crm::views::LeadRowT> LeadPage() {
  std::vector<crm::views::LeadRowT> rows(50);
  for (size_t i = 0; i < rows.size(); ++i) {
    auto& r = rows[i];
    r.id = Numbered("lead", i);
    r.name = "王伟";
    r.company = "上海星辰科技有限公司";
    r.phone = "13812345678";
    r.state = "following";
    r.owner_id = "stf_rep";
    r.created_at = r.updated_at = r.owned_since = kEpochMs;
    for (int k = 0; k < 3; ++k) {
      auto f = std::make_unique<crm::views::FollowUpRowT>();
      f->id = Numbered("fup", static_cast<uint64_t>(k));
      f->channel = "call";
      f->note = "电话沟通，了解需求";
      f->at = kEpochMs;
      f->by = "stf_rep";
      r.follow_ups.push_back(std::move(f));
    }
  }
  return rows;
}

// As the list answers: written straight as text.
void RenderLeadPage(benchmark::State& state) {
  auto rows = LeadPage();
  crm::projections::Page<crm::views::LeadRowT> page;
  for (const auto& r : rows) page.items.push_back(&r);
  d::PoolPolicy policy;
  size_t bytes = 0;
  for (auto _ : state) {
    auto answer =
        crm::api::PageTextAnswer(page, [&](crm::api::JsonWriter& w, const crm::views::LeadRowT& r) {
          crm::api::AppendLeadText(w, r, policy);
        });
    bytes += answer.text->size();
    benchmark::DoNotOptimize(answer.text->data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(RenderLeadPage);

// The same page built as a nlohmann value, then written (how lists were answered before).
void RenderLeadPageAsValue(benchmark::State& state) {
  auto rows = LeadPage();
  d::PoolPolicy policy;
  size_t bytes = 0;
  for (auto _ : state) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& r : rows) items.push_back(crm::api::LeadJson(r, policy));
    std::string text = crm::api::JsonText(crm::api::ListJson(std::move(items), std::nullopt));
    bytes += text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(RenderLeadPageAsValue);

void SearchIndexPut(benchmark::State& state) {
  crm::projections::SearchIndex index;
  uint64_t i = 0;
  for (auto _ : state) {
    std::string id = Numbered("lead", i++);
    index.Put(id, {"王伟", "上海星辰科技有限公司", "wang.wei@example.com"}, {"+86 138-1234-5678"});
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(SearchIndexPut);

// The slowest single insert of 2M records' state by id: a std::unordered_map rehashes
// every entry at once as it grows (the projection runner, and the command answers that
// wait on it, stall meanwhile); ShardedHashMap rehashes a 256th at a time.
template <class Map>
void SlowestInsert(benchmark::State& state) {
  double slowest_ms = 0;
  for (auto _ : state) {
    // What an earlier benchmark freed is consolidated now, not in the first big
    // allocation of this one (glibc's malloc_consolidate would stall it).
    malloc_trim(0);
    Map map;
    for (uint64_t i = 0; i < 2'000'000; ++i) {
      std::string id = Numbered("lead", i);
      auto t0 = std::chrono::steady_clock::now();
      map[id] = "folded text";
      slowest_ms = std::max(
          slowest_ms,
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  state.counters["slowest_ms"] = slowest_ms;
}
BENCHMARK(SlowestInsert<std::unordered_map<std::string, std::string>>)
    ->Name("SlowestInsert/unordered_map")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK(SlowestInsert<crm::projections::ShardedHashMap<std::string, std::string>>)
    ->Name("SlowestInsert/ShardedHashMap")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// A decision model with `n` leads owned by 200 reps, created a day ago under a 30-day
// no-follow-up rule: nothing is due.
const d::Model& OwnedLeads(int64_t n) {
  static std::unordered_map<int64_t, std::unique_ptr<d::Model>> models;
  auto& m = models[n];
  if (m) return *m;
  m = std::make_unique<d::Model>();
  m->policy.recycle_no_follow_up = std::chrono::days(30);
  crm::Time at = crm::FromMillis(1'790'000'000'000);
  for (int64_t i = 0; i < n; ++i) {
    std::string id = Numbered("lead", static_cast<uint64_t>(i));
    std::string owner = Numbered("stf", static_cast<uint64_t>(i % 200));
    d::Evolve(*m, {id, 1, static_cast<uint64_t>(i + 1), at, owner},
              d::LeadCreated{id, "Ma", "Blue Sky", {}, {}, "web", {}, owner});
  }
  return *m;
}

void RecycleSweep(benchmark::State& state) {
  const d::Model& m = OwnedLeads(state.range(0));
  d::Context ctx{"system", crm::FromMillis(1'790'000'000'000) + std::chrono::days(1), nullptr};
  for (auto _ : state) {
    auto decision = d::Decide(m, d::RecycleDue{1000}, ctx);
    benchmark::DoNotOptimize(decision);
  }
}
BENCHMARK(RecycleSweep)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);

void RecycleScan(benchmark::State& state) {
  const d::Model& m = OwnedLeads(state.range(0));
  crm::Time now = crm::FromMillis(1'790'000'000'000) + std::chrono::days(1);
  for (auto _ : state) {
    size_t due = 0;
    for (const auto& [owner, holdings] : m.holdings) {
      for (const auto& id : holdings.leads) {
        auto at = d::LeadRecycleAt(m.leads.at(id), m.policy);
        due += at && *at <= now;
      }
    }
    benchmark::DoNotOptimize(due);
  }
}
BENCHMARK(RecycleScan)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);

// The heap the decision model takes per lead, as glibc counts what is allocated
// (mallinfo2), with every field a lead keeps for its edits and both duplicate keys.
void ModelBytesPerLead(benchmark::State& state) {
  const int64_t n = state.range(0);
  crm::Time at = crm::FromMillis(1'790'000'000'000);
  for (auto _ : state) {
    malloc_trim(0);
    size_t before = mallinfo2().uordblks;
    auto m = std::make_unique<d::Model>();
    m->policy.recycle_no_follow_up = std::chrono::days(30);
    for (int64_t i = 0; i < n; ++i) {
      std::string id = Numbered("lead", static_cast<uint64_t>(i));
      std::string owner = Numbered("stf", static_cast<uint64_t>(i % 200));
      std::string phone = "138" + std::to_string(10'000'000 + i);
      d::Evolve(
          *m, {id, 1, static_cast<uint64_t>(i + 1), at, owner},
          d::LeadCreated{
              id, "王先生 " + std::to_string(i), "上海蓝天科技有限公司 " + std::to_string(i), phone,
              "wang" + std::to_string(i) + "@example.com", "web", "华东", owner, phone,
              "上海蓝天科技有限公司 " + std::to_string(i) + "\x1f王先生 " + std::to_string(i)});
    }
    size_t after = mallinfo2().uordblks;
    state.counters["bytes_per_lead"] = static_cast<double>(after - before) / static_cast<double>(n);
    m.reset();
  }
}
BENCHMARK(ModelBytesPerLead)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
