// The lead (线索) lifecycle: create, assign, auto-assign, claim, release, follow up,
// invalidate, void, convert.
#include <algorithm>
#include <cctype>
#include <map>

#include "domain/deciders.h"
#include "domain/rules.h"

namespace crm::domain::deciders {

using rules::CheckAssignee;
using rules::CheckCapacity;
using rules::Describe;
using rules::RequireEditor;
using rules::RequireRole;
using rules::Single;
using rules::VisibleLead;

Result<OptId> CreationOwner(const Model& m, const Viewer& v, const OptId& requested,
                            bool customer) {
  if (v.role == Role::kSales) {
    if (requested && *requested != v.id) {
      return Forbidden("a sales rep creates records for themselves");
    }
    return OptId(v.id);
  }
  if (!requested) return OptId();
  CRM_RETURN_IF_ERROR(CheckAssignee(m, v, *requested, "owner_id"));
  if (*requested != v.id) {
    CRM_RETURN_IF_ERROR(CheckCapacity(m, *requested, customer ? 0 : 1, customer ? 1 : 0));
  }
  return requested;
}

namespace {

bool Assignable(LeadState s) { return s != LeadState::kConverted && s != LeadState::kVoided; }

}  // namespace

CRM_DECIDER(CreateLead) {
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin, Role::kManager, Role::kSales}, "create leads"));
  CRM_ASSIGN_OR_RETURN(OptId owner, CreationOwner(m, v, c.owner_id, false));
  rules::LeadKeys keys = rules::KeysOf(ctx, c.phone, c.company, c.name);
  LeadRecord lead;
  lead.id = c.lead_id;
  lead.phone_key = keys.phone_key;
  lead.name_key = keys.name_key;
  OptId duplicate_of;
  std::vector<std::string> held = LeadDuplicateKeys(lead);
  if (const LeadRecord* twin = rules::FindDuplicate(m, held, c.lead_id)) {
    if (!c.allow_duplicate) return rules::DuplicateLead(*twin, held);
    duplicate_of = twin->id;
  }
  Decision d =
      Single(c.lead_id, LeadCreated{c.lead_id, c.name, c.company, c.phone, c.email, c.source,
                                    c.region, owner, keys.phone_key, keys.name_key, duplicate_of});
  rules::IndexLeadKeys(m, nullptr, &lead, d);
  return d;
}

CRM_DECIDER(ImportLeads) {
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin, Role::kManager, Role::kSales}, "import leads"));
  if (c.leads.size() > kMaxImportRows) {
    return InvalidField("rows", "at most " + std::to_string(kMaxImportRows) + " rows per import");
  }
  Decision d;
  ImportOutcome out;
  std::map<std::string, Id> earlier;  // the duplicate keys of the rows taken so far
  for (const CreateLead& row : c.leads) {
    ImportRowOutcome& o = out.rows.emplace_back();
    CreateLead one = row;
    one.allow_duplicate = false;
    auto decided = DecideFor(m, v, ctx, one);
    if (!decided.ok()) {
      if (decided.error().code == "duplicate_lead") {
        o.duplicate_of = decided.error().existing_id;
      } else {
        o.refusal = std::move(decided).error();
      }
      continue;
    }
    const auto& created = std::get<LeadCreated>(decided->events.front().event);
    LeadRecord lead;
    lead.id = row.lead_id;
    lead.phone_key = created.phone_key;
    lead.name_key = created.name_key;
    std::vector<std::string> keys = LeadDuplicateKeys(lead);
    for (const auto& key : keys) {
      if (auto it = earlier.find(key); it != earlier.end()) o.duplicate_of = it->second;
    }
    if (o.duplicate_of) continue;
    for (auto& key : keys) earlier.emplace(std::move(key), row.lead_id);
    o.created = row.lead_id;
    ++out.created;
    if (c.dry_run) continue;
    // Its keys are free in the model and among earlier rows, so its index entries (first
    // live lead of each key) stand as they are.
    for (auto& e : decided->events) d.events.push_back(std::move(e));
    for (auto& k : decided->unique_keys) d.unique_keys.push_back(std::move(k));
  }
  d.outcome = std::move(out);
  return d;
}

