// Events as the audit API and the timelines show them:
// {position, stream, version, type, at, actor, command_id, correlation_id, data, hash}.
#ifndef CRM_API_EVENT_JSON_H_
#define CRM_API_EVENT_JSON_H_

#include <nlohmann/json.hpp>

#include "eventstore/event_store.h"

namespace crm::api {

// An event as /api/v1/events shows it; `data` is the payload, field for field.
nlohmann::json EventJson(const eventstore::RecordedEvent& e);

// A verification's report as /api/v1/audit/verify and `crmctl verify` show it:
// {ok, events, head_position, head_hash} or {ok: false, events, first_bad_position, detail}.
nlohmann::json VerifyJson(const eventstore::VerifyReport& r);

}  // namespace crm::api

#endif  // CRM_API_EVENT_JSON_H_
