// A hash map in 256 shards, for read-model state that grows with the number of records.
//
// A std::unordered_map that outgrows its buckets rehashes every entry at once: at a few
// hundred thousand records that stalls the projection runner for tens of milliseconds,
// and every command answer waiting on the read models with it. Split by the key's hash,
// one growth rehashes one shard's share, a 256th. Entries stay put (node-based), so
// pointers to keys and values stay valid as the map grows. Keys are strings that end in
// something random (record ids) or 64-bit hashes.
#ifndef CRM_PROJECTIONS_SHARDED_MAP_H_
#define CRM_PROJECTIONS_SHARDED_MAP_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <unordered_map>

namespace crm::projections {

template <class K, class V, class Hash = std::hash<K>>
class ShardedHashMap {
 public:
  using Shard = std::unordered_map<K, V, Hash>;
  static constexpr size_t kShards = 256;

  // The shard `key` belongs in: find, insert and erase it there.
  Shard& ShardOf(const K& key) { return shards_[Index(key)]; }
  const Shard& ShardOf(const K& key) const { return shards_[Index(key)]; }

  // The value at `key`, or nullptr.
  V* Find(const K& key) {
    auto& shard = ShardOf(key);
    auto it = shard.find(key);
    return it == shard.end() ? nullptr : &it->second;
  }
  const V* Find(const K& key) const { return const_cast<ShardedHashMap*>(this)->Find(key); }

  V& operator[](const K& key) { return ShardOf(key)[key]; }

  size_t size() const {
    size_t n = 0;
    for (const auto& s : shards_) n += s.size();
    return n;
  }

  void clear() {
    for (auto& s : shards_) s.clear();
  }

 private:
  // Not the map's own hash, which would then be computed twice per lookup, but a cheap
  // one of the key's last eight bytes: record ids end in a ULID's random part (ids that
  // share their last eight bytes share a shard: still right, only slower to grow), and
  // grams are numbers. MurmurHash3's finalizer mixes every bit into the top byte.
  static size_t Index(const std::string& key) {
    uint64_t tail = 0;
    size_t n = std::min<size_t>(8, key.size());
    std::memcpy(&tail, key.data() + key.size() - n, n);
    return Spread(tail ^ key.size());
  }
  static size_t Index(uint64_t key) { return Spread(key); }
  static size_t Spread(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return static_cast<size_t>(x >> 56);
  }

  std::array<Shard, kShards> shards_;
};

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_SHARDED_MAP_H_
