// Each customer's timeline: the positions of every event of the customer, its contacts,
// opportunities and contracts, and the conversions that fed it. Rows are
//   "timeline/entry/<customer id>/<u64 position>" → "" (read newest first by key order)
//   "timeline/owner/<record id>"                   → the customer the record belongs to
//   "timeline/merged/<customer id>"                → the customer it was merged into
// A merge copies the merged customer's entries to the survivor's timeline.
// The events themselves are read from the log.
#ifndef CRM_PROJECTIONS_TIMELINE_PROJECTION_H_
#define CRM_PROJECTIONS_TIMELINE_PROJECTION_H_

#include <map>
#include <vector>

#include "projections/projection.h"

namespace crm::projections {

class TimelineProjection final : public Projection {
 public:
  explicit TimelineProjection(const LocalStore* store = nullptr) : store_(store) {}
  std::string_view name() const override { return "timeline"; }
  bool ServedFromStore() const override { return true; }
  void Apply(const eventstore::RecordedEvent& event, Topics& touched) override;
  void Flush(LocalBatch& batch) override;
  Status Load(const LocalStore& store) override;
  void Clear() override;

  // Positions of the customer's events, newest first, below `before` (0: from the newest).
  // Reads the local store only: thread-safe, no lock needed.
  std::vector<uint64_t> Positions(const std::string& customer_id, uint64_t before,
                                  size_t limit) const;
  // The customer a contact, opportunity or contract belongs to.
  std::string CustomerOf(const std::string& record_id) const;

 private:
  const LocalStore* store_;
  std::map<std::string, std::string> owner_of_;     // record → customer
  std::map<std::string, std::string> merged_into_;  // merged customer → survivor
  std::vector<std::pair<std::string, std::string>> pending_merges_;
  std::vector<std::pair<std::string, std::string>> pending_owners_;
  std::vector<std::pair<std::string, uint64_t>> pending_entries_;
};

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_TIMELINE_PROJECTION_H_
