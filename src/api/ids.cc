#include "api/ids.h"

#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <mutex>
#include <stdexcept>

#include "eventstore/event_store.h"
#include "eventstore/sha256.h"

namespace crm::api {
namespace {

void RandomBytes(unsigned char* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("no randomness");
}

constexpr char kCrockford[] = "0123456789abcdefghjkmnpqrstvwxyz";

}  // namespace

std::string NewId(std::string_view prefix) {
  // 16 bytes: 6 of time, 10 of randomness. Within one millisecond the random part is
  // incremented, so ids stay ordered (the ULID scheme).
  static std::mutex mu;
  static uint64_t last_ms = 0;
  static std::array<unsigned char, 10> last_rand{};
  std::array<unsigned char, 16> bytes{};
  {
    std::lock_guard<std::mutex> lock(mu);
    uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
    if (ms <= last_ms) {
      ms = last_ms;
      for (int i = 9; i >= 0 && ++last_rand[static_cast<size_t>(i)] == 0; --i) {
      }
    } else {
      last_ms = ms;
      RandomBytes(last_rand.data(), last_rand.size());
      last_rand[0] &= 0x7f;  // room to increment without wrapping
    }
    for (int i = 0; i < 6; ++i) bytes[static_cast<size_t>(i)] = static_cast<unsigned char>(ms >> (40 - 8 * i));
    std::copy(last_rand.begin(), last_rand.end(), bytes.begin() + 6);
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

std::string NewToken() {
  std::array<unsigned char, 32> raw{};
  RandomBytes(raw.data(), raw.size());
  return eventstore::ToHex(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
}

std::string TokenHash(std::string_view token) {
  return eventstore::ToHex(eventstore::Sha256(token));
}

}  // namespace crm::api
