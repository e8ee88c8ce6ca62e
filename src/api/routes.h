// The endpoints of API.md, registered by area.
#ifndef CRM_API_ROUTES_H_
#define CRM_API_ROUTES_H_

#include "api/router.h"
#include "api/services.h"

namespace crm::api {

void AddOpsRoutes(Router& r, Services& s);
void AddAuthRoutes(Router& r, Services& s);
void AddOrgRoutes(Router& r, Services& s);
void AddPoolRoutes(Router& r, Services& s);
void AddLeadRoutes(Router& r, Services& s);
void AddCustomerRoutes(Router& r, Services& s);
void AddDealRoutes(Router& r, Services& s);
void AddAuditRoutes(Router& r, Services& s);
void AddDashboardRoutes(Router& r, Services& s);
void AddTaskRoutes(Router& r, Services& s);
void AddExportRoutes(Router& r, Services& s);

// GET /api/v1/tasks/me (and the live topic): what `v` must do, due by `due` (overdue,
// today, week; nullopt: everything open).
Result<nlohmann::json> TasksFor(const Services& s, const projections::ReadModels::View& view,
                                const domain::Viewer& v, const std::optional<std::string>& due);

// The first page of GET /api/v1/pool, for the live topic.
nlohmann::json PoolJson(const projections::ReadModels::View& view, const domain::Viewer& v);

// The dashboard of `period` (default: this month) for what `v` may see, narrowed to
// `department_id`'s subtree when given: GET /api/v1/dashboard and the live topic.
Result<nlohmann::json> DashboardFor(const Services& s, const projections::ReadModels::View& view,
                                    const domain::Viewer& v,
                                    const std::optional<std::string>& period,
                                    const std::optional<std::string>& department_id);

}  // namespace crm::api

#endif  // CRM_API_ROUTES_H_
