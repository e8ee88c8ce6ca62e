// crmctl: offline tools on a stopped server's data directory.
//   crmctl verify --data-dir DIR     recompute the hash chain; exit 1 on a bad log
//   crmctl export --data-dir DIR     print the log as JSON lines, one event per line
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "api/event_json.h"
#include "api/json_text.h"
#include "api/views_json.h"
#include "eventstore/rocks_event_store.h"

namespace {

crm::Result<std::unique_ptr<crm::eventstore::EventStore>> OpenLog(const std::string& dir) {
  return crm::eventstore::OpenRocksEventStore({dir + "/log", true});
}

int Verify(const std::string& dir) {
  auto store = OpenLog(dir);
  if (!store.ok()) {
    std::fprintf(stderr, "crmctl: %s\n", store.error().detail.c_str());
    return 2;
  }
  crm::eventstore::VerifyReport r = (*store)->Verify();
  nlohmann::json j = {{"ok", r.ok}, {"events", r.events}};
  if (r.ok) {
    j["head_position"] = r.head_position;
    j["head_hash"] = r.head_hash;
  } else {
    j["first_bad_position"] = r.first_bad_position;
    j["detail"] = r.detail;
  }
  std::cout << crm::api::JsonText(j) << std::endl;
  return r.ok ? 0 : 1;
}

int Export(const std::string& dir, uint64_t after) {
  auto store = OpenLog(dir);
  if (!store.ok()) {
    std::fprintf(stderr, "crmctl: %s\n", store.error().detail.c_str());
    return 2;
  }
  uint64_t next = after + 1;
  for (;;) {
    auto events = (*store)->ReadAll(next, 4096);
    if (!events.ok()) {
      std::fprintf(stderr, "crmctl: %s\n", events.error().detail.c_str());
      return 1;
    }
    if (events->empty()) break;
    for (const auto& e : *events) std::cout << crm::api::JsonText(crm::api::EventJson(e)) << "\n";
    next = events->back().position + 1;
  }
  std::cout.flush();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"crmctl - evcrm offline tools"};
  cli.require_subcommand(1);
  std::string dir;
  uint64_t after = 0;
  auto* verify = cli.add_subcommand("verify", "Recompute the hash chain of the log");
  verify->add_option("--data-dir", dir, "The server's data directory")->required();
  auto* exp = cli.add_subcommand("export", "Print the log as JSON lines");
  exp->add_option("--data-dir", dir, "The server's data directory")->required();
  exp->add_option("--after", after, "Start after this position");
  CLI11_PARSE(cli, argc, argv);
  if (verify->parsed()) return Verify(dir);
  return Export(dir, after);
}
