// `crmctl seed`: a large, realistic history written straight into a stopped server's data
// directory through the domain's deciders and the writer (not HTTP): departments and reps,
// leads (owned with a follow-up each, or in the pool) and customers with a contact each,
// under Chinese company and person names. For measuring what history costs: rebuild and
// restart times, memory, list and search pages at a million records.
#ifndef CRM_TOOLS_SEED_H_
#define CRM_TOOLS_SEED_H_

#include <cstdint>
#include <string>

namespace crm::tools {

struct SeedOptions {
  std::string data_dir;  // crmd must have started on it once (it creates the admin)
  int64_t customers = 0;
  int64_t leads = 0;
  int departments = 10;
  int reps = 200;
  int window = 4096;  // commands in flight: what each group commit can take
};

// Seeds; 0 when every command was accepted, 1 otherwise (the reason on stderr).
int RunSeed(const SeedOptions& options);

}  // namespace crm::tools

#endif  // CRM_TOOLS_SEED_H_
