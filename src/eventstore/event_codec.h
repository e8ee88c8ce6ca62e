// Maps domain events to and from the FlatBuffers `Envelope` of schemas/events.fbs.
#ifndef CRM_EVENTSTORE_EVENT_CODEC_H_
#define CRM_EVENTSTORE_EVENT_CODEC_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/events.h"
#include "domain/result.h"

namespace crm::eventstore {

// Everything an envelope holds besides the payload.
struct EnvelopeHeader {
  uint64_t position = 0;
  std::string stream;
  uint64_t version = 0;
  Time at;
  std::string actor;
  std::string command_id;
  std::string correlation_id;
};

// Serialises one event with its header into envelope bytes.
std::string EncodeEnvelope(const EnvelopeHeader& header, const domain::Event& event);

// Verifies and parses envelope bytes. Fails (kInternal, "corrupt_event") on bytes that
// are not a well-formed envelope of a known event type. A null `event`: the header only.
Status DecodeEnvelope(std::string_view bytes, EnvelopeHeader* header, domain::Event* event);

}  // namespace crm::eventstore

#endif  // CRM_EVENTSTORE_EVENT_CODEC_H_
