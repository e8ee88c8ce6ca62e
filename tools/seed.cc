#include "tools/seed.h"

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <vector>

#include "api/text.h"
#include "eventstore/rocks_event_store.h"
#include "tools/progress.h"
#include "writer/clock.h"
#include "writer/ids.h"
#include "writer/writer.h"

namespace crm::tools {
namespace {

namespace d = crm::domain;

const char* const kCities[] = {"上海", "北京", "深圳", "杭州", "苏州", "南京", "成都", "武汉",
                               "广州", "宁波", "厦门", "青岛", "天津", "重庆", "西安", "长沙"};
const char* const kWords[] = {"星辰", "蓝天", "东方", "明珠", "华信", "瑞丰", "嘉禾", "恒通",
                              "远航", "智联", "云帆", "鼎盛", "博远", "新锐", "启明", "同创"};
const char* const kTrades[] = {"科技",     "贸易", "机械",     "软件",   "物流",
                               "文化传播", "电子", "医疗器械", "新材料", "信息技术"};
const char* const kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵",
                                 "吴", "周", "徐", "孙", "马", "朱", "胡", "郭"};
const char* const kGiven[] = {"伟", "芳", "娜", "敏", "静", "强", "磊", "洋",
                              "艳", "勇", "军", "杰", "娟", "涛", "明", "超"};

// A mobile number: 1 and ten more digits.
std::string Mobile(std::mt19937_64& rng) {
  return "1" + std::to_string(3000000000LL + static_cast<int64_t>(rng() % 6999999999LL));
}

template <size_t N>
const char* Pick(const char* const (&names)[N], std::mt19937_64& rng) {
  return names[rng() % N];
}

// Commands in flight, at most `window`; the first refusal is kept.
class Window {
 public:
  explicit Window(int window) : free_(window) {}
  void Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return free_ > 0; });
    --free_;
  }
  void Release(const Result<writer::WriteOutcome>& r) {
    std::lock_guard<std::mutex> lock(mu_);
    ++free_;
    ++done_;
    if (r.ok()) {
      head_ = std::max(head_, r->result.last_position);
    } else if (error_.empty()) {
      error_ = r.error().code + ": " + r.error().detail;
    }
    cv_.notify_all();
  }
  void Drain(int window) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return free_ == window; });
  }
  uint64_t head() {
    std::lock_guard<std::mutex> lock(mu_);
    return head_;
  }
  std::string error() {
    std::lock_guard<std::mutex> lock(mu_);
    return error_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int free_;
  uint64_t done_ = 0;
  uint64_t head_ = 0;
  std::string error_;
};

}  // namespace

