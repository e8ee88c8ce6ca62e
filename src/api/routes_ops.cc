// Health, metrics and the OpenAPI document.
#include <sstream>

#include "api/handler_util.h"
#include "api/openapi.h"
#include "api/routes.h"
#include "eventstore/jetstream_event_store.h"

namespace crm::api {

namespace d = crm::domain;

namespace {

// Renders `h` as a Prometheus histogram, its bounds and sum multiplied by `scale` (to
// give seconds of microseconds, say).
void RenderHistogram(std::ostream& out, std::string_view name, std::string_view help,
                     const eventstore::Histogram& h, double scale) {
  out << "# HELP " << name << " " << help << "\n"
      << "# TYPE " << name << " histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += h.counts[i];
    out << name << "_bucket{le=\"" << static_cast<double>(h.bounds[i]) * scale << "\"} "
        << cumulative << "\n";
  }
  out << name << "_bucket{le=\"+Inf\"} " << h.count << "\n"
      << name << "_sum " << static_cast<double>(h.sum) * scale << "\n"
      << name << "_count " << h.count << "\n";
}

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
      << "evcrm_events_appended_total " << st.events << "\n"
      << "# HELP evcrm_writer_halted 1 when the writer refuses every command until a restart "
         "(the log failed to write).\n"
      << "# TYPE evcrm_writer_halted gauge\n"
      << "evcrm_writer_halted " << (st.halted.empty() ? 0 : 1) << "\n"
      << "# HELP evcrm_model_loaded_from_position The snapshot the decision model last loaded "
         "from (0: none, the whole log).\n"
      << "# TYPE evcrm_model_loaded_from_position gauge\n"
      << "evcrm_model_loaded_from_position " << st.loaded_from << "\n"
      << "# HELP evcrm_model_loaded_events Events of the log folded after that snapshot.\n"
      << "# TYPE evcrm_model_loaded_events gauge\n"
      << "evcrm_model_loaded_events " << st.loaded_events << "\n"
      << "# HELP evcrm_model_load_seconds Time the decision model took to load.\n"
      << "# TYPE evcrm_model_load_seconds gauge\n"
      << "evcrm_model_load_seconds " << st.load_seconds << "\n";
  if (s.snapshot_stats) {
    writer::SnapshotStats snap = s.snapshot_stats();
    out << "# HELP evcrm_model_snapshot_position The position of the newest decision-model "
           "snapshot.\n"
        << "# TYPE evcrm_model_snapshot_position gauge\n"
        << "evcrm_model_snapshot_position " << snap.newest_position << "\n"
        << "# HELP evcrm_model_snapshots_written_total Decision-model snapshots written.\n"
        << "# TYPE evcrm_model_snapshots_written_total counter\n"
        << "evcrm_model_snapshots_written_total " << snap.written << "\n"
        << "# HELP evcrm_model_snapshot_failures_total Snapshot builds that failed.\n"
        << "# TYPE evcrm_model_snapshot_failures_total counter\n"
        << "evcrm_model_snapshot_failures_total " << snap.failed << "\n"
        << "# HELP evcrm_model_snapshot_build_seconds Time the last snapshot took to build.\n"
        << "# TYPE evcrm_model_snapshot_build_seconds gauge\n"
        << "evcrm_model_snapshot_build_seconds " << snap.last_build_seconds << "\n";
  }
  if (auto replica = eventstore::ReplicaOf(s.store)) {
    eventstore::WriterLease::Stats lease =
        s.lease ? s.lease->GetStats() : eventstore::WriterLease::Stats{};
    out << "# HELP evcrm_stream_sequence The JetStream stream's last sequence in this node's "
           "copy of the log.\n"
        << "# TYPE evcrm_stream_sequence gauge\n"
        << "evcrm_stream_sequence " << replica->applied << "\n"
        << "# HELP evcrm_stream_lag Stream messages this node's copy has not applied yet.\n"
        << "# TYPE evcrm_stream_lag gauge\n"
        << "evcrm_stream_lag " << replica->stream_last - replica->applied << "\n"
        << "# HELP evcrm_writer 1 when this node holds the writer's lease and decides.\n"
        << "# TYPE evcrm_writer gauge\n"
        << "evcrm_writer " << (s.lease && s.lease->IsWriter() ? 1 : 0) << "\n"
        << "# HELP evcrm_writer_terms_taken_total Times this node took the writer's lease.\n"
        << "# TYPE evcrm_writer_terms_taken_total counter\n"
        << "evcrm_writer_terms_taken_total " << lease.terms_taken << "\n"
        << "# HELP evcrm_writer_terms_lost_total Times this node stopped writing without "
           "releasing the lease (refused, or not renewed in time).\n"
        << "# TYPE evcrm_writer_terms_lost_total counter\n"
        << "evcrm_writer_terms_lost_total " << lease.terms_lost << "\n"
        << "# HELP evcrm_writer_model_followed_events_total Events other nodes appended that "
           "this node's decision model folded in.\n"
        << "# TYPE evcrm_writer_model_followed_events_total counter\n"
        << "evcrm_writer_model_followed_events_total " << st.followed_events << "\n";
  }
  RenderHistogram(out, "evcrm_commit_batch_size", "Commands per group commit.", st.batch_size, 1);
  RenderHistogram(out, "evcrm_fsync_seconds", "Time to write and sync one group commit.",
                  appends.micros, 1e-6);
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
  LiveStats live = s.live_stats();
  out << "# HELP evcrm_websockets_open Open WebSockets on /api/v1/live.\n"
      << "# TYPE evcrm_websockets_open gauge\n"
      << "evcrm_websockets_open " << live.clients << "\n"
      << "# HELP evcrm_websocket_queued_bytes Live messages waiting for their socket.\n"
      << "# TYPE evcrm_websocket_queued_bytes gauge\n"
      << "evcrm_websocket_queued_bytes " << live.queued_bytes << "\n"
      << "# HELP evcrm_live_view_builds_total Live views built (once per change per scope).\n"
      << "# TYPE evcrm_live_view_builds_total counter\n"
      << "evcrm_live_view_builds_total " << live.view_builds << "\n"
      << "# HELP evcrm_live_messages_sent_total Live messages written to sockets.\n"
      << "# TYPE evcrm_live_messages_sent_total counter\n"
      << "evcrm_live_messages_sent_total " << live.messages_sent << "\n"
      << "# HELP evcrm_live_stalled_closes_total Events feeds closed (1013) for taking nothing.\n"
      << "# TYPE evcrm_live_stalled_closes_total counter\n"
      << "evcrm_live_stalled_closes_total " << live.stalled_closes << "\n";
  out << "# HELP evcrm_projections_failing 1 when the read models cannot follow the log (see "
         "/health)\n"
      << "# TYPE evcrm_projections_failing gauge\n"
      << "evcrm_projections_failing " << (s.read.runner().failure().empty() ? 0 : 1) << "\n"
      << "# HELP evcrm_read_models_store_failed 1 when the read models' store failed a write "
         "(served from memory, rebuilt at the next start)\n"
      << "# TYPE evcrm_read_models_store_failed gauge\n"
      << "evcrm_read_models_store_failed " << (s.read.runner().store_failed() ? 1 : 0) << "\n";
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
    json health = {
        {"status", "ok"}, {"position", s.store.Head()}, {"projections", std::move(projections)}};
    // A halted writer refuses every command, and read models that cannot follow the log
    // serve the past: either way the server is not healthy, whatever it reads. A store of
    // the read models that failed a write leaves them served from memory: degraded.
    std::string halted = s.writer.Stats().halted;
    std::string failing = s.read.runner().failure();
    // A log on a JetStream stream: which, and how far this node's copy has followed it. A
    // copy that stopped following serves the past and takes no command.
    if (auto replica = eventstore::ReplicaOf(s.store)) {
      health["log"] = {{"store", "jetstream"},
                       {"stream", replica->stream},
                       {"node", replica->node},
                       {"sequence", replica->applied},
                       {"lag", replica->stream_last - replica->applied}};
      // Whether this node decides, and which node does.
      health["role"] = s.lease && s.lease->IsWriter() ? "writer" : "standby";
      auto writer = s.lease ? s.lease->Writer() : std::nullopt;
      health["writer"] =
          writer ? json{{"node", writer->node}, {"url", writer->url}, {"term", writer->term}}
                 : json(nullptr);
      if (failing.empty() && !replica->broken.empty()) {
        failing = "this node's copy of the log stopped following the stream: " + replica->broken;
      }
    }
    if (!halted.empty()) {
      health["status"] = "halted";
      health["detail"] = halted;
    } else if (!failing.empty()) {
      health["status"] = "failing";
      health["detail"] = failing;
    } else if (s.read.runner().store_failed()) {
      health["status"] = "degraded";
      health["detail"] =
          "the read models' store failed a write: they are served from memory, and rebuilt "
          "from the log at the next start";
    }
    SendJson(call, halted.empty() && failing.empty() ? 200 : 503, health);
  });

  r.Add("GET", "/metrics", [&s](const CallPtr& call) {
    auto viewer = Authenticate(s, call->req.authorization);
    if (!viewer.ok()) return SendError(call, viewer.error());
    Status allowed = AuditorOrAdmin(*viewer, "metrics");
    if (!allowed.ok()) return SendError(call, allowed.error());
    HttpResponse resp;
    resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
    resp.body = s.metrics.Render() + StoreMetrics(s);
    call->respond(std::move(resp));
  });

  // The document the binary was built with (embedded from src/api/openapi.json), for any
  // authenticated caller: it describes what every role may call, and nothing of the data.
  r.Add("GET", "/api/v1/openapi.json", [&s](const CallPtr& call) {
    auto viewer = Authenticate(s, call->req.authorization);
    if (!viewer.ok()) return SendError(call, viewer.error());
    HttpResponse resp;
    resp.content_type = "application/json";
    resp.body.assign(kOpenApiJson, kOpenApiJsonSize);
    call->respond(std::move(resp));
  });
}

}  // namespace crm::api
