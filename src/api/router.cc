#include "api/router.h"

#include "domain/vocabulary.h"

namespace crm::api {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool PercentDecode(std::string_view in, std::string* out, bool plus_is_space) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

bool ParseQuery(std::string_view query, std::map<std::string, std::string>* out) {
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string key, value;
      if (!PercentDecode(pair.substr(0, eq), &key, true)) return false;
      if (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), &value, true)) {
        return false;
      }
      (*out)[key] = value;
    }
    start = end + 1;
  }
  return true;
}

void Router::Add(std::string method, std::string pattern, Handler handler) {
  auto segments = domain::SplitNonEmpty(pattern, '/');
  routes_.push_back(
      {std::move(method), std::move(pattern), std::move(segments), std::move(handler)});
}

Router::Match Router::Find(HttpRequest& req, Handler* handler, std::string* allowed) const {
  auto segments = domain::SplitNonEmpty(req.path, '/');
  bool path_found = false;
  allowed->clear();
  // The most literal route wins ("/leads/export" over "/leads/{id}"), whatever the order
  // the routes were added in.
  const Route* best = nullptr;
  size_t best_literals = 0;
  std::map<std::string, std::string> best_params;
  for (const auto& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool match = true;
    size_t literals = 0;
    for (size_t i = 0; i < segments.size() && match; ++i) {
      const std::string& p = r.segments[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        params[p.substr(1, p.size() - 2)] = segments[i];
      } else {
        match = p == segments[i];
        ++literals;
      }
    }
    if (!match) continue;
    path_found = true;
    if (r.method == req.method || (req.method == "HEAD" && r.method == "GET")) {
      if (!best || literals > best_literals) {
        best = &r;
        best_literals = literals;
        best_params = std::move(params);
      }
      continue;
    }
    if (allowed->find(r.method) == std::string::npos) {
      *allowed += (allowed->empty() ? "" : ", ") + r.method;
    }
  }
  if (best) {
    allowed->clear();
    req.params = std::move(best_params);
    req.route = best->pattern;
    *handler = best->handler;
    return Match::kFound;
  }
  return path_found ? Match::kNoMethod : Match::kNoPath;
}

std::vector<std::pair<std::string, std::string>> Router::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : routes_) out.emplace_back(r.method, r.pattern);
  return out;
}

}  // namespace crm::api
