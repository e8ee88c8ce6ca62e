// Paging through owner indexes gives exactly the pages a walk of every row gives.
#include <gtest/gtest.h>

#include <random>

#include "projections/view_util.h"

namespace crm::projections {
namespace {

struct Row {
  std::string id;
  std::string owner;
  int value = 0;
};

TEST(PageOfUnionTest, WalkingTheOwnersSetsPagesExactlyAsWalkingEveryRow) {
  std::mt19937 rng(7);
  std::map<std::string, Row> rows;
  OwnerIndex index;
  const std::vector<std::string> owners = {"", "stf_a", "stf_b", "stf_c", "stf_d"};
  for (int i = 0; i < 2000; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "lead_%05d", static_cast<int>(rng() % 100000));
    std::string owner = owners[rng() % owners.size()];
    if (rows.count(id)) continue;
    rows[id] = Row{id, owner, static_cast<int>(rng() % 3)};
    index.Move(id, "", owner);
  }
  // Some records change hands, as claims and handovers move them.
  for (auto& [id, row] : rows) {
    if (rng() % 5 == 0) {
      std::string to = owners[rng() % owners.size()];
      index.Move(id, row.owner, to);
      row.owner = to;
    }
  }
  for (std::vector<std::string> seen : std::vector<std::vector<std::string>>{
           {"stf_a", ""}, {"stf_b", "stf_c", ""}, {""}, {"stf_d"}, {}}) {
    for (size_t limit : {1, 7, 50, 5000}) {
      std::function<bool(const Row&)> keep = [&](const Row& r) {
        return r.value != 1 && std::find(seen.begin(), seen.end(), r.owner) != seen.end();
      };
      auto sets = index.SetsFor(std::nullopt, false, seen);
      ASSERT_TRUE(sets.has_value());
      std::string cursor_all, cursor_union;
      size_t pages = 0;
      do {
        auto all = PageOf(rows, cursor_all, limit, keep);
        auto some = PageOfUnion(*sets, rows, cursor_union, limit, keep);
        ASSERT_EQ(all.items, some.items) << "page " << pages << " limit " << limit;
        ASSERT_EQ(all.next_cursor, some.next_cursor);
        cursor_all = all.next_cursor.value_or("");
        cursor_union = some.next_cursor.value_or("");
        ++pages;
      } while (!cursor_all.empty());
    }
  }
}

TEST(PageOfUnionTest, APoolOrOneOwnerIsOneSetAndNoNarrowingIsNone) {
  OwnerIndex index;
  index.Move("lead_1", "", "");
  index.Move("lead_2", "", "stf_a");
  EXPECT_EQ(index.SetsFor(std::nullopt, true, std::nullopt)->front()->size(), 1u);
  EXPECT_EQ(*index.SetsFor(std::string("stf_a"), true, std::nullopt)->front(),
            std::set<std::string>{"lead_2"});
  EXPECT_FALSE(index.SetsFor(std::nullopt, false, std::nullopt).has_value());
  index.Move("lead_1", "", "stf_a");
  EXPECT_TRUE(index.Of("").empty()) << "claimed out of the pool";
}

}  // namespace
}  // namespace crm::projections
