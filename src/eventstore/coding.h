// Encodings that several modules share (as LevelDB's util/coding.h): unsigned 64-bit
// integers as 8 big-endian bytes, so that keys made of them sort numerically; lower-case
// hex; and an aligned view of bytes for reading FlatBuffers in place.
#ifndef CRM_EVENTSTORE_CODING_H_
#define CRM_EVENTSTORE_CODING_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace crm::eventstore {

// Appends `v` as 8 big-endian bytes.
inline void PutFixed64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

// The 8 big-endian bytes at the start of `in`, which must hold at least 8.
inline uint64_t GetFixed64(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

// `v` as a key that sorts numerically.
inline std::string Fixed64Key(uint64_t v) {
  std::string k;
  PutFixed64(&k, v);
  return k;
}

// Lower-case hex of raw bytes.
inline std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// FlatBuffers reads scalars in place and needs its buffer aligned (to 8 bytes for the
// widest scalars); RocksDB hands out values at any address. AlignedBytes gives an aligned
// view, copying only when the bytes are not aligned already.
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

#endif  // CRM_EVENTSTORE_CODING_H_
