#include "domain/rules.h"

#include <algorithm>
#include <set>

namespace crm::domain::rules {
namespace {

template <class Map>
auto FindIn(const Map& map, const Id& id) -> const typename Map::mapped_type* {
  auto it = map.find(id);
  return it == map.end() ? nullptr : &it->second;
}

}  // namespace

Result<Viewer> Actor(const Model& m, const Context& ctx) {
  auto v = m.ViewerOf(ctx.actor);
  if (!v) return MakeError(ErrorKind::kUnauthorized, "unauthorized", "unknown actor");
  if (!v->system && m.FindStaff(v->id)->departed) {
    return MakeError(ErrorKind::kUnauthorized, "unauthorized", "the actor has departed");
  }
  return *v;
}

Status RequireRole(const Viewer& v, std::initializer_list<Role> roles, std::string_view action) {
  if (v.system) return Status::Ok();
  if (std::find(roles.begin(), roles.end(), v.role) != roles.end()) return Status::Ok();
  return Forbidden(std::string("the ") + std::string(Name(v.role)) + " role may not " +
                   std::string(action));
}

bool MayEdit(const Model& m, const Viewer& v, const OptId& owner) {
  if (v.system) return true;
  if (!owner) return v.role == Role::kAdmin || v.role == Role::kManager;
  return *owner == v.id || Manages(m.org, v, *owner);
}

Status RequireEditor(const Model& m, const Viewer& v, const OptId& owner, std::string_view what) {
  if (MayEdit(m, v, owner)) return Status::Ok();
  return Forbidden(owner ? "only the owner, their manager or an admin may " + std::string(what)
                         : "only a manager or an admin may " + std::string(what) +
                               " of an item in the pool");
}

Result<const StaffMember*> CheckAssignee(const Model& m, const Viewer& v, const Id& staff_id,
                                         const std::string& field) {
  const StaffMember* s = m.FindStaff(staff_id);
  if (!s) return InvalidField(field, "unknown staff member");
  if (!CanOwnRecords(s->role)) {
    return InvalidField(field, "a member with the " + std::string(Name(s->role)) +
                                   " role cannot own leads or customers");
  }
  if (s->departed) return RuleRefused("staff_departed", staff_id + " has departed");
  if (!Manages(m.org, v, staff_id)) {
    return Forbidden(staff_id + " is not in the departments you manage");
  }
  return s;
}

Status CheckCapacity(const Model& m, const Id& staff_id, size_t more_leads, size_t more_customers) {
  const Holdings& h = m.HoldingsOf(staff_id);
  const PoolPolicy& p = m.policy;
  if (more_leads > 0 && p.max_owned_leads &&
      h.leads.size() + more_leads > static_cast<size_t>(*p.max_owned_leads)) {
    return RuleRefused("capacity_reached", staff_id + " owns " + std::to_string(h.leads.size()) +
                                               " of at most " + std::to_string(*p.max_owned_leads) +
                                               " leads");
  }
  if (more_customers > 0 && p.max_owned_customers &&
      h.customers.size() + more_customers > static_cast<size_t>(*p.max_owned_customers)) {
    return RuleRefused("capacity_reached",
                       staff_id + " owns " + std::to_string(h.customers.size()) + " of at most " +
                           std::to_string(*p.max_owned_customers) + " customers");
  }
  return Status::Ok();
}

Status CheckClaim(const Model& m, const Context& ctx, const Viewer& v, const Ownership& own,
                  bool customer) {
  const PoolPolicy& p = m.policy;
  if (p.daily_claim_limit) {
    int32_t used = m.ClaimsOn(v.id, BusinessDay(ctx.now, m.utc_offset));
    if (used >= *p.daily_claim_limit) {
      return RuleRefused("claim_limit_reached", std::to_string(used) + " of " +
                                                    std::to_string(*p.daily_claim_limit) +
                                                    " claims used today");
    }
  }
  if (p.previous_owner_block) {
    auto it = own.lost_at.find(v.id);
    if (it != own.lost_at.end() && ctx.now < it->second + *p.previous_owner_block) {
      return RuleRefused("previous_owner_blocked",
                         "you owned it until " + FormatTime(it->second) +
                             "; you may claim it again from " +
                             FormatTime(it->second + *p.previous_owner_block));
    }
  }
  return CheckCapacity(m, v.id, customer ? 0 : 1, customer ? 1 : 0);
}

bool CanSeeDeal(const Model& m, const Viewer& v, const Id& customer_id) {
  const CustomerRecord* c = FindIn(m.customers, customer_id);
  return c && CanSee(m.org, v, c->own.owner_id);
}

bool MayEditDeal(const Model& m, const Viewer& v, const Id& customer_id) {
  const CustomerRecord* c = FindIn(m.customers, customer_id);
  return c && MayEdit(m, v, c->own.owner_id);
}

Status RequireOwnedCustomer(const CustomerRecord& c) {
  if (c.own.owner_id) return Status::Ok();
  return InvalidTransition("the customer " + c.id +
                           " is in the pool; claim or assign it before working on it");
}

Status RequireOwnedCustomer(const Model& m, const Id& customer_id) {
  const CustomerRecord* c = FindIn(m.customers, customer_id);
  if (!c) return NotFound("no customer " + customer_id);
  return RequireOwnedCustomer(*c);
}

void MoveDealsWithCustomer(const CustomerRecord& c, const OptId& owner, Decision& d) {
  for (const auto* deals : {&c.opportunities, &c.contracts}) {
    for (const Id& id : *deals) {
      d.events.push_back({id, DealOwnerChanged{c.id, owner, c.own.owner_id}});
    }
  }
}

Result<const LeadRecord*> VisibleLead(const Model& m, const Viewer& v, const Id& id) {
  const LeadRecord* l = FindIn(m.leads, id);
  if (!l || !CanSee(m.org, v, l->own.owner_id)) return NotFound("no lead " + id);
  return l;
}

Result<const CustomerRecord*> VisibleCustomer(const Model& m, const Viewer& v, const Id& id) {
  const CustomerRecord* c = FindIn(m.customers, id);
  if (!c || !CanSee(m.org, v, c->own.owner_id)) return NotFound("no customer " + id);
  if (c->merged_into) {
    return InvalidTransition("the customer " + id + " was merged into " + *c->merged_into);
  }
  return c;
}

Result<const OpportunityRecord*> VisibleOpportunity(const Model& m, const Viewer& v, const Id& id) {
  const OpportunityRecord* o = FindIn(m.opportunities, id);
  if (!o || !CanSeeDeal(m, v, o->customer_id)) {
    return NotFound("no opportunity " + id);
  }
  return o;
}

Result<const ContractRecord*> VisibleContract(const Model& m, const Viewer& v, const Id& id) {
  const ContractRecord* k = FindIn(m.contracts, id);
  if (!k || !CanSeeDeal(m, v, k->customer_id)) return NotFound("no contract " + id);
  return k;
}

std::string Describe(LeadState s) { return "the lead is " + std::string(Name(s)); }

Error DuplicateCustomer(const CustomerRecord& holder) {
  Error e = MakeError(ErrorKind::kConflict, "duplicate_customer",
                      "a customer named '" + holder.name + "' already exists");
  e.existing_id = holder.id;
  return e;
}

OptText Edited(const OptText& old_value, const OptText& requested) {
  if (!requested) return old_value;
  return requested->empty() ? std::nullopt : requested;
}

void Diff(std::vector<FieldChange>& changes, std::string_view field, const OptText& old_value,
          const OptText& requested) {
  OptText now = Edited(old_value, requested);
  if (now != old_value) changes.push_back({std::string(field), old_value, std::move(now)});
}

LeadKeys KeysOf(const Context& ctx, const OptText& phone, std::string_view company,
                std::string_view name) {
  LeadKeys k;
  if (phone) k.phone_key = PhoneKey(*phone);
  std::string c = ctx.normalize_name(company), n = ctx.normalize_name(name);
  if (!c.empty() || !n.empty()) k.name_key = c + '\x1f' + n;
  return k;
}

const LeadRecord* FindDuplicate(const Model& m, const std::vector<std::string>& keys,
                                const Id& self) {
  for (const auto& key : keys) {
    auto it = m.lead_by_key.find(key);
    if (it == m.lead_by_key.end()) continue;
    for (const Id& id : it->second) {
      if (id != self) return FindIn(m.leads, id);
    }
  }
  return nullptr;
}

Error DuplicateLead(const LeadRecord& holder, const std::vector<std::string>& keys) {
  bool phone = false;
  for (const auto& key : keys) {
    phone = phone || (holder.phone_key && key == "phone:" + *holder.phone_key);
  }
  Error e = MakeError(ErrorKind::kConflict, "duplicate_lead",
                      std::string(phone ? "a lead with the same phone"
                                        : "a lead of the same "
                                          "company and name") +
                          " exists (" + holder.id +
                          "); send allow_duplicate: true to record this one all the same");
  e.existing_id = holder.id;
  e.existing_owner_id = holder.own.owner_id.value_or("");
  return e;
}

void IndexLeadKeys(const Model& m, const LeadRecord* before, const LeadRecord* after, Decision& d) {
  std::vector<std::string> gone = before ? LeadDuplicateKeys(*before) : std::vector<std::string>{};
  std::vector<std::string> held = after ? LeadDuplicateKeys(*after) : std::vector<std::string>{};
  const Id& id = after ? after->id : before->id;
  std::set<std::string> touched(gone.begin(), gone.end());
  touched.insert(held.begin(), held.end());
  for (const auto& key : touched) {
    std::set<Id> leads;
    if (auto it = m.lead_by_key.find(key); it != m.lead_by_key.end()) leads = it->second;
    std::optional<Id> first_before = leads.empty() ? std::nullopt : OptId(*leads.begin());
    leads.erase(id);
    if (std::find(held.begin(), held.end(), key) != held.end()) leads.insert(id);
    std::optional<Id> first_after = leads.empty() ? std::nullopt : OptId(*leads.begin());
    if (first_after == first_before) continue;
    UniqueKey entry{std::string(kLeadKeyScope), key, first_after.value_or(""), !first_after};
    entry.exclusive = false;
    d.unique_keys.push_back(std::move(entry));
  }
}

Decision Single(const Id& stream, Event event) {
  Decision d;
  d.events.push_back(NewEvent{stream, std::move(event)});
  d.primary = stream;
  return d;
}

}  // namespace crm::domain::rules
