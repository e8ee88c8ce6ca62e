// libFuzzer target: command requests end to end in one process. Any body, on any command
// route, from a caller of any role, with or without an Idempotency-Key (reused across
// inputs), goes through authentication, body parsing, the deciders, the writer and the
// idempotency records of a real App on a scratch data dir. Whatever the input, the answer
// must come (no hang), be below 500, and be JSON.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/app.h"

namespace {

using crm::api::Call;
using crm::api::HttpResponse;
using crm::server::App;
using nlohmann::json;

constexpr const char* kAdminToken = "adm_fuzz_0123456789abcdef";

struct World {
  std::string dir;
  std::unique_ptr<App> app;
  std::vector<std::string> tokens;  // admin, manager, sales, finance, auditor
  std::vector<std::pair<std::string, std::string>> routes;  // method, target

  ~World() {
    app.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

HttpResponse Send(World& w, const std::string& method, const std::string& target,
                  const std::string& body, const std::string& token,
                  const std::string& idempotency_key = "") {
  auto call = std::make_shared<Call>();
  call->req.method = method;
  size_t q = target.find('?');
  call->req.path = target.substr(0, q);
  if (q != std::string::npos) crm::api::ParseQuery(target.substr(q + 1), &call->req.query);
  call->req.body = body;
  call->req.authorization = "Bearer " + token;
  if (!idempotency_key.empty()) call->req.idempotency_key = idempotency_key;
  auto answer = std::make_shared<std::promise<HttpResponse>>();
  auto got = answer->get_future();
  call->respond = [answer](HttpResponse r) { answer->set_value(std::move(r)); };
  w.app->Handle(call);
  if (got.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    std::fprintf(stderr, "no answer within 20 s to %s %s\n", method.c_str(), target.c_str());
    std::abort();
  }
  return got.get();
}

std::string Id(World& w, const std::string& method, const std::string& target, const json& body,
               std::string* token = nullptr) {
  HttpResponse r = Send(w, method, target, body.dump(), w.tokens[0]);
  json j = json::parse(r.body, nullptr, false);
  if (r.status >= 300 || j.is_discarded()) {
    std::fprintf(stderr, "setup failed: %s %s -> %u %s\n", method.c_str(), target.c_str(), r.status,
                 r.body.c_str());
    std::abort();
  }
  if (token) *token = j.value("token", "");
  return j.value("id", "");
}

World* the_world = nullptr;

World& TheWorld() {
  static World* w = [] {
    auto* world = new World();
    char tmpl[] = "/tmp/evcrm-fuzz-XXXXXX";
    world->dir = mkdtemp(tmpl);
    crm::server::AppOptions options;
    options.data_dir = world->dir;
    options.listen = "127.0.0.1:0";
    options.threads = 1;
    options.admin_token = kAdminToken;
    options.recycle_interval = crm::Seconds(3600);
    options.log = [](std::string_view) {};
    auto app = App::Open(options);
    if (!app.ok()) {
      std::fprintf(stderr, "cannot open the app: %s\n", app.error().detail.c_str());
      std::abort();
    }
    world->app = std::move(app).value();
    world->tokens.push_back(kAdminToken);
    std::string dept = Id(*world, "POST", "/api/v1/departments", {{"name", "Fuzz"}});
    std::string staff[4];
    const char* roles[] = {"manager", "sales", "finance", "auditor"};
    for (int i = 0; i < 4; ++i) {
      std::string token;
      staff[i] = Id(*world, "POST", "/api/v1/staff",
                    {{"name", roles[i]},
                     {"email", std::string(roles[i]) + "@fuzz.example"},
                     {"role", roles[i]},
                     {"department_id", dept}},
                    &token);
      world->tokens.push_back(token);
    }
    const std::string& rep = staff[1];
    std::string lead = Id(*world, "POST", "/api/v1/leads",
                          {{"name", "L"}, {"company", "Lead Co"}, {"owner_id", rep}});
    std::string cus =
        Id(*world, "POST", "/api/v1/customers", {{"name", "Fuzz Co"}, {"owner_id", rep}});
    std::string opp = Id(*world, "POST", "/api/v1/opportunities",
                         {{"customer_id", cus},
                          {"name", "O"},
                          {"amount", 100},
                          {"currency", "CNY"},
                          {"expected_close_date", "2026-12-31"}});
    std::string con = Id(*world, "POST", "/api/v1/contracts",
                         {{"customer_id", cus},
                          {"number", "HT-FUZZ"},
                          {"title", "T"},
                          {"amount", 1000000},
                          {"currency", "CNY"},
                          {"signed_on", "2026-11-01"},
                          {"installments", {{{"due_on", "2026-12-01"}, {"amount", 1000000}}}}});
    world->routes = {
        {"POST", "/api/v1/departments"},
        {"POST", "/api/v1/staff"},
        {"POST", "/api/v1/staff/" + rep + "/handover"},
        {"POST", "/api/v1/staff/" + staff[0] + "/tokens"},
        {"PUT", "/api/v1/pool/policy"},
        {"POST", "/api/v1/leads"},
        {"POST", "/api/v1/leads/assign-auto"},
        {"POST", "/api/v1/leads/" + lead + "/assign"},
        {"POST", "/api/v1/leads/" + lead + "/claim"},
        {"POST", "/api/v1/leads/" + lead + "/release"},
        {"POST", "/api/v1/leads/" + lead + "/follow-ups"},
        {"POST", "/api/v1/leads/" + lead + "/invalidate"},
        {"POST", "/api/v1/leads/" + lead + "/void"},
        {"POST", "/api/v1/leads/" + lead + "/convert"},
        {"POST", "/api/v1/customers"},
        {"PATCH", "/api/v1/customers/" + cus},
        {"POST", "/api/v1/customers/" + cus + "/contacts"},
        {"POST", "/api/v1/customers/" + cus + "/follow-ups"},
        {"POST", "/api/v1/customers/" + cus + "/claim"},
        {"POST", "/api/v1/customers/" + cus + "/release"},
        {"POST", "/api/v1/customers/" + cus + "/transfer"},
        {"POST", "/api/v1/customers/" + cus + "/lock"},
        {"POST", "/api/v1/customers/" + cus + "/unlock"},
        {"POST", "/api/v1/opportunities"},
        {"POST", "/api/v1/opportunities/" + opp + "/stage"},
        {"POST", "/api/v1/opportunities/" + opp + "/win"},
        {"POST", "/api/v1/opportunities/" + opp + "/lose"},
        {"POST", "/api/v1/contracts"},
        {"POST", "/api/v1/contracts/" + con + "/payments"},
        {"GET", "/api/v1/leads?q=x&limit=3"},
        {"GET", "/api/v1/customers/" + cus + "?as_of=2026-11-01T00:00:00Z"},
        {"GET", "/api/v1/receivables?overdue=true"},
    };
    the_world = world;
    // At exit (libFuzzer's time is up): stop the app and remove its data dir.
    std::atexit([] { delete the_world; });
    return world;
  }();
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  World& w = TheWorld();
  const auto& [method, target] = w.routes[data[0] % w.routes.size()];
  const std::string& token = w.tokens[(data[1] & 0x7f) % w.tokens.size()];
  // Keys come from a small set, so that retries and reuses with other bodies happen.
  std::string key = (data[1] & 0x80) ? "fuzz-key-" + std::to_string(data[1] % 4) : "";
  std::string body(reinterpret_cast<const char*>(data + 2), size - 2);
  HttpResponse r = Send(w, method, target, body, token, key);
  if (r.status >= 500 || r.status < 200) {
    std::fprintf(stderr, "%s %s answered %u: %s\n", method.c_str(), target.c_str(), r.status,
                 r.body.c_str());
    std::abort();
  }
  if (json::parse(r.body, nullptr, false).is_discarded()) {
    std::fprintf(stderr, "%s %s answered with a body that is not JSON: %s\n", method.c_str(),
                 target.c_str(), r.body.c_str());
    std::abort();
  }
  return 0;
}
