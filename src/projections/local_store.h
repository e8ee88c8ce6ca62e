// The node-local key-value store of the read side (DIR/readmodels), apart from the log:
// projections keep their rows and checkpoints here, the API its token hashes. Nothing
// here is the source of truth for the business; projection rows can be rebuilt from the
// log at any time.
//
// Keys are "<owner>/<kind>/<id>" strings, e.g. "leads/row/lead_01..", "meta/checkpoint/leads",
// "auth/token/<sha256 hex>". Values are FlatBuffers rows of schemas/views.fbs, or
// what the owner documents.
#ifndef CRM_PROJECTIONS_LOCAL_STORE_H_
#define CRM_PROJECTIONS_LOCAL_STORE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"

namespace crm::projections {

// Writes gathered to be applied atomically.
class LocalBatch {
 public:
  void Put(std::string key, std::string value) {
    ops_.push_back({std::move(key), std::move(value), false});
  }
  void Delete(std::string key) { ops_.push_back({std::move(key), {}, true}); }
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }

 private:
  friend class LocalStore;
  struct Op {
    std::string key;
    std::string value;
    bool del;
  };
  std::vector<Op> ops_;
};

class LocalStore {
 public:
  // Opens (or creates) the store at `path`. kUnavailable when another process holds it.
  static Result<std::unique_ptr<LocalStore>> Open(const std::string& path);
  ~LocalStore();

  std::optional<std::string> Get(std::string_view key) const;
  // Applies the batch atomically; with `sync` it is fsynced before returning.
  Status Write(const LocalBatch& batch, bool sync);
  // Removes every key starting with `prefix`.
  Status DeletePrefix(std::string_view prefix);
  // Calls fn(key, value) for the keys starting with `prefix`, ascending from `from`
  // (inclusive) or descending from `from` (exclusive) when `reverse`; an empty `from`
  // starts at the prefix's end. Stops when fn returns false. Thread-safe.
  void Scan(std::string_view prefix, std::string_view from, bool reverse,
            const std::function<bool(std::string_view, std::string_view)>& fn) const;
  // A consistent copy of the whole store in `dest` (which must not exist), made of hard
  // links where it can (RocksDB's checkpoint); the store keeps serving meanwhile.
  Status Checkpoint(const std::string& dest) const;
  // Every key and value, for tests that compare two stores.
  std::vector<std::pair<std::string, std::string>> Dump(std::string_view prefix) const;

 private:
  struct Impl;
  explicit LocalStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_LOCAL_STORE_H_
