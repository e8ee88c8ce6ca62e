// CSV in and out, as spreadsheets in China write and read it.
//
// In: an uploaded file is decoded to UTF-8 first (DecodeUpload): a UTF-8 byte order mark
// is dropped; UTF-16 with a byte order mark (Excel's "Unicode text") is converted; text
// that is valid UTF-8 is kept; anything else is read as GB18030, a superset of the GBK
// that Excel writes for "CSV (逗号分隔)" on a Chinese Windows. Then ParseCsv reads RFC 4180
// records: fields separated by commas (or tabs, when the first line has tabs and no
// commas), quoted with "..." where "" is one quote, records ending with CRLF or LF.
//
// Out: AppendCsvField quotes what needs quoting, and defuses a cell that a spreadsheet
// would run as a formula (=, +, -, @, tab, CR first) with a leading apostrophe (OWASP,
// "CSV Injection").
#ifndef CRM_API_CSV_H_
#define CRM_API_CSV_H_

#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"

namespace crm::api {

// The UTF-8 byte order mark: dropped from uploads, written first in exports (Excel reads a
// CSV without it in the system's code page).
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// The upload as UTF-8; 400 when it is neither UTF-8, UTF-16 with a BOM, nor GB18030.
Result<std::string> DecodeUpload(std::string_view bytes);

struct CsvRecord {
  size_t number = 0;  // 1-based, the header's being 1: the row number a spreadsheet shows
  std::vector<std::string> fields;
};
// The records of UTF-8 `text`, blank ones (every field empty) left out; 400 on an
// unterminated quote, a quote inside an unquoted field, or more than `max_records`
// records that are not blank.
Result<std::vector<CsvRecord>> ParseCsv(std::string_view text, size_t max_records);

// Appends `value` as one CSV field (without the separator).
void AppendCsvField(std::string& out, std::string_view value);
// Whether a spreadsheet would read a cell starting like `value` as a formula.
bool LooksLikeFormula(std::string_view value);

}  // namespace crm::api

#endif  // CRM_API_CSV_H_
