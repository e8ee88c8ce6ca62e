#include "api/exporter.h"

#include <unicode/ucurr.h>
#include <unicode/ustring.h>
#include <xlsxwriter.h>

#include <cstdio>
#include <filesystem>
#include <map>

#include "api/csv.h"

namespace crm::api {

namespace {

std::string MajorUnits(const Amount& a) {
  uint64_t abs = a.minor < 0 ? 0 - static_cast<uint64_t>(a.minor) : static_cast<uint64_t>(a.minor);
  std::string digits = std::to_string(abs);
  size_t frac = a.digits > 0 ? static_cast<size_t>(a.digits) : 0;
  if (digits.size() <= frac) digits.insert(0, frac + 1 - digits.size(), '0');
  if (frac) digits.insert(digits.size() - frac, 1, '.');
  return (a.minor < 0 ? "-" : "") + digits;
}

// CSV through a buffered file: the rows leave memory as they are written.
class CsvTable final : public TableWriter {
 public:
  explicit CsvTable(FILE* f) : f_(f) { line_.reserve(4096); }
  ~CsvTable() override {
    if (f_) std::fclose(f_);
  }
  Status Row(const std::vector<Cell>& cells) override {
    line_.clear();
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i) line_ += ',';
      std::visit(
          [&](const auto& c) {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, std::string>) {
              AppendCsvField(line_, c);
            } else if constexpr (std::is_same_v<T, int64_t>) {
              line_ += std::to_string(c);
            } else if constexpr (std::is_same_v<T, Amount>) {
              line_ += MajorUnits(c);
            }
          },
          cells[i]);
    }
    line_ += "\r\n";
    if (std::fwrite(line_.data(), 1, line_.size(), f_) != line_.size()) {
      return Internal("the export file could not be written");
    }
    return Status::Ok();
  }
  Status Finish() override {
    int rc = std::fclose(f_);
    f_ = nullptr;
    return rc == 0 ? Status::Ok() : Internal("the export file could not be written");
  }

 private:
  FILE* f_;
  std::string line_;
};

// .xlsx by libxlsxwriter in constant-memory mode: each row is written when the next
// begins. A sheet holds at most 1,048,576 rows; past that the rows go on to another sheet
// with the header again.
class XlsxTable final : public TableWriter {
 public:
  XlsxTable(lxw_workbook* wb, std::string sheet) : wb_(wb), sheet_(std::move(sheet)) {
    header_format_ = workbook_add_format(wb_);
    format_set_bold(header_format_);
  }
  ~XlsxTable() override {
    if (wb_) workbook_close(wb_);
  }
  Status Row(const std::vector<Cell>& cells) override {
    if (!ws_ || row_ == LXW_ROW_MAX) {
      ++sheets_;
      std::string name = sheets_ == 1 ? sheet_ : sheet_ + " " + std::to_string(sheets_);
      ws_ = workbook_add_worksheet(wb_, name.c_str());
      if (!ws_) return Internal("the export's worksheet could not be added");
      row_ = 0;
      if (sheets_ > 1) CRM_RETURN_IF_ERROR(Write(header_, header_format_));
    }
    if (header_.empty()) {
      header_ = cells;
      return Write(cells, header_format_);
    }
    return Write(cells, nullptr);
  }
  Status Finish() override {
    lxw_error e = workbook_close(wb_);
    wb_ = nullptr;
    if (e != LXW_NO_ERROR) return Internal(std::string("the .xlsx file: ") + lxw_strerror(e));
    return Status::Ok();
  }

