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

}  // namespace
}  // namespace stopgap
