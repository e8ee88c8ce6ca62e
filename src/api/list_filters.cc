#include "api/list_filters.h"

namespace crm::api {

Result<projections::LeadFilter> LeadFilterFrom(const HttpRequest& req, const ReadView& view,
                                               const domain::Viewer& v) {
  projections::LeadFilter f;
  f.state = OptParam(req, "state");
  if (f.state && !domain::ParseLeadState(*f.state)) {
    return InvalidField("state",
                        "must be one of unassigned, pending, following, invalid, converted, "
                        "voided");
  }
  f.owner_id = OptParam(req, "owner_id");
  f.region = OptParam(req, "region");
  f.q = OptParam(req, "q").value_or("");
  f.owners = VisibleOwners(view, v);
  return f;
}

projections::CustomerFilter CustomerFilterFrom(const HttpRequest& req, const ReadView& view,
                                               const domain::Viewer& v) {
  projections::CustomerFilter f;
  f.owner_id = OptParam(req, "owner_id");
  f.level = OptParam(req, "level");
  f.region = OptParam(req, "region");
  f.q = OptParam(req, "q").value_or("");
  f.owners = VisibleOwners(view, v);
  return f;
}

Result<ReceivableFilter> ReceivableFilterFrom(const HttpRequest& req) {
  auto overdue = OptParam(req, "overdue");
  if (overdue && *overdue != "true" && *overdue != "false") {
    return InvalidField("overdue", "must be true or false");
  }
  ReceivableFilter f;
  f.only_overdue = overdue == "true";
  f.contracts.status = "active";
  f.contracts.owner_id = OptParam(req, "owner_id");
  return f;
}

void ForEachReceivable(
    const views::ContractRowT& contract, Date today, const ReceivableFilter& f,
    const std::function<void(const projections::InstallmentStatus&, size_t index)>& each) {
  auto installments = projections::Installments(contract, today);
  for (size_t i = 0; i < installments.size(); ++i) {
    const auto& inst = installments[i];
    if (inst.status == "paid" || (f.only_overdue && inst.status != "overdue")) continue;
    each(inst, i);
  }
}

}  // namespace crm::api
