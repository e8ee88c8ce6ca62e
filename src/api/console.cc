#include "api/console.h"

#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "api/console_files.h"
#include "api/handler_util.h"

namespace crm::api {

const char kConsoleCsp[] =
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'";

namespace {

constexpr std::string_view kBuildMark = "%BUILD%";
constexpr char kDevBuild[] = "dev";

struct File {
  std::string bytes;
  std::string etag;  // quoted
  std::string type;
};

std::string TypeOf(std::string_view path) {
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".json")) return "application/json";
  return "application/octet-stream";
}

// A path segment a file name may have: letters, digits, '.', '-', '_', not starting with
// '.' (so neither ".." nor hidden files).
bool SafeSegment(std::string_view s) {
  if (s.empty() || s.front() == '.') return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Whether an If-None-Match header names `etag`: "*", or a list of entity tags compared
// weakly (RFC 9110 §13.1.2: a W/ prefix does not matter; a proxy that compresses may add
// one).
bool NoneMatch(std::string_view header, std::string_view etag) {
  size_t start = 0;
  while (start < header.size()) {
    size_t end = header.find(',', start);
    if (end == std::string_view::npos) end = header.size();
    std::string_view tag = header.substr(start, end - start);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
    start = end + 1;
  }
  return false;
}

std::string WithBuild(std::string html, std::string_view build) {
  for (size_t at = html.find(kBuildMark); at != std::string::npos;
       at = html.find(kBuildMark, at + build.size())) {
    html.replace(at, kBuildMark.size(), build);
  }
  return html;
}

class Console {
 public:
  explicit Console(std::string dir) : dir_(std::move(dir)) {
    if (!dir_.empty()) return;
    for (const auto& f : ConsoleFiles()) {
      std::string path(f.path);
      File file{std::string(f.bytes), "\"" + std::string(f.sha256.substr(0, 32)) + "\"",
                TypeOf(path)};
      if (path == "index.html") {
        file.bytes = WithBuild(std::move(file.bytes), kConsoleBuild);
        file.etag = "\"" + std::string(kConsoleBuild) + "\"";
      }
      embedded_.emplace(path, std::move(file));
    }
  }

  std::string_view build() const { return dir_.empty() ? kConsoleBuild : kDevBuild; }
  bool cached() const { return dir_.empty(); }

  // The file at `path` (relative to src/console), or nullptr.
  std::shared_ptr<const File> Find(const std::string& path) const {
    if (dir_.empty()) {
      auto it = embedded_.find(path);
      if (it == embedded_.end()) return nullptr;
      return std::shared_ptr<const File>(std::shared_ptr<const File>{}, &it->second);
    }
    std::ifstream in(dir_ + "/" + path, std::ios::binary);
    if (!in) return nullptr;
    std::stringstream bytes;
    bytes << in.rdbuf();
    auto file = std::make_shared<File>(File{bytes.str(), "", TypeOf(path)});
    if (path == "index.html") file->bytes = WithBuild(std::move(file->bytes), kDevBuild);
    return file;
  }

 private:
  std::string dir_;
  std::map<std::string, File> embedded_;
};

void Serve(const Console& console, const CallPtr& call, const std::string& path, bool page) {
  auto file = console.Find(path);
  if (!file) return SendError(call, NotFound("no such file: " + call->req.path));
  HttpResponse r;
  r.headers = {{"X-Content-Type-Options", "nosniff"}, {"Referrer-Policy", "no-referrer"}};
  if (page) {
    r.headers.emplace_back("Content-Security-Policy", kConsoleCsp);
    r.headers.emplace_back("X-Frame-Options", "DENY");
  }
  if (!console.cached()) {
    r.headers.emplace_back("Cache-Control", "no-store");
  } else {
    r.headers.emplace_back("Cache-Control",
                           page ? "no-cache" : "public, max-age=31536000, immutable");
    r.headers.emplace_back("ETag", file->etag);
    if (NoneMatch(call->req.if_none_match, file->etag)) {
      r.status = 304;
      r.content_type.clear();
      return call->respond(std::move(r));
    }
  }
  r.content_type = file->type;
  r.body = file->bytes;
  call->respond(std::move(r));
}

}  // namespace

void AddConsoleRoutes(Router& r, const std::string& dir) {
  auto console = std::make_shared<const Console>(dir);
  r.Add("GET", "/", [console](const CallPtr& call) { Serve(*console, call, "index.html", true); });
  // Files of another build are not served: the page that asks for them is out of date.
  auto file = [console](const CallPtr& call, std::string path) {
    const auto& p = call->req.params;
    bool safe = p.at("build") == console->build() && SafeSegment(p.at("file")) &&
                (!p.count("dir") || SafeSegment(p.at("dir")));
    if (!safe || path == "index.html") {
      return SendError(call, NotFound("no such file: " + call->req.path));
    }
    Serve(*console, call, path, false);
  };
  r.Add("GET", "/console/{build}/{file}",
        [file](const CallPtr& call) { file(call, call->req.params.at("file")); });
  r.Add("GET", "/console/{build}/{dir}/{file}", [file](const CallPtr& call) {
    file(call, call->req.params.at("dir") + "/" + call->req.params.at("file"));
  });
}

}  // namespace crm::api
