// Points in time, calendar dates, durations and business days. Pure: nothing here reads
// a clock; the current time always arrives as an argument.
#ifndef CRM_DOMAIN_TIME_H_
#define CRM_DOMAIN_TIME_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crm {

using Millis = std::chrono::milliseconds;
using Seconds = std::chrono::seconds;
// A point in time, UTC, millisecond precision (the precision of every stored timestamp).
using Time = std::chrono::sys_time<Millis>;
// A calendar date (days since 1970-01-01).
using Date = std::chrono::sys_days;

inline int64_t ToMillis(Time t) { return t.time_since_epoch().count(); }
inline Time FromMillis(int64_t ms) { return Time(Millis(ms)); }
inline int32_t ToDays(Date d) { return static_cast<int32_t>(d.time_since_epoch().count()); }
inline Date FromDays(int32_t days) { return Date(std::chrono::days(days)); }

// RFC 3339 in UTC with milliseconds: "2026-11-22T08:00:00.000Z".
std::string FormatTime(Time t);
// RFC 3339: date, 'T' (or 't' or ' '), time with optional fraction, 'Z' or ±hh:mm; in
// UTC within the years 0000 to 9999 (what FormatTime can write back).
std::optional<Time> ParseTime(std::string_view s);

// "YYYY-MM-DD"; parsing accepts only real calendar dates between years 1900 and 9999.
std::string FormatDate(Date d);
std::optional<Date> ParseDate(std::string_view s);
// "YYYY-MM" periods, as used by targets and dashboards.
struct Period {
  int year = 0;
  unsigned month = 0;
  Date first() const;
  Date end() const;  // first day of the next month
  std::string ToString() const;
  bool operator==(const Period&) const = default;
};
std::optional<Period> ParsePeriod(std::string_view s);
// The month `d` lies in.
Period PeriodOf(Date d);

// ISO 8601 durations of fixed length: weeks, days, hours, minutes, seconds ("P15D",
// "PT12H", "P1DT2H30M", "PT5S", "P2W"). Years and months are refused: they have no
// fixed length. Formatting gives the canonical form ("P15D", "PT12H", "P1DT2H30M").
std::optional<Seconds> ParseDuration(std::string_view s);
std::string FormatDuration(Seconds d);

// "+08:00", "-05:30", "Z".
std::optional<Seconds> ParseUtcOffset(std::string_view s);
std::string FormatUtcOffset(Seconds offset);

// The business day that `t` falls on when days start at `utc_offset`.
Date BusinessDay(Time t, Seconds utc_offset);
// The instant the business day `d` starts.
Time StartOfBusinessDay(Date d, Seconds utc_offset);

}  // namespace crm

#endif  // CRM_DOMAIN_TIME_H_
