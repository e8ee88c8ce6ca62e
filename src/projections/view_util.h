// Small helpers shared by the projections: optional strings in rows, follow-up lists,
// the owner index and paging.
#ifndef CRM_PROJECTIONS_VIEW_UTIL_H_
#define CRM_PROJECTIONS_VIEW_UTIL_H_

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "domain/events.h"
#include "eventstore/event_store.h"
#include "schemas/views_generated.h"

namespace crm::projections {

// Rows keep absent strings as "".
inline std::optional<std::string> NonEmpty(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}
inline std::string OrEmpty(const std::optional<std::string>& s) { return s.value_or(""); }
// Rows keep absent times as 0.
inline std::optional<Time> OptTime(int64_t ms) {
  return ms == 0 ? std::nullopt : std::optional<Time>(FromMillis(ms));
}

// How many follow-ups a lead or customer row keeps (newest first).
inline constexpr size_t kKeptFollowUps = 20;

// Puts the follow-up first in `list`, keeping at most kKeptFollowUps.
void PushFollowUp(std::vector<std::unique_ptr<views::FollowUpRowT>>& list,
                  const domain::FollowUpRecorded& e, const eventstore::RecordedEvent& ev);

// Which records each person owns, by id.
class OwnerIndex {
 public:
  void Move(const std::string& id, const std::string& from, const std::string& to) {
    if (!from.empty()) {
      auto it = by_owner_.find(from);
      if (it != by_owner_.end()) {
        it->second.erase(id);
        if (it->second.empty()) by_owner_.erase(it);
      }
    }
    if (!to.empty()) by_owner_[to].insert(id);
  }
  const std::set<std::string>& Of(const std::string& owner) const {
    static const std::set<std::string> kNone;
    auto it = by_owner_.find(owner);
    return it == by_owner_.end() ? kNone : it->second;
  }
  void Clear() { by_owner_.clear(); }

 private:
  std::map<std::string, std::set<std::string>> by_owner_;
};

// One page of a list, newest first (ids are time-ordered), after `cursor`. The cursor
// is the id of the last item of the previous page; `limit` is at least 1.
template <class Row>
struct Page {
  std::vector<const Row*> items;
  std::optional<std::string> next_cursor;
};

// Walks `rows` by descending id from below `cursor`, keeping those `keep` accepts.
template <class Row>
Page<Row> PageOf(const std::map<std::string, Row>& rows, const std::string& cursor, size_t limit,
                 const std::function<bool(const Row&)>& keep) {
  Page<Row> page;
  auto it = cursor.empty() ? rows.end() : rows.lower_bound(cursor);
  while (it != rows.begin()) {
    --it;
    if (!keep(it->second)) continue;
    if (page.items.size() == limit) {
      page.next_cursor = page.items.back()->id;  // there is more after the last item
      break;
    }
    page.items.push_back(&it->second);
  }
  return page;
}

// The same over a set of ids looked up in `rows` (an owner's records).
template <class Row>
Page<Row> PageOfIds(const std::set<std::string>& ids, const std::map<std::string, Row>& rows,
                    const std::string& cursor, size_t limit,
                    const std::function<bool(const Row&)>& keep) {
  Page<Row> page;
  auto it = cursor.empty() ? ids.end() : ids.lower_bound(cursor);
  while (it != ids.begin()) {
    --it;
    auto row = rows.find(*it);
    if (row == rows.end() || !keep(row->second)) continue;
    if (page.items.size() == limit) {
      page.next_cursor = page.items.back()->id;
      break;
    }
    page.items.push_back(&row->second);
  }
  return page;
}

// Case-insensitive (ASCII) substring match of `needle` in any of `fields`.
bool MatchesQuery(std::string_view needle, std::initializer_list<std::string_view> fields);

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_VIEW_UTIL_H_