CRM_DECIDER(EditLead) {
  CRM_ASSIGN_OR_RETURN(const LeadRecord* lead, VisibleLead(m, v, c.lead_id));
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, lead->own.owner_id, "edit a lead"));
  if (lead->state == LeadState::kConverted || lead->state == LeadState::kVoided) {
    return InvalidTransition(Describe(lead->state));
  }
  std::vector<FieldChange> changes;
  rules::Diff(changes, "name", lead->name, c.name);
  rules::Diff(changes, "company", lead->company, c.company);
  rules::Diff(changes, "phone", lead->phone, c.phone);
  rules::Diff(changes, "email", lead->email, c.email);
  rules::Diff(changes, "source", lead->source, c.source);
  rules::Diff(changes, "region", lead->region, c.region);
  Decision d;
  d.primary = c.lead_id;
  if (changes.empty()) return d;

  LeadRecord after = *lead;
  after.name = rules::Edited(lead->name, c.name).value_or("");
  after.company = rules::Edited(lead->company, c.company).value_or("");
  after.phone = rules::Edited(lead->phone, c.phone);
  rules::LeadKeys keys = rules::KeysOf(ctx, after.phone, after.company, after.name);
  after.phone_key = keys.phone_key;
  after.name_key = keys.name_key;
  // Only keys the lead did not have before are checked: a duplicate accepted earlier
  // stays accepted through edits of other fields. "Before" is what its fields gave, not
  // what it stored: a lead logged before duplicate keys stored no name key.
  LeadRecord was = *lead;
  rules::LeadKeys old_keys = rules::KeysOf(ctx, lead->phone, lead->company, lead->name);
  was.phone_key = old_keys.phone_key;
  was.name_key = old_keys.name_key;
  std::vector<std::string> before = LeadDuplicateKeys(was), fresh;
  for (auto& key : LeadDuplicateKeys(after)) {
    if (std::find(before.begin(), before.end(), key) == before.end()) fresh.push_back(key);
  }
  OptId duplicate_of;
  if (const LeadRecord* twin = rules::FindDuplicate(m, fresh, c.lead_id)) {
    if (!c.allow_duplicate) return rules::DuplicateLead(*twin, fresh);
    duplicate_of = twin->id;
  }
  d.events.push_back(
      {c.lead_id, LeadEdited{std::move(changes), keys.phone_key, keys.name_key, duplicate_of}});
  rules::IndexLeadKeys(m, lead, &after, d);
  return d;
}

CRM_DECIDER(AssignLead) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const LeadRecord* lead, VisibleLead(m, v, c.lead_id));
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin, Role::kManager}, "assign leads"));
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, lead->own.owner_id, "reassign a lead"));
  if (!Assignable(lead->state)) return InvalidTransition(Describe(lead->state));
  CRM_RETURN_IF_ERROR(CheckAssignee(m, v, c.owner_id, "owner_id"));
  if (lead->own.owner_id != c.owner_id || !IsOwnedState(lead->state)) {
    CRM_RETURN_IF_ERROR(CheckCapacity(m, c.owner_id, 1, 0));
  }
  return Single(c.lead_id, LeadAssigned{c.owner_id, lead->own.owner_id, AssignStrategy::kManual});
}

