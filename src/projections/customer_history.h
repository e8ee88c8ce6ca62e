// The past of each customer, for "as of" views that cost the same however long the
// customer's history is. Every kSnapshotEvery events of a customer's streams (the
// customer's own and its contacts', opportunities' and contracts'), this projection keeps
// a snapshot of the customer's 360 rows right after that event. The view as of position
// P is then the latest snapshot at or before P, plus the customer's events after it up
// to P: fewer than kSnapshotEvery of them, read by position, never the whole history.
// A merge (CustomerAbsorbed) is snapshotted too, so that no replay crosses it.
//
// Keys: "history/<customer id>/<u64 position, big-endian>" → views::CustomerSnapshot.
// Runs after the CustomerProjection in the same runner, whose rows it reads: they are
// exactly the view at the event being applied.
#ifndef CRM_PROJECTIONS_CUSTOMER_HISTORY_H_
#define CRM_PROJECTIONS_CUSTOMER_HISTORY_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/policy.h"
#include "projections/customer_projection.h"
#include "projections/projection.h"

namespace crm::projections {

class CustomerHistoryProjection final : public Projection {
 public:
  static constexpr uint64_t kSnapshotEvery = 256;

  // `customers` is the live projection, applied before this one; `store` is read by
  // Latest(). Neither is owned.
  CustomerHistoryProjection(const CustomerProjection& customers, const LocalStore* store);

  std::string_view name() const override { return "history"; }
  bool ServedFromStore() const override { return true; }
  void Apply(const eventstore::RecordedEvent& event, Topics& touched) override;
  void Flush(LocalBatch& batch) override;
  Status Load(const LocalStore& store) override;
  void Clear() override;

  // The latest stored snapshot of the customer at or before `position`: (its position,
  // its bytes). Reads the local store only; thread-safe, no lock needed.
  std::optional<std::pair<uint64_t, std::string>> Latest(const std::string& customer_id,
                                                         uint64_t position) const;

 private:
  const CustomerProjection& customers_;
  const LocalStore* store_;
  std::vector<std::pair<std::string, std::string>> pending_;
};

// A customer as it was at a log position.
struct CustomerThen {
  CustomerProjection rows;    // the customer and its records, folded up to the position
  domain::PoolPolicy policy;  // the pool policy then
  Time at;                    // when the event at the position was recorded
  uint64_t replayed = 0;      // events folded on top of the snapshot
};

// Folds the customer `customer_id` up to `position` from its latest snapshot and the
// events after it. `record_ids` are the customer's contacts, opportunities and contracts
// now (records only ever join a customer, so they include every one it had then). Reads
// the log and the local store only: callers need no lock. kNotFound when the customer did
// not exist yet.
Result<std::unique_ptr<CustomerThen>> CustomerAsOf(const eventstore::EventStore& store,
                                                   const CustomerHistoryProjection& history,
                                                   const std::string& customer_id,
                                                   const std::vector<std::string>& record_ids,
                                                   uint64_t position);

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_CUSTOMER_HISTORY_H_
