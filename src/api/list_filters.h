// The filters of the lists that also export (leads, customers, receivables), read from a
// request's query once for both: GET /leads and GET /leads/export filter alike, and refuse
// a bad value with the same words.
#ifndef CRM_API_LIST_FILTERS_H_
#define CRM_API_LIST_FILTERS_H_

#include <functional>

#include "api/handler_util.h"
#include "projections/customer_projection.h"
#include "projections/lead_projection.h"

namespace crm::api {

// The query parameters each list filters by (besides paging and the export's format).
inline const QueryParams kLeadFilterParams = {"state", "owner_id", "region", "q"};
inline const QueryParams kCustomerFilterParams = {"owner_id", "level", "region", "q"};
inline const QueryParams kReceivableFilterParams = {"overdue", "owner_id"};

// The leads `v` may see that the query asks for; 400 for an unknown state.
Result<projections::LeadFilter> LeadFilterFrom(const HttpRequest& req, const ReadView& view,
                                               const domain::Viewer& v);
// The customers `v` may see that the query asks for.
projections::CustomerFilter CustomerFilterFrom(const HttpRequest& req, const ReadView& view,
                                               const domain::Viewer& v);

// Receivables (应收): the installments not fully paid of active contracts, or only the
// overdue ones (overdue=true), paged by contract.
struct ReceivableFilter {
  projections::ContractFilter contracts;
  bool only_overdue = false;
};
// 400 unless overdue is true or false.
Result<ReceivableFilter> ReceivableFilterFrom(const HttpRequest& req);
// Calls `each` with every receivable of `contract` as of `today` that `f` keeps, and its
// index among the contract's installments.
void ForEachReceivable(
    const views::ContractRowT& contract, Date today, const ReceivableFilter& f,
    const std::function<void(const projections::InstallmentStatus&, size_t index)>& each);

}  // namespace crm::api

#endif  // CRM_API_LIST_FILTERS_H_
