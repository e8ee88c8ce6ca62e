// Request counters and latency histograms, rendered in the Prometheus text format.
#ifndef CRM_API_METRICS_H_
#define CRM_API_METRICS_H_

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace crm::api {

class Metrics {
 public:
  // Records one answered request. Thread-safe. The series are bounded: `route` must be a
  // route pattern (or "unmatched"), and methods other than the standard ones count as
  // "other".
  void Request(const std::string& method, const std::string& route, unsigned status,
               std::chrono::microseconds latency);
  // The request metrics; the caller appends the store's and the projections'.
  std::string Render() const;

  static const std::vector<double>& LatencyBuckets();  // seconds

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, unsigned>, uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, Histogram> latency_;
};

}  // namespace crm::api

#endif  // CRM_API_METRICS_H_
