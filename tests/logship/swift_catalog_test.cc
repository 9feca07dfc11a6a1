// Tests for picking the object-store endpoint out of a Keystone v3 token's
// catalog (the shape Keystone returns from POST /v3/auth/tokens).
#include <gtest/gtest.h>

#include "logship/store/swift_store.h"

namespace stopgap::logship {
namespace {

constexpr std::string_view kToken = R"({"token": {
  "expires_at": "2026-11-25T18:00:00.000000Z",
  "catalog": [
    {"type": "identity", "name": "keystone", "endpoints": [
      {"interface": "public", "region": "RegionOne", "url": "http://k:5000/v3"}]},
    {"type": "object-store", "name": "swift", "endpoints": [
      {"interface": "internal", "region": "RegionOne", "url": "http://int:8080/v1/AUTH_p"},
      {"interface": "public", "region": "RegionOne", "url": "http://pub1:8080/v1/AUTH_p/"},
      {"interface": "public", "region": "RegionTwo", "url": "http://pub2:8080/v1/AUTH_p"}]}]}})";

TEST(KeystoneCatalogTest, PicksInterfaceAndRegion) {
  EXPECT_EQ(*FindObjectStoreEndpoint(kToken, "", "public"), "http://pub1:8080/v1/AUTH_p");
  EXPECT_EQ(*FindObjectStoreEndpoint(kToken, "RegionTwo", "public"), "http://pub2:8080/v1/AUTH_p");
  EXPECT_EQ(*FindObjectStoreEndpoint(kToken, "", "internal"), "http://int:8080/v1/AUTH_p");
}

TEST(KeystoneCatalogTest, MissingEndpointOrBadJsonIsAnError) {
  EXPECT_EQ(FindObjectStoreEndpoint(kToken, "RegionThree", "public").status().code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(FindObjectStoreEndpoint("{\"token\":{}}", "", "public").ok());
  EXPECT_FALSE(FindObjectStoreEndpoint("not json", "", "public").ok());
}

}  // namespace
}  // namespace stopgap::logship
