// The dashboard of API.md ("Targets and dashboards"), kept as figures per person so that
// a request sums the people in its scope and never walks records: its cost grows with
// the people in scope, not with leads, customers or contracts.
//
//  - Period figures, per (month, person) rows folded from events by business date (at the
//    configured UTC offset for events, by signed_on and received_on for contracts and
//    payments): leads created (credited to their first owner), assigned (the new owner),
//    converted (the lead's owner), pool claims (the claimer) and recycles (the previous
//    owner); contracts signed and payments received, both credited to the contract's
//    signed_by, which no handover moves. Persisted with the checkpoint.
//  - State figures, per owner now: leads by state, opportunities by stage, receivables
//    (outstanding, and unpaid amounts by due day for what is overdue on any day asked).
//    Each record's contribution is taken from the lead and customer projections' rows,
//    which the runner applies before this one, and remembered, so a change of owner,
//    state, stage or payment moves exactly that record's part. Not persisted: Load
//    derives it again from those projections' rows.
//  - Targets per (month, person) and (month, department).
// Records nobody owns (the pool) count under the person "".
#ifndef CRM_PROJECTIONS_DASHBOARD_PROJECTION_H_
#define CRM_PROJECTIONS_DASHBOARD_PROJECTION_H_

#include <array>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/time.h"
#include "projections/customer_projection.h"
#include "projections/lead_projection.h"
#include "projections/projection.h"
#include "projections/row_map.h"
#include "projections/sharded_map.h"
#include "schemas/views_generated.h"

namespace crm::projections {

using Money = std::map<std::string, int64_t>;  // currency → amount

inline constexpr std::array<const char*, 6> kLeadStates = {"unassigned", "pending",   "following",
                                                           "invalid",    "converted", "voided"};
inline constexpr size_t kStageCount = 6;  // domain::Stage, in its order

// Figures summed over a scope, as the dashboard shows them.
struct DashboardFigures {
  // For the period.
  int64_t leads_created = 0, leads_assigned = 0, leads_converted = 0;
  int64_t claimed = 0, recycled = 0;
  int64_t contracts_signed = 0;
  Money contract_amount;
  int64_t payments = 0;
  Money received;  // net: a reversal counts, negative, in its own period
  // Now.
  std::array<int64_t, kLeadStates.size()> leads_by_state{};
  int64_t pool_leads = 0, pool_customers = 0;
  struct Stage {
    int64_t count = 0;
    Money amount, weighted;
  };
  std::array<Stage, kStageCount> by_stage{};
  Money forecast;  // weighted amounts of the open stages
  Money outstanding, overdue;
};

class DashboardProjection final : public Projection {
 public:
  // `leads` and `customers` run before this projection in the same runner; not owned.
  DashboardProjection(const LeadProjection& leads, const CustomerProjection& customers,
                      Seconds utc_offset);

  std::string_view name() const override { return "dashboard"; }
  void Apply(const eventstore::RecordedEvent& event, Topics& touched) override;
  void Flush(LocalBatch& batch) override;
  Status Load(const LocalStore& store) override;
  bool LoadsFromEarlier() const override { return true; }
  void Clear() override;

  // The figures of `people` ("" for the records nobody owns) for `period`, with what is
  // overdue on `today`.
  DashboardFigures Sum(const Period& period, const std::vector<std::string>& people,
                       Date today) const;
  // One person's period row, or nullptr when they did nothing that month.
  const views::DashboardPeriodRowT* PeriodOf(const Period& period, const std::string& staff) const;
  // The person's target for the period, or nullptr.
  const views::TargetRowT* TargetOf(const Period& period, const std::string& staff) const;

 private:
  // What one record adds to its owner's state figures.
  struct Part {
    std::string owner;
    int lead_state = -1;  // index in kLeadStates, for a lead
    bool pool_customer = false;
    int stage = -1;  // for an opportunity
    std::string currency;
    int64_t amount = 0;                               // an opportunity's amount
    int64_t outstanding = 0;                          // a contract's
    std::vector<std::pair<int32_t, int64_t>> unpaid;  // a contract's (due day, unpaid)
  };
  struct OwnerState {
    std::array<int64_t, kLeadStates.size()> leads{};
    int64_t pool_customers = 0;
    DashboardFigures::Stage stages[kStageCount];
    Money outstanding;
    std::map<int32_t, Money> unpaid_by_due;  // due day → unpaid
  };

  void Recount(const std::string& record);
  void Add(const Part& part, int sign);
  Part PartOf(const std::string& record) const;
  views::DashboardPeriodRowT& PeriodRow(const Period& period, const std::string& staff);
  Period PeriodOfTime(Time t) const;

  const LeadProjection& leads_;
  const CustomerProjection& customers_;
  Seconds utc_offset_;
  RowMap<views::DashboardPeriodRowT> periods_;  // "<YYYY-MM>/<staff>"
  RowMap<views::TargetRowT> targets_;           // "<YYYY-MM>/s/<staff>", "<YYYY-MM>/d/<dept>"
  ShardedHashMap<std::string, Part> parts_;     // record id → its contribution now
  std::unordered_map<std::string, OwnerState> owners_;
};

// Adds `amount` of `currency` to a money list.
void AddMoney(std::vector<std::unique_ptr<views::MoneyRowT>>& list, const std::string& currency,
              int64_t amount);

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_DASHBOARD_PROJECTION_H_
