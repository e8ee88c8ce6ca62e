// Rewrites a stored event behind the store's back, as an intruder with disk access would.
#ifndef CRM_TESTS_EVENTSTORE_TAMPER_H_
#define CRM_TESTS_EVENTSTORE_TAMPER_H_

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <string>

#include "eventstore/log_format.h"
#include "eventstore/sha256.h"

namespace crm::eventstore::testing {

// The log's RocksDB opened directly, as an intruder would: h[0] default (the head),
// h[1] the events.
struct RawLog {
  explicit RawLog(const std::string& path) {
    rocksdb::DBOptions opts;
    std::vector<rocksdb::ColumnFamilyDescriptor> fams;
    for (const char* n : {"default", "log", "streams", "unique", "idempotency"}) {
      fams.emplace_back(n, rocksdb::ColumnFamilyOptions());
    }
    ok = rocksdb::DB::Open(opts, path, fams, &h, &db).ok();
  }
  ~RawLog() {
    for (auto* c : h) db->DestroyColumnFamilyHandle(c);
    delete db;
  }
  std::string Get(int cf, const std::string& key) {
    std::string v;
    EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), h[cf], key, &v).ok());
    return v;
  }
  bool ok = false;
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> h;
};

// Removes the last `n` events, leaving the head record as it was (`keep_head`) or
// rewriting it to the new end with that event's hash, as a careful intruder would.
inline void CutTail(const std::string& path, uint64_t head, uint64_t n, bool keep_head) {
  RawLog log(path);
  ASSERT_TRUE(log.ok);
  for (uint64_t p = head; p > head - n; --p) {
    ASSERT_TRUE(log.db->Delete(rocksdb::WriteOptions(), log.h[1], log_format::PositionKey(p)).ok());
  }
  if (!keep_head) {
    std::string value;
    PutFixed64(&value, head - n);
    value += log.Get(1, log_format::PositionKey(head - n)).substr(0, 32);
    ASSERT_TRUE(log.db->Put(rocksdb::WriteOptions(), log.h[0], log_format::kHeadKey, value).ok());
  }
}

// Adds an event after the head whose hash links to the chain, without moving the head.
inline void AppendBehindTheWritersBack(const std::string& path, uint64_t head) {
  RawLog log(path);
  ASSERT_TRUE(log.ok);
  std::string last = log.Get(1, log_format::PositionKey(head));
  std::string body = last.substr(32);
  ASSERT_TRUE(log.db
                  ->Put(rocksdb::WriteOptions(), log.h[1], log_format::PositionKey(head + 1),
                        Sha256(last.substr(0, 32), body) + body)
                  .ok());
}

// Opens the log's RocksDB directly, as an intruder would, and rewrites position `pos`.
inline void Tamper(const std::string& path, uint64_t pos, bool fix_hash) {
  rocksdb::DBOptions opts;
  std::vector<rocksdb::ColumnFamilyDescriptor> fams;
  for (const char* n : {"default", "log", "streams", "unique", "idempotency"}) {
    fams.emplace_back(n, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> h;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(opts, path, fams, &h, &db).ok());
  std::string key = log_format::PositionKey(pos), value;
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), h[1], key, &value).ok());
  // Change one byte of the envelope.
  ASSERT_GT(value.size(), 33u);
  value.back() = static_cast<char>(value.back() ^ 0x5a);
  if (fix_hash) {
    std::string prev(32, '\0');
    if (pos > 1) {
      std::string before;
      ASSERT_TRUE(
          db->Get(rocksdb::ReadOptions(), h[1], log_format::PositionKey(pos - 1), &before).ok());
      prev = before.substr(0, 32);
    }
    value.replace(0, 32, Sha256(prev, std::string_view(value).substr(32)));
  }
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), h[1], key, value).ok());
  for (auto* c : h) db->DestroyColumnFamilyHandle(c);
  delete db;
}

}  // namespace crm::eventstore::testing

#endif  // CRM_TESTS_EVENTSTORE_TAMPER_H_
