// Rows of one kind held in memory, keyed by record id, and persisted as FlatBuffers under
// "<prefix><id>" in the local store. Changed rows are remembered until the next Flush,
// which writes them in the projection's batch (with its checkpoint).
#ifndef CRM_PROJECTIONS_ROW_MAP_H_
#define CRM_PROJECTIONS_ROW_MAP_H_

#include <flatbuffers/flatbuffers.h>

#include <map>
#include <set>
#include <string>

#include "eventstore/coding.h"
#include "projections/local_store.h"

namespace crm::projections {

// Serialises an object-API row (e.g. views::LeadRowT) to FlatBuffers bytes.
template <class RowT>
std::string PackRow(const RowT& row) {
  flatbuffers::FlatBufferBuilder fbb(512);
  fbb.Finish(RowT::TableType::Pack(fbb, &row));
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

// Parses bytes written by PackRow. False for bytes that are not such a row.
template <class RowT>
bool UnpackRow(std::string_view bytes, RowT* out) {
  using Table = typename RowT::TableType;
  eventstore::AlignedBytes aligned(bytes);
  flatbuffers::Verifier v(aligned.data(), aligned.size());
  if (!v.VerifyBuffer<Table>(nullptr)) return false;
  flatbuffers::GetRoot<Table>(aligned.data())->UnPackTo(out);
  return true;
}

template <class RowT>
class RowMap {
 public:
  using Row = RowT;

  explicit RowMap(std::string prefix) : prefix_(std::move(prefix)) {}

  const RowT* Find(const std::string& id) const {
    auto it = rows_.find(id);
    return it == rows_.end() ? nullptr : &it->second;
  }
  // The row to change (created when missing); it will be written at the next Flush.
  RowT& Edit(const std::string& id) {
    dirty_.insert(id);
    return rows_[id];
  }
  // The existing row to change, or nullptr.
  RowT* EditExisting(const std::string& id) {
    auto it = rows_.find(id);
    if (it == rows_.end()) return nullptr;
    dirty_.insert(id);
    return &it->second;
  }

  const std::map<std::string, RowT>& rows() const { return rows_; }
  size_t size() const { return rows_.size(); }

  void Flush(LocalBatch& batch) {
    for (const auto& id : dirty_) {
      auto it = rows_.find(id);
      if (it == rows_.end())
        batch.Delete(prefix_ + id);
      else
        batch.Put(prefix_ + id, PackRow(it->second));
    }
    dirty_.clear();
  }

  Status Load(const LocalStore& store) {
    rows_.clear();
    dirty_.clear();
    bool ok = true;
    std::string bad;
    store.Scan(prefix_, {}, false, [&](std::string_view key, std::string_view value) {
      RowT row;
      if (!UnpackRow(value, &row)) {
        ok = false;
        bad = std::string(key);
        return false;
      }
      rows_.emplace(std::string(key.substr(prefix_.size())), std::move(row));
      return true;
    });
    if (!ok) return Internal("read model row " + bad + " is corrupt");
    return Status::Ok();
  }

  // Forgets the rows in memory; the stored ones are the caller's to delete.
  void Clear() {
    rows_.clear();
    dirty_.clear();
  }

 private:
  std::string prefix_;
  std::map<std::string, RowT> rows_;
  std::set<std::string> dirty_;
};

}  // namespace crm::projections

#endif  // CRM_PROJECTIONS_ROW_MAP_H_