 private:
  lxw_format* MoneyFormat(int digits) {
    auto& f = money_formats_[digits];
    if (!f) {
      f = workbook_add_format(wb_);
      std::string pattern =
          digits > 0 ? "#,##0." + std::string(static_cast<size_t>(digits), '0') : "#,##0";
      format_set_num_format(f, pattern.c_str());
    }
    return f;
  }
  Status Write(const std::vector<Cell>& cells, lxw_format* format) {
    for (size_t i = 0; i < cells.size(); ++i) {
      auto col = static_cast<lxw_col_t>(i);
      lxw_error e = LXW_NO_ERROR;
      if (const auto* s = std::get_if<std::string>(&cells[i])) {
        if (!s->empty()) e = worksheet_write_string(ws_, row_, col, s->c_str(), format);
      } else if (const auto* n = std::get_if<int64_t>(&cells[i])) {
        e = worksheet_write_number(ws_, row_, col, static_cast<double>(*n), format);
      } else if (const auto* a = std::get_if<Amount>(&cells[i])) {
        double scale = 1;
        for (int d = 0; d < a->digits; ++d) scale *= 10;
        e = worksheet_write_number(ws_, row_, col, static_cast<double>(a->minor) / scale,
                                   MoneyFormat(a->digits));
      }
      if (e != LXW_NO_ERROR) return Internal(std::string("the .xlsx file: ") + lxw_strerror(e));
    }
    ++row_;
    return Status::Ok();
  }

  lxw_workbook* wb_;
  std::string sheet_;
  lxw_worksheet* ws_ = nullptr;
  lxw_format* header_format_ = nullptr;
  std::map<int, lxw_format*> money_formats_;
  std::vector<Cell> header_;
  lxw_row_t row_ = 0;
  int sheets_ = 0;
};

}  // namespace

Result<std::unique_ptr<TableWriter>> NewTable(ExportFormat format, const std::string& path,
                                              const std::string& sheet, const std::string& tmpdir) {
  if (format == ExportFormat::kCsv) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return Internal("the export file " + path + " could not be created");
    std::setvbuf(f, nullptr, _IOFBF, 1 << 16);
    if (std::fwrite(kUtf8Bom.data(), 1, kUtf8Bom.size(), f) != kUtf8Bom.size()) {
      std::fclose(f);
      return Internal("the export file could not be written");
    }
    return std::unique_ptr<TableWriter>(std::make_unique<CsvTable>(f));
  }
  lxw_workbook_options options{};
  options.constant_memory = LXW_TRUE;
  options.tmpdir = const_cast<char*>(tmpdir.c_str());
  options.use_zip64 = LXW_TRUE;  // a million rows pass 4 GiB uncompressed
  lxw_workbook* wb = workbook_new_opt(path.c_str(), &options);
  if (!wb) return Internal("the .xlsx file " + path + " could not be created");
  return std::unique_ptr<TableWriter>(std::make_unique<XlsxTable>(wb, sheet));
}

int CurrencyDigits(const std::string& currency) {
  if (currency.size() != 3) return 2;
  UChar code[4] = {static_cast<UChar>(currency[0]), static_cast<UChar>(currency[1]),
                   static_cast<UChar>(currency[2]), 0};
  UErrorCode status = U_ZERO_ERROR;
  int32_t digits = ucurr_getDefaultFractionDigits(code, &status);
  return U_FAILURE(status) ? 2 : digits;
}

Exporter::Exporter(std::string dir, size_t threads, size_t max_waiting)
    : dir_(std::move(dir)), max_waiting_(max_waiting) {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  std::filesystem::create_directories(dir_, ec);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

Exporter::~Exporter() { Stop(); }

bool Exporter::Submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || waiting_.size() >= max_waiting_) return false;
    waiting_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

std::string Exporter::NewPath(const std::string& extension) {
  std::lock_guard<std::mutex> lock(mu_);
  return dir_ + "/export-" + std::to_string(++next_file_) + extension;
}

bool Exporter::stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

void Exporter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Exporter::Loop() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
      if (waiting_.empty()) return;
      job = std::move(waiting_.front());
      waiting_.pop_front();
    }
    job();  // after Stop, the job sees stopping() and answers 503 at once
  }
}

}  // namespace crm::api
