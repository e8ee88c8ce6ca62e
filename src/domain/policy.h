// The pool (公海) policy: which rules are on and their limits. Every rule may be off.
#ifndef CRM_DOMAIN_POLICY_H_
#define CRM_DOMAIN_POLICY_H_

#include <cstdint>
#include <optional>

#include "domain/time.h"

namespace crm::domain {

struct PoolPolicy {
  // Recycle an owned lead or customer with no follow-up since max(last follow-up, the
  // moment it was claimed or assigned).
  std::optional<Seconds> recycle_no_follow_up = std::nullopt;
  // Recycle an owned customer with no signed contract this long after claim/assignment.
  std::optional<Seconds> recycle_no_deal = std::nullopt;
  // Items due for recycling within this window are listed as warnings.
  std::optional<Seconds> remind_before = std::nullopt;
  // Claims per person per business day.
  std::optional<int32_t> daily_claim_limit = std::nullopt;
  // A previous owner may not reclaim an item within this long of losing it.
  std::optional<Seconds> previous_owner_block = std::nullopt;
  std::optional<int32_t> max_owned_customers = std::nullopt;
  std::optional<int32_t> max_owned_leads = std::nullopt;

  bool operator==(const PoolPolicy&) const = default;
};

}  // namespace crm::domain

#endif  // CRM_DOMAIN_POLICY_H_
