// ShardedHashMap: a map like any other to its users, whose entries stay put as it grows.
#include "projections/sharded_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace crm::projections {
namespace {

TEST(ShardedHashMapTest, BehavesAsAMapAndItsEntriesStayPutAsItGrows) {
  ShardedHashMap<std::string, int> map;
  std::map<std::string, int> model;
  std::vector<std::pair<const std::string*, const int*>> first;  // addresses of the first 100
  std::mt19937 rng(7);
  for (int i = 0; i < 50000; ++i) {
    std::string key = "lead_" + std::to_string(rng() % 30000);
    if (rng() % 5 == 0) {
      EXPECT_EQ(map.ShardOf(key).erase(key), model.erase(key)) << key;
      continue;
    }
    auto [it, added] = map.ShardOf(key).try_emplace(key, i);
    EXPECT_EQ(added, model.emplace(key, i).second) << key;
    if (added && first.size() < 100) first.emplace_back(&it->first, &it->second);
  }
  EXPECT_EQ(map.size(), model.size());
  for (const auto& [key, value] : model) {
    const int* found = map.Find(key);
    ASSERT_NE(found, nullptr) << key;
    EXPECT_EQ(*found, value) << key;
  }
  EXPECT_EQ(map.Find("lead_none"), nullptr);
  // What was inserted early and never erased is where it was, across every growth.
  for (const auto& [key, value] : first) {
    if (!model.count(*key)) continue;
    EXPECT_EQ(map.Find(*key), value) << *key;
  }
  // Keys spread over the shards (none holds more than twice its share).
  size_t most = 0;
  for (const auto& [key, value] : model) most = std::max(most, map.ShardOf(key).size());
  constexpr size_t kShards = ShardedHashMap<std::string, int>::kShards;
  EXPECT_LT(most, 2 * model.size() / kShards);
  map["x"] = 1;
  EXPECT_EQ(*map.Find("x"), 1);
  map.clear();
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(map.Find("x"), nullptr);
}

}  // namespace
}  // namespace crm::projections
