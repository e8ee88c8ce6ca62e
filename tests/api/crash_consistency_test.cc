// Crash consistency under a mixed load: reps create, follow up, release, claim and convert
// leads and sign contracts, finance records payments (some of them over what is owed), a
// manager transfers customers and hands portfolios over; a sixth of the commands carry
// an Idempotency-Key and every one a unique X-Correlation-Id, which the log keeps on each
// event it wrote. crmd is SIGKILLed at a random moment of each cycle, and before and
// after every restart the harness checks:
//   - `crmctl verify` passes and `crmctl check-read-models` finds the stored read models,
//     recovered, equal to a rebuild from the log, row by row;
//   - positions are dense and the chain verifies over the API;
//   - every command answered 2xx is in the log once (its last event at the position it
//     was told) and its record is visible; no command answered 4xx wrote anything;
//   - every 2xx with an Idempotency-Key answers the same status and body when retried
//     after the crash, writing nothing; a command with a key that got no answer, retried,
//     happened exactly once or not at all;
//   - money: for every contract paid ≤ amount and paid = the sum of its payments in the
//     log; the dashboard's contract, payment and receivable sums equal those records'.
// EVCRM_CRASH_KILLS (default 20, 8 under AddressSanitizer) and EVCRM_CRASH_SEED (default random;
// printed) set the run: the seed makes the choices of commands and kill moments, though not which
// commands the kills interrupt, which depends on timing.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>
#include <set>

#include "e2e_fixture.h"

