#include "core/strings.h"

#include <gtest/gtest.h>

namespace stopgap {
namespace {

TEST(TrimWhitespace, BothEndsOnly) {
  EXPECT_EQ(TrimWhitespace(" \t a b \r\n"), "a b");
  EXPECT_EQ(TrimWhitespace("x"), "x");
  EXPECT_EQ(TrimWhitespace(" \n\t"), "");
  EXPECT_EQ(TrimWhitespace(""), "");
}

TEST(Utf8Prefix, NeverEndsInsideASequence) {
  std::string s = "ab\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // a b é € 😀
  EXPECT_EQ(Utf8Prefix(s, 100), s);
  EXPECT_EQ(Utf8Prefix(s, 2), "ab");
  EXPECT_EQ(Utf8Prefix(s, 3), "ab");  // would cut é
  EXPECT_EQ(Utf8Prefix(s, 4), "ab\xC3\xA9");
  EXPECT_EQ(Utf8Prefix(s, 5), "ab\xC3\xA9");
  EXPECT_EQ(Utf8Prefix(s, 6), "ab\xC3\xA9");
  EXPECT_EQ(Utf8Prefix(s, 7), "ab\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(Utf8Prefix(s, 10), "ab\xC3\xA9\xE2\x82\xAC");
  for (size_t n = 0; n <= s.size(); ++n) {
    std::string_view p = Utf8Prefix(s, n);
    EXPECT_LE(p.size(), n);
    EXPECT_EQ(SanitizeUtf8(p), p) << n;
  }
}

TEST(SanitizeUtf8, ReplacesEveryBadByte) {
  EXPECT_EQ(SanitizeUtf8("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_EQ(SanitizeUtf8("cut \xC3"), "cut \xEF\xBF\xBD");
  EXPECT_EQ(SanitizeUtf8("\xFF\xFE"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(SanitizeUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
}

}  // namespace
}  // namespace stopgap
