// libFuzzer target: the HTTP request reader over arbitrary bytes. The same bytes fed whole
// and fed in small pieces must be read the same way (the same requests, the same
// refusal), without crashing, without using bytes it was not given, and every request
// read must have a path. Small limits, so that inputs reach them.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "api/request_reader.h"

namespace {

using crm::api::RequestReader;

std::string Describe(const RequestReader::Message& m) {
  const auto& r = m.request;
  std::string out = r.method + " " + r.path + " v" + std::to_string(m.version) +
                    (m.keep_alive ? " keep" : " close") + (m.head ? " head" : "");
  for (const auto& [k, v] : r.query) out += " q[" + k + "]=" + v;
  out += " auth=" + r.authorization + " if-match=" + r.if_match +
         " key=" + r.idempotency_key.value_or("-") + " cid=" + r.correlation_id + " body=" + r.body;
  return out;
}

std::vector<std::string> ReadAll(std::string_view input, size_t piece) {
  RequestReader reader({512, 2048});
  std::string buffer;
  size_t fed = 0;
  std::vector<std::string> out;
  for (;;) {
    size_t used = reader.Feed(buffer);
    if (used > buffer.size()) std::abort();
    buffer.erase(0, used);
    switch (reader.state()) {
      case RequestReader::State::kFailed:
        out.push_back("refused " + reader.failure().code);
        return out;
      case RequestReader::State::kDone: {
        auto m = reader.Take();
        if (m.request.path.empty() || m.request.path.front() != '/') std::abort();
        out.push_back(Describe(m));
        reader.Reset();
        break;
      }
      case RequestReader::State::kNeedMore:
        if (fed == input.size()) {
          out.push_back("end of input");
          return out;
        }
        size_t n = std::min(piece, input.size() - fed);
        buffer.append(input.substr(fed, n));
        fed += n;
        break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  size_t piece = data[0] % 13 + 1;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  auto whole = ReadAll(input, input.size() + 1);
  auto pieces = ReadAll(input, piece);
  if (whole != pieces) {
    std::fprintf(stderr, "read whole and in pieces of %zu, the same bytes read differently:\n",
                 piece);
    for (size_t i = 0; i < std::max(whole.size(), pieces.size()); ++i) {
      std::fprintf(stderr, "  whole:  %s\n  pieces: %s\n",
                   i < whole.size() ? whole[i].c_str() : "-",
                   i < pieces.size() ? pieces[i].c_str() : "-");
    }
    std::abort();
  }
  return 0;
}
