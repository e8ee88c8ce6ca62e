// One decider per command, grouped by area in org_decisions.cc, lead_decisions.cc,
// customer_decisions.cc and deal_decisions.cc. Internal: callers use Decide() (decide.h).
#ifndef CRM_DOMAIN_DECIDERS_H_
#define CRM_DOMAIN_DECIDERS_H_

#include "domain/decide.h"

namespace crm::domain::deciders {

#define CRM_DECIDER(Cmd) \
  Result<Decision> DecideFor(const Model& m, const Viewer& v, const Context& ctx, const Cmd& c)

// The owner of a record a person creates: a sales rep owns what they create; a manager
// or admin may name an owner (an assignment, so capacity applies) or leave it to the pool.
Result<OptId> CreationOwner(const Model& m, const Viewer& v, const OptId& requested, bool customer);

CRM_DECIDER(CreateDepartment);
CRM_DECIDER(CreateStaff);
CRM_DECIDER(Handover);
CRM_DECIDER(SetPoolPolicy);
CRM_DECIDER(SetTarget);
CRM_DECIDER(SetPassword);
CRM_DECIDER(CreateTask);
CRM_DECIDER(CompleteTask);
CRM_DECIDER(RecycleDue);

CRM_DECIDER(CreateLead);
CRM_DECIDER(ImportLeads);
CRM_DECIDER(AssignLead);
CRM_DECIDER(AutoAssignLeads);
CRM_DECIDER(ClaimLead);
CRM_DECIDER(ReleaseLead);
CRM_DECIDER(FollowUpLead);
CRM_DECIDER(InvalidateLead);
CRM_DECIDER(VoidLead);
CRM_DECIDER(ConvertLead);

CRM_DECIDER(CreateCustomer);
CRM_DECIDER(UpdateCustomer);
CRM_DECIDER(AddContact);
CRM_DECIDER(FollowUpCustomer);
CRM_DECIDER(ClaimCustomer);
CRM_DECIDER(ReleaseCustomer);
CRM_DECIDER(TransferCustomer);
CRM_DECIDER(MergeCustomers);
CRM_DECIDER(LockCustomer);
CRM_DECIDER(UnlockCustomer);

CRM_DECIDER(EditStaff);
CRM_DECIDER(EditDepartment);
CRM_DECIDER(EditLead);
CRM_DECIDER(EditContact);
CRM_DECIDER(EditOpportunity);

CRM_DECIDER(CreateOpportunity);
CRM_DECIDER(ChangeStage);
CRM_DECIDER(WinOpportunity);
CRM_DECIDER(LoseOpportunity);
CRM_DECIDER(SignContract);
CRM_DECIDER(RecordPayment);
CRM_DECIDER(ReversePayment);
CRM_DECIDER(IssueInvoice);
CRM_DECIDER(VoidInvoice);

}  // namespace crm::domain::deciders

#endif  // CRM_DOMAIN_DECIDERS_H_
