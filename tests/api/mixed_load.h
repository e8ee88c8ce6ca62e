// A mixed load of the whole sales process, shared by the crash-consistency and soak tests:
// four reps create, follow up, release, claim and convert leads and sign contracts
// (some with plans that do not add up), finance records payments (some over what is
// owed), a manager transfers customers and now and then hands a portfolio over. Each
// command is sent on a fresh connection and comes back with its status and answer.
#ifndef CRM_TESTS_API_MIXED_LOAD_H_
#define CRM_TESTS_API_MIXED_LOAD_H_

#include <algorithm>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "e2e_fixture.h"

namespace crm::testing {

inline uint64_t EnvNumber(const char* name, uint64_t otherwise) {
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
inline bool Send(int port, Sent& s) {
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

inline bool Is2xx(int status) { return status >= 200 && status < 300; }
inline bool Is4xx(int status) { return status >= 400 && status < 500; }

// The shared state of the load: the people, and the records each may act on.
struct World {
  std::string admin, manager, finance;
  std::vector<std::string> rep_ids, rep_tokens;
  std::mutex mu;
  std::vector<std::vector<std::string>> leads;             // by rep: leads they created or claimed
  std::vector<std::vector<std::string>> customers;         // by rep: customers they converted
  std::vector<std::string> pool;                           // leads released to the pool
  std::vector<std::pair<std::string, int64_t>> contracts;  // id, amount
  // Whether the manager hands whole portfolios over now and then. Each moves all a rep
  // holds, which grows with the run: a soak at a steady rate leaves them out.
  bool handovers = true;
};

template <typename T>
std::optional<T> Pick(std::vector<T>& v, std::mt19937_64& rng) {
  if (v.empty()) return std::nullopt;
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

// One worker's next command, chosen by `rng`: worker 0..3 act as the reps, 4 as finance,
// 5 as the manager. Records from answers go back into `world` as they arrive.
inline Sent Choose(World& w, int worker, uint64_t n, std::mt19937_64& rng) {
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
    if (w.handovers && roll(1)) {
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
inline void Remember(World& w, int worker, const Sent& s) {
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

// The people of the load, made through the API: a department with four reps, a manager
// and a finance clerk.
inline void SetUpWorld(Crmd& crmd, World& w) {
  w.admin = crmd.token();
  auto dept = crmd.Call("POST", "/api/v1/departments", {{"name", "East"}});
  ASSERT_EQ(dept.status, 201) << dept.body;
  std::string dept_id = dept.Json()["id"];
  auto person = [&](const std::string& name, const std::string& role) {
    auto r = crmd.Call("POST", "/api/v1/staff",
                       {{"name", name},
                        {"email", name + "@example.com"},
                        {"role", role},
                        {"department_id", dept_id}});
    EXPECT_EQ(r.status, 201) << r.body;
    return std::pair<std::string, std::string>(r.Json()["id"], r.Json()["token"]);
  };
  for (int i = 0; i < 4; ++i) {
    auto [id, token] = person("rep" + std::to_string(i), "sales");
    w.rep_ids.push_back(id);
    w.rep_tokens.push_back(token);
  }
  w.manager = person("manager", "manager").second;
  w.finance = person("finance", "finance").second;
  w.leads.resize(4);
  w.customers.resize(4);
}

}  // namespace crm::testing

#endif  // CRM_TESTS_API_MIXED_LOAD_H_
