#include "api/metrics.h"

#include <sstream>

namespace crm::api {

const std::vector<double>& Metrics::LatencyBuckets() {
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                               0.05,   0.1,   0.25,   0.5,   1,    2.5};
  return kBuckets;
}

namespace {

// The method as a label: any token is a method to the parser, so everything but the
// methods this server knows counts as one, or each request could add a series.
const std::string& MethodLabel(const std::string& method) {
  static const std::vector<std::string> kKnown = {"GET",   "HEAD",   "POST",   "PUT",
                                                  "PATCH", "DELETE", "OPTIONS"};
  static const std::string kOther = "other";
  for (const auto& m : kKnown) {
    if (m == method) return m;
  }
  return kOther;
}

}  // namespace

void Metrics::Request(const std::string& method, const std::string& route, unsigned status,
                      std::chrono::microseconds latency) {
  double seconds = static_cast<double>(latency.count()) / 1e6;
  const std::string& label = MethodLabel(method);
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{label, route, status}];
  auto& h = latency_[{label, route}];
  if (h.buckets.empty()) h.buckets.assign(LatencyBuckets().size(), 0);
  for (size_t i = 0; i < LatencyBuckets().size(); ++i) {
    if (seconds <= LatencyBuckets()[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

std::string Metrics::Render() const {
  std::ostringstream out;
  std::lock_guard<std::mutex> lock(mu_);
  out << "# HELP evcrm_http_requests_total HTTP requests answered, by route and status.\n"
      << "# TYPE evcrm_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [method, route, status] = key;
    out << "evcrm_http_requests_total{method=\"" << method << "\",route=\"" << route
        << "\",status=\"" << status << "\"} " << n << "\n";
  }
  out << "# HELP evcrm_http_request_duration_seconds Time from request to answer.\n"
      << "# TYPE evcrm_http_request_duration_seconds histogram\n";
  for (const auto& [key, h] : latency_) {
    std::string labels = "method=\"" + key.first + "\",route=\"" + key.second + "\"";
    for (size_t i = 0; i < h.buckets.size(); ++i) {
      out << "evcrm_http_request_duration_seconds_bucket{" << labels << ",le=\""
          << LatencyBuckets()[i] << "\"} " << h.buckets[i] << "\n";
    }
    out << "evcrm_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << h.count
        << "\n";
    out << "evcrm_http_request_duration_seconds_sum{" << labels << "} " << h.sum << "\n";
    out << "evcrm_http_request_duration_seconds_count{" << labels << "} " << h.count << "\n";
  }
  return out.str();
}

}  // namespace crm::api
