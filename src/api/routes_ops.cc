// Health and metrics.
#include <sstream>

#include "api/handler_util.h"
#include "api/routes.h"

namespace crm::api {

namespace d = crm::domain;

namespace {

std::string StoreMetrics(const Services& s) {
  writer::WriterStats st = s.writer.Stats();
  eventstore::AppendStats appends = s.store.Stats();
  uint64_t head = s.store.Head();
  std::ostringstream out;
  out << "# HELP evcrm_log_head_position The last durable log position.\n"
      << "# TYPE evcrm_log_head_position gauge\n"
      << "evcrm_log_head_position " << head << "\n"
      << "# HELP evcrm_commit_batches_total Group commits written.\n"
      << "# TYPE evcrm_commit_batches_total counter\n"
      << "evcrm_commit_batches_total " << st.batches << "\n"
      << "# HELP evcrm_commit_failed_batches_total Group commits that failed to write.\n"
      << "# TYPE evcrm_commit_failed_batches_total counter\n"
      << "evcrm_commit_failed_batches_total " << st.failed_batches << "\n"
      << "# HELP evcrm_commands_total Commands decided by the writer.\n"
      << "# TYPE evcrm_commands_total counter\n"
      << "evcrm_commands_total " << st.commands << "\n"
      << "# HELP evcrm_events_appended_total Events appended to the log.\n"
      << "# TYPE evcrm_events_appended_total counter\n"
      << "evcrm_events_appended_total " << st.events << "\n";
  const uint64_t size_bounds[] = {1, 4, 16, 64};
  out << "# HELP evcrm_commit_batch_size Commands per group commit.\n"
      << "# TYPE evcrm_commit_batch_size histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < 4; ++i) {
    cumulative += st.batch_size_buckets[i];
    out << "evcrm_commit_batch_size_bucket{le=\"" << size_bounds[i] << "\"} " << cumulative << "\n";
  }
  out << "evcrm_commit_batch_size_bucket{le=\"+Inf\"} " << st.batches << "\n"
      << "evcrm_commit_batch_size_sum " << st.commands << "\n"
      << "evcrm_commit_batch_size_count " << st.batches << "\n";
  const char* fsync_bounds[] = {"0.00025", "0.001", "0.004", "0.016", "0.064"};
  out << "# HELP evcrm_fsync_seconds Time to write and sync one group commit.\n"
      << "# TYPE evcrm_fsync_seconds histogram\n";
  cumulative = 0;
  uint64_t fsyncs = 0;
  for (uint64_t n : appends.micros_buckets) fsyncs += n;
  for (size_t i = 0; i < 5; ++i) {
    cumulative += appends.micros_buckets[i];
    out << "evcrm_fsync_seconds_bucket{le=\"" << fsync_bounds[i] << "\"} " << cumulative << "\n";
  }
  out << "evcrm_fsync_seconds_bucket{le=\"+Inf\"} " << fsyncs << "\n"
      << "evcrm_fsync_seconds_sum " << static_cast<double>(appends.micros_sum) / 1e6 << "\n"
      << "evcrm_fsync_seconds_count " << fsyncs << "\n";
  HttpStats http = s.http_stats();
  out << "# HELP evcrm_http_connections Open client connections.\n"
      << "# TYPE evcrm_http_connections gauge\n"
      << "evcrm_http_connections " << http.connections << "\n"
      << "# HELP evcrm_http_max_connections The connection limit (--max-connections).\n"
      << "# TYPE evcrm_http_max_connections gauge\n"
      << "evcrm_http_max_connections " << http.max_connections << "\n"
      << "# HELP evcrm_http_writing_bytes Answer bytes handed to sockets and not yet taken "
         "(at most one answer per connection).\n"
      << "# TYPE evcrm_http_writing_bytes gauge\n"
      << "evcrm_http_writing_bytes " << http.writing_bytes << "\n"
      << "# HELP evcrm_http_refused_connections_total Connections refused at the limit.\n"
      << "# TYPE evcrm_http_refused_connections_total counter\n"
      << "evcrm_http_refused_connections_total " << http.refused_total << "\n"
      << "# HELP evcrm_http_accept_failures_total Accepts that failed (out of descriptors, "
         "memory); the server backs off.\n"
      << "# TYPE evcrm_http_accept_failures_total counter\n"
      << "evcrm_http_accept_failures_total " << http.accept_failures_total << "\n";
  out << "# HELP evcrm_projection_lag_events Events the projection has still to apply.\n"
      << "# TYPE evcrm_projection_lag_events gauge\n";
  for (const auto& [name, cp] : s.read.runner().checkpoints()) {
    out << "evcrm_projection_lag_events{projection=\"" << name << "\"} "
        << (head > cp ? head - cp : 0) << "\n";
  }
  return out.str();
}

}  // namespace

void AddOpsRoutes(Router& r, Services& s) {
  r.Add("GET", "/health", [&s](const CallPtr& call) {
    json projections = json::object();
    for (const auto& [name, cp] : s.read.runner().checkpoints()) projections[name] = cp;
    SendJson(call, 200,
             json{{"status", "ok"},
                  {"position", s.store.Head()},
                  {"projections", std::move(projections)}});
  });

  r.Add("GET", "/metrics", [&s](const CallPtr& call) {
    auto viewer = Authenticate(s, call->req.authorization);
    if (!viewer.ok()) return SendError(call, viewer.error());
    if (viewer->role != d::Role::kAdmin && viewer->role != d::Role::kAuditor) {
      return SendError(call, Forbidden("metrics are for admins and auditors"));
    }
    HttpResponse resp;
    resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp.body = s.metrics.Render() + StoreMetrics(s);
    call->respond(std::move(resp));
  });
}

}  // namespace crm::api
