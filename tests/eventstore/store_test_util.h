#ifndef CRM_TESTS_EVENTSTORE_STORE_TEST_UTIL_H_
#define CRM_TESTS_EVENTSTORE_STORE_TEST_UTIL_H_

#include <filesystem>
#include <future>
#include <random>
#include <string>

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

struct Done {
  Result<Reply> reply = Reply{};
  CommitInfo info;
};

// Submits and waits for the outcome.
inline Done SubmitAndWait(EventStore& store, Submission sub) {
  auto promise = std::make_shared<std::promise<Done>>();
  auto future = promise->get_future();
  sub.done = [promise](Result<Reply> r, const CommitInfo& info) {
    promise->set_value(Done{std::move(r), info});
  };
  if (sub.actor.empty()) sub.actor = "stf_test";
  store.Submit(std::move(sub));
  return future.get();
}

inline Submission Propose(Proposal p) {
  Submission s;
  s.actor = "stf_test";
  s.command_id = "cmd_test";
  s.decide = [p](const WriterView&) -> Result<Proposal> { return p; };
  return s;
}

inline Done Append(EventStore& store, Proposal p) { return SubmitAndWait(store, Propose(std::move(p))); }

inline domain::NewEvent LeadEvent(const std::string& stream, const std::string& name = "x") {
  return {stream, domain::LeadCreated{stream, name, "Co", {}, {}, {}, {}, {}}};
}

}  // namespace crm::eventstore::testing

#endif  // CRM_TESTS_EVENTSTORE_STORE_TEST_UTIL_H_
