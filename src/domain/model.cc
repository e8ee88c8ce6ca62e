#include "domain/model.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "domain/overloaded.h"

namespace crm::domain {
namespace {

const Holdings kNoHoldings;

// Moves ownership of `own` to `owner` at `at`, keeping the holdings index in step.
void MoveOwnership(Model& m, Ownership& own, const OptId& owner, Time at,
                   std::set<Id> Holdings::*set, const Id& record_id) {
  if (own.owner_id && own.owner_id != owner) {
    own.lost_at[*own.owner_id] = at;
  }
  if (own.owner_id) (m.holdings[*own.owner_id].*set).erase(record_id);
  own.owner_id = owner;
  own.owned_since = at;
  if (owner) (m.holdings[*owner].*set).insert(record_id);
}

void MoveLead(Model& m, LeadRecord& lead, const OptId& owner, LeadState state, Time at) {
  MoveOwnership(m, lead.own, owner, at, &Holdings::leads, lead.id);
  lead.state = state;
  if (!owner) lead.own.owned_since = at;
}

void SetLeadState(Model& m, LeadRecord& lead, LeadState state) {
  lead.state = state;
  if (lead.own.owner_id && !IsOwnedState(state)) {
    m.holdings[*lead.own.owner_id].leads.erase(lead.id);
  }
}

void CountClaim(Model& m, const Id& staff, Time at) {
  Date day = BusinessDay(at, m.utc_offset);
  auto& c = m.claims[staff];
  if (c.day != day) c = Model::ClaimDay{day, 0};
  ++c.count;
}

template <class Map>
auto* Find(Map& map, std::string_view id) {
  auto it = map.find(std::string(id));
  return it == map.end() ? nullptr : &it->second;
}

void CloseOpportunity(Model& m, std::string_view id, Stage stage) {
  if (auto* o = Find(m.opportunities, id)) o->stage = stage;
}

// A deal's owner changed (with its customer's): the stream names the opportunity or contract.
void SetDealOwner(Model& m, std::string_view stream, const OptId& owner) {
  if (auto* o = Find(m.opportunities, stream))
    o->owner_id = owner;
  else if (auto* k = Find(m.contracts, stream))
    k->owner_id = owner;
}

// The recycle clocks of one record, as `Model::RecycleClocks` keeps them.
struct Clocks {
  std::optional<Time> follow_up;
  std::optional<Time> owned;
};

Time FollowUpClock(const Ownership& own) {
  return std::max(own.owned_since, own.last_follow_up_at.value_or(own.owned_since));
}

Clocks ClocksOf(const LeadRecord& l) {
  if (!l.own.owner_id || !IsOwnedState(l.state)) return {};
  return {FollowUpClock(l.own), std::nullopt};
}

Clocks ClocksOf(const CustomerRecord& c) {
  if (!c.own.owner_id || c.locked || c.has_signed_contract || c.merged_into) return {};
  return {FollowUpClock(c.own), c.own.owned_since};
}

void Unindex(Model& m, const Id& id, const Clocks& k) {
  if (k.follow_up) m.recycle.by_follow_up.erase({*k.follow_up, id});
  if (k.owned) m.recycle.by_owned.erase({*k.owned, id});
}

void Index(Model& m, const Id& id, const Clocks& k) {
  if (k.follow_up) m.recycle.by_follow_up.emplace(*k.follow_up, id);
  if (k.owned) m.recycle.by_owned.emplace(*k.owned, id);
}

void IndexLeadKeys(Model& m, const LeadRecord& l) {
  for (auto& key : LeadDuplicateKeys(l)) m.lead_by_key[std::move(key)].insert(l.id);
}

void UnindexLeadKeys(Model& m, const LeadRecord& l) {
  for (const auto& key : LeadDuplicateKeys(l)) {
    auto it = m.lead_by_key.find(key);
    if (it == m.lead_by_key.end()) continue;
    it->second.erase(l.id);
    if (it->second.empty()) m.lead_by_key.erase(it);
  }
}

// An edit's new value into a field: text, optional text (absent clears it).
void SetField(const std::vector<FieldChange>& changes, std::string_view field, std::string& out) {
  if (const FieldChange* c = ChangeOf(changes, field)) out = c->new_value.value_or("");
}
void SetField(const std::vector<FieldChange>& changes, std::string_view field, OptText& out) {
  if (const FieldChange* c = ChangeOf(changes, field)) out = c->new_value;
}

}  // namespace

const FieldChange* ChangeOf(const std::vector<FieldChange>& changes, std::string_view field) {
  for (const auto& c : changes) {
    if (c.field == field) return &c;
  }
  return nullptr;
}

std::optional<int64_t> EditedAmount(const std::vector<FieldChange>& changes,
                                    std::string_view field) {
  const FieldChange* c = ChangeOf(changes, field);
  if (!c || !c->new_value) return std::nullopt;
  int64_t amount = 0;
  const std::string& v = *c->new_value;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), amount);
  if (ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
  return amount;
}

