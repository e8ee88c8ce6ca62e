// Server-generated record and command ids.
#ifndef CRM_WRITER_IDS_H_
#define CRM_WRITER_IDS_H_

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "writer/clock.h"

namespace crm::writer {

// Makes ids: `prefix` + "_" + 26 characters of lower-case Crockford base32, a 48-bit
// millisecond timestamp from the clock followed by 80 random bits (the ULID scheme). The
// ids one generator makes increase strictly, so sorting ids sorts records by creation.
// Thread-safe.
class IdGenerator {
 public:
  explicit IdGenerator(const Clock& clock) : clock_(clock) {}

  std::string New(std::string_view prefix);

 private:
  const Clock& clock_;
  std::mutex mu_;
  uint64_t last_ms_ = 0;
  std::array<unsigned char, 10> last_rand_{};
};

}  // namespace crm::writer

#endif  // CRM_WRITER_IDS_H_
