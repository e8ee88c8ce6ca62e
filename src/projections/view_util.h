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
#include "domain/model.h"
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

// An edit's new value of `field` into a row's string ("" when cleared), when it changed.
inline void SetEdited(const std::vector<domain::FieldChange>& changes, std::string_view field,
                      std::string& out) {
  if (const auto* c = domain::ChangeOf(changes, field)) out = c->new_value.value_or("");
}

// How many follow-ups a lead or customer row keeps (newest first).
inline constexpr size_t kKeptFollowUps = 20;

// Puts the follow-up first in `list`, keeping at most kKeptFollowUps.
void PushFollowUp(std::vector<std::unique_ptr<views::FollowUpRowT>>& list,
                  const domain::FollowUpRecorded& e, const eventstore::RecordedEvent& ev);

// Which records each person owns, by id.
class OwnerIndex {
 public:
  // Moves `id` from owner `from` to owner `to`; "" is nobody (the pool), indexed too, so
  // that a list of the pool's records is a walk of its set.
  void Move(const std::string& id, const std::string& from, const std::string& to) {
    Remove(id, from);
    by_owner_[to].insert(id);
  }
  // Takes `id` out of the index (a merged customer, in nobody's list).
  void Remove(const std::string& id, const std::string& from) {
    auto it = by_owner_.find(from);
    if (it == by_owner_.end()) return;
    it->second.erase(id);
    if (it->second.empty()) by_owner_.erase(it);
  }
  const std::set<std::string>& Of(const std::string& owner) const {
    static const std::set<std::string> kNone;
    auto it = by_owner_.find(owner);
    return it == by_owner_.end() ? kNone : it->second;
  }
  void Clear() { by_owner_.clear(); }

  // The sets a list walks: one owner's (`owner_id`), the pool's (`pool_only`), or those of
  // `owners`, whichever narrows most; nullopt when none is given (walk every row).
  std::optional<std::vector<const std::set<std::string>*>> SetsFor(
      const std::optional<std::string>& owner_id, bool pool_only,
      const std::optional<std::vector<std::string>>& owners) const {
    if (owner_id) return std::vector<const std::set<std::string>*>{&Of(*owner_id)};
    if (pool_only) return std::vector<const std::set<std::string>*>{&Of("")};
    if (!owners) return std::nullopt;
    std::vector<const std::set<std::string>*> sets;
    for (const auto& o : *owners) sets.push_back(&Of(o));
    return sets;
  }

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

// Offers the next row of a walk to `page`: adds it when `keep` accepts it. False once the
// page is full and one more row was accepted (then next_cursor is set): the walk stops.
template <class Row>
bool Offer(Page<Row>& page, const Row& row, size_t limit,
           const std::function<bool(const Row&)>& keep) {
  if (!keep(row)) return true;
  if (page.items.size() == limit) {
    page.next_cursor = page.items.back()->id;  // there is more after the last item
    return false;
  }
  page.items.push_back(&row);
  return true;
}

// Walks `rows` by descending id from below `cursor`, keeping those `keep` accepts.
template <class Row>
Page<Row> PageOf(const std::map<std::string, Row>& rows, const std::string& cursor, size_t limit,
                 const std::function<bool(const Row&)>& keep) {
  Page<Row> page;
  auto it = cursor.empty() ? rows.end() : rows.lower_bound(cursor);
  while (it != rows.begin()) {
    --it;
    if (!Offer(page, it->second, limit, keep)) break;
  }
  return page;
}

// The same over the union of disjoint sets of ids looked up in `rows` (the records of
// some owners): a merge of the sets, newest first, so that a page costs what it shows and
// what `keep` refuses on the way, not the number of all rows.
template <class Row>
Page<Row> PageOfUnion(const std::vector<const std::set<std::string>*>& sets,
                      const std::map<std::string, Row>& rows, const std::string& cursor,
                      size_t limit, const std::function<bool(const Row&)>& keep) {
  using It = std::set<std::string>::const_iterator;
  struct Head {
    It next;  // one past the set's next id, walking down
    It begin;
  };
  std::vector<Head> heads;
  for (const auto* ids : sets) {
    It from = cursor.empty() ? ids->end() : ids->lower_bound(cursor);
    if (from != ids->begin()) heads.push_back({from, ids->begin()});
  }
  auto lower = [](const Head& a, const Head& b) { return *std::prev(a.next) < *std::prev(b.next); };
  std::make_heap(heads.begin(), heads.end(), lower);
  Page<Row> page;
  while (!heads.empty()) {
    std::pop_heap(heads.begin(), heads.end(), lower);
    Head& h = heads.back();
    --h.next;
    auto row = rows.find(*h.next);
    if (row != rows.end() && !Offer(page, row->second, limit, keep)) break;
    if (h.next == h.begin) {
      heads.pop_back();
    } else {
      std::push_heap(heads.begin(), heads.end(), lower);
    }
  }
  return page;
}

// The same over one owner's records.
template <class Row>
Page<Row> PageOfIds(const std::set<std::string>& ids, const std::map<std::string, Row>& rows,
                    const std::string& cursor, size_t limit,
                    const std::function<bool(const Row&)>& keep) {
  return PageOfUnion<Row>({&ids}, rows, cursor, limit, keep);
}

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_VIEW_UTIL_H_
