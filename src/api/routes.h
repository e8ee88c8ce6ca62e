// The endpoints of API.md, registered by area.
#ifndef CRM_API_ROUTES_H_
#define CRM_API_ROUTES_H_

#include "api/router.h"
#include "api/services.h"

namespace crm::api {

void AddOpsRoutes(Router& r, Services& s);
void AddOrgRoutes(Router& r, Services& s);
void AddPoolRoutes(Router& r, Services& s);
void AddLeadRoutes(Router& r, Services& s);
void AddCustomerRoutes(Router& r, Services& s);
void AddDealRoutes(Router& r, Services& s);
void AddAuditRoutes(Router& r, Services& s);

}  // namespace crm::api

#endif  // CRM_API_ROUTES_H_
