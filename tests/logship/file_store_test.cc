// Tests for the file:// store and OpenStore's URL handling.
#include "logship/store/file_store.h"

#include <gtest/gtest.h>

#include "logship/internal/decompress_sink.h"
#include "temp_dir.h"

namespace stopgap::logship {
namespace {

using testing::ReadText;
using testing::TempDir;
using testing::WriteText;

class StringSink : public net::ResponseSink {
 public:
  Status Write(std::string_view c) override {
    data.append(c);
    return Status::Ok();
  }
  Status Reset() override {
    data.clear();
    return Status::Ok();
  }
  std::string data;
};

TEST(FileStoreTest, UploadStatListDownload) {
  TempDir dir;
  WriteText(dir / "src/a.log-20261125.gz", "hello world");
  auto store = OpenStore("file://" + (dir / "arch"), StoreOptions{});
  ASSERT_TRUE(store.ok());
  Result<UploadResult> up =
      (*store)->Upload(dir / "src/a.log-20261125.gz", 11, "h/x/a.log-20261125.gz");
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->etag, "5eb63bbbe01eeed093cb22bb8f5acdc3");  // md5("hello world")
  auto st = (*store)->Stat("h/x/a.log-20261125.gz");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(st->has_value());
  EXPECT_EQ((*st)->size, 11u);
  EXPECT_EQ((*st)->etag, up->etag);
  EXPECT_FALSE((*(*store)->Stat("h/x/missing")).has_value());
  auto list = (*store)->List("h/");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].key, "h/x/a.log-20261125.gz");
  EXPECT_TRUE((*store)->List("zzz/")->empty());
  StringSink sink;
  ASSERT_TRUE((*store)->Download("h/x/a.log-20261125.gz", sink).ok());
  EXPECT_EQ(sink.data, "hello world");
  EXPECT_EQ((*store)->Download("h/none", sink).code(), StatusCode::kNotFound);
  EXPECT_FALSE((*store)->Upload(dir / "src/a.log-20261125.gz", 11, "../escape").ok());
}

TEST(FileStoreTest, ShrunkFileFailsUpload) {
  TempDir dir;
  WriteText(dir / "f", "short");
  auto store = OpenStore("file://" + (dir / "arch"), StoreOptions{});
  Result<UploadResult> up = (*store)->Upload(dir / "f", 100, "h/f");
  EXPECT_FALSE(up.ok());
  EXPECT_FALSE((*(*store)->Stat("h/f")).has_value());
}

TEST(OpenStoreTest, RejectsBadUrlsAndMissingCredentials) {
  StoreOptions o;
  o.getenv = [](const std::string&) { return std::string(); };
  EXPECT_EQ(OpenStore("ftp://x", o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("file://relative", o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("s3://", o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenStore("s3://bucket/p", o).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(OpenStore("swift://c/p", o).status().code(), StatusCode::kFailedPrecondition);
  o.getenv = [](const std::string& k) {
    return k == "AWS_ACCESS_KEY_ID" || k == "AWS_SECRET_ACCESS_KEY" ? std::string("x") : "";
  };
  EXPECT_TRUE(OpenStore("s3://bucket/p", o).ok());
}

TEST(DecompressSinkTest, RejectsGarbage) {
  StringSink out;
  auto gz = internal::DecompressSink::Create(".gz", out);
  ASSERT_TRUE(gz.ok());
  EXPECT_FALSE((*gz)->Write("definitely not gzip").ok());
  auto zst = internal::DecompressSink::Create(".zst", out);
  EXPECT_FALSE((*zst)->Write("definitely not zstd").ok());
  EXPECT_FALSE(internal::DecompressSink::Create(".rar", out).ok());
}

}  // namespace
}  // namespace stopgap::logship