CRM_DECIDER(AutoAssignLeads) {
  (void)ctx;
  CRM_RETURN_IF_ERROR(RequireRole(v, {Role::kAdmin, Role::kManager}, "assign leads"));
  // The people, in the order given, without repeats.
  std::vector<const StaffMember*> people;
  for (size_t i = 0; i < c.staff_ids.size(); ++i) {
    const Id& id = c.staff_ids[i];
    bool seen = std::any_of(people.begin(), people.end(),
                            [&](const StaffMember* p) { return p->id == id; });
    if (seen) continue;
    CRM_ASSIGN_OR_RETURN(const StaffMember* s,
                         CheckAssignee(m, v, id, "staff_ids[" + std::to_string(i) + "]"));
    people.push_back(s);
  }
  if (people.empty()) return InvalidField("staff_ids", "name at least one person");

  std::vector<const LeadRecord*> leads;
  if (c.lead_ids) {
    for (const Id& id : *c.lead_ids) {
      CRM_ASSIGN_OR_RETURN(const LeadRecord* lead, VisibleLead(m, v, id));
      CRM_RETURN_IF_ERROR(RequireEditor(m, v, lead->own.owner_id, "reassign a lead"));
      if (!Assignable(lead->state)) return InvalidTransition(id + ": " + Describe(lead->state));
      if (std::find(leads.begin(), leads.end(), lead) == leads.end()) leads.push_back(lead);
    }
  } else {
    for (const auto& [id, lead] : m.leads) {
      if (lead.state == LeadState::kUnassigned) leads.push_back(&lead);
    }
  }

  // Current load per person, kept up to date as leads are handed out.
  std::map<Id, size_t> load;
  for (const StaffMember* p : people) load[p->id] = m.HoldingsOf(p->id).leads.size();
  const auto& cap = m.policy.max_owned_leads;
  auto has_room = [&](const StaffMember* p) {
    return !cap || load[p->id] < static_cast<size_t>(*cap);
  };
  auto least_loaded = [&](auto&& eligible) -> const StaffMember* {
    const StaffMember* best = nullptr;
    for (const StaffMember* p : people) {
      if (!eligible(p) || !has_room(p)) continue;
      if (!best || load[p->id] < load[best->id]) best = p;
    }
    return best;
  };

  Decision d;
  AutoAssignOutcome out;
  size_t next = 0;  // round-robin cursor
  bool refused_for_capacity = false;
  for (const LeadRecord* lead : leads) {
    const StaffMember* chosen = nullptr;
    switch (c.strategy) {
      case AssignStrategy::kRoundRobin:
        for (size_t k = 0; k < people.size() && !chosen; ++k) {
          const StaffMember* p = people[(next + k) % people.size()];
          if (has_room(p)) {
            chosen = p;
            next = (next + k + 1) % people.size();
          }
        }
        break;
      case AssignStrategy::kLeastLoaded:
      case AssignStrategy::kManual:
        chosen = least_loaded([](const StaffMember*) { return true; });
        break;
      case AssignStrategy::kRegion: {
        if (!lead->region) break;
        std::string want = LowerAscii(*lead->region);
        auto same_region = [&](const StaffMember* p) {
          return p->region && LowerAscii(*p->region) == want;
        };
        chosen = least_loaded(same_region);
        if (!chosen && std::any_of(people.begin(), people.end(), same_region)) {
          refused_for_capacity = true;
        }
        break;
      }
    }
    if (!chosen) {
      if (c.strategy != AssignStrategy::kRegion) refused_for_capacity = true;
      out.unassigned.push_back(lead->id);
      continue;
    }
    if (lead->own.owner_id && load.count(*lead->own.owner_id)) --load[*lead->own.owner_id];
    ++load[chosen->id];
    d.events.push_back({lead->id, LeadAssigned{chosen->id, lead->own.owner_id, c.strategy}});
    out.assignments.push_back({lead->id, chosen->id});
  }
  if (out.assignments.empty() && refused_for_capacity) {
    return RuleRefused("capacity_reached", "everyone listed owns as many leads as allowed");
  }
  d.outcome = std::move(out);
  return d;
}

CRM_DECIDER(ClaimLead) {
  CRM_ASSIGN_OR_RETURN(const LeadRecord* lead, VisibleLead(m, v, c.lead_id));
  if (!CanOwnRecords(v.role)) {
    return Forbidden("the " + std::string(Name(v.role)) + " role may not claim leads");
  }
  if (lead->state == LeadState::kConverted || lead->state == LeadState::kVoided) {
    return InvalidTransition(Describe(lead->state));
  }
  if (lead->state != LeadState::kUnassigned) {
    return RuleRefused("not_in_pool", "the lead is owned by " + lead->own.owner_id.value_or("?"));
  }
  CRM_RETURN_IF_ERROR(rules::CheckClaim(m, ctx, v, lead->own, false));
  return Single(c.lead_id, LeadClaimed{v.id});
}

CRM_DECIDER(ReleaseLead) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const LeadRecord* lead, VisibleLead(m, v, c.lead_id));
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, lead->own.owner_id, "release a lead"));
  if (!IsOwnedState(lead->state) || !lead->own.owner_id) {
    return InvalidTransition(Describe(lead->state));
  }
  return Single(c.lead_id, LeadReleased{*lead->own.owner_id, c.reason});
}

CRM_DECIDER(FollowUpLead) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const LeadRecord* lead, VisibleLead(m, v, c.lead_id));
  if (lead->own.owner_id != v.id) return Forbidden("only the lead's owner records follow-ups");
  if (!IsOwnedState(lead->state)) return InvalidTransition(Describe(lead->state));
  Decision d = Single(c.lead_id, FollowUpRecorded{c.follow_up_id, c.channel, c.note, c.next_at});
  d.created = c.follow_up_id;
  return d;
}

CRM_DECIDER(InvalidateLead) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const LeadRecord* lead, VisibleLead(m, v, c.lead_id));
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, lead->own.owner_id, "invalidate a lead"));
  if (lead->state != LeadState::kPending && lead->state != LeadState::kFollowing) {
    return InvalidTransition(Describe(lead->state));
  }
  return Single(c.lead_id, LeadInvalidated{c.reason});
}

