#include "projections/view_util.h"

namespace crm::projections {

void PushFollowUp(std::vector<std::unique_ptr<views::FollowUpRowT>>& list,
                  const domain::FollowUpRecorded& e, const eventstore::RecordedEvent& ev) {
  auto row = std::make_unique<views::FollowUpRowT>();
  row->id = e.follow_up_id;
  row->channel = std::string(domain::Name(e.channel));
  row->note = e.note;
  row->next_at = e.next_at ? ToMillis(*e.next_at) : 0;
  row->at = ToMillis(ev.at);
  row->by = ev.actor;
  list.insert(list.begin(), std::move(row));
  if (list.size() > kKeptFollowUps) list.resize(kKeptFollowUps);
}

}  // namespace crm::projections
