// The write side: decides commands against the in-memory decision model on the event
// store's writer thread, and keeps that model in step with what the writer stages.
#ifndef CRM_API_COMMAND_SERVICE_H_
#define CRM_API_COMMAND_SERVICE_H_

#include <functional>
#include <optional>
#include <string>

#include "domain/decide.h"
#include "eventstore/event_store.h"

namespace crm::api {

struct CommandRequest {
  domain::Command command;
  std::string actor;  // staff id or "system"
  std::string correlation_id;
  // Idempotency-Key and the hash of the request it came with.
  std::optional<std::string> idempotency_key;
  std::string request_hash;
  // If-Match: the version the primary stream must have.
  std::optional<std::pair<std::string, uint64_t>> expected_version;
  // Builds the reply once the decision is staged (runs on the writer thread).
  std::function<eventstore::Reply(const domain::Decision&, const eventstore::CommitInfo&)>
      make_reply;
};

class CommandService final : public eventstore::WriteObserver {
 public:
  CommandService(eventstore::EventStore& store, Seconds utc_offset);
  ~CommandService() override;

  // Folds the whole log into the model and starts observing the writer. Call once,
  // before the first Execute.
  Status Start();

  // Decides and appends. `done` runs on the writer thread once the outcome is durable.
  void Execute(CommandRequest request, std::function<void(Result<eventstore::Reply>)> done);

  // WriteObserver (writer thread).
  void Staged(const eventstore::RecordedEvent& event) override;
  void Aborted() override;

 private:
  Status Replay();

  eventstore::EventStore& store_;
  domain::Model model_;  // touched only on the writer thread after Start
};

}  // namespace crm::api

#endif  // CRM_API_COMMAND_SERVICE_H_
