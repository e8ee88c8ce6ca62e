#include "domain/time.h"

#include <gtest/gtest.h>

namespace crm {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

TEST(TimeTest, DurationsParseIso8601) {
  EXPECT_EQ(ParseDuration("P15D"), Seconds(days(15)));
  EXPECT_EQ(ParseDuration("PT12H"), Seconds(hours(12)));
  EXPECT_EQ(ParseDuration("PT5S"), Seconds(5));
  EXPECT_EQ(ParseDuration("P1DT2H30M"), days(1) + hours(2) + minutes(30));
  EXPECT_EQ(ParseDuration("P2W"), Seconds(days(14)));
}

TEST(TimeTest, DurationsWithoutFixedLengthOrMalformedAreRefused) {
  for (auto bad : {"", "P", "PT", "P1M", "P1Y", "P1DT", "fifteen days", "15D", "PT5S1H", "P-1D",
                   "P1D2D", "PT1.5S"}) {
    EXPECT_FALSE(ParseDuration(bad)) << bad;
  }
}

TEST(TimeTest, DurationsFormatCanonically) {
  for (auto s : {"P15D", "PT12H", "PT5S", "P1DT2H30M", "P90D", "PT2S", "PT0S"}) {
    EXPECT_EQ(FormatDuration(*ParseDuration(s)), s);
  }
  EXPECT_EQ(FormatDuration(*ParseDuration("PT48H")), "P2D");
}

TEST(TimeTest, Rfc3339RoundTripsWithMilliseconds) {
  auto t = ParseTime("2026-11-22T08:00:00.123Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatTime(*t), "2026-11-22T08:00:00.123Z");
  EXPECT_EQ(FormatTime(*ParseTime("2026-11-22T16:00:00+08:00")), "2026-11-22T08:00:00.000Z");
  EXPECT_EQ(FormatTime(*ParseTime("2026-11-22t08:00:00.5z")), "2026-11-22T08:00:00.500Z");
}

TEST(TimeTest, TimesOutsideFourDigitYearsInUtcAreRefused) {
  EXPECT_TRUE(ParseTime("9999-12-31T23:59:59Z").has_value());
  EXPECT_FALSE(ParseTime("9999-12-31T23:59:59-14:00").has_value()) << "year 10000 in UTC";
  EXPECT_FALSE(ParseTime("0000-01-01T00:00:00+14:00").has_value()) << "before year 0 in UTC";
  EXPECT_EQ(FormatTime(*ParseTime("9999-12-31T23:59:59.999Z")), "9999-12-31T23:59:59.999Z");
}

TEST(TimeTest, BadTimesAndDatesAreRefused) {
  for (auto bad : {"2026-11-22", "2026-11-22T25:00:00Z", "2026-13-01T00:00:00Z",
                   "2026-11-22T08:00:00", "yesterday", "2026-11-22T08:00:00+8"}) {
    EXPECT_FALSE(ParseTime(bad)) << bad;
  }
  for (auto bad : {"2026-02-30", "2026-2-3", "20261122", "1899-12-31", "2026-11-22x"}) {
    EXPECT_FALSE(ParseDate(bad)) << bad;
  }
  EXPECT_TRUE(ParseDate("2028-02-29"));
}

TEST(TimeTest, BusinessDaysStartAtTheOffset) {
  Seconds beijing = *ParseUtcOffset("+08:00");
  EXPECT_EQ(FormatDate(BusinessDay(*ParseTime("2026-11-22T15:59:59Z"), beijing)), "2026-11-22");
  EXPECT_EQ(FormatDate(BusinessDay(*ParseTime("2026-11-22T16:00:00Z"), beijing)), "2026-11-23");
  EXPECT_EQ(FormatTime(StartOfBusinessDay(*ParseDate("2026-11-23"), beijing)),
            "2026-11-22T16:00:00.000Z");
  Seconds ny = *ParseUtcOffset("-05:00");
  EXPECT_EQ(FormatDate(BusinessDay(*ParseTime("2026-11-22T03:00:00Z"), ny)), "2026-11-21");
}

TEST(TimeTest, PeriodsAreMonths) {
  auto p = ParsePeriod("2026-12");
  ASSERT_TRUE(p);
  EXPECT_EQ(FormatDate(p->first()), "2026-12-01");
  EXPECT_EQ(FormatDate(p->end()), "2027-01-01");
  EXPECT_FALSE(ParsePeriod("2026-13"));
  EXPECT_FALSE(ParsePeriod("2026-1"));
}

}  // namespace
}  // namespace crm
