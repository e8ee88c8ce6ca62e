// The OpenAPI document against a real crmd: the server serves the document it was built with,
// and answers every operation the document describes. The other direction (every route of
// src/api is documented) is OpenApiRoutesTest (tests/openapi_routes.cmake), on the sources.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "../eventstore/store_test_util.h"
#include "crmd_process.h"

namespace crm::testing {
namespace {

using eventstore::testing::TempDir;

// The document of this tree (tests/api/ → src/api/openapi.json).
std::string SourceDocument() {
  std::ifstream in(std::filesystem::path(__FILE__).parent_path() / "../../src/api/openapi.json",
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read src/api/openapi.json next to " << __FILE__;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// `path` with every "{name}" segment replaced by "x": an id that names nothing.
std::string Concrete(const std::string& path) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '{') {
      size_t close = path.find('}', i);
      out += "x";
      i = close == std::string::npos ? path.size() : close + 1;
    } else {
      out += path[i++];
    }
  }
  return out;
}

std::string ProblemField(const HttpResult& r, const std::string& field) {
  json j = r.Json();
  return j.is_object() && j.contains(field) && j[field].is_string() ? j[field].get<std::string>()
                                                                    : "";
}

TEST(OpenApiTest, EveryRouteIsDocumentedAndEveryDocumentedRouteIsRouted) {
  TempDir dir;
  Crmd crmd(dir.sub("data"));
  ASSERT_TRUE(crmd.Start()) << crmd.stderr_text();

  // Like every query: any role, but not anonymously.
  EXPECT_EQ(crmd.Call("GET", "/api/v1/openapi.json", nullptr, "-").status, 401);
  auto served = crmd.Call("GET", "/api/v1/openapi.json");
  ASSERT_EQ(served.status, 200) << served.body;
  EXPECT_EQ(served.Header("content-type"), "application/json");
  // Byte for byte: the build embeds the file as it is.
  std::string source = SourceDocument();
  EXPECT_TRUE(served.body == source)
      << "the served document (" << served.body.size() << " bytes) is not src/api/openapi.json ("
      << source.size() << " bytes)";
  json doc = served.Json();
  ASSERT_TRUE(doc.is_object() && doc.contains("paths") && doc["paths"].is_object());

  // Each documented operation, called with ids that name nothing and an empty body: it may
  // be refused for what it asks (400, 403, 404 for the record, 409...), but the router must
  // know it. The router's own answers are 405 (the path has other methods) and 404 "no such
  // path: ..." (the path is unknown).
  const std::set<std::string> kMethods = {"get",   "put",     "post", "delete",
                                          "patch", "options", "head", "trace"};
  int called = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& operation : item.items()) {
      const std::string& lower = operation.key();
      if (!kMethods.contains(lower)) continue;  // parameters, summary and such
      std::string method;
      for (char c : lower) method += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      // A WebSocket handshake, not a request this client can make.
      if (method == "GET" && path == "/api/v1/live") continue;
      std::string target = Concrete(path);
      auto r = crmd.Call(method, target, method == "GET" ? json(nullptr) : json::object());
      std::string what = method + " " + path + " (as " + target + ") answered " +
                         std::to_string(r.status) + ": " + r.body;
      EXPECT_NE(r.status, 0) << method << " " << target << ": no answer";
      EXPECT_NE(r.status, 405) << "documented but not routed: " << what;
      EXPECT_FALSE(r.status == 404 && ProblemField(r, "detail").starts_with("no such path"))
          << "documented but not routed: " << what;
      // Without ids, nothing is there to be not found.
      if (path.find('{') == std::string::npos) {
        EXPECT_FALSE(r.status == 404 && ProblemField(r, "code") == "not_found")
            << "documented but not routed: " << what;
      }
      ++called;
    }
  }
  // The document has some fifty operations; far fewer means it was not read.
  EXPECT_GE(called, 40);
}

}  // namespace
}  // namespace crm::testing
