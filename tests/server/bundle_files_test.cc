// Tests of the bundle reads behind the UI (server/bundle_files.h): listing,
// text detection, path checks, and that neither "..", an absolute path nor a
// symlink inside the bundle (to a file or a directory outside) reads anything
// outside it; plus the routes through a real daemon (web_routes.h).
#include "server/bundle_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace stopgap::server {
namespace {

namespace fs = std::filesystem;

class BundleFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/stopgap-bundle-files-XXXXXX";
    root_ = mkdtemp(t);
    dir_ = root_ + "/bundles/7";
    fs::create_directories(dir_ + "/process-42");
    Put(dir_ + "/manifest.json", "{\"schema\": \"stopgap.bundle/2\"}");
    Put(dir_ + "/process-42/stacks.txt", "Thread 42 \"main\" pause_us=3\n#0  0x1 main\n");
    Put(dir_ + "/core.bin", std::string("\x7f"
                                        "ELF\0\0\x01\xff",
                                        8));
    Put(root_ + "/secret.txt", "outside the bundle");
    fs::create_directories(root_ + "/outside-dir");
    Put(root_ + "/outside-dir/other.txt", "also outside");
  }
  void TearDown() override { fs::remove_all(root_); }
  static void Put(const std::string& path, const std::string& data) {
    std::ofstream(path, std::ios::binary) << data;
  }

  std::string root_;
  std::string dir_;
};

TEST_F(BundleFilesTest, ListsRegularFilesSortedWithSizeAndText) {
  fs::create_symlink(root_ + "/secret.txt", dir_ + "/link.txt");
  auto files = ListBundleFiles(dir_);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 3u) << "the symlink is not listed";
  EXPECT_EQ((*files)[0].path, "core.bin");
  EXPECT_FALSE((*files)[0].text);
  EXPECT_EQ((*files)[0].size, 8);
  EXPECT_EQ((*files)[1].path, "manifest.json");
  EXPECT_TRUE((*files)[1].text);
  EXPECT_EQ((*files)[2].path, "process-42/stacks.txt");
  EXPECT_EQ(ListBundleFiles(root_ + "/missing").status().code(), StatusCode::kNotFound);
}

TEST_F(BundleFilesTest, ReadsAFileByRelativePath) {
  auto f = ReadBundleFile(dir_, "process-42/stacks.txt", 1 << 20);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(*f, "Thread 42 \"main\" pause_us=3\n#0  0x1 main\n");
  EXPECT_EQ(ReadBundleFile(dir_, "nope.txt", 1 << 20).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ReadBundleFile(dir_, "manifest.json", 4).status().code(),
            StatusCode::kResourceExhausted);
}

TEST_F(BundleFilesTest, TraversalAndAbsolutePathsAreRefused) {
  for (const char* bad :
       {"../../secret.txt", "../7/manifest.json", "process-42/../../../secret.txt", "/etc/passwd",
        "", ".", "./manifest.json", "process-42//stacks.txt", "a\\..\\b"}) {
    auto f = ReadBundleFile(dir_, bad, 1 << 20);
    EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(CheckBundlePath(std::string("a\0b", 3)).code(), StatusCode::kInvalidArgument);
}

TEST_F(BundleFilesTest, SymlinksInsideTheBundleAreNeverFollowed) {
  fs::create_symlink(root_ + "/secret.txt", dir_ + "/escape.txt");
  fs::create_symlink(root_ + "/outside-dir", dir_ + "/escape-dir");
  fs::create_symlink("manifest.json", dir_ + "/inside-link.json");
  for (const char* rel : {"escape.txt", "escape-dir/other.txt", "inside-link.json"}) {
    auto f = ReadBundleFile(dir_, rel, 1 << 20);
    EXPECT_EQ(f.status().code(), StatusCode::kFailedPrecondition) << rel;
    if (f.ok()) ADD_FAILURE() << rel << " read: " << *f;
  }
}

TEST_F(BundleFilesTest, AFifoOrADirectoryIsNotRead) {
  ASSERT_EQ(::mkfifo((dir_ + "/fifo").c_str(), 0600), 0);
  EXPECT_EQ(ReadBundleFile(dir_, "fifo", 1 << 20).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadBundleFile(dir_, "process-42", 1 << 20).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(LooksLikeText, Utf8WithoutNul) {
  EXPECT_TRUE(LooksLikeText("plain\n"));
  EXPECT_TRUE(LooksLikeText("caf\xc3\xa9 \xe2\x9c\x93"));
  EXPECT_TRUE(LooksLikeText("cut \xe2\x9c")) << "a prefix cut inside a character";
  EXPECT_FALSE(LooksLikeText(std::string("a\0b", 3)));
  EXPECT_FALSE(LooksLikeText("\xff\xfe"));
  EXPECT_FALSE(LooksLikeText("\xc3("));
}

TEST_F(BundleFilesTest, PacksTheBundleAsZstdTar) {
  auto packed = PackBundleToMemory(dir_, 1 << 20);
  ASSERT_TRUE(packed.ok()) << packed.status().ToString();
  ASSERT_GT(packed->size(), 4u);
  EXPECT_EQ(packed->substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4));
  EXPECT_EQ(PackBundleToMemory(dir_, 8).status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace stopgap::server
