// `crmctl bench`: an HTTP load generator for a running crmd. It sets up an org of its own
// (a department, reps with tokens, customers and pool leads), then drives one scenario
// over N keep-alive connections for a bounded time, closed loop (each connection sends
// its next request when the last is answered) or at an offered rate (open loop, latency
// counted from when each request was due, so a stall is not hidden), and reports
// throughput, latency percentiles and errors per operation, as text and as JSON. With
// live subscribers, it also reports how long a lead creation takes to reach each of them
// as a dashboard update.
#ifndef CRM_TOOLS_LOAD_H_
#define CRM_TOOLS_LOAD_H_

#include <string>

namespace crm::tools {

struct BenchOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string token;     // an admin's bearer token
  std::string scenario;  // hello, commands, reads, lists, dashboard, search, mix
  int connections = 64;
  double seconds = 10;  // measured time, after the warm-up
  double warmup = 1;
  double rate = 0;      // requests per second in all; 0: closed loop
  int reps = 16;        // sales reps the connections act as
  int customers = 200;  // customers set up for reads
  int threads = 1;      // client I/O threads
  // WebSocket clients subscribed to this month's dashboard while the load runs, as the
  // admin (every change, the whole company's view) or as the reps in turn (their own);
  // each lead creation is timed until each of them that sees it receives a view of it.
  int subscribers = 0;
  bool subscribe_as_reps = false;
  std::string json;    // where to write the results as JSON ("" = nowhere)
  bool quiet = false;  // no progress lines
};

// Runs the benchmark; 0 when it ran (whatever the server answered), 1 when it could not.
int RunBench(const BenchOptions& options);

}  // namespace crm::tools

#endif  // CRM_TOOLS_LOAD_H_
