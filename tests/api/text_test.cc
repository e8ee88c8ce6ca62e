#include "api/text.h"

#include <gtest/gtest.h>

namespace crm::api {
namespace {

TEST(NormalizeNameTest, FullAndHalfWidthFormsAreOne) {
  EXPECT_EQ(NormalizeName("ＡＢＣ　贸易"), NormalizeName("abc 贸易"));
  EXPECT_EQ(NormalizeName("ＡＢＣ１２３"), "abc123");
}

TEST(NormalizeNameTest, CaseIsFolded) {
  EXPECT_EQ(NormalizeName("Acme Trading Co."), NormalizeName("ACME TRADING CO."));
  EXPECT_EQ(NormalizeName("Straße"), NormalizeName("STRASSE"));
}

TEST(NormalizeNameTest, SpaceRunsFoldAndEndsTrim) {
  EXPECT_EQ(NormalizeName("  Blue \t Sky\u3000\u3000Ltd  "), "blue sky ltd");
  EXPECT_EQ(NormalizeName("蓝天\u3000有限公司"), "蓝天 有限公司");
}

TEST(NormalizeNameTest, DifferentNamesStayDifferent) {
  EXPECT_NE(NormalizeName("Blue Sky"), NormalizeName("BlueSky"));
  EXPECT_NE(NormalizeName("蓝天"), NormalizeName("兰天"));
}

TEST(TrimSpaceTest, TrimsUnicodeSpace) {
  EXPECT_EQ(TrimSpace("\u3000 x y \u3000"), "x y");
  EXPECT_EQ(TrimSpace("   "), "");
}

}  // namespace
}  // namespace crm::api
