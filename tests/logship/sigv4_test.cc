// SigV4 against AWS's documented example (S3 "GET Object" with a Range
// header, 2013-05-24, examplebucket) and the canonical-request rules.
#include "logship/store/sigv4.h"

#include <gtest/gtest.h>

namespace stopgap::logship {
namespace {

TEST(SigV4Test, AwsDocumentedGetObjectExample) {
  AwsCredentials creds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  SigV4Request r{"GET", "examplebucket.s3.amazonaws.com", "/test.txt",
                 {},    {{"Range", "bytes=0-9"}},         Sha256Hex("")};
  net::HttpHeaders h = SignV4(r, creds, "us-east-1", "s3", "20130524T000000Z");
  std::string auth;
  for (const auto& [k, v] : h) {
    if (k == "Authorization") auth = v;
  }
  EXPECT_EQ(auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, WrongSecretChangesTheSignature) {
  AwsCredentials a{"AK", "secret1", ""}, b{"AK", "secret2", ""};
  SigV4Request r{"PUT", "h", "/b/k", {}, {}, "UNSIGNED-PAYLOAD"};
  EXPECT_NE(SignV4(r, a, "us-east-1", "s3", "20261125T000000Z").back().second,
            SignV4(r, b, "us-east-1", "s3", "20261125T000000Z").back().second);
}

TEST(SigV4Test, CanonicalQuerySortsAndEncodes) {
  EXPECT_EQ(CanonicalQuery({{"uploadId", "a b"}, {"partNumber", "2"}, {"uploads", ""}}),
            "partNumber=2&uploadId=a%20b&uploads=");
  EXPECT_EQ(CanonicalQuery({{"prefix", "web1/var/log/"}}), "prefix=web1%2Fvar%2Flog%2F");
}

TEST(SigV4Test, SessionTokenIsSignedAndSent) {
  AwsCredentials c{"AK", "SK", "TOKEN"};
  SigV4Request r{"GET", "h", "/", {}, {}, Sha256Hex("")};
  std::string signed_headers;
  CanonicalRequest(r, "20261125T000000Z", c.session_token, &signed_headers);
  EXPECT_EQ(signed_headers, "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
  bool sent = false;
  for (const auto& [k, v] : SignV4(r, c, "us-east-1", "s3", "20261125T000000Z")) {
    if (k == "x-amz-security-token") sent = v == "TOKEN";
  }
  EXPECT_TRUE(sent);
}

TEST(SigV4Test, Sha256OfEmptyString) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace stopgap::logship
