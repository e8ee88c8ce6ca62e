// Turning JSON into text: the one place where it happens, so that no rendering of stored
// data can throw. Strings that are not valid UTF-8 (an old event, a byte-for-byte header)
// come out with U+FFFD in place of the bad bytes.
#ifndef CRM_API_JSON_TEXT_H_
#define CRM_API_JSON_TEXT_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crm::api {

inline std::string JsonText(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Writes JSON text straight into a string, for lists whose items are many: the same text
// JsonText gives for the same value, without building the value first, as long as each
// object's keys come in ascending order (nlohmann's objects are sorted by key).
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  void Key(std::string_view key);
  void String(std::string_view s);
  void Int(int64_t v) { Value(std::to_string(v)); }
  void UInt(uint64_t v) { Value(std::to_string(v)); }
  void Bool(bool v) { Value(v ? "true" : "false"); }
  void Null() { Value("null"); }

 private:
  void Separate();
  void Value(std::string_view text) {
    Separate();
    out_ += text;
  }
  void Open(char c) {
    Separate();
    out_ += c;
    first_.push_back(true);
  }
  void Close(char c) {
    out_ += c;
    first_.pop_back();
  }

  std::string& out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace crm::api

#endif  // CRM_API_JSON_TEXT_H_
