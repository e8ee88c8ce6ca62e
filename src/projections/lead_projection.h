// Leads (线索): every lead with its state, owner, pool facts and latest follow-ups.
#ifndef CRM_PROJECTIONS_LEAD_PROJECTION_H_
#define CRM_PROJECTIONS_LEAD_PROJECTION_H_

#include <map>
#include <string>
#include <vector>

#include "domain/policy.h"
#include "projections/projection.h"
#include "projections/row_map.h"
#include "projections/search_index.h"
#include "projections/view_util.h"

namespace crm::projections {

struct LeadFilter {
  std::optional<std::string> state;
  std::optional<std::string> owner_id;
  std::optional<std::string> region;
  std::string q;           // in the name, company, phone or e-mail (SearchQuery)
  bool pool_only = false;  // only leads in the pool
  // Only leads of these owners ("": the pool), walked through the owner index; nullopt:
  // any owner. Narrows what is read, not what is shown: the caller's visibility still
  // decides each row.
  std::optional<std::vector<std::string>> owners;
};

class LeadProjection final : public Projection {
 public:
  LeadProjection() : rows_("leads/row/") {}
  std::string_view name() const override { return "leads"; }
  void Apply(const eventstore::RecordedEvent& event, Topics& touched) override;
  void Flush(LocalBatch& batch) override { rows_.Flush(batch); }
  Status Load(const LocalStore& store) override;
  void Clear() override {
    rows_.Clear();
    owners_.Clear();
    search_.Clear();
    converted_into_.clear();
  }

  const views::LeadRowT* Find(const std::string& id) const { return rows_.Find(id); }
  const std::map<std::string, views::LeadRowT>& rows() const { return rows_.rows(); }
  // Every lead `owner` holds, in any state.
  const std::set<std::string>& OwnedBy(const std::string& owner) const { return owners_.Of(owner); }

  // `visible(owner_id)` tells whether the caller may see a record with that owner ("" =
  // none).
  Page<views::LeadRowT> List(const LeadFilter& filter,
                             const std::function<bool(const std::string&)>& visible,
                             const std::string& cursor, size_t limit) const;

 private:
  void Index(const views::LeadRowT& row) {
    search_.Put(row.id, {row.name, row.company, row.email}, {row.phone});
  }

  RowMap<views::LeadRowT> rows_;
  OwnerIndex owners_;
  SearchIndex search_;
  // The leads converted into each customer: a merge points them at the survivor.
  std::map<std::string, std::vector<std::string>> converted_into_;
};

// Whether a lead counts as owned for capacity and handover.
bool IsOwnedLead(const views::LeadRowT& row);
// When the pool rules will recycle the lead, if ever.
std::optional<Time> RecycleAt(const views::LeadRowT& row, const domain::PoolPolicy& policy);

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_LEAD_PROJECTION_H_
