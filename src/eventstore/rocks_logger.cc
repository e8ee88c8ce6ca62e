#include "eventstore/rocks_logger.h"

#include <sys/stat.h>
#include <sys/time.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace crm::eventstore {
namespace {

// A LOG past this size is renamed LOG.old (replacing the one before) and begun again.
constexpr long kRollBytes = 64L << 20;

class StoreLogger : public rocksdb::Logger {
 public:
  StoreLogger(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  ~StoreLogger() override {
    if (file_ != nullptr) std::fclose(file_);
  }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[4096];
    timeval now{};
    gettimeofday(&now, nullptr);
    std::tm t{};
    localtime_r(&now.tv_sec, &t);
    int n = std::snprintf(line, sizeof line, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ",
                          t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                          static_cast<long>(now.tv_usec));
    va_list copy;
    va_copy(copy, ap);
    int m = std::vsnprintf(line + n, sizeof line - static_cast<size_t>(n) - 1, format, copy);
    va_end(copy);
    size_t size = static_cast<size_t>(n) + (m < 0 ? 0 : static_cast<size_t>(m));
    if (size > sizeof line - 2) size = sizeof line - 2;  // cut, like RocksDB's own
    line[size++] = '\n';
    std::lock_guard<std::mutex> lock(mu_);
    if (file_ == nullptr) return;
    // A failed write drops its line, and nothing else.
    (void)std::fwrite(line, 1, size, file_);
    (void)std::fflush(file_);
    std::clearerr(file_);
    if (std::ftell(file_) > kRollBytes) Roll();
  }

 private:
  void Roll() {
    if (std::rename(path_.c_str(), (path_ + ".old").c_str()) != 0) return;
    if (std::FILE* next = std::fopen(path_.c_str(), "ae")) {
      std::fclose(file_);
      file_ = next;
    }
  }

  std::string path_;
  std::mutex mu_;
  std::FILE* file_;  // under mu_
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewStoreLogger(const std::string& dir) {
  // Appended to, not renamed: the store may yet turn out to be another process's (RocksDB
  // takes its lock after the logger is made).
  std::string path = dir + "/LOG";
  int saved = errno;
  std::FILE* file = std::fopen(path.c_str(), "ae");
  errno = saved;
  if (file == nullptr) return nullptr;
  return std::make_shared<StoreLogger>(std::move(path), file);
}

}  // namespace crm::eventstore
