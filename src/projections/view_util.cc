#include "projections/view_util.h"

#include <cctype>

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

bool MatchesQuery(std::string_view needle, std::initializer_list<std::string_view> fields) {
  if (needle.empty()) return true;
  auto lower = [](unsigned char c) { return static_cast<char>(std::tolower(c)); };
  for (std::string_view field : fields) {
    if (field.size() < needle.size()) continue;
    for (size_t i = 0; i + needle.size() <= field.size(); ++i) {
      size_t k = 0;
      while (k < needle.size() && lower(static_cast<unsigned char>(field[i + k])) ==
                                      lower(static_cast<unsigned char>(needle[k]))) {
        ++k;
      }
      if (k == needle.size()) return true;
    }
  }
  return false;
}

}  // namespace crm::projections