std::optional<Date> EditedDate(const std::vector<FieldChange>& changes, std::string_view field) {
  const FieldChange* c = ChangeOf(changes, field);
  if (!c || !c->new_value) return std::nullopt;
  return ParseDate(*c->new_value);
}

std::vector<std::string> LeadDuplicateKeys(const LeadRecord& l) {
  std::vector<std::string> keys;
  if (l.state == LeadState::kVoided || l.state == LeadState::kConverted) return keys;
  if (l.phone_key) keys.push_back("phone:" + *l.phone_key);
  if (l.name_key) keys.push_back("name:" + *l.name_key);
  return keys;
}

OptText PhoneKey(std::string_view phone) {
  size_t start = phone.find_first_not_of(" \t");
  std::string_view p = start == std::string_view::npos ? "" : phone.substr(start);
  bool plus = !p.empty() && p[0] == '+';
  std::string digits;
  for (char c : p) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  if (plus && digits.rfind("86", 0) == 0) {
    digits.erase(0, 2);
  } else if (!plus && digits.rfind("0086", 0) == 0) {
    digits.erase(0, 4);
  }
  if (digits.size() < 5) return std::nullopt;
  return digits;
}

namespace {

void Apply(Model& m, const EventMeta& meta, const Event& event);

}  // namespace

void IndexDerived(Model& m) {
  for (const auto& [id, l] : m.leads) IndexLeadKeys(m, l);

  // Sorted first, then appended: a load costs a sort, not a tree search per record.
  std::vector<std::pair<Time, Id>> follow_up, owned;
  for (const auto& [id, l] : m.leads) {
    if (auto k = ClocksOf(l); k.follow_up) follow_up.emplace_back(*k.follow_up, id);
  }
  for (const auto& [id, c] : m.customers) {
    Clocks k = ClocksOf(c);
    if (k.follow_up) follow_up.emplace_back(*k.follow_up, id);
    if (k.owned) owned.emplace_back(*k.owned, id);
  }
  for (auto* v : {&follow_up, &owned}) std::sort(v->begin(), v->end());
  for (auto& e : follow_up)
    m.recycle.by_follow_up.emplace_hint(m.recycle.by_follow_up.end(), std::move(e));
  for (auto& e : owned) m.recycle.by_owned.emplace_hint(m.recycle.by_owned.end(), std::move(e));
}

// Every event reaches the records it changes through Apply; the one lead or customer whose
// recycle clocks it may move (its stream, or a signed contract's customer) is taken out of
// the index before and put back after.
void Evolve(Model& m, const EventMeta& meta, const Event& event) {
  LeadRecord* lead = nullptr;
  CustomerRecord* customer = nullptr;
  auto find = [&] {
    std::string_view id = meta.stream;
    if (const auto* signed_contract = std::get_if<ContractSigned>(&event))
      id = signed_contract->customer_id;
    switch (KindOfId(id)) {
      case RecordKind::kLead:
        lead = Find(m.leads, id);
        break;
      case RecordKind::kCustomer:
        customer = Find(m.customers, id);
        break;
      case RecordKind::kOther:  // an id without a known prefix: either, or neither
        lead = Find(m.leads, id);
        if (!lead) customer = Find(m.customers, id);
        break;
      default:
        break;
    }
  };
  find();
  if (lead) {
    Unindex(m, lead->id, ClocksOf(*lead));
    UnindexLeadKeys(m, *lead);
  }
  if (customer) Unindex(m, customer->id, ClocksOf(*customer));
  Apply(m, meta, event);
  if (!lead && !customer) find();  // created by this event
  if (lead) {
    Index(m, lead->id, ClocksOf(*lead));
    IndexLeadKeys(m, *lead);
  }
  if (customer) Index(m, customer->id, ClocksOf(*customer));
}

