// std::optional to and from flatbuffers::Optional (FlatBuffers scalars with `= null`), for
// the schemas' optional numbers: durations are stored as whole seconds.
#ifndef CRM_EVENTSTORE_FLAT_OPTIONAL_H_
#define CRM_EVENTSTORE_FLAT_OPTIONAL_H_

#include <flatbuffers/flatbuffers.h>

#include <optional>

#include "domain/time.h"

namespace crm::eventstore {

template <class T>
flatbuffers::Optional<T> ToFlat(const std::optional<T>& v) {
  if (!v) return flatbuffers::nullopt;
  return *v;
}
inline flatbuffers::Optional<int64_t> ToFlat(const std::optional<Seconds>& v) {
  if (!v) return flatbuffers::nullopt;
  return v->count();
}

template <class T>
std::optional<T> FromFlat(const flatbuffers::Optional<T>& v) {
  if (!v) return std::nullopt;
  return *v;
}
inline std::optional<Seconds> SecondsFromFlat(const flatbuffers::Optional<int64_t>& v) {
  if (!v) return std::nullopt;
  return Seconds(*v);
}

}  // namespace crm::eventstore

#endif  // CRM_EVENTSTORE_FLAT_OPTIONAL_H_
