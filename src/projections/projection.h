// A read model: a pure fold over the log, persisted with its checkpoint.
#ifndef CRM_PROJECTIONS_PROJECTION_H_
#define CRM_PROJECTIONS_PROJECTION_H_

#include <set>
#include <string>
#include <string_view>

#include "eventstore/event_store.h"
#include "projections/local_store.h"

namespace crm::projections {

// Live-update topics a change touches ("pool", "customer:cus_..", "dashboard").
using Topics = std::set<std::string>;

class Projection {
 public:
  virtual ~Projection() = default;
  // A stable name: the prefix of its keys and its entry in /health.
  virtual std::string_view name() const = 0;
  // Folds one event into the in-memory state; adds the topics the change touches.
  virtual void Apply(const eventstore::RecordedEvent& event, Topics& touched) = 0;
  // Adds the rows changed since the last flush to `batch`.
  virtual void Flush(LocalBatch& batch) = 0;
  // Whether queries read this projection's rows from the local store rather than from
  // memory: then its rows are written with every batch the runner applies (a command's
  // answer may be read at once). Those of the others are written at checkpoints.
  virtual bool ServedFromStore() const { return false; }
  // Replaces the in-memory state with the rows in `store`. Runs beside the other
  // projections' loads unless LoadsFromEarlier().
  virtual Status Load(const LocalStore& store) = 0;
  // Whether Load reads the in-memory state of projections before this one in the
  // runner's list: then it runs once they have loaded.
  virtual bool LoadsFromEarlier() const { return false; }
  // Forgets the in-memory state, for a rebuild (the runner deletes the stored rows).
  virtual void Clear() = 0;
};

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_PROJECTION_H_
