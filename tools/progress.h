// A progress line for long tool runs (crmctl), on stderr.
#ifndef CRM_TOOLS_PROGRESS_H_
#define CRM_TOOLS_PROGRESS_H_

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace crm::tools {

using Steady = std::chrono::steady_clock;

// "verify: 1234567 of 2000000 events (61%), 812345 events/s" on stderr: redrawn in place
// on a terminal at most every 200 ms, else a line every 5 s; a last line when done.
// `unit` names what is counted.
class Progress {
 public:
  explicit Progress(std::string what, std::string unit = "events")
      : what_(std::move(what)),
        unit_(std::move(unit)),
        tty_(::isatty(2) == 1),
        start_(Steady::now()),
        last_(start_) {}

  void Update(uint64_t done, uint64_t total) {
    auto now = Steady::now();
    if (now - last_ < (tty_ ? std::chrono::milliseconds(200) : std::chrono::seconds(5))) return;
    last_ = now;
    Print(done, total, tty_ ? "\r" : "", tty_ ? "" : "\n");
  }

  void Finish(uint64_t done) { Print(done, done, tty_ ? "\r" : "", "\n"); }

 private:
  void Print(uint64_t done, uint64_t total, const char* start, const char* end) {
    double secs = std::chrono::duration<double>(Steady::now() - start_).count();
    unsigned pct = total == 0 ? 100 : static_cast<unsigned>(100.0 * done / total);
    std::fprintf(stderr, "%s%s: %llu of %llu %s (%u%%), %.0f %s/s, %.1f s%s", start, what_.c_str(),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                 unit_.c_str(), pct, secs > 0 ? done / secs : 0.0, unit_.c_str(), secs, end);
    std::fflush(stderr);
  }

  std::string what_;
  std::string unit_;
  bool tty_;
  Steady::time_point start_, last_;
};

}  // namespace crm::tools

#endif  // CRM_TOOLS_PROGRESS_H_
