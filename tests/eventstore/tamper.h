// Rewrites a stored event behind the store's back, as an intruder with disk access would.
#ifndef CRM_TESTS_EVENTSTORE_TAMPER_H_
#define CRM_TESTS_EVENTSTORE_TAMPER_H_

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <string>

#include "eventstore/log_format.h"
#include "eventstore/sha256.h"

namespace crm::eventstore::testing {

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
      ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), h[1], log_format::PositionKey(pos - 1), &before).ok());
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
