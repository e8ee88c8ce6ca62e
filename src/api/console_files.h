// The console's files (src/console), embedded at build time by embed_console.cmake.
#ifndef CRM_API_CONSOLE_FILES_H_
#define CRM_API_CONSOLE_FILES_H_

#include <string_view>
#include <vector>

namespace crm::api {

struct EmbeddedFile {
  std::string_view path;  // relative to src/console, e.g. "pages/pool.js"
  std::string_view bytes;
  std::string_view sha256;  // hex
};

const std::vector<EmbeddedFile>& ConsoleFiles();
// A hash over every file: the console's files are served under /console/<build>/.
extern const char kConsoleBuild[];

}  // namespace crm::api

#endif  // CRM_API_CONSOLE_FILES_H_
