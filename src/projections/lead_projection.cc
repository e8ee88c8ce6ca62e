#include "projections/lead_projection.h"

#include "domain/model.h"
#include "domain/overloaded.h"

namespace crm::projections {

namespace d = crm::domain;

namespace {

void ToPool(views::LeadRowT& row, const eventstore::RecordedEvent& ev, d::PoolReason reason) {
  row.previous_owner_id = row.owner_id;
  row.owner_id.clear();
  row.state = std::string(d::Name(d::LeadState::kUnassigned));
  row.pool_since = ToMillis(ev.at);
  row.pool_reason = std::string(d::Name(reason));
  row.owned_since = 0;
}

void ToOwner(views::LeadRowT& row, const eventstore::RecordedEvent& ev, const std::string& owner) {
  row.owner_id = owner;
  row.owned_since = ToMillis(ev.at);
  row.pool_since = 0;
  row.pool_reason.clear();
}

}  // namespace

bool IsOwnedLead(const views::LeadRowT& row) {
  auto s = d::ParseLeadState(row.state);
  return !row.owner_id.empty() && s && d::IsOwnedState(*s);
}

std::optional<Time> RecycleAt(const views::LeadRowT& row, const d::PoolPolicy& policy) {
  return d::RecycleAt(policy, false, IsOwnedLead(row), false, false, FromMillis(row.owned_since),
                      OptTime(row.last_follow_up_at));
}

void LeadProjection::Apply(const eventstore::RecordedEvent& ev, Topics& touched) {
  if (const auto* e = std::get_if<d::CustomerMerged>(&ev.event)) {
    // The leads converted into the merged customer now lead to the survivor.
    auto from = converted_into_.find(ev.stream);
    if (from == converted_into_.end()) return;
    std::vector<std::string> ids = std::move(from->second);
    converted_into_.erase(from);
    for (const auto& id : ids) {
      if (auto* row = rows_.EditExisting(id)) row->customer_id = e->into_id;
      touched.insert("lead:" + id);
    }
    auto& into = converted_into_[e->into_id];
    into.insert(into.end(), ids.begin(), ids.end());
    return;
  }
  if (d::KindOfId(ev.stream) != d::RecordKind::kLead) return;
  views::LeadRowT* row = nullptr;
  if (const auto* e = std::get_if<d::LeadCreated>(&ev.event)) {
    row = &rows_.Edit(e->lead_id);
    row->id = e->lead_id;
    row->name = e->name;
    row->company = e->company;
    row->phone = OrEmpty(e->phone);
    row->email = OrEmpty(e->email);
    row->source = OrEmpty(e->source);
    row->region = OrEmpty(e->region);
    row->created_at = ToMillis(ev.at);
    row->created_by = ev.actor;
    row->created_position = ev.position;
    row->duplicate_of = OrEmpty(e->duplicate_of);
    if (e->owner_id) {
      row->state = std::string(d::Name(d::LeadState::kPending));
      ToOwner(*row, ev, *e->owner_id);
    } else {
      row->state = std::string(d::Name(d::LeadState::kUnassigned));
      row->pool_since = ToMillis(ev.at);
      row->pool_reason = std::string(d::Name(d::PoolReason::kCreated));
    }
  } else {
    row = rows_.EditExisting(ev.stream);
    if (!row) return;
  }
  const std::string owner_before = row->owner_id;
  std::visit(overloaded{
                 [&](const d::LeadAssigned& e) {
                   row->state = std::string(d::Name(d::LeadState::kPending));
                   ToOwner(*row, ev, e.owner_id);
                 },
                 [&](const d::LeadClaimed& e) {
                   row->state = std::string(d::Name(d::LeadState::kPending));
                   ToOwner(*row, ev, e.owner_id);
                 },
                 [&](const d::LeadReleased& e) {
                   ToPool(*row, ev, d::PoolReason::kReleased);
                   row->state_reason = e.reason;
                 },
                 [&](const d::LeadRecycled&) { ToPool(*row, ev, d::PoolReason::kRecycled); },
                 [&](const d::RecordHandedOver& e) {
                   if (e.owner_id)
                     ToOwner(*row, ev, *e.owner_id);
                   else
                     ToPool(*row, ev, d::PoolReason::kHandover);
                 },
                 [&](const d::FollowUpRecorded& e) {
                   PushFollowUp(row->follow_ups, e, ev);
                   ++row->follow_up_count;
                   row->last_follow_up_at = ToMillis(ev.at);
                   row->next_follow_up_at = e.next_at ? ToMillis(*e.next_at) : 0;
                   row->state = std::string(d::Name(d::LeadState::kFollowing));
                 },
                 [&](const d::LeadInvalidated& e) {
                   row->state = std::string(d::Name(d::LeadState::kInvalid));
                   row->state_reason = e.reason;
                 },
                 [&](const d::LeadVoided& e) {
                   row->state = std::string(d::Name(d::LeadState::kVoided));
                   row->state_reason = e.reason;
                 },
                 [&](const d::LeadEdited& e) {
                   SetEdited(e.changes, "name", row->name);
                   SetEdited(e.changes, "company", row->company);
                   SetEdited(e.changes, "phone", row->phone);
                   SetEdited(e.changes, "email", row->email);
                   SetEdited(e.changes, "source", row->source);
                   SetEdited(e.changes, "region", row->region);
                   if (e.duplicate_of) row->duplicate_of = *e.duplicate_of;
                 },
                 [&](const d::LeadConverted& e) {
                   row->state = std::string(d::Name(d::LeadState::kConverted));
                   row->customer_id = e.customer_id;
                   converted_into_[e.customer_id].push_back(row->id);
                   row->contact_id = OrEmpty(e.contact_id);
                   row->opportunity_id = OrEmpty(e.opportunity_id);
                 },
                 [](const auto&) {},
             },
             ev.event);
  row->version = ev.version;
  row->updated_at = ToMillis(ev.at);
  if (std::holds_alternative<d::LeadCreated>(ev.event)) {
    owners_.Move(row->id, "", row->owner_id);
  } else if (owner_before != row->owner_id) {
    owners_.Move(row->id, owner_before, row->owner_id);
  }
  Index(*row);
  touched.insert("lead:" + row->id);
  touched.insert("pool");
  touched.insert("dashboard");
}

Status LeadProjection::Load(const LocalStore& store) {
  CRM_RETURN_IF_ERROR(rows_.Load(store));
  owners_.Clear();
  search_.Clear();
  converted_into_.clear();
  for (const auto& [id, row] : rows_.rows()) {
    owners_.Move(id, "", row.owner_id);
    Index(row);
    if (!row.customer_id.empty()) converted_into_[row.customer_id].push_back(id);
  }
  return Status::Ok();
}

Page<views::LeadRowT> LeadProjection::List(const LeadFilter& f,
                                           const std::function<bool(const std::string&)>& visible,
                                           const std::string& cursor, size_t limit) const {
  std::function<bool(const views::LeadRowT&)> keep = [&](const views::LeadRowT& r) {
    if (f.state && r.state != *f.state) return false;
    if (f.pool_only && !(r.owner_id.empty() && r.state == "unassigned")) return false;
    if (f.region && r.region != *f.region) return false;
    return visible(r.owner_id);
  };
  return PageOfList(owners_.SetsFor(f.owner_id, f.pool_only, f.owners), search_, SearchQuery(f.q),
                    rows_.rows(), cursor, limit, keep);
}

}  // namespace crm::projections
