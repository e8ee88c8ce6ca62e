// What a command came to, as the writer answers it and keeps it with an idempotency key:
// the record the command is about and its version, what it created, where its events are
// in the log, and what the decision reports beyond that (a conversion's new records, a
// handover's counts, ...). Domain terms only: the API turns it into its answer, the same
// answer for the first request and every retry.
//
// The idempotency record (the value of the store's idempotency index) is
// request_hash[32] || a FlatBuffers `CommandResult` (schemas/writer.fbs).
#ifndef CRM_WRITER_COMMAND_RECORD_H_
#define CRM_WRITER_COMMAND_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/decide.h"
#include "domain/result.h"

namespace crm::writer {

struct CommandResult {
  domain::Id primary;            // the record the command is about
  uint64_t primary_version = 0;  // its version after the command (0: it has no stream)
  domain::OptId created;         // a record made without a stream of its own
  uint64_t first_position = 0;   // of its first event; 0 when it wrote none
  uint64_t last_position = 0;    // of its last event, or the head it was decided at
  Time at;                       // when it was decided
  domain::Outcome outcome;
  // Every stream the command wrote, at its new version, in the order first written.
  std::vector<std::pair<domain::Id, uint64_t>> versions;
};

// request_hash (32 bytes) followed by the result's encoding.
std::string EncodeCommandRecord(std::string_view request_hash, const CommandResult& result);

// Splits a stored record; kInternal when the bytes are not one.
struct CommandRecord {
  std::string request_hash;
  CommandResult result;
};
Result<CommandRecord> DecodeCommandRecord(std::string_view bytes);

// Whether a stored record is past its lifetime `ttl` at `now`: decided then more than
// `ttl` ago. A record that does not decode is not expired (it is kept, and reported
// where it is read).
bool CommandRecordExpired(std::string_view bytes, Time now, Seconds ttl);

}  // namespace crm::writer

#endif  // CRM_WRITER_COMMAND_RECORD_H_
