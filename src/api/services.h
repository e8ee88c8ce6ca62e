// What the HTTP handlers work with. Owned by the App; handlers hold references.
#ifndef CRM_API_SERVICES_H_
#define CRM_API_SERVICES_H_

#include <functional>

#include "api/command_service.h"
#include "api/http_server.h"
#include "api/metrics.h"
#include "api/token_store.h"
#include "eventstore/clock.h"
#include "eventstore/event_store.h"
#include "projections/customer_history.h"
#include "projections/customer_projection.h"
#include "projections/lead_projection.h"
#include "projections/org_projection.h"
#include "projections/pool_projection.h"
#include "projections/runner.h"
#include "projections/timeline_projection.h"

namespace crm::api {

struct Services {
  eventstore::EventStore& store;
  projections::ProjectionRunner& runner;
  projections::OrgProjection& org;
  projections::LeadProjection& leads;
  projections::PoolProjection& pool;
  projections::CustomerProjection& customers;
  projections::CustomerHistoryProjection& history;
  projections::TimelineProjection& timeline;
  CommandService& commands;
  TokenStore& tokens;
  Metrics& metrics;
  const eventstore::Clock& clock;
  Seconds utc_offset;
  // Runs work on the I/O threads (queries that waited for a read model).
  std::function<void(std::function<void()>)> post;
  // The HTTP server's connection and write figures, for /metrics.
  std::function<HttpStats()> http_stats;
};

}  // namespace crm::api

#endif  // CRM_API_SERVICES_H_
