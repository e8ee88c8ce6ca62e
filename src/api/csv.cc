#include "api/csv.h"

#include <unicode/ucnv.h>
#include <unicode/ucnv_err.h>
#include <unicode/ustring.h>

#include <algorithm>
#include <memory>

#include "api/text.h"

namespace crm::api {

namespace {

// `bytes` in the ICU converter `charset`, as UTF-8; nullopt on a byte sequence the
// charset does not define (the converter stops instead of substituting).
std::optional<std::string> Convert(std::string_view bytes, const char* charset) {
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<UConverter, decltype(&ucnv_close)> conv(ucnv_open(charset, &status), &ucnv_close);
  if (U_FAILURE(status)) return std::nullopt;
  ucnv_setToUCallBack(conv.get(), UCNV_TO_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &status);
  if (U_FAILURE(status)) return std::nullopt;
  // At most one UTF-16 unit per byte for GB18030 and two bytes per unit for UTF-16.
  std::u16string wide(bytes.size() + 1, u'\0');
  int32_t n = ucnv_toUChars(conv.get(), wide.data(), static_cast<int32_t>(wide.size()),
                            bytes.data(), static_cast<int32_t>(bytes.size()), &status);
  if (U_FAILURE(status)) return std::nullopt;
  int32_t needed = 0;
  status = U_ZERO_ERROR;
  u_strToUTF8(nullptr, 0, &needed, wide.data(), n, &status);
  if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status)) return std::nullopt;
  std::string out(static_cast<size_t>(needed), '\0');
  status = U_ZERO_ERROR;
  u_strToUTF8(out.data(), needed, nullptr, wide.data(), n, &status);
  if (U_FAILURE(status)) return std::nullopt;
  return out;
}

}  // namespace

Result<std::string> DecodeUpload(std::string_view bytes) {
  if (bytes.starts_with(kUtf8Bom)) bytes.remove_prefix(kUtf8Bom.size());
  std::optional<std::string> text;
  if (bytes.starts_with("\xFF\xFE") || bytes.starts_with("\xFE\xFF")) {
    // UTF-16 with its byte order mark, which ICU's "UTF-16" reads and drops.
    text = Convert(bytes, "UTF-16");
    if (text && text->starts_with(kUtf8Bom)) text->erase(0, kUtf8Bom.size());
  } else if (IsValidUtf8(bytes)) {
    text = std::string(bytes);
  } else {
    text = Convert(bytes, "GB18030");
  }
  if (!text) {
    return InvalidField("body",
                        "the file is neither UTF-8, UTF-16 with a byte order mark, "
                        "nor GB18030 (GBK) text");
  }
  return std::move(*text);
}

Result<std::vector<CsvRecord>> ParseCsv(std::string_view text, size_t max_records) {
  std::vector<CsvRecord> records;
  size_t first_line = text.find_first_of("\r\n");
  std::string_view header = text.substr(0, first_line);
  char sep =
      header.find(',') == std::string_view::npos && header.find('\t') != std::string_view::npos
          ? '\t'
          : ',';
  size_t i = 0;
  size_t number = 0;
  auto refuse = [&](const std::string& why) {
    return InvalidField("body", "row " + std::to_string(number) + ": " + why);
  };
  while (i < text.size()) {
    ++number;
    CsvRecord& rec = records.emplace_back();
    rec.number = number;
    std::string field;
    bool done = false;
    while (!done) {
      field.clear();
      if (i < text.size() && text[i] == '"') {
        // Quoted: up to the closing quote; "" is one quote; separators and line breaks
        // are text.
        ++i;
        while (true) {
          size_t q = text.find('"', i);
          if (q == std::string_view::npos) return refuse("a quoted field is not closed");
          field.append(text.substr(i, q - i));
          i = q + 1;
          if (i < text.size() && text[i] == '"') {
            field.push_back('"');
            ++i;
            continue;
          }
          break;
        }
        if (i < text.size() && text[i] != sep && text[i] != '\r' && text[i] != '\n') {
          return refuse("text after a closing quote");
        }
      } else {
        size_t end = text.find_first_of(std::string{sep, '\r', '\n', '"'}, i);
        if (end == std::string_view::npos) end = text.size();
        if (end < text.size() && text[end] == '"') {
          return refuse("a quote inside an unquoted field (quote the whole field)");
        }
        field.assign(text.substr(i, end - i));
        i = end;
      }
      rec.fields.push_back(std::move(field));
      if (i >= text.size()) {
        done = true;
      } else if (text[i] == sep) {
        ++i;
      } else {
        // CRLF, LF or a lone CR ends the record.
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        ++i;
        done = true;
      }
    }
    // A blank record (an empty line, or only separators, as Excel leaves below a table)
    // is dropped and does not count; its number stays used.
    bool blank = std::all_of(rec.fields.begin(), rec.fields.end(),
                             [](const std::string& f) { return f.empty(); });
    if (blank) {
      records.pop_back();
    } else if (records.size() > max_records) {
      return InvalidField("body", "more than " + std::to_string(max_records - 1) + " rows");
    }
  }
  return records;
}

bool LooksLikeFormula(std::string_view value) {
  return !value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' ||
                            value[0] == '@' || value[0] == '\t' || value[0] == '\r');
}

void AppendCsvField(std::string& out, std::string_view value) {
  bool formula = LooksLikeFormula(value);
  bool quote = formula || value.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    out.append(value);
    return;
  }
  out.push_back('"');
  if (formula) out.push_back('\'');
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace crm::api
