// Tests for Swift JSON listing parsing (store/swift_json.h): keys relative to
// the prefix, names outside it skipped, the page's marker, bad bodies refused.
#include "logship/store/swift_json.h"

#include <gtest/gtest.h>

namespace stopgap::logship {
namespace {

TEST(SwiftListingTest, KeysAreRelativeToThePrefixAndTheMarkerIsTheLastName) {
  auto page = ParseSwiftListing(
      R"([{"name":"logs/web1/var/log/app.log-20261124.gz","bytes":1234,"hash":"abc",
           "last_modified":"2026-11-25T01:02:03.000000","content_type":"application/gzip"},
          {"name":"logsX/other","bytes":1},
          {"name":"logs/","bytes":0},
          {"name":"logs/web2/a","bytes":-5,"hash":7}])",
      "logs");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->objects.size(), 2u) << "names outside 'logs/' and 'logs/' itself are skipped";
  EXPECT_EQ(page->objects[0].key, "web1/var/log/app.log-20261124.gz");
  EXPECT_EQ(page->objects[0].size, 1234u);
  EXPECT_EQ(page->objects[0].etag, "abc");
  EXPECT_EQ(page->objects[0].last_modified, "2026-11-25T01:02:03.000000");
  EXPECT_EQ(page->objects[1].key, "web2/a");
  EXPECT_EQ(page->objects[1].size, 0u) << "a negative size is not taken";
  EXPECT_EQ(page->objects[1].etag, "") << "a non-string hash is not taken";
  EXPECT_EQ(page->last_name, "logs/web2/a");
}

TEST(SwiftListingTest, EmptyPrefixListsEverythingAndAnEmptyPageHasNoMarker) {
  auto page = ParseSwiftListing(R"([{"name":"a"},{"name":"b/c"}])", "");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[1].key, "b/c");
  auto empty = ParseSwiftListing("[]", "logs");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->objects.empty());
  EXPECT_EQ(empty->last_name, "");
}

TEST(SwiftListingTest, BadBodiesAreDataLossNotExceptions) {
  for (std::string_view body : {"", "not json", "{}", "[1,2]", R"([{"bytes":1}])",
                                R"([{"name":5}])", "[{\"name\":\"a\"}"}) {
    auto page = ParseSwiftListing(body, "logs");
    ASSERT_FALSE(page.ok()) << body;
    EXPECT_EQ(page.status().code(), StatusCode::kDataLoss) << body;
  }
}

}  // namespace
}  // namespace stopgap::logship
