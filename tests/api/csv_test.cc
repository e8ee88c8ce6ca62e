// CSV in and out (src/api/csv.h): the encodings spreadsheets write, RFC 4180 quoting, and
// cells a spreadsheet would run as formulas.
#include "api/csv.h"

#include <gtest/gtest.h>

namespace crm::api {
namespace {

std::vector<std::vector<std::string>> Fields(const std::vector<CsvRecord>& records) {
  std::vector<std::vector<std::string>> out;
  for (const auto& r : records) out.push_back(r.fields);
  return out;
}

TEST(CsvTest, UploadsAreReadAsUtf8WhateverSpreadsheetWroteThem) {
  // 姓名,公司 in GB18030 (GBK), as Excel saves "CSV (逗号分隔)" on a Chinese Windows.
  auto gbk = DecodeUpload("\xd0\xd5\xc3\xfb,\xb9\xab\xcb\xbe\r\n");
  ASSERT_TRUE(gbk.ok());
  EXPECT_EQ(*gbk, "姓名,公司\r\n");
  // A four-byte GB18030 sequence: U+20000 (𠀀), outside GBK.
  auto four = DecodeUpload("\x95\x32\x82\x36");
  ASSERT_TRUE(four.ok());
  EXPECT_EQ(*four, "\xF0\xA0\x80\x80");
  EXPECT_EQ(*DecodeUpload("\xEF\xBB\xBFname"), "name") << "the UTF-8 BOM is dropped";
  EXPECT_EQ(*DecodeUpload("姓名"), "姓名") << "valid UTF-8 is kept";
  // UTF-16 little-endian with its BOM (Excel's "Unicode text"): "名\tA".
  auto utf16 = DecodeUpload(std::string("\xFF\xFE\x0D\x54\x09\x00\x41\x00", 8));
  ASSERT_TRUE(utf16.ok());
  EXPECT_EQ(*utf16, "名\tA");
  // Neither UTF-8 nor GB18030: a lone lead byte at the end.
  auto bad = DecodeUpload("abc\x81");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "validation_failed");
}

TEST(CsvTest, RecordsFollowRfc4180AndAreNumberedAsASpreadsheetShowsThem) {
  auto r = ParseCsv("a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\n2,\"two\r\nlines\",\n,,\n", 100);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(Fields(*r),
            (std::vector<std::vector<std::string>>{
                {"a", "b", "c"}, {"1", "x, y", "say \"hi\""}, {"2", "two\r\nlines", ""}}))
      << "a record of empty fields only is left out";
  EXPECT_EQ((*r)[2].number, 3u) << "a line break inside quotes stays in its row";
  // Blank lines (Excel leaves rows of bare separators below a table) neither count toward
  // the limit nor shift the numbers of the rows after them.
  auto blanks = ParseCsv("h\n1\n\n,,\n2\n", 3);
  ASSERT_TRUE(blanks.ok());
  ASSERT_EQ(blanks->size(), 3u);
  EXPECT_EQ((*blanks)[2].number, 5u);
  // Tabs separate when the header has tabs and no commas.
  auto tabs = ParseCsv("name\tcompany\nA, Ltd\tB\n", 100);
  ASSERT_TRUE(tabs.ok());
  EXPECT_EQ((*tabs)[1].fields, (std::vector<std::string>{"A, Ltd", "B"}));
  // No final line break; a lone CR ends a record too.
  EXPECT_EQ(Fields(*ParseCsv("a\rb", 10)), (std::vector<std::vector<std::string>>{{"a"}, {"b"}}));
}

TEST(CsvTest, MalformedFilesAreRefusedNamingTheRow) {
  auto open = ParseCsv("a,b\n1,\"never closed\n", 10);
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().fields[0].message.find("row 2"), std::string::npos);
  EXPECT_FALSE(ParseCsv("a,b\n1,x\"y\n", 10).ok()) << "a quote inside an unquoted field";
  EXPECT_FALSE(ParseCsv("a,b\n1,\"x\"y\n", 10).ok()) << "text after a closing quote";
  EXPECT_FALSE(ParseCsv("h\n1\n2\n3\n", 3).ok()) << "more records than allowed";
  EXPECT_TRUE(ParseCsv("h\n1\n2\n", 3).ok());
}

TEST(CsvTest, FieldsAreQuotedWhenNeededAndFormulasDefused) {
  std::string out;
  for (std::string_view v :
       {"plain", "a,b", "say \"hi\"", "two\nlines", "=SUM(A1)", "+86 138", "-5", "@cmd", "蓝天"}) {
    AppendCsvField(out, v);
    out += '|';
  }
  EXPECT_EQ(out,
            "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\"'=SUM(A1)\"|\"'+86 138\"|\"'-5\"|"
            "\"'@cmd\"|蓝天|");
}

}  // namespace
}  // namespace crm::api
