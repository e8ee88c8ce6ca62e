#include "writer/ids.h"

#include <openssl/rand.h>

#include <stdexcept>

namespace crm::writer {
namespace {

constexpr char kCrockford[] = "0123456789abcdefghjkmnpqrstvwxyz";

}  // namespace

std::string IdGenerator::New(std::string_view prefix) {
  // 16 bytes: 6 of time, 10 of randomness. Within one millisecond (or when the clock
  // steps back) the random part is incremented, so ids stay ordered.
  std::array<unsigned char, 16> bytes{};
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = clock_.Now().time_since_epoch().count();
    uint64_t ms = now < 0 ? 0 : static_cast<uint64_t>(now);
    if (ms <= last_ms_) {
      ms = last_ms_;
      for (int i = 9; i >= 0 && ++last_rand_[static_cast<size_t>(i)] == 0; --i) {
      }
    } else {
      last_ms_ = ms;
      if (RAND_bytes(last_rand_.data(), static_cast<int>(last_rand_.size())) != 1) {
        throw std::runtime_error("no randomness for ids");
      }
      last_rand_[0] &= 0x7f;  // room to increment without wrapping
    }
    for (int i = 0; i < 6; ++i)
      bytes[static_cast<size_t>(i)] = static_cast<unsigned char>(ms >> (40 - 8 * i));
    std::copy(last_rand_.begin(), last_rand_.end(), bytes.begin() + 6);
  }
  // 128 bits as 26 base32 digits, most significant first (the first digit holds 3 bits).
  std::string out(prefix);
  out.push_back('_');
  unsigned __int128 v = 0;
  for (unsigned char b : bytes) v = (v << 8) | b;
  char digits[26];
  for (int i = 25; i >= 0; --i) {
    digits[i] = kCrockford[static_cast<size_t>(v & 31)];
    v >>= 5;
  }
  out.append(digits, 26);
  return out;
}

}  // namespace crm::writer
