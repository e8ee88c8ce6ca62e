#include "api/command_service.h"

#include <cstdio>
#include <memory>

#include "api/ids.h"
#include "api/text.h"

namespace crm::api {

CommandService::CommandService(eventstore::EventStore& store, Seconds utc_offset)
    : store_(store), model_(utc_offset) {}

CommandService::~CommandService() { store_.SetObserver(nullptr); }

Status CommandService::Replay() {
  model_ = domain::Model(model_.utc_offset);
  uint64_t next = 1;
  for (;;) {
    auto events = store_.ReadAll(next, 4096);
    if (!events.ok()) return std::move(events).error();
    if (events->empty()) break;
    for (const auto& e : *events) domain::Evolve(model_, e.meta(), e.event);
    next = events->back().position + 1;
  }
  return Status::Ok();
}

Status CommandService::Start() {
  CRM_RETURN_IF_ERROR(Replay());
  store_.SetObserver(this);
  return Status::Ok();
}

void CommandService::Staged(const eventstore::RecordedEvent& event) {
  domain::Evolve(model_, event.meta(), event.event);
}

void CommandService::Aborted() {
  // The batch was not written: forget what it staged by folding the durable log again.
  Status s = Replay();
  if (!s.ok()) {
    std::fprintf(stderr, "crmd: cannot reload the decision model: %s\n",
                 s.error().detail.c_str());
  }
}

void CommandService::Execute(CommandRequest request,
                             std::function<void(Result<eventstore::Reply>)> done) {
  // The decision travels from `decide` to `make_reply`, both on the writer thread.
  auto decision = std::make_shared<domain::Decision>();
  auto req = std::make_shared<CommandRequest>(std::move(request));
  eventstore::Submission sub;
  sub.actor = req->actor;
  sub.command_id = NewId("cmd");
  sub.correlation_id = req->correlation_id.empty() ? sub.command_id : req->correlation_id;
  if (req->idempotency_key) {
    sub.idempotency = eventstore::Submission::Idempotency{req->actor, *req->idempotency_key,
                                                          req->request_hash};
  }
  sub.decide = [this, req, decision](const eventstore::WriterView& view)
      -> Result<eventstore::Proposal> {
    domain::Context ctx{req->actor, view.now(), NormalizeName};
    auto decided = domain::Decide(model_, req->command, ctx);
    if (!decided.ok()) return std::move(decided).error();
    *decision = std::move(decided).value();
    eventstore::Proposal p;
    p.events = std::move(decision->events);
    p.unique_keys = std::move(decision->unique_keys);
    if (req->expected_version) p.expected_versions.insert(*req->expected_version);
    return p;
  };
  sub.make_reply = [req, decision](const eventstore::CommitInfo& info) {
    return req->make_reply(*decision, info);
  };
  sub.done = [done = std::move(done)](Result<eventstore::Reply> r, const eventstore::CommitInfo&) {
    done(std::move(r));
  };
  store_.Submit(std::move(sub));
}

}  // namespace crm::api
