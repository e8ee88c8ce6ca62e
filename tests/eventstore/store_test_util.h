#ifndef CRM_TESTS_EVENTSTORE_STORE_TEST_UTIL_H_
#define CRM_TESTS_EVENTSTORE_STORE_TEST_UTIL_H_

#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "domain/decide.h"
#include "eventstore/event_store.h"

namespace crm::eventstore::testing {

// A fresh directory under the system temp dir, removed when the object goes.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("evcrm-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_.string(); }
  std::string sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline domain::NewEvent LeadEvent(const std::string& stream, const std::string& name = "x") {
  return {stream, domain::LeadCreated{stream, name, "Co", {}, {}, {}, {}, {}}};
}

// A batch of `events` at `at`, each continuing its stream as the store has it now.
inline AppendBatch Batch(const EventStore& store, const std::vector<domain::NewEvent>& events,
                         Time at = *ParseTime("2026-11-22T08:00:00Z"),
                         std::vector<IndexWrite> index = {}) {
  AppendBatch b;
  b.at = at;
  std::map<std::string, uint64_t> versions;
  for (const auto& e : events) {
    auto it = versions.find(e.stream);
    if (it == versions.end()) it = versions.emplace(e.stream, *store.StreamVersion(e.stream)).first;
    b.events.push_back({e.stream, ++it->second, "stf_test", "cmd_test", "corr_test", e.event});
  }
  b.index = std::move(index);
  return b;
}

}  // namespace crm::eventstore::testing

#endif  // CRM_TESTS_EVENTSTORE_STORE_TEST_UTIL_H_
