// ShardedHashMap: a map like any other to its users, whose entries stay put as it grows.
#include "projections/sharded_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace crm::projections {
namespace {

TEST(ShardedHashMapTest, BehavesAsAMapAndItsEntriesStayPutAsItGrows) {
  ShardedHashMap<std::string, int> map;
  std::map<std::string, int> model;
  // Where the first 100 keys inserted, and their values, were put (while not erased).
  std::map<std::string, std::pair<const std::string*, const int*>> first;
  std::mt19937 rng(7);
  for (int i = 0; i < 50000; ++i) {
    std::string key = "lead_" + std::to_string(rng() % 30000);
    if (rng() % 5 == 0) {
      EXPECT_EQ(map.ShardOf(key).erase(key), model.erase(key)) << key;
      first.erase(key);
      continue;
    }
    auto [it, added] = map.ShardOf(key).try_emplace(key, i);
    EXPECT_EQ(added, model.emplace(key, i).second) << key;
    if (added && i < 2000 && first.size() < 100)
      first.emplace(key, std::pair(&it->first, &it->second));
  }
  EXPECT_EQ(map.size(), model.size());
  for (const auto& [key, value] : model) {
    const int* found = map.Find(key);
    ASSERT_NE(found, nullptr) << key;
    EXPECT_EQ(*found, value) << key;
  }
  EXPECT_EQ(map.Find("lead_none"), nullptr);
  // What was inserted early and never erased is where it was, across every growth.
  EXPECT_GT(first.size(), 50u);
  for (const auto& [key, where] : first) {
    auto it = map.ShardOf(key).find(key);
    ASSERT_NE(it, map.ShardOf(key).end()) << key;
    EXPECT_EQ(&it->first, where.first) << key;
    EXPECT_EQ(&it->second, where.second) << key;
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

TEST(ShardedHashMapTest, NumericKeysSuchAsPackedCharactersSpreadOverTheShards) {
  // Grams of one or two characters are code points packed into 64 bits: small, dense
  // numbers. They too must spread over the shards.
  ShardedHashMap<uint64_t, int> map;
  for (uint64_t c = 0x4E00; c < 0x4E00 + 20000; ++c) map[c] = static_cast<int>(c);
  EXPECT_EQ(map.size(), 20000u);
  size_t most = 0;
  for (uint64_t c = 0x4E00; c < 0x4E00 + 20000; ++c) {
    ASSERT_NE(map.Find(c), nullptr);
    EXPECT_EQ(*map.Find(c), static_cast<int>(c));
    most = std::max(most, map.ShardOf(c).size());
  }
  constexpr size_t kShards = ShardedHashMap<uint64_t, int>::kShards;
  EXPECT_LT(most, 2 * 20000 / kShards);
  EXPECT_EQ(map.Find(7), nullptr);
}

}  // namespace
}  // namespace crm::projections
