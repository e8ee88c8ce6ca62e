// Read-model rows as the JSON of API.md.
#ifndef CRM_API_VIEWS_JSON_H_
#define CRM_API_VIEWS_JSON_H_

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "api/json_text.h"
#include "domain/policy.h"
#include "eventstore/event_store.h"
#include "projections/customer_history.h"
#include "projections/customer_projection.h"
#include "projections/dashboard_projection.h"
#include "projections/lead_projection.h"
#include "projections/org_projection.h"
#include "schemas/views_generated.h"

namespace crm::api {

using nlohmann::json;

json TimeOrNull(int64_t ms);
json TextOrNull(const std::string& s);
json DateJson(int32_t days);

json StaffJson(const views::StaffRowT& row);
json DepartmentTreeJson(const projections::OrgProjection& org);
json PolicyJson(const domain::PoolPolicy& p);
json LeadJson(const views::LeadRowT& row, const domain::PoolPolicy& policy);
// The same as text, written straight into `w` (for list pages: no value built first).
void AppendLeadText(JsonWriter& w, const views::LeadRowT& row, const domain::PoolPolicy& policy);
json CustomerSummaryJson(const views::CustomerRowT& row, const domain::PoolPolicy& policy);
void AppendCustomerSummaryText(JsonWriter& w, const views::CustomerRowT& row,
                               const domain::PoolPolicy& policy);
json OpportunityJson(const views::OpportunityRowT& row);
json ContractJson(const views::ContractRowT& row, Date today);
json ContactJson(const views::ContactRowT& row);
// The customer 360 view, as of business day `today`.
json Customer360Json(const views::CustomerRowT& row, const projections::CustomerProjection& p,
                     const domain::PoolPolicy& policy, Date today);
// A pool item: {kind, id, name, region, since, reason, previous_owner_id, ...}.
json PoolLeadJson(const views::LeadRowT& row);
json PoolCustomerJson(const views::CustomerRowT& row);
// A money map: {"CNY": 1200} (empty object when nothing).
using projections::Money;
json MoneyJson(const Money& m);

// `as_of`, checked: a log position, or an RFC 3339 time (the last position at or before it).
using AsOf = std::variant<uint64_t, Time>;
Result<AsOf> ParseAsOf(const std::string& as_of);
// The log position `as_of` names. A position past the head is the present: the head.
Result<uint64_t> AsOfPosition(const eventstore::EventStore& store, const AsOf& as_of);

// The customer's contacts, opportunities and contracts, as an as-of replay needs them.
// An invoice of contract `k`.
json InvoiceJson(const views::InvoiceRowT& inv, const views::ContractRowT& k);

std::vector<std::string> CustomerRecordIds(const views::CustomerRowT& row,
                                           const projections::CustomerProjection& p);
// The 360 view of customer `id` as it was at `position`, with "as_of": {position, at},
// and the customer's version then. Reads the log and the local store only: no lock.
Result<std::pair<json, uint64_t>> Customer360AsOf(
    const eventstore::EventStore& store, const projections::CustomerHistoryProjection& history,
    const std::string& id, const std::vector<std::string>& record_ids, uint64_t position,
    Seconds utc_offset);

}  // namespace crm::api

#endif  // CRM_API_VIEWS_JSON_H_
