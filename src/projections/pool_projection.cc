#include "projections/pool_projection.h"

#include "eventstore/flat_optional.h"

namespace crm::projections {

namespace d = crm::domain;

namespace {

constexpr const char* kPolicyKey = "pool/policy";

}  // namespace

void PoolProjection::Apply(const eventstore::RecordedEvent& ev, Topics& touched) {
  auto count_claim = [&](const std::string& staff) {
    int32_t day = ToDays(BusinessDay(ev.at, utc_offset_));
    auto& row = claims_.Edit(staff);
    if (row.day != day) row.count = 0;
    row.staff_id = staff;
    row.day = day;
    ++row.count;
    touched.insert("pool");
  };
  if (const auto* e = std::get_if<d::PoolPolicySet>(&ev.event)) {
    policy_ = e->policy;
    policy_version_ = ev.version;
    policy_updated_at_ = ToMillis(ev.at);
    policy_dirty_ = true;
    touched.insert("pool");
    touched.insert("policy");  // every customer's recycle_at may move
  } else if (const auto* c = std::get_if<d::LeadClaimed>(&ev.event)) {
    count_claim(c->owner_id);
  } else if (const auto* cc = std::get_if<d::CustomerClaimed>(&ev.event)) {
    count_claim(cc->owner_id);
  }
}

void PoolProjection::Flush(LocalBatch& batch) {
  claims_.Flush(batch);
  if (!policy_dirty_) return;
  views::PolicyRowT row;
  row.recycle_no_follow_up_s = eventstore::ToFlat(policy_.recycle_no_follow_up);
  row.recycle_no_deal_s = eventstore::ToFlat(policy_.recycle_no_deal);
  row.remind_before_s = eventstore::ToFlat(policy_.remind_before);
  row.daily_claim_limit = eventstore::ToFlat(policy_.daily_claim_limit);
  row.previous_owner_block_s = eventstore::ToFlat(policy_.previous_owner_block);
  row.max_owned_customers = eventstore::ToFlat(policy_.max_owned_customers);
  row.max_owned_leads = eventstore::ToFlat(policy_.max_owned_leads);
  row.version = policy_version_;
  row.updated_at = policy_updated_at_;
  batch.Put(kPolicyKey, PackRow(row));
  policy_dirty_ = false;
}

Status PoolProjection::Load(const LocalStore& store) {
  CRM_RETURN_IF_ERROR(claims_.Load(store));
  policy_ = d::PoolPolicy();
  policy_version_ = 0;
  policy_dirty_ = false;
  if (auto bytes = store.Get(kPolicyKey)) {
    views::PolicyRowT row;
    if (!UnpackRow(*bytes, &row)) return Internal("the pool policy row is corrupt");
    policy_.recycle_no_follow_up = eventstore::SecondsFromFlat(row.recycle_no_follow_up_s);
    policy_.recycle_no_deal = eventstore::SecondsFromFlat(row.recycle_no_deal_s);
    policy_.remind_before = eventstore::SecondsFromFlat(row.remind_before_s);
    policy_.daily_claim_limit = eventstore::FromFlat(row.daily_claim_limit);
    policy_.previous_owner_block = eventstore::SecondsFromFlat(row.previous_owner_block_s);
    policy_.max_owned_customers = eventstore::FromFlat(row.max_owned_customers);
    policy_.max_owned_leads = eventstore::FromFlat(row.max_owned_leads);
    policy_version_ = row.version;
    policy_updated_at_ = row.updated_at;
  }
  return Status::Ok();
}

void PoolProjection::Clear() {
  claims_.Clear();
  policy_ = d::PoolPolicy();
  policy_version_ = 0;
  policy_updated_at_ = 0;
  policy_dirty_ = false;
}

int32_t PoolProjection::ClaimsOn(const std::string& staff_id, Date day) const {
  const auto* row = claims_.Find(staff_id);
  return row && row->day == ToDays(day) ? row->count : 0;
}

}  // namespace crm::projections
