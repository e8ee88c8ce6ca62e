// A fixed-bucket histogram of unsigned counts, as Prometheus exposes one: the store's
// append times and the writer's batch sizes keep one each, /metrics renders them.
#ifndef CRM_EVENTSTORE_HISTOGRAM_H_
#define CRM_EVENTSTORE_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace crm::eventstore {

struct Histogram {
  explicit Histogram(std::vector<uint64_t> upper_bounds)
      : bounds(std::move(upper_bounds)), counts(bounds.size() + 1, 0) {}

  // Counts `v` in the first bucket whose upper bound it does not exceed, or in the last,
  // unbounded one.
  void Observe(uint64_t v) {
    std::size_t i = 0;
    while (i < bounds.size() && v > bounds[i]) ++i;
    ++counts[i];
    sum += v;
    ++count;
  }

  std::vector<uint64_t> bounds;  // inclusive upper bounds, ascending
  std::vector<uint64_t> counts;  // one per bound, then one for more
  uint64_t sum = 0;
  uint64_t count = 0;
};

}  // namespace crm::eventstore

#endif  // CRM_EVENTSTORE_HISTOGRAM_H_
