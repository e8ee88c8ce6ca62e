// Exports (导出): a list written to a file on a thread of its own, then sent from that file,
// so that a million rows cost the server one page of rows in memory, never hold an I/O
// thread, and hold the read models' lock one page at a time.
//
// The file is a table: a header row, then rows of cells. As CSV it is UTF-8 with a byte
// order mark (so that Excel reads it as UTF-8, not as the system's code page) and CRLF
// line ends; as .xlsx it is written by libxlsxwriter in its constant-memory mode (rows go
// to a temporary file as they come), its amounts as numbers.
#ifndef CRM_API_EXPORTER_H_
#define CRM_API_EXPORTER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "domain/result.h"

namespace crm::api {

// A cell: empty, text, a whole number, or an amount in a currency's minor units (shown in
// major units with the currency's decimals).
struct Amount {
  int64_t minor = 0;
  int digits = 2;  // the currency's fraction digits (ISO 4217)
};
using Cell = std::variant<std::monostate, std::string, int64_t, Amount>;

class TableWriter {
 public:
  virtual ~TableWriter() = default;
  virtual Status Row(const std::vector<Cell>& cells) = 0;
  // Completes the file; nothing is written after.
  virtual Status Finish() = 0;
};

enum class ExportFormat { kCsv, kXlsx };
// A table at `path` (created), in `format`; `sheet` names the .xlsx worksheet and
// `tmpdir` is where libxlsxwriter keeps its row files.
Result<std::unique_ptr<TableWriter>> NewTable(ExportFormat format, const std::string& path,
                                              const std::string& sheet, const std::string& tmpdir);

// The fraction digits of an ISO 4217 currency (2 when unknown).
int CurrencyDigits(const std::string& currency);

// Runs export jobs on its own threads, a few at a time.
class Exporter {
 public:
  // `dir` holds the files being written (emptied now: what a crash left is garbage).
  Exporter(std::string dir, size_t threads = 1, size_t max_waiting = 4);
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  const std::string& dir() const { return dir_; }
  // Queues `job`; false when `max_waiting` jobs already wait (answer 503) or after Stop.
  bool Submit(std::function<void()> job);
  // A fresh file name in dir() ending with `extension`.
  std::string NewPath(const std::string& extension);
  // Finishes the jobs in hand, drops those waiting (they run with `stopping()` true),
  // joins. Idempotent.
  void Stop();
  bool stopping() const;

 private:
  void Loop();

  std::string dir_;
  size_t max_waiting_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> waiting_;  // guarded by mu_
  bool stopping_ = false;                      // guarded by mu_
  uint64_t next_file_ = 0;                     // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace crm::api

#endif  // CRM_API_EXPORTER_H_
