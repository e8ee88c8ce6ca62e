#include "domain/time.h"

#include <charconv>
#include <cstdio>

namespace crm {
namespace {

using std::chrono::days;
using std::chrono::floor;
using std::chrono::year_month_day;

// Reads exactly `n` decimal digits at s[pos].
std::optional<int> Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

std::optional<Date> MakeDate(int y, int m, int d) {
  if (y < 1900 || y > 9999) return std::nullopt;
  year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(m)),
                     std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  return Date(ymd);
}

}  // namespace

std::string FormatTime(Time t) {
  Date d = floor<days>(t);
  year_month_day ymd(d);
  auto ms_of_day = (t - d).count();
  char buf[96];
  std::snprintf(
      buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<int>(ymd.year()),
      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
      static_cast<long long>(ms_of_day / 3600000), static_cast<long long>(ms_of_day / 60000 % 60),
      static_cast<long long>(ms_of_day / 1000 % 60), static_cast<long long>(ms_of_day % 1000));
  return buf;
}

std::optional<Time> ParseTime(std::string_view s) {
  if (s.size() < 20) return std::nullopt;
  auto date = ParseDate(s.substr(0, 10));
  if (!date || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')) return std::nullopt;
  auto hh = Digits(s, 11, 2), mm = Digits(s, 14, 2), ss = Digits(s, 17, 2);
  if (!hh || !mm || !ss || s[13] != ':' || s[16] != ':') return std::nullopt;
  if (*hh > 23 || *mm > 59 || *ss > 60) return std::nullopt;
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  if (pos >= s.size()) return std::nullopt;
  auto offset = ParseUtcOffset(s.substr(pos));
  if (!offset) return std::nullopt;
  int secs = std::min(*ss, 59);  // a leap second is read as :59
  Time t = Time(*date) + std::chrono::hours(*hh) + std::chrono::minutes(*mm) + Seconds(secs) +
           Millis(millis) - *offset;
  // In UTC it must still be a year of four digits, or it could not be written back.
  static const Time kFirst = Time(std::chrono::sys_days(std::chrono::year(0) / 1 / 1));
  static const Time kEnd = Time(std::chrono::sys_days(std::chrono::year(10000) / 1 / 1));
  if (t < kFirst || t >= kEnd) return std::nullopt;
  return t;
}

std::string FormatDate(Date d) {
  year_month_day ymd(d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::optional<Date> ParseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto y = Digits(s, 0, 4), m = Digits(s, 5, 2), d = Digits(s, 8, 2);
  if (!y || !m || !d) return std::nullopt;
  return MakeDate(*y, *m, *d);
}

Date Period::first() const {
  return Date(
      year_month_day{std::chrono::year(year), std::chrono::month(month), std::chrono::day(1)});
}

Date Period::end() const {
  auto next =
      year_month_day{std::chrono::year(year), std::chrono::month(month), std::chrono::day(1)} +
      std::chrono::months(1);
  return Date(next);
}

std::string Period::ToString() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u", year, month);
  return buf;
}

Period PeriodOf(Date d) {
  std::chrono::year_month_day ymd(d);
  return Period{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month())};
}

std::optional<Period> ParsePeriod(std::string_view s) {
  if (s.size() != 7 || s[4] != '-') return std::nullopt;
  auto y = Digits(s, 0, 4), m = Digits(s, 5, 2);
  if (!y || !m || *y < 1900 || *m < 1 || *m > 12) return std::nullopt;
  return Period{*y, static_cast<unsigned>(*m)};
}

std::optional<Seconds> ParseDuration(std::string_view s) {
  if (s.size() < 3 || s[0] != 'P') return std::nullopt;
  bool in_time = false;
  bool any = false;
  // Units allowed in order, so "PT5S1H" and "P1D2D" are refused.
  int last_rank = -1;
  int64_t total = 0;
  size_t pos = 1;
  while (pos < s.size()) {
    if (s[pos] == 'T') {
      if (in_time) return std::nullopt;
      in_time = true;
      ++pos;
      if (pos == s.size()) return std::nullopt;  // "P1DT" has no time part
      continue;
    }
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(s.data() + pos, s.data() + s.size(), n);
    if (ec != std::errc() || ptr == s.data() + pos || n < 0) return std::nullopt;
    pos = static_cast<size_t>(ptr - s.data());
    if (pos >= s.size()) return std::nullopt;
    char unit = s[pos++];
    int rank;
    int64_t scale;
    if (!in_time && unit == 'W') {
      rank = 0;
      scale = 7 * 86400;
    } else if (!in_time && unit == 'D') {
      rank = 1;
      scale = 86400;
    } else if (in_time && unit == 'H') {
      rank = 2;
      scale = 3600;
    } else if (in_time && unit == 'M') {
      rank = 3;
      scale = 60;
    } else if (in_time && unit == 'S') {
      rank = 4;
      scale = 1;
    } else
      return std::nullopt;  // Y and month-M have no fixed length
    if (rank <= last_rank) return std::nullopt;
    last_rank = rank;
    if (n > (int64_t{1} << 40) / scale) return std::nullopt;  // keep far from overflow
    total += n * scale;
    any = true;
  }
  if (!any) return std::nullopt;
  return Seconds(total);
}

std::string FormatDuration(Seconds d) {
  int64_t s = d.count();
  if (s == 0) return "PT0S";
  std::string out = "P";
  if (s >= 86400) out += std::to_string(s / 86400) + "D";
  s %= 86400;
  if (s > 0) {
    out += "T";
    if (s >= 3600) out += std::to_string(s / 3600) + "H";
    if (s % 3600 >= 60) out += std::to_string(s % 3600 / 60) + "M";
    if (s % 60) out += std::to_string(s % 60) + "S";
  }
  return out;
}

std::optional<Seconds> ParseUtcOffset(std::string_view s) {
  if (s == "Z" || s == "z") return Seconds(0);
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return std::nullopt;
  auto h = Digits(s, 1, 2), m = Digits(s, 4, 2);
  if (!h || !m || *h > 14 || *m > 59) return std::nullopt;
  Seconds off = std::chrono::hours(*h) + std::chrono::minutes(*m);
  return s[0] == '-' ? -off : off;
}

std::string FormatUtcOffset(Seconds offset) {
  int64_t s = offset.count();
  char sign = s < 0 ? '-' : '+';
  if (s < 0) s = -s;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%c%02lld:%02lld", sign, static_cast<long long>(s / 3600),
                static_cast<long long>(s % 3600 / 60));
  return buf;
}

Date BusinessDay(Time t, Seconds utc_offset) { return floor<days>(t + utc_offset); }

Time StartOfBusinessDay(Date d, Seconds utc_offset) { return Time(d) - utc_offset; }

}  // namespace crm
