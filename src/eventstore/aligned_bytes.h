// FlatBuffers reads scalars in place and needs its buffer aligned (to 8 bytes for the
// widest scalars); RocksDB hands out values at any address. AlignedBytes gives an aligned
// view, copying only when the bytes are not aligned already.
#ifndef CRM_EVENTSTORE_ALIGNED_BYTES_H_
#define CRM_EVENTSTORE_ALIGNED_BYTES_H_

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace crm::eventstore {

class AlignedBytes {
 public:
  explicit AlignedBytes(std::string_view bytes) : size_(bytes.size()) {
    if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(uint64_t) == 0) {
      data_ = reinterpret_cast<const uint8_t*>(bytes.data());
    } else {
      copy_.resize((bytes.size() + 7) / 8);
      std::memcpy(copy_.data(), bytes.data(), bytes.size());
      data_ = reinterpret_cast<const uint8_t*>(copy_.data());
    }
  }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  std::vector<uint64_t> copy_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace crm::eventstore

#endif  // CRM_EVENTSTORE_ALIGNED_BYTES_H_