namespace crm::testing {
namespace {

// Under AddressSanitizer everything runs several times slower: fewer cycles keep the test
// within its time, and the plain build's run gives the 20 kills.
#ifdef __SANITIZE_ADDRESS__
constexpr uint64_t kDefaultKills = 8;
#else
constexpr uint64_t kDefaultKills = 20;
#endif

uint64_t EnvNumber(const char* name, uint64_t otherwise) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : otherwise;
}

// One command as sent, and what came of it.
struct Sent {
  std::string method, target, body, token, correlation, key;
  int status = 0;  // 0: sent, but no answer came (the server died first)
  std::string answer;
  json Answer() const { return json::parse(answer, nullptr, false); }
};

// Sends a command on a fresh connection. False when it could not even connect (the
// server is down): then nothing was sent and nothing is recorded.
bool Send(int port, Sent& s) {
  RawConnection conn(port, 30);
  if (!conn.ok()) return false;
  std::string req = s.method + " " + s.target +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    "Authorization: Bearer " +
                    s.token + "\r\nX-Correlation-Id: " + s.correlation + "\r\n";
  if (!s.key.empty()) req += "Idempotency-Key: " + s.key + "\r\n";
  req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(s.body.size()) +
         "\r\n\r\n" + s.body;
  conn.Send(req);
  HttpResult r = conn.Read();
  s.status = r.status;
  s.answer = r.body;
  return true;
}

bool Is2xx(int status) { return status >= 200 && status < 300; }
bool Is4xx(int status) { return status >= 400 && status < 500; }

// What the log holds, read through the audit API as it grows.
struct LogView {
  uint64_t head = 0;
  std::map<std::string, std::vector<json>> by_correlation;  // every event, in order
  std::map<std::string, json> contracts;                    // ContractSigned data by id
  std::map<std::string, std::vector<json>> payments;        // PaymentReceived data by contract
};

// Reads the events after `log.head` up to the server's head; false (with a failure) when
// a position is missing or the pages stop early.
bool ReadLog(Crmd& crmd, LogView& log) {
  uint64_t head = Http(crmd.port(), "GET", "/health").Json()["position"];
  while (log.head < head) {
    auto page = crmd.Call("GET", "/api/v1/events?limit=500&after=" + std::to_string(log.head));
    if (page.status != 200) {
      ADD_FAILURE() << page.body;
      return false;
    }
    json items = page.Json()["items"];
    if (items.empty()) {
      ADD_FAILURE() << "the events stop at " << log.head << " below the head " << head;
      return false;
    }
    for (const auto& e : items) {
      uint64_t position = e["position"];
      if (position != log.head + 1) {
        ADD_FAILURE() << "position " << position << " follows " << log.head;
        return false;
      }
      log.head = position;
      log.by_correlation[e["correlation_id"]].push_back(e);
      if (e["type"] == "ContractSigned") log.contracts[e["stream"]] = e["data"];
      if (e["type"] == "PaymentReceived") log.payments[e["stream"]].push_back(e["data"]);
    }
  }
  return true;
}

// The shared state of the load: the people, and the records each may act on.
struct World {
  std::string admin, manager, finance;
  std::vector<std::string> rep_ids, rep_tokens;
  std::mutex mu;
  std::vector<std::vector<std::string>> leads;             // by rep: leads they created or claimed
  std::vector<std::vector<std::string>> customers;         // by rep: customers they converted
  std::vector<std::string> pool;                           // leads released to the pool
  std::vector<std::pair<std::string, int64_t>> contracts;  // id, amount
};

template <typename T>
std::optional<T> Pick(std::vector<T>& v, std::mt19937_64& rng) {
  if (v.empty()) return std::nullopt;
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

// One worker's next command, chosen by `rng`: worker 0..3 act as the reps, 4 as finance,
// 5 as the manager. Records from answers go back into `world` as they arrive.
Sent Choose(World& w, int worker, uint64_t n, std::mt19937_64& rng) {
  Sent s;
  s.method = "POST";
  std::string tag = std::to_string(worker) + "-" + std::to_string(n);
  auto roll = [&](int percent) { return std::uniform_int_distribution<int>(0, 99)(rng) < percent; };
  std::lock_guard<std::mutex> lock(w.mu);
  if (worker == 4) {  // finance: payments, one in six over what is owed
    s.token = w.finance;
    auto contract = Pick(w.contracts, rng);
    if (contract) {
      int64_t amount = roll(16)
                           ? contract->second + 1
                           : std::uniform_int_distribution<int64_t>(1, contract->second / 3)(rng);
      s.target = "/api/v1/contracts/" + contract->first + "/payments";
      s.body = json{{"amount", amount}, {"received_on", Day(0)}, {"reference", "r" + tag}}.dump();
    }
    return s;
  }
  if (worker == 5) {  // the manager: transfers, now and then a whole portfolio
    s.token = w.manager;
    size_t from = std::uniform_int_distribution<size_t>(0, w.rep_ids.size() - 1)(rng);
    size_t to = (from + 1) % w.rep_ids.size();
    if (roll(1)) {
      s.target = "/api/v1/staff/" + w.rep_ids[from] + "/handover";
      s.body = json{{"to", w.rep_ids[to]}, {"depart", false}}.dump();
      return s;
    }
    if (auto customer = Pick(w.customers[from], rng)) {
      s.target = "/api/v1/customers/" + *customer + "/transfer";
      s.body = json{{"to", w.rep_ids[to]}}.dump();
    }
    return s;
  }
  size_t rep = static_cast<size_t>(worker) % w.rep_ids.size();
  s.token = w.rep_tokens[rep];
  int what = std::uniform_int_distribution<int>(0, 99)(rng);
  auto lead = Pick(w.leads[rep], rng);
  auto customer = Pick(w.customers[rep], rng);
  if (what < 12 && lead) {
    s.target = "/api/v1/leads/" + *lead + "/follow-ups";
    s.body = json{{"channel", "call"}, {"note", "n" + tag}}.dump();
  } else if (what < 20 && lead) {
    s.target = "/api/v1/leads/" + *lead + "/release";
    s.body = json{{"reason", "r" + tag}}.dump();
  } else if (what < 28 && !w.pool.empty()) {
    s.target = "/api/v1/leads/" + *Pick(w.pool, rng) + "/claim";
    s.body = "{}";
  } else if (what < 42 && lead) {
    s.target = "/api/v1/leads/" + *lead + "/convert";
    s.body = json{{"customer", {{"name", "Customer " + tag}}},
                  {"opportunity",
                   {{"name", "Deal " + tag},
                    {"amount", 100000},
                    {"currency", "CNY"},
                    {"expected_close_date", Day(30)}}}}
                 .dump();
  } else if (what < 58 && customer) {
    int64_t amount = std::uniform_int_distribution<int64_t>(3, 500000)(rng);
    int64_t first = amount / 2, second = amount - first + (roll(12) ? 1 : 0);  // 12 %: 422
    s.target = "/api/v1/contracts";
    s.body =
        json{
            {"customer_id", *customer},
            {"number", "HT-" + tag},
            {"title", "Contract " + tag},
            {"amount", amount},
            {"currency", "CNY"},
            {"signed_on", Day(0)},
            {"installments",
             {{{"due_on", Day(30)}, {"amount", first}}, {{"due_on", Day(60)}, {"amount", second}}}}}
            .dump();
  } else {
    s.target = "/api/v1/leads";
    json body = {{"name", "Lead " + tag}, {"company", "Company " + tag}};
    if (roll(8)) body.erase("company");  // 400
    s.body = body.dump();
  }
  return s;
}

// Puts what a 2xx answer made into `world`, for later commands to act on.
void Remember(World& w, int worker, const Sent& s) {
  if (!Is2xx(s.status) || worker == 4) return;
  json a = s.Answer();
  size_t rep = static_cast<size_t>(worker) % w.rep_ids.size();
  std::lock_guard<std::mutex> lock(w.mu);
  auto drop = [](std::vector<std::string>& v, const std::string& id) {
    v.erase(std::remove(v.begin(), v.end(), id), v.end());
  };
  const std::string& t = s.target;
  auto rep_of = [&](const std::string& id) {
    return static_cast<size_t>(std::find(w.rep_ids.begin(), w.rep_ids.end(), id) -
                               w.rep_ids.begin());
  };
  if (worker == 5) {  // what moved moves in the world too
    size_t to = rep_of(json::parse(s.body)["to"]);
    if (t.ends_with("/handover")) {
      size_t from = rep_of(t.substr(14, t.size() - 14 - 9));  // /api/v1/staff/<id>/handover
      for (auto* v : {&w.leads, &w.customers}) {
        (*v)[to].insert((*v)[to].end(), (*v)[from].begin(), (*v)[from].end());
        (*v)[from].clear();
      }
    } else {
      for (auto& mine : w.customers) drop(mine, a["id"]);
      w.customers[to].push_back(a["id"]);
    }
    return;
  }
  if (t == "/api/v1/leads") {
    w.leads[rep].push_back(a["id"]);
  } else if (t.ends_with("/claim")) {
    drop(w.pool, a["id"]);
    w.leads[rep].push_back(a["id"]);
  } else if (t.ends_with("/release")) {
    drop(w.leads[rep], a["id"]);
    w.pool.push_back(a["id"]);
  } else if (t.ends_with("/convert")) {
    drop(w.leads[rep], a["id"]);
    w.customers[rep].push_back(a["customer_id"]);
  } else if (t == "/api/v1/contracts") {
    w.contracts.emplace_back(a["id"], json::parse(s.body)["amount"].get<int64_t>());
  }
}

class CrashConsistencyTest : public E2eTest {
 protected:
  void SetUp() override {
    crmd_ = std::make_unique<Crmd>(dir_.sub("data"),
                                   std::vector<std::string>{"--snapshot-every", "400"});
    ASSERT_TRUE(crmd_->Start()) << crmd_->stderr_text();
  }

  std::string Tool(const std::string& verb) {
    int rc = 0;
    std::string out = RunTool(
        CrmctlPath() + " " + verb + " --data-dir " + dir_.sub("data") + " 2>/dev/null", &rc);
    EXPECT_EQ(rc, 0) << "crmctl " << verb << ": " << out;
    return out;
  }

  // The record a command acted on or made, to read back: its path, or "" for none.
  static std::string RecordPath(const Sent& s, const json& answer) {
    const std::string& t = s.target;
    if (t == "/api/v1/leads") return t + "/" + answer["id"].get<std::string>();
    if (t == "/api/v1/contracts") return t + "/" + answer["id"].get<std::string>();
    if (t.ends_with("/convert"))
      return "/api/v1/customers/" + answer["customer_id"].get<std::string>();
    if (t.ends_with("/handover")) return "";
    return t.substr(0, t.rfind('/'));  // the lead, customer or contract the command was on
  }
};

TEST_F(CrashConsistencyTest, NothingAcknowledgedIsLostAndNothingRefusedIsWrittenAcrossSigkills) {
  const uint64_t kills = EnvNumber("EVCRM_CRASH_KILLS", kDefaultKills);
  const uint64_t seed = EnvNumber("EVCRM_CRASH_SEED", std::random_device{}());
  std::printf("crash consistency: seed %llu, %llu kills (replay with EVCRM_CRASH_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(kills),
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);

  World w;
  w.admin = crmd_->token();
  auto dept = crmd_->Call("POST", "/api/v1/departments", {{"name", "East"}});
  ASSERT_EQ(dept.status, 201);
  std::string dept_id = dept.Json()["id"];
  for (int i = 0; i < 4; ++i) {
    auto [id, token] = Person("rep" + std::to_string(i), "sales", dept_id);
    w.rep_ids.push_back(id);
    w.rep_tokens.push_back(token);
  }
  w.manager = Person("manager", "manager", dept_id).second;
  w.finance = Person("finance", "finance", dept_id).second;
  w.leads.resize(4);
  w.customers.resize(4);

  LogView log;
  std::map<std::string, int> counts;  // figures for the summary
  uint64_t correlation = 0;
  for (uint64_t cycle = 1; cycle <= kills && !HasFailure(); ++cycle) {
    // The load, until the kill.
    std::vector<std::vector<Sent>> sent(6);
    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    std::vector<uint64_t> seeds;
    for (int i = 0; i < 6; ++i) seeds.push_back(rng());
    std::atomic<uint64_t> next_correlation{correlation};
    for (int i = 0; i < 6; ++i) {
      workers.emplace_back([&, i] {
        std::mt19937_64 mine(seeds[i]);
        while (!stop) {
          uint64_t n = next_correlation++;
          Sent s = Choose(w, i, n, mine);
          if (s.target.empty()) {  // nothing to act on yet
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            continue;
          }
          s.correlation = "crash-" + std::to_string(seed) + "-" + std::to_string(n);
          if (std::uniform_int_distribution<int>(0, 5)(mine) == 0) s.key = "key-" + s.correlation;
          if (!Send(crmd_->port(), s)) break;  // the server is down
          Remember(w, i, s);
          sent[i].push_back(std::move(s));
        }
      });
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(150, 900)(rng)));
    crmd_->Stop(SIGKILL);
    stop = true;
    for (auto& t : workers) t.join();
    correlation = next_correlation;

    // Offline, before the restart: the chain, and the read models as a crash left them
    // (recovered by the same code crmd starts with) against a rebuild.
    EXPECT_NE(Tool("verify").find("\"ok\":true"), std::string::npos);
    std::string check = Tool("check-read-models");
    EXPECT_NE(check.find("\"ok\":true"), std::string::npos) << check;

    ASSERT_TRUE(crmd_->Start()) << crmd_->stderr_text();
    ASSERT_TRUE(ReadLog(*crmd_, log));
    std::vector<Sent> retries;
    for (auto& mine : sent) {
      for (const Sent& s : mine) {
        auto written = log.by_correlation.find(s.correlation);
        size_t events = written == log.by_correlation.end() ? 0 : written->second.size();
        if (Is2xx(s.status)) {
          ++counts["2xx"];
          json a = s.Answer();
          ASSERT_GT(events, 0u) << s.target << " answered " << s.answer << " but is not in the log";
          EXPECT_EQ(written->second.back()["position"], a["position"]) << s.target;
          std::string path = RecordPath(s, a);
          if (!path.empty()) {
            auto read = crmd_->Call(
                "GET", path + "?min_position=" + std::to_string(a["position"].get<uint64_t>()));
            EXPECT_EQ(read.status, 200) << path << " after " << s.target << ": " << read.body;
          }
        } else if (Is4xx(s.status)) {
          ++counts["4xx " + s.Answer().value("code", "?")];
          EXPECT_EQ(events, 0u) << s.target << " answered " << s.status << " but wrote "
                                << written->second.front().dump();
        } else {
          ++counts[s.status == 0 ? "no answer" : std::to_string(s.status)];
        }
        // Retried, as a client would after the crash: same key, same body. (A refusal is
        // not kept under its key: retried, it is decided again.)
        if (s.key.empty() || Is4xx(s.status)) continue;
        Sent again = s;
        again.correlation = s.correlation + "-retry";
        ASSERT_TRUE(Send(crmd_->port(), again));
        ++counts["retried"];
        if (Is2xx(s.status)) {
          EXPECT_EQ(again.status, s.status) << s.target << " " << again.answer;
          EXPECT_EQ(again.answer, s.answer) << s.target;
        } else if (events > 0) {  // it had happened: the retry gets its answer
          EXPECT_TRUE(Is2xx(again.status)) << s.target << " " << again.answer;
          EXPECT_EQ(again.Answer()["position"], written->second.back()["position"]);
        }
        retries.push_back(std::move(again));
      }
    }
    // A retry writes only what had not been written: never a second time.
    ASSERT_TRUE(ReadLog(*crmd_, log));
    for (const Sent& r : retries) {
      std::string first = r.correlation.substr(0, r.correlation.size() - 6);
      bool happened_before = log.by_correlation.count(first) > 0;
      bool happened_now = log.by_correlation.count(r.correlation) > 0;
      EXPECT_FALSE(happened_before && happened_now) << r.target << " was written twice";
      EXPECT_EQ(happened_now, Is2xx(r.status) && !happened_before) << r.target << " " << r.answer;
    }

    // The chain over the API, and money.
    auto verify = crmd_->Call("GET", "/api/v1/audit/verify");
    EXPECT_EQ(verify.Json()["ok"], true) << verify.body;
    EXPECT_EQ(verify.Json()["head_position"], log.head);
    // Every contract as the read model shows it, a page at a time.
    std::map<std::string, json> shown;
    for (std::string cursor;;) {
      auto page = crmd_->Call(
          "GET", "/api/v1/contracts?limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor));
      ASSERT_EQ(page.status, 200) << page.body;
      json body = page.Json();
      for (const auto& c : body["items"]) shown[c["id"]] = c;
      if (body["next_cursor"].is_null()) break;
      cursor = body["next_cursor"];
    }
    EXPECT_EQ(shown.size(), log.contracts.size());
    std::string period = Day(0).substr(0, 7);
    int64_t signed_count = 0, signed_amount = 0, paid_count = 0, received = 0, outstanding = 0;
    for (const auto& [id, c] : log.contracts) {
      int64_t amount = c["amount"], paid = 0;
      for (const auto& p : log.payments[id]) {
        paid += p["amount"].get<int64_t>();
        if (p["received_on"].get<std::string>().starts_with(period)) {
          ++paid_count;
          received += p["amount"].get<int64_t>();
        }
      }
      if (c["signed_on"].get<std::string>().starts_with(period)) {
        ++signed_count;
        signed_amount += amount;
      }
      outstanding += amount - paid;
      EXPECT_LE(paid, amount) << id;
      EXPECT_EQ(shown[id]["paid"], paid) << id;
      EXPECT_EQ(shown[id]["outstanding"], amount - paid) << id;
    }
    auto dash = crmd_->Call("GET", "/api/v1/dashboard?period=" + period);
    ASSERT_EQ(dash.status, 200) << dash.body;
    json d = dash.Json();
    EXPECT_EQ(d["contracts"]["signed"], signed_count);
    EXPECT_EQ(d["contracts"]["amount"].value("CNY", int64_t{0}), signed_amount);
    EXPECT_EQ(d["payments"]["count"], paid_count);
    EXPECT_EQ(d["payments"]["received"].value("CNY", int64_t{0}), received);
    EXPECT_EQ(d["receivables"]["outstanding"].value("CNY", int64_t{0}), outstanding);
    counts["contracts"] = static_cast<int>(log.contracts.size());
  }
  ASSERT_EQ(crmd_->Stop(SIGTERM), 0) << crmd_->stderr_text();
  std::string check = Tool("check-read-models");
  EXPECT_NE(check.find("\"ok\":true"), std::string::npos) << check;
  std::printf("crash consistency: seed %llu, %llu kills survived, %llu events;",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(kills),
              static_cast<unsigned long long>(log.head));
  for (const auto& [what, n] : counts) std::printf(" %s %d,", what.c_str(), n);
  std::printf(" nothing lost\n");
}

}  // namespace
}  // namespace crm::testing
