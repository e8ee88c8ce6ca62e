// The on-disk format of the event log: every key and value the RocksDB store writes.
//
// The log is one RocksDB database (DIR/log) with five column families. Integers in keys
// and values are unsigned 64-bit big-endian ("u64"), so keys sort numerically.
//
//   column family  key                                  value
//   -------------  -----------------------------------  -------------------------------------
//   log            u64 position                         hash[32] || envelope
//   streams        stream || 0x00 || u64 version        u64 position
//   unique         scope || 0x00 || key                 owner (a stream id)
//   idempotency    scope || 0x00 || key                 request_hash[32] || u16 status ||
//                                                       u64 position || reply body
//   default        "head"                               u64 position || hash[32]
//
// - `envelope` is a FlatBuffers `crm.schema.Envelope` (schemas/events.fbs, file
//   identifier "EVCR"); it repeats its own position, stream and version.
// - `hash` is the chain hash after the event: hash(n) = SHA-256(hash(n-1) || envelope(n)),
//   hash(0) = 32 zero bytes. "head" holds the last position and its hash.
// - Positions are dense from 1: the log has a key for every position up to the head.
// - Stream ids and scopes are non-empty and never contain 0x00.
// - Everything a command writes (its events, their stream keys, its unique keys, its
//   idempotency record and the new head) is in one WriteBatch, written with sync=true.
// - Events are never updated or deleted; unique keys are deleted only when their owner
//   gives them up in a later event (a renamed customer).
#ifndef CRM_EVENTSTORE_LOG_FORMAT_H_
#define CRM_EVENTSTORE_LOG_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crm::eventstore::log_format {

inline constexpr const char* kLogFamily = "log";
inline constexpr const char* kStreamsFamily = "streams";
inline constexpr const char* kUniqueFamily = "unique";
inline constexpr const char* kIdempotencyFamily = "idempotency";
inline constexpr const char* kHeadKey = "head";
inline constexpr size_t kHashSize = 32;

inline void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}
inline uint64_t GetU64(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}
inline std::string PositionKey(uint64_t position) {
  std::string k;
  PutU64(&k, position);
  return k;
}
inline std::string StreamKey(std::string_view stream, uint64_t version) {
  std::string k(stream);
  k.push_back('\0');
  PutU64(&k, version);
  return k;
}
inline std::string ScopedKey(std::string_view scope, std::string_view key) {
  std::string k(scope);
  k.push_back('\0');
  k.append(key);
  return k;
}

}  // namespace crm::eventstore::log_format

#endif  // CRM_EVENTSTORE_LOG_FORMAT_H_