int RunSeed(const SeedOptions& o) {
  if (o.customers < 0 || o.leads < 0 || o.departments < 1 || o.reps < 1 || o.window < 1) {
    std::fprintf(stderr,
                 "crmctl seed: counts must not be negative, reps and departments positive\n");
    return 1;
  }
  auto opened = eventstore::OpenRocksEventStore({o.data_dir + "/log", false});
  if (!opened.ok()) {
    std::fprintf(stderr, "crmctl seed: %s\n", opened.error().detail.c_str());
    return 1;
  }
  auto store = std::move(opened).value();
  uint64_t start_head = store->Head();
  if (start_head == 0) {
    std::fprintf(stderr,
                 "crmctl seed: %s has no log yet: start crmd on it once (it creates the admin)\n",
                 o.data_dir.c_str());
    return 1;
  }
  writer::SystemClock clock;
  writer::IdGenerator ids(clock);
  writer::WriterOptions options;
  options.normalize_name = api::NormalizeName;  // as crmd: the same duplicate keys
  // As crmd keeps them, so that neither this nor crmd's next start folds the whole log.
  writer::ModelSnapshots snapshots(
      *store, {o.data_dir + "/snapshots", options.utc_offset, 0, [](std::string_view line) {
                 std::fprintf(stderr, "crmctl seed: %.*s\n", static_cast<int>(line.size()),
                              line.data());
               }});
  options.snapshots = &snapshots;
  auto writer_opened = writer::Writer::Open(*store, clock, ids, options);
  if (!writer_opened.ok()) {
    std::fprintf(stderr, "crmctl seed: %s\n", writer_opened.error().detail.c_str());
    return 1;
  }
  writer::Writer& w = **writer_opened;
  const std::string system(d::kSystemActor);
  std::mt19937_64 rng(std::random_device{}());
  std::string batch_tag = std::to_string(rng() % 1000000);

  // The organisation, one command at a time.
  std::vector<std::string> reps;
  for (int i = 0; i < o.departments; ++i) {
    std::string dep = ids.New("dep");
    auto r = w.Execute(
        {.command =
             d::CreateDepartment{
                 dep, std::string(kCities[i % 16]) + "销售" + std::to_string(i + 1) + "部", {}},
         .actor = system});
    if (!r.ok()) return std::fprintf(stderr, "crmctl seed: %s\n", r.error().detail.c_str()), 1;
    for (int k = 0; k < o.reps / o.departments + (i < o.reps % o.departments ? 1 : 0); ++k) {
      std::string id = ids.New("stf");
      std::string name = std::string(Pick(kSurnames, rng)) + Pick(kGiven, rng) + Pick(kGiven, rng);
      std::string email = "seed-" + batch_tag + "-" + std::to_string(reps.size()) + "@seed.test";
      auto s = w.Execute({.command = d::CreateStaff{id, name, email, d::Role::kSales, dep,
                                                    std::string(kCities[i % 16])},
                          .actor = system});
      if (!s.ok()) return std::fprintf(stderr, "crmctl seed: %s\n", s.error().detail.c_str()), 1;
      reps.push_back(id);
    }
  }

  // Leads and customers, `window` in flight so that group commits fill up.
  Window window(o.window);
  auto submit = [&](d::Command c, const std::string& actor) {
    window.Acquire();
    w.Submit({.command = std::move(c), .actor = actor},
             [&window](Result<writer::WriteOutcome> r) { window.Release(r); });
  };
  // Events: a lead 1 (+1 for an owned lead's follow-up), a customer 2.
  uint64_t expected = static_cast<uint64_t>(o.leads) + static_cast<uint64_t>(o.leads) * 2 / 3 +
                      static_cast<uint64_t>(o.customers) * 2;
  Progress progress("seed");
  for (int64_t i = 0; i < o.leads; ++i) {
    std::string lead = ids.New("lead");
    std::string company =
        std::string(Pick(kCities, rng)) + Pick(kWords, rng) + Pick(kTrades, rng) + "有限公司";
    std::string person = std::string(Pick(kSurnames, rng)) + Pick(kGiven, rng);
    std::string phone = Mobile(rng);
    bool owned = i % 3 != 2;
    const std::string& rep = reps[static_cast<size_t>(i) % reps.size()];
    // A rep owns what they create; the system's new leads go to the pool. Random names
    // and phones meet now and then: such a lead is recorded as a duplicate (撞单).
    submit(d::CreateLead{lead,
                         person,
                         company,
                         phone,
                         {},
                         "seed",
                         std::string(Pick(kCities, rng)),
                         {},
                         /*allow_duplicate=*/true},
           owned ? rep : system);
    if (owned) {
      submit(d::FollowUpLead{lead, ids.New("fup"), d::Channel::kCall, "电话沟通，了解需求", {}},
             rep);
    }
    if (i % 1024 == 0) progress.Update(window.head() - start_head, expected);
  }
  for (int64_t i = 0; i < o.customers; ++i) {
    std::string customer = ids.New("cus");
    // Unique names: the duplicate check would refuse a second one (as it should).
    std::string name = std::string(Pick(kCities, rng)) + Pick(kWords, rng) + Pick(kTrades, rng) +
                       "有限公司" + std::to_string(i + 1) + "号" + batch_tag;
    const std::string& rep = reps[static_cast<size_t>(i) % reps.size()];
    d::CustomerDetails details;
    details.name = name;
    details.industry = std::string(Pick(kTrades, rng));
    details.region = std::string(Pick(kCities, rng));
    submit(d::CreateCustomer{customer, details, {}}, rep);
    d::ContactDetails contact;
    contact.name = std::string(Pick(kSurnames, rng)) + Pick(kGiven, rng) + Pick(kGiven, rng);
    contact.phone = Mobile(rng);
    submit(d::AddContact{customer, ids.New("ctc"), contact}, rep);
    if (i % 1024 == 0) progress.Update(window.head() - start_head, expected);
  }
  window.Drain(o.window);
  w.Close();
  progress.Finish(window.head() - start_head);
  if (!window.error().empty()) {
    std::fprintf(stderr, "crmctl seed: a command was refused: %s\n", window.error().c_str());
    return 1;
  }
  writer_opened->reset();  // its model goes before the snapshot's builder makes another
  if (Status built = snapshots.BuildNow(); !built.ok()) {
    // Every event is in: crmd folds the log at its next start, and writes one itself.
    std::fprintf(stderr,
                 "crmctl seed: no decision-model snapshot (%s); crmd's next start folds "
                 "the whole log\n",
                 built.error().detail.c_str());
  }
  std::printf("{\"events\": %llu, \"head\": %llu}\n",
              static_cast<unsigned long long>(window.head() - start_head),
              static_cast<unsigned long long>(window.head()));
  return 0;
}

}  // namespace crm::tools
