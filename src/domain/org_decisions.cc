// Organisation, pool policy, targets, handover and the recycle sweep.
#include "domain/deciders.h"
#include "domain/rules.h"

namespace crm::domain::deciders {

using rules::RequireRole;
using rules::Single;

CRM_DECIDER(CreateDepartment) {
  (void)ctx;
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin}, "create departments"));
  if (c.parent_id && !m.departments.count(*c.parent_id)) {
    return InvalidField("parent_id", "unknown department");
  }
  return Single(c.department_id, DepartmentCreated{c.department_id, c.name, c.parent_id});
}

CRM_DECIDER(CreateStaff) {
  (void)ctx;
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin}, "create staff"));
  std::vector<FieldError> errors;
  if (c.department_id && !m.departments.count(*c.department_id)) {
    errors.push_back({"department_id", "unknown department"});
  }
  std::string email_key = EmailKey(c.email);
  if (m.staff_by_email.count(email_key)) {
    errors.push_back({"email", "already used by " + m.staff_by_email.at(email_key)});
  }
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  Decision d = Single(c.staff_id,
                      StaffCreated{c.staff_id, c.name, c.email, c.role, c.department_id, c.region});
  d.unique_keys.push_back({std::string(kStaffEmailScope), email_key, c.staff_id, false});
  return d;
}

CRM_DECIDER(EditStaff) {
  (void)ctx;
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin}, "edit staff"));
  const StaffMember* st = m.FindStaff(c.staff_id);
  if (!st) return NotFound("no staff member " + c.staff_id);
  if (st->departed) return InvalidTransition("the person has departed");
  std::vector<FieldError> errors;
  std::vector<FieldChange> changes;
  Decision d;
  d.primary = c.staff_id;
  rules::Diff(changes, "name", st->name, c.name);
  if (c.email && *c.email != st->email) {
    std::string old_key = EmailKey(st->email), key = EmailKey(*c.email);
    if (key != old_key) {
      if (auto it = m.staff_by_email.find(key); it != m.staff_by_email.end()) {
        errors.push_back({"email", "already used by " + it->second});
      }
      d.unique_keys.push_back({std::string(kStaffEmailScope), old_key, st->id, true});
      d.unique_keys.push_back({std::string(kStaffEmailScope), key, st->id});
    }
    changes.push_back({"email", st->email, c.email});
  }
  if (c.role && *c.role != st->role) {
    const Holdings& h = m.HoldingsOf(st->id);
    if (st->id == v.id) {
      return InvalidTransition("an admin may not change their own role");
    }
    if (!CanOwnRecords(*c.role) && (!h.leads.empty() || !h.customers.empty())) {
      return InvalidTransition(std::to_string(h.leads.size()) + " leads and " +
                               std::to_string(h.customers.size()) +
                               " customers are theirs: hand them over before the role changes to " +
                               std::string(Name(*c.role)));
    }
    changes.push_back({"role", std::string(Name(st->role)), std::string(Name(*c.role))});
  }
  if (c.department_id && c.department_id != st->department_id) {
    if (!m.departments.count(*c.department_id)) {
      errors.push_back({"department_id", "unknown department"});
    }
    changes.push_back({"department_id", st->department_id, c.department_id});
  }
  rules::Diff(changes, "region", st->region, c.region);
  if (!errors.empty()) return ValidationFailed(std::move(errors));
  if (changes.empty()) d.unique_keys.clear();
  if (!changes.empty()) d.events.push_back({c.staff_id, StaffEdited{std::move(changes)}});
  return d;
}

