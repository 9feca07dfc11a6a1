// Tests for the S3 XML handling (pugixml): errors, multipart answers,
// listings, and the CompleteMultipartUpload body.
#include "logship/store/s3_xml.h"

#include <gtest/gtest.h>

namespace stopgap::logship {
namespace {

TEST(S3XmlTest, ParsesErrorDocuments) {
  S3Error e = ParseS3Error(
      "<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>SignatureDoesNotMatch</Code>"
      "<Message>The request signature we calculated does not match</Message></Error>");
  EXPECT_EQ(e.code, "SignatureDoesNotMatch");
  EXPECT_EQ(e.message, "The request signature we calculated does not match");
  EXPECT_EQ(ParseS3Error("not xml").code, "");
  EXPECT_EQ(ParseS3Error("").code, "");
}

TEST(S3XmlTest, InitiateAndComplete) {
  Result<std::string> id = ParseInitiateMultipart(
      "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Bucket>b</Bucket><Key>k</Key><UploadId>abc-123</UploadId></InitiateMultipartUploadResult>");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "abc-123");
  EXPECT_FALSE(ParseInitiateMultipart("<InitiateMultipartUploadResult/>").ok());

  Result<std::string> etag = ParseCompleteMultipart(
      "<CompleteMultipartUploadResult><Location>x</Location><Bucket>b</Bucket><Key>k</Key>"
      "<ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag></CompleteMultipartUploadResult>");
  ASSERT_TRUE(etag.ok());
  EXPECT_EQ(*etag, "3858f62230ac3c915f300c664312c11f-9");
  // S3 may answer 200 with an error document.
  Result<std::string> err =
      ParseCompleteMultipart("<Error><Code>InternalError</Code><Message>x</Message></Error>");
  ASSERT_FALSE(err.ok());
  EXPECT_NE(err.status().message().find("InternalError"), std::string::npos);
}

TEST(S3XmlTest, CopyPartResult) {
  Result<std::string> etag = ParseCopyPartResult(
      "<CopyPartResult><LastModified>2026-12-07T00:00:00.000Z</LastModified>"
      "<ETag>\"5d41402abc4b2a76b9719d911017c592\"</ETag></CopyPartResult>");
  ASSERT_TRUE(etag.ok());
  EXPECT_EQ(*etag, "5d41402abc4b2a76b9719d911017c592");
  Result<std::string> err =
      ParseCopyPartResult("<Error><Code>SlowDown</Code><Message>x</Message></Error>");
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(err.status().message().find("SlowDown"), std::string::npos);
  EXPECT_EQ(ParseCopyPartResult("<CopyPartResult/>").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseCopyPartResult("<Other><ETag>x</ETag></Other>").status().code(),
            StatusCode::kDataLoss);
}

TEST(S3XmlTest, ListBucketPages) {
  Result<S3ListPage> p = ParseListBucket(
      "<ListBucketResult><Name>b</Name><Prefix>p/</Prefix><IsTruncated>true</IsTruncated>"
      "<Contents><Key>p/a</Key><Size>10</Size><ETag>\"e1\"</ETag>"
      "<LastModified>2026-11-25T00:00:00.000Z</LastModified></Contents>"
      "<Contents><Key>p/b</Key><Size>20</Size><ETag>\"e2-2\"</ETag></Contents>"
      "</ListBucketResult>");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->objects.size(), 2u);
  EXPECT_EQ(p->objects[1].key, "p/b");
  EXPECT_EQ(p->objects[1].size, 20u);
  EXPECT_EQ(p->objects[1].etag, "e2-2");
  EXPECT_TRUE(p->truncated);
  EXPECT_EQ(p->next_marker, "p/b");
  EXPECT_FALSE(ParseListBucket("<ListBucketResult><Contents><Key>x</Key><Size>-1</Size>"
                               "</Contents></ListBucketResult>")
                   .ok());
  EXPECT_FALSE(ParseListBucket("<Other/>").ok());
  EXPECT_FALSE(
      ParseListBucket("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>").ok());
}

TEST(S3XmlTest, BuildsCompleteBody) {
  EXPECT_EQ(BuildCompleteMultipart({{1, "aa"}, {2, "bb"}}),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"aa\"</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>\"bb\"</ETag></Part></CompleteMultipartUpload>");
}

}  // namespace
}  // namespace stopgap::logship
