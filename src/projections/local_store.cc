#include "projections/local_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <filesystem>

#include "eventstore/rocks_logger.h"

namespace crm::projections {

struct LocalStore::Impl {
  std::unique_ptr<rocksdb::DB> db;
};

LocalStore::LocalStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LocalStore::~LocalStore() = default;

Result<std::unique_ptr<LocalStore>> LocalStore::Open(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Internal("cannot create " + path + ": " + ec.message());
  rocksdb::Options options;
  options.create_if_missing = true;
  options.keep_log_file_num = 5;
  options.info_log = eventstore::NewStoreLogger(path);  // a failing disk must not abort
  // Bounded, so that the server's connection limit can count on the rest (http_server.h).
  options.max_open_files = 200;
  options.IncreaseParallelism(2);
  options.OptimizeLevelStyleCompaction();
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &db);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return Unavailable(path + " is in use by another process (" + s.ToString() + ")");
    }
    return Internal("cannot open " + path + ": " + s.ToString());
  }
  auto impl = std::make_unique<Impl>();
  impl->db.reset(db);
  return std::unique_ptr<LocalStore>(new LocalStore(std::move(impl)));
}

std::optional<std::string> LocalStore::Get(std::string_view key) const {
  std::string value;
  if (impl_->db->Get(rocksdb::ReadOptions(), key, &value).ok()) return value;
  return std::nullopt;
}

Status LocalStore::Write(const LocalBatch& batch, bool sync) {
  rocksdb::WriteBatch wb;
  for (const auto& op : batch.ops_) {
    if (op.del)
      wb.Delete(op.key);
    else
      wb.Put(op.key, op.value);
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  rocksdb::Status s = impl_->db->Write(wo, &wb);
  if (!s.ok()) return Unavailable("writing the read models: " + s.ToString());
  return Status::Ok();
}

Status LocalStore::DeletePrefix(std::string_view prefix) {
  LocalBatch batch;
  Scan(prefix, {}, false, [&](std::string_view key, std::string_view) {
    batch.Delete(std::string(key));
    return true;
  });
  return Write(batch, false);
}

void LocalStore::Scan(std::string_view prefix, std::string_view from, bool reverse,
                      const std::function<bool(std::string_view, std::string_view)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(rocksdb::ReadOptions()));
  std::string start(prefix);
  if (!reverse) {
    start += from;
    it->Seek(start);
  } else if (from.empty()) {
    // The last key with the prefix: just before the prefix's successor.
    std::string end(prefix);
    end.push_back('\xff');
    it->SeekForPrev(end);
  } else {
    start += from;
    it->SeekForPrev(start);
    if (it->Valid() && it->key().ToStringView() == start) it->Prev();
  }
  for (; it->Valid(); reverse ? it->Prev() : it->Next()) {
    std::string_view key = it->key().ToStringView();
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!fn(key, it->value().ToStringView())) break;
  }
}

std::vector<std::pair<std::string, std::string>> LocalStore::Dump(std::string_view prefix) const {
  std::vector<std::pair<std::string, std::string>> out;
  Scan(prefix, {}, false, [&](std::string_view k, std::string_view v) {
    out.emplace_back(std::string(k), std::string(v));
    return true;
  });
  return out;
}

Status LocalStore::Checkpoint(const std::string& dest) const {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(impl_->db.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  if (s.ok()) s = checkpoint->CreateCheckpoint(dest);
  if (!s.ok()) return Internal("cannot copy the read models to " + dest + ": " + s.ToString());
  return Status::Ok();
}

}  // namespace crm::projections