CRM_DECIDER(EditDepartment) {
  (void)ctx;
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin}, "edit departments"));
  auto it = m.departments.find(c.department_id);
  if (it == m.departments.end()) return NotFound("no department " + c.department_id);
  const Department& dep = it->second;
  std::vector<FieldChange> changes;
  rules::Diff(changes, "name", dep.name, c.name);
  if (c.parent_id && *c.parent_id != dep.parent_id) {
    if (const OptId& parent = *c.parent_id) {
      if (!m.departments.count(*parent)) return InvalidField("parent_id", "unknown department");
      if (m.org.InSubtree(*parent, dep.id)) {
        return InvalidTransition("moving " + dep.id + " under " + *parent +
                                 " would put it inside itself");
      }
    }
    changes.push_back({"parent_id", dep.parent_id, *c.parent_id});
  }
  Decision d;
  d.primary = c.department_id;
  if (!changes.empty()) d.events.push_back({c.department_id, DepartmentEdited{std::move(changes)}});
  return d;
}

CRM_DECIDER(CreateTask) {
  (void)ctx;
  if (c.record_id) {
    // About a record the person may see (a lead, a customer or one of its deals).
    bool seen = false;
    switch (KindOfId(*c.record_id)) {
      case RecordKind::kLead:
        seen = rules::VisibleLead(m, v, *c.record_id).ok();
        break;
      case RecordKind::kCustomer:
        seen = rules::VisibleCustomer(m, v, *c.record_id).ok();
        break;
      case RecordKind::kOpportunity:
        seen = rules::VisibleOpportunity(m, v, *c.record_id).ok();
        break;
      case RecordKind::kContract:
        seen = rules::VisibleContract(m, v, *c.record_id).ok();
        break;
      default:
        break;
    }
    if (!seen) return InvalidField("record_id", "unknown record");
  }
  return Single(c.task_id, TaskCreated{c.task_id, v.id, c.title, c.due_at, c.record_id});
}

CRM_DECIDER(CompleteTask) {
  (void)ctx;
  auto it = m.tasks.find(c.task_id);
  // A task is its owner's alone: anyone else's reads as missing.
  if (it == m.tasks.end() || it->second.owner_id != v.id) return NotFound("no task " + c.task_id);
  if (it->second.done) return InvalidTransition("the task is done already");
  return Single(c.task_id, TaskCompleted{});
}

CRM_DECIDER(Handover) {
  (void)ctx;
  const StaffMember* leaver = m.FindStaff(c.staff_id);
  if (!leaver) return NotFound("no staff member " + c.staff_id);
  if (!HasPowerOver(m.org, v, c.staff_id) || leaver->id == v.id) {
    return Forbidden("only an admin, or a manager over " + c.staff_id +
                     " (sales staff of their departments, managers of departments below), may "
                     "hand over their work");
  }
  const Holdings& h = m.HoldingsOf(c.staff_id);
  if (c.to) {
    if (*c.to == c.staff_id) return InvalidField("to", "a person cannot succeed themselves");
    CRM_RETURN_IF_ERROR(rules::CheckAssignee(m, v, *c.to, "to"));
    CRM_RETURN_IF_ERROR(rules::CheckCapacity(m, *c.to, h.leads.size(), h.customers.size()));
  }
  Decision d;
  d.primary = c.staff_id;
  auto move = [&](const Id& id) { d.events.push_back({id, RecordHandedOver{c.staff_id, c.to}}); };
  for (const Id& id : h.leads) move(id);
  for (const Id& id : h.customers) move(id);
  // Deals belong to their customer: every one of the customers' opportunities and
  // contracts, open or closed, moves with it.
  HandoverOutcome out{static_cast<int64_t>(h.leads.size()),
                      static_cast<int64_t>(h.customers.size()), 0, 0};
  for (const Id& id : h.customers) {
    const CustomerRecord& customer = m.customers.at(id);
    for (const Id& opp : customer.opportunities) move(opp);
    out.opportunities += static_cast<int64_t>(customer.opportunities.size());
  }
  for (const Id& id : h.customers) {
    const CustomerRecord& customer = m.customers.at(id);
    for (const Id& con : customer.contracts) move(con);
    out.contracts += static_cast<int64_t>(customer.contracts.size());
  }
  if (c.depart && !leaver->departed) {
    d.events.push_back({c.staff_id, StaffDeparted{c.staff_id}});
  }
  d.events.push_back(
      {c.staff_id, HandoverCompleted{c.staff_id, c.to, c.depart, out.leads, out.customers,
                                     out.opportunities, out.contracts}});
  d.outcome = out;
  return d;
}

