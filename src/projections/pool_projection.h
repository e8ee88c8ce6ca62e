// The pool's rules and counters: the current policy and each person's claims per
// business day. The items in the pool are the lead and customer rows without owner.
#ifndef CRM_PROJECTIONS_POOL_PROJECTION_H_
#define CRM_PROJECTIONS_POOL_PROJECTION_H_

#include "domain/policy.h"
#include "projections/projection.h"
#include "projections/row_map.h"
#include "projections/view_util.h"

namespace crm::projections {

class PoolProjection final : public Projection {
 public:
  explicit PoolProjection(Seconds utc_offset) : utc_offset_(utc_offset), claims_("pool/claims/") {}
  std::string_view name() const override { return "pool"; }
  void Apply(const eventstore::RecordedEvent& event, Topics& touched) override;
  void Flush(LocalBatch& batch) override;
  Status Load(const LocalStore& store) override;
  void Clear() override;

  const domain::PoolPolicy& policy() const { return policy_; }
  uint64_t policy_version() const { return policy_version_; }
  // Claims `staff_id` made on business day `day`.
  int32_t ClaimsOn(const std::string& staff_id, Date day) const;

 private:
  Seconds utc_offset_;
  domain::PoolPolicy policy_;
  uint64_t policy_version_ = 0;
  int64_t policy_updated_at_ = 0;
  bool policy_dirty_ = false;
  RowMap<views::ClaimCountRowT> claims_;
};

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_POOL_PROJECTION_H_