CRM_DECIDER(VoidLead) {
  (void)ctx;
  CRM_ASSIGN_OR_RETURN(const LeadRecord* lead, VisibleLead(m, v, c.lead_id));
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, lead->own.owner_id, "void a lead"));
  if (lead->state == LeadState::kConverted || lead->state == LeadState::kVoided) {
    return InvalidTransition(Describe(lead->state));
  }
  Decision d = Single(c.lead_id, LeadVoided{c.reason});
  rules::IndexLeadKeys(m, lead, nullptr, d);  // a voided lead is nobody's duplicate
  return d;
}

CRM_DECIDER(ConvertLead) {
  CRM_ASSIGN_OR_RETURN(const LeadRecord* lead, VisibleLead(m, v, c.lead_id));
  CRM_RETURN_IF_ERROR(RequireEditor(m, v, lead->own.owner_id, "convert a lead"));
  if (lead->state != LeadState::kPending && lead->state != LeadState::kFollowing) {
    return InvalidTransition(Describe(lead->state));
  }
  const OptId& owner = lead->own.owner_id;
  Decision d;
  d.primary = c.lead_id;
  ConversionOutcome out;

  // The customer: named, matched by normalised name, or new. A customer in the pool takes
  // nothing until it is claimed or assigned.
  const CustomerRecord* existing = nullptr;
  std::string name_key;
  if (c.customer_id) {
    auto found = rules::VisibleCustomer(m, v, *c.customer_id);
    if (!found.ok()) return InvalidField("customer_id", "unknown customer");
    existing = *found;
    CRM_RETURN_IF_ERROR(rules::RequireOwnedCustomer(*existing));
  } else {
    std::string name = c.customer && c.customer->name ? *c.customer->name : lead->company;
    name_key = ctx.normalize_name(name);
    auto it = m.customer_by_name.find(name_key);
    if (it != m.customer_by_name.end()) {
      const CustomerRecord& match = m.customers.at(it->second);
      if (!match.own.owner_id || !CanSee(m.org, v, match.own.owner_id)) {
        return rules::DuplicateCustomer(match);
      }
      existing = &match;
    }
  }
  // The opportunity belongs to the customer, and so does its owner.
  const OptId& customer_owner = existing ? existing->own.owner_id : owner;
  if (existing) {
    out.customer_id = existing->id;
    d.events.push_back({existing->id, CustomerLeadAttached{c.lead_id}});
  } else {
    if (owner) CRM_RETURN_IF_ERROR(CheckCapacity(m, *owner, 0, 1));
    CustomerDetails details = c.customer.value_or(CustomerDetails{});
    CustomerCreated created;
    created.customer_id = c.new_customer_id;
    created.name = details.name.value_or(lead->company);
    created.industry = details.industry;
    created.region = details.region ? details.region : lead->region;
    created.level = details.level;
    created.phone = details.phone;
    created.address = details.address;
    created.owner_id = owner;
    created.source_lead_id = c.lead_id;
    created.name_key = name_key;
    d.events.push_back({c.new_customer_id, std::move(created)});
    d.unique_keys.push_back({std::string(kCustomerNameScope), name_key, c.new_customer_id});
    out.customer_id = c.new_customer_id;
    out.customer_created = true;
  }
  if (c.contact) {
    const ContactDetails& k = *c.contact;
    d.events.push_back(
        {c.new_contact_id, ContactCreated{c.new_contact_id, out.customer_id, k.name, k.title,
                                          k.phone, k.email, k.decision_maker}});
    out.contact_id = c.new_contact_id;
  }
  if (c.opportunity) {
    const OpportunityDetails& o = *c.opportunity;
    Stage stage = o.stage.value_or(Stage::kQualification);
    if (!IsOpen(stage)) return InvalidField("opportunity.stage", "a new opportunity is open");
    d.events.push_back(
        {c.new_opportunity_id,
         OpportunityCreated{c.new_opportunity_id, out.customer_id, o.name, o.amount, o.currency,
                            o.expected_close_date, stage, customer_owner, c.lead_id}});
    out.opportunity_id = c.new_opportunity_id;
  }
  d.events.push_back({c.lead_id, LeadConverted{out.customer_id, out.customer_created,
                                               out.contact_id, out.opportunity_id}});
  rules::IndexLeadKeys(m, lead, nullptr, d);  // nor is a converted one
  d.outcome = out;
  return d;
}

}  // namespace crm::domain::deciders
