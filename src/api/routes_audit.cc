// Audit: the log itself, page by page, and a verification of its hash chain while the
// server runs. For auditors and admins only.
#include "api/event_json.h"
#include "api/handler_util.h"
#include "api/log_verifier.h"
#include "api/routes.h"

namespace crm::api {

namespace d = crm::domain;

namespace {

// A filtered page reads at most this many events of the log; when none of them match,
// the page is empty and its cursor goes on from the last one read, so every request
// costs about the same however rare the filter's match.
constexpr size_t kMaxScannedPerPage = 10'000;

struct EventsQuery {
  uint64_t after = 0;
  size_t limit = 50;
  std::optional<std::string> stream;
  std::optional<size_t> type;  // an index of the event variant
};

Result<EventsQuery> ParseEventsQuery(const HttpRequest& req) {
  EventsQuery q;
  std::vector<FieldError> errors;
  for (const char* name : {"after", "cursor"}) {
    auto v = OptParam(req, name);
    if (!v) continue;
    auto n = ParseU64(*v);
    if (!n) {
      errors.push_back({name, "must be a log position"});
    } else {
      q.after = std::max(q.after, *n);
    }
  }
  auto limit = LimitParam(req);
  if (limit.ok()) {
    q.limit = *limit;
  } else {
    errors.push_back({"limit", limit.error().detail});
  }
  q.stream = OptParam(req, "stream");
  if (auto type = OptParam(req, "type")) {
    q.type = d::EventTypeIndex(*type);
    if (!q.type) errors.push_back({"type", "is not an event type: " + *type});
  }
  CRM_RETURN_IF_ERROR(FieldsOk(errors));
  return q;
}

// One page of events after `q.after`, in log order.
Result<json> EventsPage(const eventstore::EventStore& store, const EventsQuery& q) {
  uint64_t head = store.Head();
  json items = json::array();
  uint64_t last = q.after;  // the last position read
  size_t scanned = 0;
  while (items.size() < q.limit && last < head && scanned < kMaxScannedPerPage) {
    size_t want =
        q.type ? std::min<size_t>(1000, kMaxScannedPerPage - scanned) : q.limit - items.size();
    auto events = q.stream ? store.ReadStreamBetween(*q.stream, last, head, want)
                           : store.ReadAll(last + 1, want);
    if (!events.ok()) return events.error();
    if (events->empty()) {
      last = head;  // the stream has nothing more up to the head
      break;
    }
    for (const auto& e : *events) {
      last = e.position;
      ++scanned;
      if (q.type && e.event.index() != *q.type) continue;
      items.push_back(EventJson(e));
      if (items.size() == q.limit) break;
    }
  }
  // More may follow while the page stopped short of the head.
  return ListJson(std::move(items),
                  last < head ? std::optional<std::string>(std::to_string(last)) : std::nullopt);
}

}  // namespace

void AddAuditRoutes(Router& r, Services& s) {
  r.Add("GET", "/api/v1/events", [&s](const CallPtr& call) {
    RunQuery(s, call, ListParams({"after", "stream", "type"}),
             [&s, call](const d::Viewer& v, const ReadView&) -> Result<Answer> {
               CRM_RETURN_IF_ERROR(AuditorOrAdmin(v, "event log pages"));
               CRM_ASSIGN_OR_RETURN(EventsQuery q, ParseEventsQuery(call->req));
               // The log is read once the projections' lock is released.
               Answer answer;
               answer.unlocked = [&s, q]() -> Result<Answer> {
                 CRM_ASSIGN_OR_RETURN(json page, EventsPage(s.store, q));
                 return Answer{std::move(page), std::nullopt};
               };
               return answer;
             });
  });

  r.Add("GET", "/api/v1/audit/verify", [&s](const CallPtr& call) {
    auto viewer = Authenticate(s, call->req.authorization);
    if (!viewer.ok()) return SendError(call, viewer.error());
    Status allowed = AuditorOrAdmin(*viewer, "verifications");
    if (allowed.ok()) allowed = RequireKnownParams(call->req, {});
    if (!allowed.ok()) return SendError(call, allowed.error());
    // On the verifier's thread; the answer goes back to an I/O thread.
    const Services* sp = &s;
    s.verifier.Request([sp, call](const Result<eventstore::VerifyReport>& report) {
      if (!report.ok()) return sp->post([call, e = report.error()] { SendError(call, e); });
      sp->post([call, body = VerifyJson(*report)] { SendJson(call, 200, body); });
    });
  });
}

}  // namespace crm::api
