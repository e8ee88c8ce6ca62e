// Maps (method, path) to a handler. Patterns are paths whose "{name}" segments match
// any one segment, e.g. "/api/v1/leads/{id}/claim".
#ifndef CRM_API_ROUTER_H_
#define CRM_API_ROUTER_H_

#include <functional>
#include <string>
#include <vector>

#include "api/http_types.h"

namespace crm::api {

using Handler = std::function<void(const CallPtr&)>;

class Router {
 public:
  void Add(std::string method, std::string pattern, Handler handler);

  enum class Match { kFound, kNoPath, kNoMethod };
  // Finds the handler; fills req.params and req.route. For kNoMethod, `allowed` lists the
  // methods the path has.
  Match Find(HttpRequest& req, Handler* handler, std::string* allowed) const;

  // Every registered (method, pattern), for the OpenAPI document.
  std::vector<std::pair<std::string, std::string>> Routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace crm::api

#endif  // CRM_API_ROUTER_H_
