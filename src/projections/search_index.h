// Search for the lists' `q=`: an inverted index of character n-grams over the folded text
// of records, so that a search costs what it finds rather than the number of records.
#ifndef CRM_PROJECTIONS_SEARCH_INDEX_H_
#define CRM_PROJECTIONS_SEARCH_INDEX_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "projections/sharded_map.h"
#include "projections/view_util.h"

namespace crm::projections {

// Text as search and unique names compare it: Unicode NFKC with case folding (full- and
// half-width forms, upper and lower case are one: "ＢＬＵＥ" is "blue"), every run of white
// space (the ideographic space U+3000 too) one ASCII space, ends trimmed. Valid UTF-8 in.
std::string FoldText(std::string_view text);

// The digits of a phone number as search compares them: full-width digits count, every
// other character is dropped, and China's country prefix (+86, 0086) is folded away from
// a mobile number, so "+86 138-0013-8000" is "13800138000".
std::string PhoneDigits(std::string_view phone);

// One search as the index answers it: a record matches when its folded text contains
// `text`, or when `digits` is set (the query looks like part of a phone number: at least
// four digits and nothing but digits and + - ( ) . and spaces) and one of its phone
// numbers contains those digits.
struct SearchQuery {
  explicit SearchQuery(std::string_view q);
  bool empty() const { return text.empty(); }
  std::string text;
  std::string digits;
};

// Records' searchable text by id. Free text (names, companies, e-mail) is indexed by the
// threes and pairs of adjacent characters of its folded form, and by single characters
// beyond ASCII (a one-character search for a Chinese surname is common); digits, in free
// text and phone numbers alike, by runs of four. A search looks up its query's longest
// grams and walks the shortest list, keeping the ids that are in every other list and
// whose text really contains the query.
class SearchIndex {
 public:
  SearchIndex() = default;
  // The lists point at the keys of docs_: a copy would point into the original.
  SearchIndex(const SearchIndex&) = delete;
  SearchIndex& operator=(const SearchIndex&) = delete;

  // Indexes `id` under `texts` and `phones` (which are searched as text too), replacing
  // what it had. Cheap when nothing changed.
  void Put(const std::string& id, const std::vector<std::string_view>& texts,
           const std::vector<std::string_view>& phones);
  void Clear();
  size_t size() const { return docs_.size(); }

  // Whether `id` matches `query` (true for an empty query).
  bool Matches(const std::string& id, const SearchQuery& query) const;

  // The ids that may match, as lists to walk: each alternative is a set of id lists
  // (ascending) whose intersection holds the alternative's candidates, shortest list
  // first. nullopt when the query has nothing worth a list (one ASCII character, two or
  // three digits): walk the records instead.
  struct Plan {
    using Ids = std::vector<const std::string*>;
    std::vector<std::vector<const Ids*>> alternatives;
    // The ids walked at most: the shortest list of each alternative.
    size_t cost() const;
  };
  std::optional<Plan> Lookup(const SearchQuery& query) const;

 private:
  struct Doc {
    size_t source_hash = 0;
    std::string text;    // folded fields, separated by '\x1f'
    std::string digits;  // phone digits, separated by ' '
  };
  static std::vector<uint64_t> Grams(const std::string& text, const std::string& digits);
  void Add(uint64_t gram, const std::string* id);
  void Remove(uint64_t gram, const std::string* id);

  ShardedHashMap<std::string, Doc> docs_;  // keys stay put: the lists point at them
  ShardedHashMap<uint64_t, Plan::Ids> grams_;
};

namespace search_detail {
using Ids = SearchIndex::Plan::Ids;
// One alternative of a plan, walked down its shortest list.
struct Walk {
  const std::vector<const Ids*>* lists;
  Ids::const_iterator next;  // one past the candidate it stands on
  // Steps down until it stands on an id that is in every list; false when none is left.
  bool Settle();
  const std::string& id() const { return **std::prev(next); }
};
// The walks of `plan` from below `cursor`, each standing on its first candidate.
std::vector<Walk> StartWalks(const SearchIndex::Plan& plan, const std::string& cursor);
// The greatest id the walks stand on; moves every walk standing on it to its next
// candidate, dropping walks that run out.
std::string PopGreatest(std::vector<Walk>& walks);
}  // namespace search_detail

// A page of the records a plan finds, newest (greatest id) first, below `cursor`, keeping
// those `keep` accepts (which checks the match itself: the lists only narrow).
template <class Row>
Page<Row> PageOfPlan(const SearchIndex::Plan& plan, const std::map<std::string, Row>& rows,
                     const std::string& cursor, size_t limit,
                     const std::function<bool(const Row&)>& keep) {
  auto walks = search_detail::StartWalks(plan, cursor);
  Page<Row> page;
  while (!walks.empty()) {
    auto row = rows.find(search_detail::PopGreatest(walks));
    if (row != rows.end() && !Offer(page, row->second, limit, keep)) break;
  }
  return page;
}

// A page of a list: of the records in `sets` (the owner index's sets; nullopt: all of
// `rows`) that match `query` and that `keep` accepts, newest first, below `cursor`. Walks
// the owner sets or the search's lists, whichever is shorter.
template <class Row>
Page<Row> PageOfList(const std::optional<std::vector<const std::set<std::string>*>>& sets,
                     const SearchIndex& search, const SearchQuery& query,
                     const std::map<std::string, Row>& rows, const std::string& cursor,
                     size_t limit, const std::function<bool(const Row&)>& keep) {
  std::function<bool(const Row&)> keep_match = keep;
  if (!query.empty()) {
    keep_match = [&](const Row& r) { return search.Matches(r.id, query) && keep(r); };
    if (auto plan = search.Lookup(query)) {
      size_t walk = rows.size();
      if (sets) {
        walk = 0;
        for (const auto* ids : *sets) walk += ids->size();
      }
      if (plan->cost() < walk) {
        if (!sets) return PageOfPlan(*plan, rows, cursor, limit, keep_match);
        // The search's lists hold every owner's records: keep those of the sets.
        std::function<bool(const Row&)> in_sets = [&](const Row& r) {
          return std::any_of(
                     sets->begin(), sets->end(),
                     [&](const std::set<std::string>* ids) { return ids->count(r.id) > 0; }) &&
                 keep_match(r);
        };
        return PageOfPlan(*plan, rows, cursor, limit, in_sets);
      }
    }
  }
  if (sets) return PageOfUnion(*sets, rows, cursor, limit, keep_match);
  return PageOf(rows, cursor, limit, keep_match);
}

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_SEARCH_INDEX_H_