CRM_DECIDER(SetPoolPolicy) {
  (void)m;
  (void)ctx;
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin}, "change the pool policy"));
  return Single(std::string(kPoolPolicyStream), PoolPolicySet{c.policy});
}

CRM_DECIDER(SetTarget) {
  (void)ctx;
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin, Role::kManager}, "set targets"));
  if (c.staff_id) {
    if (!m.FindStaff(*c.staff_id)) return InvalidField("staff_id", "unknown staff member");
    if (!HasPowerOver(m.org, v, *c.staff_id)) {
      return Forbidden(*c.staff_id + " is not a person whose targets you set");
    }
  }
  if (c.department_id) {
    if (!m.departments.count(*c.department_id)) {
      return InvalidField("department_id", "unknown department");
    }
    if (v.role != Role::kAdmin &&
        !(v.department_id && m.org.InSubtree(*c.department_id, *v.department_id))) {
      return Forbidden(*c.department_id + " is not a department you manage");
    }
  }
  return Single(std::string(kTargetsStream),
                TargetSet{c.period, c.staff_id, c.department_id, c.amount, c.currency});
}

CRM_DECIDER(SetPassword) {
  (void)ctx;
  const StaffMember* person = m.FindStaff(c.staff_id);
  if (!person) return NotFound("no staff member " + c.staff_id);
  if (v.role != Role::kAdmin && v.id != c.staff_id) {
    return Forbidden("only an admin, or the person themself, sets a password");
  }
  if (person->departed) {
    return RuleRefused("staff_departed", c.staff_id + " has departed and cannot sign in");
  }
  return Single(c.staff_id, PasswordSet{c.staff_id});
}

// Reads only what is due: the model keeps owned items by when their clocks started
// (Model::RecycleClocks), so a sweep costs what it recycles, not what is owned. The most
// overdue go first; a customer due under both rules is recycled once, under the earlier.
CRM_DECIDER(RecycleDue) {
  if (!v.system) return Forbidden("only the system recycles");
  Decision d;
  RecycleOutcome out;
  using Clock = std::set<std::pair<Time, Id>>;
  struct Walk {
    const Clock* clock = nullptr;
    Seconds after{};
    Clock::const_iterator at{};
    bool Due(Time now) const { return clock && at != clock->end() && at->first + after <= now; }
  };
  std::vector<Walk> walks;
  if (m.policy.recycle_no_follow_up)
    walks.push_back(
        {&m.recycle.by_follow_up, *m.policy.recycle_no_follow_up, m.recycle.by_follow_up.begin()});
  if (m.policy.recycle_no_deal)
    walks.push_back({&m.recycle.by_owned, *m.policy.recycle_no_deal, m.recycle.by_owned.begin()});
  std::set<Id> taken;
  for (;;) {
    // The walk whose next item fell due first.
    Walk* next = nullptr;
    for (auto& w : walks) {
      if (w.Due(ctx.now) && (!next || w.at->first + w.after < next->at->first + next->after))
        next = &w;
    }
    if (!next) break;
    const Id& id = (next->at++)->second;
    if (taken.count(id)) continue;
    if (out.leads + out.customers >= c.max_items) {
      out.more = true;
      break;
    }
    taken.insert(id);
    if (auto lead = m.leads.find(id); lead != m.leads.end()) {
      d.events.push_back({id, LeadRecycled{*lead->second.own.owner_id, RecycleRule::kNoFollowUp}});
      ++out.leads;
    } else if (auto customer = m.customers.find(id); customer != m.customers.end()) {
      RecycleRule rule = RecycleRule::kNoFollowUp;
      CustomerRecycleAt(customer->second, m.policy, &rule);
      d.events.push_back({id, CustomerRecycled{*customer->second.own.owner_id, rule}});
      rules::MoveDealsWithCustomer(customer->second, std::nullopt, d);
      ++out.customers;
    }
  }
  d.outcome = out;
  return d;
}

}  // namespace crm::domain::deciders
