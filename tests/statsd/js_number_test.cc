// JS Number semantics: parsing like Number(str) and printing like
// Number.prototype.toString, checked against values node prints.
#include "statsd/js_number.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace stopgap::statsd {
namespace {

TEST(JsNumberTest, FormatsLikeJavaScript) {
  EXPECT_EQ(JsNumberToString(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(JsNumberToString(1), "1");
  EXPECT_EQ(JsNumberToString(-0.0), "0");
  EXPECT_EQ(JsNumberToString(100), "100");
  EXPECT_EQ(JsNumberToString(0.5), "0.5");
  EXPECT_EQ(JsNumberToString(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(JsNumberToString(1e21), "1e+21");
  EXPECT_EQ(JsNumberToString(123456789012345680000.0), "123456789012345680000");
  EXPECT_EQ(JsNumberToString(1.5e300), "1.5e+300");
  EXPECT_EQ(JsNumberToString(1e-7), "1e-7");
  EXPECT_EQ(JsNumberToString(1.5e-7), "1.5e-7");
  EXPECT_EQ(JsNumberToString(0.000001), "0.000001");
  EXPECT_EQ(JsNumberToString(0.0000012), "0.0000012");
  EXPECT_EQ(JsNumberToString(12345678901234567890.0), "12345678901234567000");
  EXPECT_EQ(JsNumberToString(9007199254740993.0), "9007199254740992");
  EXPECT_EQ(JsNumberToString(-2.5), "-2.5");
  EXPECT_EQ(JsNumberToString(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(JsNumberToString(-std::numeric_limits<double>::infinity()), "-Infinity");
  EXPECT_EQ(JsNumberToString(std::nan("")), "NaN");
  EXPECT_EQ(JsNumberToString(5e-324), "5e-324");
  EXPECT_EQ(JsNumberToString(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(JsNumberToString(0.1 * 3), "0.30000000000000004");
  EXPECT_EQ(JsNumberToString(2.0 / 10), "0.2");
}

TEST(JsNumberTest, ParsesLikeNumberOfString) {
  EXPECT_EQ(JsStringToNumber("1"), 1);
  EXPECT_EQ(JsStringToNumber(" 7 "), 7);
  EXPECT_EQ(JsStringToNumber(""), 0);
  EXPECT_EQ(JsStringToNumber("   "), 0);
  EXPECT_EQ(JsStringToNumber("0x10"), 16);
  EXPECT_EQ(JsStringToNumber("0X1f"), 31);
  EXPECT_EQ(JsStringToNumber("0b101"), 5);
  EXPECT_EQ(JsStringToNumber("0o17"), 15);
  EXPECT_TRUE(std::isnan(JsStringToNumber("-0x10")));
  EXPECT_TRUE(std::isnan(JsStringToNumber("0x")));
  EXPECT_EQ(JsStringToNumber("1e3"), 1000);
  EXPECT_EQ(JsStringToNumber(".5"), 0.5);
  EXPECT_EQ(JsStringToNumber("5."), 5);
  EXPECT_EQ(JsStringToNumber("5.e1"), 50);
  EXPECT_EQ(JsStringToNumber("+5"), 5);
  EXPECT_EQ(JsStringToNumber("-5"), -5);
  EXPECT_EQ(JsStringToNumber("Infinity"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(JsStringToNumber("-Infinity"), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(JsStringToNumber("inf")));
  EXPECT_TRUE(std::isnan(JsStringToNumber("nan")));
  EXPECT_TRUE(std::isnan(JsStringToNumber("1e")));
  EXPECT_TRUE(std::isnan(JsStringToNumber(".")));
  EXPECT_TRUE(std::isnan(JsStringToNumber("e5")));
  EXPECT_TRUE(std::isnan(JsStringToNumber("1_000")));
  EXPECT_TRUE(std::isnan(JsStringToNumber("1 2")));
  EXPECT_TRUE(std::isnan(JsStringToNumber("abc")));
  EXPECT_EQ(JsStringToNumber("1e400"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(JsStringToNumber("1e-400"), 0);
  EXPECT_EQ(JsStringToNumber("\xc2\xa0"
                             "5\r\n"),
            5);  // NBSP and CRLF are JS whitespace
  EXPECT_EQ(JsStringToNumber("0.1"), 0.1);
  EXPECT_EQ(JsStringToNumber("12345678901234567890"), 12345678901234567890.0);
}

TEST(JsNumberTest, TrimAndRound) {
  EXPECT_EQ(JsTrim(" \tms\r\n"), "ms");
  EXPECT_EQ(JsTrim("\xe3\x80\x80g\xef\xbb\xbf"), "g");
  EXPECT_EQ(JsTrim("\xc2\x85x"), "\xc2\x85x");  // U+0085 is not JS whitespace
  EXPECT_EQ(JsRound(2.5), 3);
  EXPECT_EQ(JsRound(-2.5), -2);
  EXPECT_EQ(JsRound(0.49999999999999994), 0);
  EXPECT_EQ(JsRound(9.9), 10);
}

}  // namespace
}  // namespace stopgap::statsd
