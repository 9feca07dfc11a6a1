// logship get against a hostile store: object names that try to leave --out,
// and an --out directory where another user planted symlinks. Nothing may be
// written outside --out, nothing through a symlink, and the other objects
// are still fetched.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>

#include "logship/catalog.h"
#include "logship/store/file_store.h"
#include "temp_dir.h"

namespace stopgap::logship {
namespace {

using testing::Exists;
using testing::ReadText;
using testing::TempDir;
using testing::WriteText;

// A store whose listing is whatever the test says (the store is outside input).
class ScriptedStore final : public ObjectStore {
 public:
  explicit ScriptedStore(std::map<std::string, std::string> objects)
      : objects_(std::move(objects)) {}
  Result<UploadResult> Upload(const std::string&, uint64_t, const std::string&,
                              const ObjectMeta&) override {
    return Internal("read-only");
  }
  Result<std::optional<ObjectInfo>> Stat(const std::string&) override {
    return std::optional<ObjectInfo>();
  }
  Result<std::vector<ObjectInfo>> List(const std::string&) override {
    std::vector<ObjectInfo> out;
    for (const auto& [k, v] : objects_) {
      ObjectInfo o;
      o.key = k;
      o.size = v.size();
      out.push_back(o);
    }
    return out;
  }
  Status Download(const std::string& key, net::ResponseSink& sink) override {
    auto it = objects_.find(key);
    if (it == objects_.end()) return NotFound(key);
    return sink.Write(it->second);
  }
  Result<std::string> LocalEtag(const std::string&, uint64_t) override { return std::string(); }
  std::string Describe(const std::string& key) const override { return "scripted:" + key; }

 private:
  std::map<std::string, std::string> objects_;
};

TEST(ValidateObjectKey, RefusesEveryEscape) {
  EXPECT_TRUE(ValidateObjectKey("web1/var/log/app.log-20261125.gz").ok());
  for (std::string bad :
       {std::string("web1/../x.gz"), std::string("../x"), std::string("web1/var/.."),
        std::string("/etc/passwd"), std::string("web1//x"), std::string("web1/./x"),
        std::string("web1/x/"), std::string(""), std::string("web1/a\0b", 8), std::string("..")}) {
    Status st = ValidateObjectKey(bad);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(FetchLog, TraversalKeysAreRefusedAndTheRestFetched) {
  TempDir dir;
  ScriptedStore store({{"web1/var/log/app.log-20261125.gz", "good"},
                       {"../escaped.gz", "evil1"},
                       {"web1/../../escaped2.gz", "evil2"},
                       {"../../escaped3.gz", "evil3"},
                       {"../var/escaped4.gz", "evil4"}});
  Result<std::vector<ArchivedLog>> logs = ListArchive(store, ArchiveFilter{});
  ASSERT_TRUE(logs.ok());
  int fetched = 0, refused = 0;
  for (const ArchivedLog& l : *logs) {
    Result<std::string> got = FetchLog(store, l, dir / "out", false);
    if (got.ok()) {
      ++fetched;
      EXPECT_EQ(ReadText(*got), "good");
    } else {
      ++refused;
      EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument) << got.status().ToString();
    }
  }
  EXPECT_EQ(fetched, 1);
  EXPECT_EQ(refused, static_cast<int>(logs->size()) - 1);
  for (const char* p : {"escaped.gz", "escaped2.gz", "escaped3.gz", "var/escaped4.gz",
                        "out/escaped.gz", "../escaped3.gz"}) {
    EXPECT_FALSE(Exists(dir / p)) << p;
  }
}

TEST(FetchLog, PlantedPartSymlinkAndHostSymlinkAreNotFollowed) {
  TempDir dir;
  WriteText(dir / "victim", "precious");
  ScriptedStore store({{"web1/var/log/app.log-20261125.gz", "fetched"},
                       {"web2/var/log/app.log-20261125.gz", "fetched2"}});
  Result<std::vector<ArchivedLog>> logs = ListArchive(store, ArchiveFilter{});
  ASSERT_TRUE(logs.ok());
  ASSERT_EQ(logs->size(), 2u);
  std::filesystem::create_directories(dir / "out/web1");
  // The names the old code wrote to, planted as symlinks to the victim.
  ASSERT_EQ(
      ::symlink((dir / "victim").c_str(), (dir / "out/web1/app.log-20261125.gz.part").c_str()), 0);
  // A host directory that is a symlink to somewhere else.
  std::filesystem::create_directories(dir / "elsewhere");
  ASSERT_EQ(::symlink((dir / "elsewhere").c_str(), (dir / "out/web2").c_str()), 0);
  Result<std::string> a = FetchLog(store, (*logs)[0], dir / "out", false);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(ReadText(*a), "fetched");
  struct stat st {};
  ASSERT_EQ(::stat(a->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result<std::string> b = FetchLog(store, (*logs)[1], dir / "out", false);
  EXPECT_FALSE(b.ok());
  EXPECT_EQ(ReadText(dir / "victim"), "precious");
  EXPECT_FALSE(Exists(dir / "elsewhere/app.log-20261125.gz"));
  // A symlink at the final name is "exists", not a write through it.
  WriteText(dir / "out2/web1/keep", "");
  ASSERT_EQ(::symlink((dir / "victim").c_str(), (dir / "out2/web1/app.log-20261125.gz").c_str()),
            0);
  EXPECT_EQ(FetchLog(store, (*logs)[0], dir / "out2", false).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadText(dir / "victim"), "precious");
}

TEST(FileStoreTest, ArchivedObjectsAre0600AndNoPlantedPartIsFollowed) {
  TempDir dir;
  WriteText(dir / "src/a.log-20261125.gz", "hello world");
  WriteText(dir / "victim", "precious");
  std::filesystem::create_directories(dir / "arch/h/x");
  // The old temp name: <dest>.part.<pid>.
  std::string old_tmp = dir / ("arch/h/x/a.log-20261125.gz.part." + std::to_string(::getpid()));
  ASSERT_EQ(::symlink((dir / "victim").c_str(), old_tmp.c_str()), 0);
  auto store = OpenStore("file://" + (dir / "arch"), StoreOptions{});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Upload(dir / "src/a.log-20261125.gz", 11, "h/x/a.log-20261125.gz").ok());
  EXPECT_EQ(ReadText(dir / "victim"), "precious");
  struct stat st {};
  ASSERT_EQ(::stat((dir / "arch/h/x/a.log-20261125.gz").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace stopgap::logship