const StaffMember* Model::FindStaff(const Id& id) const {
  auto it = staff.find(id);
  return it == staff.end() ? nullptr : &it->second;
}

const Holdings& Model::HoldingsOf(const Id& staff_id) const {
  auto it = holdings.find(staff_id);
  return it == holdings.end() ? kNoHoldings : it->second;
}

int32_t Model::ClaimsOn(const Id& staff_id, Date day) const {
  auto it = claims.find(staff_id);
  return it == claims.end() || it->second.day != day ? 0 : it->second.count;
}

std::optional<Viewer> Model::ViewerOf(std::string_view actor) const {
  if (actor == kSystemActor) return Viewer{std::string(actor), Role::kAdmin, std::nullopt, true};
  const StaffMember* s = FindStaff(std::string(actor));
  if (!s) return std::nullopt;
  return Viewer{s->id, s->role, s->department_id, false};
}

std::string ContractNumberKey(std::string_view number) {
  std::string out(number);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string InvoiceNumberKey(std::string_view number) { return ContractNumberKey(number); }

std::string EmailKey(std::string_view email) {
  std::string out(email);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

RecordKind KindOfId(std::string_view id) {
  auto starts = [&](std::string_view p) { return id.substr(0, p.size()) == p; };
  if (starts("lead_")) return RecordKind::kLead;
  if (starts("cus_")) return RecordKind::kCustomer;
  if (starts("ctc_")) return RecordKind::kContact;
  if (starts("opp_")) return RecordKind::kOpportunity;
  if (starts("con_")) return RecordKind::kContract;
  if (starts("stf_")) return RecordKind::kStaff;
  if (starts("dep_")) return RecordKind::kDepartment;
  if (starts("inv_")) return RecordKind::kInvoice;
  if (starts("task_")) return RecordKind::kTask;
  return RecordKind::kOther;
}

std::optional<Time> RecycleAt(const PoolPolicy& policy, bool is_customer, bool owned, bool locked,
                              bool has_signed_contract, Time owned_since,
                              std::optional<Time> last_follow_up_at, RecycleRule* rule) {
  if (!owned) return std::nullopt;
  if (is_customer && (locked || has_signed_contract)) return std::nullopt;
  std::optional<Time> at;
  if (policy.recycle_no_follow_up) {
    Time base = std::max(owned_since, last_follow_up_at.value_or(owned_since));
    at = base + *policy.recycle_no_follow_up;
    if (rule) *rule = RecycleRule::kNoFollowUp;
  }
  if (is_customer && policy.recycle_no_deal) {
    Time no_deal = owned_since + *policy.recycle_no_deal;
    if (!at || no_deal < *at) {
      at = no_deal;
      if (rule) *rule = RecycleRule::kNoDeal;
    }
  }
  return at;
}

std::optional<Time> LeadRecycleAt(const LeadRecord& lead, const PoolPolicy& policy) {
  return RecycleAt(policy, false, lead.own.owner_id && IsOwnedState(lead.state), false, false,
                   lead.own.owned_since, lead.own.last_follow_up_at);
}

std::optional<Time> CustomerRecycleAt(const CustomerRecord& c, const PoolPolicy& policy,
                                      RecycleRule* rule) {
  return RecycleAt(policy, true, c.own.owner_id.has_value(), c.locked, c.has_signed_contract,
                   c.own.owned_since, c.own.last_follow_up_at, rule);
}

namespace {

void Apply(Model& m, const EventMeta& meta, const Event& event) {
  const Time at = meta.at;
  const std::string_view stream = meta.stream;
  std::visit(
      overloaded{
          [&](const DepartmentCreated& e) {
            m.departments[e.department_id] = Department{e.department_id, e.name, e.parent_id};
            m.org.AddDepartment(e.department_id, e.parent_id);
          },
          [&](const StaffCreated& e) {
            m.staff[e.staff_id] =
                StaffMember{e.staff_id, e.name, e.email, e.role, e.department_id, e.region, false};
            m.staff_by_email[EmailKey(e.email)] = e.staff_id;
            m.org.SetStaff(e.staff_id, e.role, e.department_id);
          },
          [&](const StaffEdited& e) {
            auto* s = Find(m.staff, stream);
            if (!s) return;
            SetField(e.changes, "name", s->name);
            if (const FieldChange* c = ChangeOf(e.changes, "email")) {
              m.staff_by_email.erase(EmailKey(s->email));
              s->email = c->new_value.value_or("");
              m.staff_by_email[EmailKey(s->email)] = s->id;
            }
            if (const FieldChange* c = ChangeOf(e.changes, "role")) {
              if (auto role = ParseRole(c->new_value.value_or(""))) s->role = *role;
            }
            SetField(e.changes, "department_id", s->department_id);
            SetField(e.changes, "region", s->region);
            m.org.SetStaff(s->id, s->role, s->department_id);
          },
          [&](const DepartmentEdited& e) {
            auto* dep = Find(m.departments, stream);
            if (!dep) return;
            SetField(e.changes, "name", dep->name);
            SetField(e.changes, "parent_id", dep->parent_id);
            m.org.AddDepartment(dep->id, dep->parent_id);
          },
          [&](const StaffDeparted& e) {
            if (auto* s = Find(m.staff, e.staff_id)) s->departed = true;
          },
          [&](const HandoverCompleted&) {},
          [&](const PasswordSet&) {},
          [&](const PoolPolicySet& e) { m.policy = e.policy; },
          [&](const TargetSet&) {},
          [&](const LeadCreated& e) {
            LeadRecord lead;
            lead.id = e.lead_id;
            lead.name = e.name;
            lead.company = e.company;
            lead.phone = e.phone;
            lead.email = e.email;
            lead.source = e.source;
            lead.region = e.region;
            // Logs from before duplicate keys: the phone's key follows from the phone.
            lead.phone_key = e.phone_key ? e.phone_key
                             : e.phone   ? PhoneKey(*e.phone)
                                         : std::nullopt;
            lead.name_key = e.name_key;
            lead.state = e.owner_id ? LeadState::kPending : LeadState::kUnassigned;
            lead.own.owned_since = at;
            lead.own.owner_id = e.owner_id;
            if (e.owner_id) m.holdings[*e.owner_id].leads.insert(e.lead_id);
            m.leads[e.lead_id] = std::move(lead);
          },
          [&](const LeadEdited& e) {
            auto* l = Find(m.leads, stream);
            if (!l) return;
            SetField(e.changes, "name", l->name);
            SetField(e.changes, "company", l->company);
            SetField(e.changes, "phone", l->phone);
            SetField(e.changes, "email", l->email);
            SetField(e.changes, "source", l->source);
            SetField(e.changes, "region", l->region);
            l->phone_key = e.phone_key;
            l->name_key = e.name_key;
          },
          [&](const LeadAssigned& e) {
            if (auto* l = Find(m.leads, stream))
              MoveLead(m, *l, e.owner_id, LeadState::kPending, at);
          },
          [&](const LeadClaimed& e) {
            if (auto* l = Find(m.leads, stream))
              MoveLead(m, *l, e.owner_id, LeadState::kPending, at);
            CountClaim(m, e.owner_id, at);
          },
          [&](const LeadReleased&) {
            if (auto* l = Find(m.leads, stream))
              MoveLead(m, *l, std::nullopt, LeadState::kUnassigned, at);
          },
          [&](const LeadRecycled&) {
            if (auto* l = Find(m.leads, stream))
              MoveLead(m, *l, std::nullopt, LeadState::kUnassigned, at);
          },
          [&](const LeadInvalidated&) {
            if (auto* l = Find(m.leads, stream)) SetLeadState(m, *l, LeadState::kInvalid);
          },
          [&](const LeadVoided&) {
            if (auto* l = Find(m.leads, stream)) SetLeadState(m, *l, LeadState::kVoided);
          },
          [&](const LeadConverted&) {
            if (auto* l = Find(m.leads, stream)) SetLeadState(m, *l, LeadState::kConverted);
          },
          [&](const FollowUpRecorded&) {
            if (auto* l = Find(m.leads, stream)) {
              l->own.last_follow_up_at = at;
              SetLeadState(m, *l, LeadState::kFollowing);
            } else if (auto* c = Find(m.customers, stream)) {
              c->own.last_follow_up_at = at;
            }
          },
          [&](const RecordHandedOver& e) {
            if (auto* l = Find(m.leads, stream)) {
              MoveLead(m, *l, e.owner_id, e.owner_id ? l->state : LeadState::kUnassigned, at);
            } else if (auto* c = Find(m.customers, stream)) {
              MoveOwnership(m, c->own, e.owner_id, at, &Holdings::customers, c->id);
            } else {
              SetDealOwner(m, stream, e.owner_id);
            }
          },
          [&](const DealOwnerChanged& e) { SetDealOwner(m, stream, e.owner_id); },
          [&](const CustomerCreated& e) {
            CustomerRecord c;
            c.id = e.customer_id;
            c.name = e.name;
            c.normalized_name = e.name_key;
            c.region = e.region;
            c.own.owner_id = e.owner_id;
            c.own.owned_since = at;
            m.customer_by_name[e.name_key] = e.customer_id;
            m.customers[e.customer_id] = std::move(c);
            if (e.owner_id) m.holdings[*e.owner_id].customers.insert(e.customer_id);
          },
          [&](const CustomerUpdated& e) {
            auto* c = Find(m.customers, stream);
            if (!c) return;
            if (e.name) c->name = *e.name;
            if (e.name_key) {
              m.customer_by_name.erase(c->normalized_name);
              c->normalized_name = *e.name_key;
              m.customer_by_name[*e.name_key] = c->id;
            }
            if (e.region) c->region = e.region->empty() ? std::nullopt : e.region;
          },
          [&](const CustomerLeadAttached&) {},
          [&](const CustomerClaimed& e) {
            if (auto* c = Find(m.customers, stream))
              MoveOwnership(m, c->own, e.owner_id, at, &Holdings::customers, c->id);
            CountClaim(m, e.owner_id, at);
          },
          [&](const CustomerReleased&) {
            if (auto* c = Find(m.customers, stream))
              MoveOwnership(m, c->own, std::nullopt, at, &Holdings::customers, c->id);
          },
          [&](const CustomerRecycled&) {
            if (auto* c = Find(m.customers, stream))
              MoveOwnership(m, c->own, std::nullopt, at, &Holdings::customers, c->id);
          },
          [&](const CustomerTransferred& e) {
            if (auto* c = Find(m.customers, stream))
              MoveOwnership(m, c->own, e.owner_id, at, &Holdings::customers, c->id);
          },
          [&](const CustomerLocked&) {
            if (auto* c = Find(m.customers, stream)) c->locked = true;
          },
          [&](const CustomerUnlocked&) {
            if (auto* c = Find(m.customers, stream)) c->locked = false;
          },
          [&](const ContactCreated& e) {
            m.contacts[e.contact_id] = ContactRecord{
                e.contact_id, e.customer_id, e.name, e.title, e.phone, e.email, e.decision_maker};
            if (auto* c = Find(m.customers, e.customer_id)) c->contacts.push_back(e.contact_id);
          },
          [&](const RecordMoved& e) {
            auto* from = Find(m.customers, e.from_customer_id);
            auto* into = Find(m.customers, e.customer_id);
            auto move = [&](std::vector<Id> CustomerRecord::*list) {
              if (from) std::erase((from->*list), std::string(stream));
              if (into) (into->*list).emplace_back(stream);
            };
            if (auto* c = Find(m.contacts, stream)) {
              c->customer_id = e.customer_id;
              move(&CustomerRecord::contacts);
            } else if (auto* o = Find(m.opportunities, stream)) {
              o->customer_id = e.customer_id;
              o->owner_id = e.owner_id;
              move(&CustomerRecord::opportunities);
            } else if (auto* k = Find(m.contracts, stream)) {
              k->customer_id = e.customer_id;
              k->owner_id = e.owner_id;
              move(&CustomerRecord::contracts);
            }
          },
          [&](const CustomerMerged& e) {
            auto* c = Find(m.customers, stream);
            if (!c) return;
            c->merged_into = e.into_id;
            if (auto it = m.customer_by_name.find(c->normalized_name);
                it != m.customer_by_name.end() && it->second == c->id) {
              m.customer_by_name.erase(it);
            }
            if (c->own.owner_id) m.holdings[*c->own.owner_id].customers.erase(c->id);
          },
          [&](const CustomerAbsorbed& e) {
            auto* c = Find(m.customers, stream);
            const auto* from = Find(m.customers, e.from_id);
            if (c && from && from->has_signed_contract) c->has_signed_contract = true;
          },
          [&](const ContactEdited& e) {
            auto* c = Find(m.contacts, stream);
            if (!c) return;
            SetField(e.changes, "name", c->name);
            SetField(e.changes, "title", c->title);
            SetField(e.changes, "phone", c->phone);
            SetField(e.changes, "email", c->email);
            if (const FieldChange* d = ChangeOf(e.changes, "decision_maker"))
              c->decision_maker = d->new_value == "true";
          },
          [&](const OpportunityCreated& e) {
            m.opportunities[e.opportunity_id] = OpportunityRecord{
                e.opportunity_id, e.customer_id, e.owner_id, e.stage,
                e.amount,         e.currency,    e.name,     e.expected_close_date};
            if (auto* c = Find(m.customers, e.customer_id))
              c->opportunities.push_back(e.opportunity_id);
          },
          [&](const OpportunityEdited& e) {
            auto* o = Find(m.opportunities, stream);
            if (!o) return;
            SetField(e.changes, "name", o->name);
            SetField(e.changes, "currency", o->currency);
            if (auto amount = EditedAmount(e.changes, "amount")) o->amount = *amount;
            if (auto day = EditedDate(e.changes, "expected_close_date"))
              o->expected_close_date = *day;
          },
          [&](const OpportunityStageChanged& e) {
            if (auto* o = Find(m.opportunities, stream)) o->stage = e.stage;
          },
          [&](const OpportunityWon&) { CloseOpportunity(m, stream, Stage::kWon); },
          [&](const OpportunityLost&) { CloseOpportunity(m, stream, Stage::kLost); },
          [&](const ContractSigned& e) {
            ContractRecord k;
            k.id = e.contract_id;
            k.customer_id = e.customer_id;
            k.signed_by = e.signed_by;
            k.number = e.number;
            k.amount = e.amount;
            k.currency = e.currency;
            k.owner_id = e.owner_id;
            for (const auto& i : e.installments) k.installments.push_back({i.due_on, i.amount, 0});
            m.contracts[e.contract_id] = std::move(k);
            m.contract_by_number[ContractNumberKey(e.number)] = e.contract_id;
            if (auto* c = Find(m.customers, e.customer_id)) {
              c->has_signed_contract = true;
              c->contracts.push_back(e.contract_id);
            }
          },
          [&](const PaymentReceived& e) {
            auto* k = Find(m.contracts, stream);
            if (!k) return;
            k->paid += e.amount;
            ApplyAllocations(e.allocations, 1, k->installments,
                             [](InstallmentRecord& i) -> int64_t& { return i.paid; });
            k->payments.push_back({e.payment_id, e.amount, e.allocations, false});
          },
          [&](const PaymentReversed& e) {
            auto* k = Find(m.contracts, stream);
            if (!k) return;
            k->paid -= e.amount;
            ApplyAllocations(e.allocations, -1, k->installments,
                             [](InstallmentRecord& i) -> int64_t& { return i.paid; });
            for (auto& p : k->payments) {
              if (p.id == e.payment_id) p.reversed = true;
            }
          },
          [&](const InvoiceIssued& e) {
            m.invoices[e.invoice_id] =
                InvoiceRecord{e.invoice_id, e.contract_id, e.number, e.amount, false};
            m.invoice_by_number[InvoiceNumberKey(e.number)] = e.invoice_id;
            if (auto* k = Find(m.contracts, e.contract_id)) k->invoiced += e.amount;
          },
          [&](const TaskCreated& e) {
            m.tasks[e.task_id] = TaskRecord{e.task_id, e.owner_id, false};
          },
          [&](const TaskCompleted&) {
            if (auto* t = Find(m.tasks, stream)) t->done = true;
          },
          [&](const InvoiceVoided&) {
            auto* inv = Find(m.invoices, stream);
            if (!inv || inv->voided) return;
            inv->voided = true;
            if (auto* k = Find(m.contracts, inv->contract_id)) k->invoiced -= inv->amount;
          },
      },
      event);
}

}  // namespace

}  // namespace crm::domain
