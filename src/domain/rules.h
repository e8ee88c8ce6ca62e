// Rules shared by the deciders: who may act, on which record, and the pool rules.
// Internal to the domain; the public surface is decide.h.
#ifndef CRM_DOMAIN_RULES_H_
#define CRM_DOMAIN_RULES_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "domain/decide.h"

namespace crm::domain::rules {

// The acting person. Unknown or departed actors are unauthorized.
Result<Viewer> Actor(const Model& m, const Context& ctx);

// 403 unless the viewer has one of `roles`.
Status RequireRole(const Viewer& v, std::initializer_list<Role> roles, std::string_view action);

// Whether the viewer may change a record owned by `owner`: the owner, a manager of the
// owner, an admin; a record without owner only managers and admins.
bool MayEdit(const Model& m, const Viewer& v, const OptId& owner);

// 403 unless MayEdit.
Status RequireEditor(const Model& m, const Viewer& v, const OptId& owner, std::string_view what);

// A person the viewer may make the owner of records: known (400 on `field`), able to own
// records (400), not departed (422 staff_departed), managed by the viewer (403).
Result<const StaffMember*> CheckAssignee(const Model& m, const Viewer& v, const Id& staff_id,
                                         const std::string& field);

// 422 capacity_reached when `staff_id` would own more than the policy allows after
// taking `more_leads` leads and `more_customers` customers.
Status CheckCapacity(const Model& m, const Id& staff_id, size_t more_leads, size_t more_customers);

// Daily claim limit, previous-owner block and capacity for the viewer claiming an item
// with ownership `own`.
Status CheckClaim(const Model& m, const Context& ctx, const Viewer& v, const Ownership& own,
                  bool customer);

// Opportunities and contracts belong to their customer: who may see them and act on them
// is exactly who may see and act on the customer.
bool CanSeeDeal(const Model& m, const Viewer& v, const Id& customer_id);
bool MayEditDeal(const Model& m, const Viewer& v, const Id& customer_id);

// 409 invalid_transition while the customer is in the pool: nothing acts on a pool
// customer or its records but claiming or assigning (transferring) it.
Status RequireOwnedCustomer(const CustomerRecord& c);
// The same for a deal's customer.
Status RequireOwnedCustomer(const Model& m, const Id& customer_id);

// Appends to `d` the events that move the customer's opportunities and contracts to
// `owner` with it, in the same command as the customer's own change of owner.
void MoveDealsWithCustomer(const CustomerRecord& c, const OptId& owner, Decision& d);

// Looks a record up for the viewer: 404 when missing or invisible; a merged customer is
// 409 (it takes no command).
Result<const LeadRecord*> VisibleLead(const Model& m, const Viewer& v, const Id& id);
Result<const CustomerRecord*> VisibleCustomer(const Model& m, const Viewer& v, const Id& id);
Result<const OpportunityRecord*> VisibleOpportunity(const Model& m, const Viewer& v, const Id& id);
Result<const ContractRecord*> VisibleContract(const Model& m, const Viewer& v, const Id& id);

std::string Describe(LeadState s);

// 409 duplicate_customer naming the customer that holds the name.
Error DuplicateCustomer(const CustomerRecord& holder);  // "lead is converted"

// ---- edits ----
// The value a field has after an edit asking for `requested` (absent: unchanged; "": cleared).
OptText Edited(const OptText& old_value, const OptText& requested);
// Adds to `changes` the change of `field` when the edit's value differs from the old one.
void Diff(std::vector<FieldChange>& changes, std::string_view field, const OptText& old_value,
          const OptText& requested);

// ---- duplicate leads (撞单) ----
// The duplicate keys of a lead with these fields: LeadCreated's phone_key and name_key.
struct LeadKeys {
  OptText phone_key;
  OptText name_key;
};
LeadKeys KeysOf(const Context& ctx, const OptText& phone, std::string_view company,
                std::string_view name);
// The live lead other than `self` that holds one of `keys` (LeadDuplicateKeys), if any.
const LeadRecord* FindDuplicate(const Model& m, const std::vector<std::string>& keys,
                                const Id& self);
// 409 duplicate_lead naming `holder` and its owner.
Error DuplicateLead(const LeadRecord& holder, const std::vector<std::string>& keys);
// Appends to `d` the kLeadKeyScope index entries whose first live lead changes when the
// lead `before` (nullptr: none yet) becomes `after` (nullptr: gone).
void IndexLeadKeys(const Model& m, const LeadRecord* before, const LeadRecord* after, Decision& d);

// A decision of one event on one stream.
Decision Single(const Id& stream, Event event);

}  // namespace crm::domain::rules

#endif  // CRM_DOMAIN_RULES_H_
