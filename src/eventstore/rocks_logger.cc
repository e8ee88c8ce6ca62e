#include "eventstore/rocks_logger.h"

#include <sys/time.h>

#include <cstdarg>
#include <cstdio>
#include <ctime>

namespace crm::eventstore {
namespace {

class StoreLogger : public rocksdb::Logger {
 public:
  explicit StoreLogger(std::FILE* file) : file_(file) {}
  ~StoreLogger() override { std::fclose(file_); }

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
    // One write per line (stdio locks the stream); a failed one is dropped, as is its line.
    (void)std::fwrite(line, 1, size, file_);
    (void)std::fflush(file_);
    std::clearerr(file_);
  }

 private:
  std::FILE* file_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewStoreLogger(const std::string& dir) {
  std::string path = dir + "/LOG";
  std::rename(path.c_str(), (path + ".old").c_str());
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (file == nullptr) return nullptr;
  return std::make_shared<StoreLogger>(file);
}

}  // namespace crm::eventstore
