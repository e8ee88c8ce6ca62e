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
//   idempotency    scope || 0x00 || key                 the writer's record, opaque here
//                                                       (writer/command_record.h)
//   default        "head"                               u64 position || hash[32]
//
// - `envelope` is a FlatBuffers `crm.schema.Envelope` (schemas/events.fbs, file
//   identifier "EVCR"); it repeats its own position, stream and version.
// - `hash` is the chain hash after the event: hash(n) = SHA-256(hash(n-1) || envelope(n)),
//   hash(0) = 32 zero bytes. "head" holds the last position and its hash.
// - Positions are dense from 1: the log has a key for every position up to the head.
// - Stream ids and scopes are non-empty and never contain 0x00.
// - Everything one Append writes (its events, their stream keys, its unique keys and
//   idempotency records, and the new head) is in one WriteBatch, written with sync=true.
// - This file is private to the RocksDB implementation: everything else reads the log
//   through EventStore.
// - Events are never updated or deleted; unique keys are deleted only when their owner
//   gives them up in a later event (a renamed customer).
#ifndef CRM_EVENTSTORE_LOG_FORMAT_H_
#define CRM_EVENTSTORE_LOG_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "eventstore/coding.h"

namespace crm::eventstore::log_format {

inline constexpr const char* kLogFamily = "log";
inline constexpr const char* kStreamsFamily = "streams";
inline constexpr const char* kUniqueFamily = "unique";
inline constexpr const char* kIdempotencyFamily = "idempotency";
inline constexpr const char* kHeadKey = "head";
inline constexpr size_t kHashSize = 32;

inline std::string PositionKey(uint64_t position) { return Fixed64Key(position); }
inline std::string StreamKey(std::string_view stream, uint64_t version) {
  std::string k(stream);
  k.push_back('\0');
  PutFixed64(&k, version);
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
