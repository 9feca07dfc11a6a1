// ExecutionBundle against a bundles directory another user could write to:
// an existing <id> directory is never reused and nothing is written through a
// planted symlink; Seal makes collector subdirectories durable too.
#include "remedy/internal/execution_bundle.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace stopgap::remedy::internal {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ExecutionBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/stopgap-bundle-test-XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(ExecutionBundleTest, ExistingDirectoryIsNeverReused) {
  std::ofstream(root_ / "victim") << "precious";
  fs::create_directory(root_ / "7");
  fs::create_symlink(root_ / "victim", root_ / "7" / "manifest.json");
  fs::create_symlink(root_ / "victim", root_ / "7" / "action-00.stdout");
  ExecutionBundle::Header h;
  h.execution_id = 7;
  auto b = ExecutionBundle::Create(root_.string(), h);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_NE(b->dir(), (root_ / "7").string());
  EXPECT_TRUE(b->dir().starts_with((root_ / "7-").string())) << b->dir();
  ASSERT_TRUE(b->Seal(WallTime{}).ok());
  ASSERT_TRUE(b->Finish(ExecutionState::kSucceeded, WallTime{}).ok());
  EXPECT_EQ(Slurp(root_ / "victim"), "precious");
  EXPECT_TRUE(fs::exists(fs::path(b->dir()) / "manifest.json"));
  struct stat st {};
  ASSERT_EQ(::stat((fs::path(b->dir()) / "manifest.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(ExecutionBundleTest, FinishLeavesNoPredictableTempName) {
  ExecutionBundle::Header h;
  h.execution_id = 8;
  auto b = ExecutionBundle::Create(root_.string(), h);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->Seal(WallTime{}).ok());
  // The old fixed temp name, planted as a symlink: Finish must not write through it.
  std::ofstream(root_ / "victim") << "precious";
  fs::create_symlink(root_ / "victim", fs::path(b->dir()) / ".manifest.json.tmp");
  ASSERT_TRUE(b->Finish(ExecutionState::kSucceeded, WallTime{}).ok());
  EXPECT_EQ(Slurp(root_ / "victim"), "precious");
  EXPECT_NE(Slurp(fs::path(b->dir()) / "manifest.json").find("\"complete\": true"),
            std::string::npos);
}

}  // namespace
}  // namespace stopgap::remedy::internal
