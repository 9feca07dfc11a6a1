// Tests for finding rotations again (issue #18): the common dateext forms
// recognised without --dateformat, the metadata kept with each object (and
// the file:// sidecar), the date layout's keys and per-day listings, the
// undated objects every filter keeps, grep over archived logs, and the S3
// pieces of #15 (multipart-uploads listing, content types).
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>

#include <gtest/gtest.h>

#include "core/time.h"
#include "logship/archive.h"
#include "logship/catalog.h"
#include "logship/grep.h"
#include "logship/internal/http_store.h"
#include "logship/shipper.h"
#include "logship/state_file.h"
#include "logship/store/file_store.h"
#include "logship/store/s3_xml.h"
#include "temp_dir.h"

namespace stopgap::logship {
namespace {

using testing::TempDir;
using testing::WriteText;

std::string Gzip(const std::string& text) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);
  std::string out(text.size() + 1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

TEST(RecogniseRotation, TheFiveCommonFormsWithoutBeingTold) {
  struct Case {
    const char* name;
    CivilDay day;
    const char* live;
  } cases[] = {
      {"app.log-20261125.gz", {2026, 11, 25}, "app.log"},
      {"app.log-2026112513.gz", {2026, 11, 25}, "app.log"},  // hourly, not year 2611
      {"app.log-2026-11-25.zst", {2026, 11, 25}, "app.log"},
      {"app.log-20251125-1764072000.gz", {2025, 11, 25}, "app.log"},  // %s, UTC
      {"app.log-20261125.1.gz", {2026, 11, 25}, "app.log"},
      {"app.log-20261125", {2026, 11, 25}, "app.log"},
  };
  for (const Case& c : cases) {
    std::optional<Rotation> r = RecogniseRotation(c.name);
    ASSERT_TRUE(r.has_value()) << c.name;
    EXPECT_EQ(r->time.Day(), c.day) << c.name;
    EXPECT_EQ(r->live_name, c.live) << c.name;
  }
  std::optional<Rotation> hourly = RecogniseRotation("app.log-2026112513.gz");
  EXPECT_EQ(hourly->time.hour, 13);
  EXPECT_FALSE(RecogniseRotation("app.log").has_value());
  EXPECT_FALSE(RecogniseRotation("app.log-12345678.gz").has_value());  // year 1234: no date
  EXPECT_FALSE(RecogniseRotation("app.log.1.gz").has_value());
}

TEST(ContentTypeFor, ARealTypeForEveryArchivedName) {
  EXPECT_EQ(ContentTypeFor("web1/var/log/app.log-20261125.gz"), "application/gzip");
  EXPECT_EQ(ContentTypeFor("app.log-20261125.zst"), "application/zstd");
  EXPECT_EQ(ContentTypeFor("app.log-20261125"), "text/plain");
  EXPECT_EQ(ContentTypeFor("app.log-2026-11-25"), "text/plain");
  EXPECT_EQ(ContentTypeFor("core.dump"), "application/octet-stream");
}

TEST(ArchiveKey, DateLayoutPutsTheDayFirstAndSplitsBack) {
  std::string k =
      ArchiveKey(Layout::kDate, "web1", "/var/log/app.log-20261125.gz", CivilDay{2026, 11, 25});
  EXPECT_EQ(k, "2026/11/25/web1/var/log/app.log-20261125.gz");
  EXPECT_EQ(DayPrefix(CivilDay{2026, 1, 5}, "web1"), "2026/01/05/web1/");
  std::optional<KeyParts> p = SplitArchiveKey(Layout::kDate, k);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->host, "web1");
  EXPECT_EQ(p->path, "/var/log/app.log-20261125.gz");
  EXPECT_EQ(*p->day, (CivilDay{2026, 11, 25}));
  EXPECT_FALSE(SplitArchiveKey(Layout::kDate, "web1/var/log/x").has_value());
  EXPECT_FALSE(SplitArchiveKey(Layout::kDate, "2026/13/40/web1/x").has_value());
  EXPECT_EQ(ArchiveKey(Layout::kHost, "web1", "/var/log/a", CivilDay{}), "web1/var/log/a");
}

TEST(ArchiveMeta, RoundTripsThroughHeaders) {
  Rotation r = *RecogniseRotation("app.log-2026112513.gz");
  ObjectMeta m = ArchiveMeta("web1", "/var/log/my app/app.log-2026112513.gz", r, 12345);
  EXPECT_EQ(MetaValue(m, kMetaDate), "2026-11-25T13:00:00");
  EXPECT_EQ(MetaValue(m, kMetaPath), "/var/log/my%20app/app.log-2026112513.gz");
  net::HttpHeaders headers = {{"content-length", "9"}, {"x-amz-meta-other", "x"}};
  for (const auto& [k, v] : m) headers.emplace_back("x-amz-meta-" + k, v);
  headers.emplace_back("x-amz-meta-bad name", "dropped");
  headers.emplace_back("x-amz-meta-ctl", std::string("a\x01", 2));
  ObjectMeta back = internal::MetaFromHeaders(headers, "x-amz-meta-");
  EXPECT_EQ(back.size(), m.size() + 1);  // + "other"; the bad ones are skipped
  MetaFacts f = ReadArchiveMeta(back);
  EXPECT_EQ(*f.day, (CivilDay{2026, 11, 25}));
  EXPECT_EQ(f.host, "web1");
  EXPECT_EQ(f.path, "/var/log/my app/app.log-2026112513.gz");
  EXPECT_EQ(*f.uncompressed_size, 12345u);
  // %s names: the instant, in UTC.
  Rotation e = *RecogniseRotation("app.log-20261125-1764072000.gz");
  EXPECT_EQ(MetaValue(ArchiveMeta("h", "/p", e, std::nullopt), kMetaDate), "2025-11-25T12:00:00Z");
}

TEST(S3Xml, ListMultipartUploadsPages) {
  Result<S3UploadsPage> p = ParseListMultipartUploads(
      "<ListMultipartUploadsResult><Bucket>b</Bucket><IsTruncated>true</IsTruncated>"
      "<NextKeyMarker>k2</NextKeyMarker><NextUploadIdMarker>u2</NextUploadIdMarker>"
      "<Upload><Key>k1</Key><UploadId>u1</UploadId></Upload>"
      "<Upload><Key>k2</Key><UploadId>u2</UploadId></Upload></ListMultipartUploadsResult>");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->uploads.size(), 2u);
  EXPECT_EQ(p->uploads[1].upload_id, "u2");
  EXPECT_TRUE(p->truncated);
  EXPECT_EQ(p->next_key_marker, "k2");
  EXPECT_FALSE(ParseListMultipartUploads("<Other/>").ok());
  EXPECT_FALSE(ParseListMultipartUploads("<ListMultipartUploadsResult><Upload><Key>k</Key></Upload>"
                                         "</ListMultipartUploadsResult>")
                   .ok());
}

TEST(S3Xml, LifecycleRuleExpiresAndAbortsUnderThePrefix) {
  EXPECT_EQ(BuildLifecycle("logs/a&b/", 400, 2),
            "<LifecycleConfiguration><Rule><ID>stopgap-logship-keep-400d</ID><Filter><Prefix>"
            "logs/a&amp;b/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>400</Days>"
            "</Expiration><AbortIncompleteMultipartUpload><DaysAfterInitiation>2"
            "</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"
            "</LifecycleConfiguration>");
}

TEST(S3Xml, AnUnexpectedCompletionRootIsNotAnErrorAnswer) {
  // The caller judges such an answer by a HEAD; only <Error> means failure.
  Result<std::string> r = ParseCompleteMultipart(
      "<CompleteMultipartUploadResponse><ETag>\"abc-2\"</ETag></CompleteMultipartUploadResponse>");
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseCompleteMultipart("<Error><Code>InternalError</Code></Error>").status().code(),
            StatusCode::kUnavailable);
}

// Counts listings, so a test can see how many prefixes a query lists.
class CountingStore final : public ObjectStore {
 public:
  explicit CountingStore(ObjectStore& inner) : inner_(inner) {}
  Result<UploadResult> Upload(const std::string& p, uint64_t s, const std::string& k,
                              const ObjectMeta& m) override {
    return inner_.Upload(p, s, k, m);
  }
  Result<std::optional<ObjectInfo>> Stat(const std::string& k) override {
    ++heads;
    return inner_.Stat(k);
  }
  Result<std::vector<ObjectInfo>> List(const std::string& p) override {
    prefixes.push_back(p);
    return inner_.List(p);
  }
  Status Download(const std::string& k, net::ResponseSink& s) override {
    return inner_.Download(k, s);
  }
  Result<std::string> LocalEtag(const std::string& p, uint64_t s) override {
    return inner_.LocalEtag(p, s);
  }
  std::string Describe(const std::string& k) const override { return inner_.Describe(k); }
  std::vector<std::string> prefixes;
  int heads = 0;

 private:
  ObjectStore& inner_;
};

class ArchiveTest : public ::testing::Test {
 protected:
  ArchiveTest()
      : clock_(WallTime(std::chrono::seconds(1764028800 + 12 * 3600))),
        files_(NewFileStore(dir_ / "archive", StoreOptions{})),
        store_(*files_) {
    state_ = std::move(*StateFile::Load(dir_ / "state/logship.state"));
  }
  ShipReport Ship(const std::string& host, const std::vector<std::string>& names, Layout layout) {
    ShipOptions o;
    o.store_url = "file://" + (dir_ / "archive");
    o.hostname = host;
    o.quiet = true;
    o.layout = layout;
    std::vector<std::string> paths;
    for (const std::string& n : names) {
      WriteText(dir_ / (host + "/" + n), Gzip(host + " line of " + n + "\nerror in " + n + "\n"));
      paths.push_back(dir_ / (host + "/" + n));
    }
    Shipper s(store_, *state_, clock_, o);
    return s.Upload(paths);
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<ObjectStore> files_;
  CountingStore store_;
  std::unique_ptr<StateFile> state_;
};

TEST_F(ArchiveTest, LsFindsTheFiveFormsWithoutADateformatAndKeepsUndated) {
  ASSERT_EQ(Ship("web1",
                 {"a.log-20251120.gz", "b.log-2025112113.gz", "c.log-2025-11-22.gz",
                  "d.log-20251123-1763899200.gz", "e.log-20251124.1.gz", "f.log-week48.gz"},
                 Layout::kHost)
                .uploaded,
            6);
  ArchiveFilter f;
  f.since = CivilDay{2025, 11, 21};
  f.until = CivilDay{2025, 11, 24};
  Result<std::vector<ArchivedLog>> logs = ListArchive(store_, f);
  ASSERT_TRUE(logs.ok());
  std::map<std::string, std::string> got;
  for (const ArchivedLog& l : *logs) {
    got[l.path.substr(l.path.find_last_of('/') + 1)] = l.day ? FormatCivilDay(*l.day) : "-";
  }
  std::map<std::string, std::string> want = {{"b.log-2025112113.gz", "2025-11-21"},
                                             {"c.log-2025-11-22.gz", "2025-11-22"},
                                             {"d.log-20251123-1763899200.gz", "2025-11-23"},
                                             {"e.log-20251124.1.gz", "2025-11-24"},
                                             {"f.log-week48.gz", "-"}};
  EXPECT_EQ(got, want);  // a.log is before --since; f.log's day is unknown: listed, not dropped
}

TEST_F(ArchiveTest, MetadataTellsTheDayANameCannot) {
  // A dateformat no common form matches (-%d.%m.%Y): the date comes from
  // the stopgap-date metadata written at upload, read with a HEAD.
  WriteText(dir_ / "web1/app.log-25.11.2025.gz", Gzip("x\n"));
  ShipOptions o;
  o.store_url = "file://" + (dir_ / "archive");
  o.hostname = "web1";
  o.quiet = true;
  o.dateformat = *DateFormat::Parse("-%d.%m.%Y");
  Shipper s(store_, *state_, clock_, o);
  ASSERT_EQ(s.Upload({dir_ / "web1/app.log-25.11.2025.gz"}).uploaded, 1);
  Result<std::optional<ObjectInfo>> st =
      files_->Stat("web1" + dir_.path() + "/web1/app.log-25.11.2025.gz");
  ASSERT_TRUE(st.ok() && st->has_value());
  EXPECT_EQ(MetaValue((*st)->meta, kMetaDate), "2025-11-25T00:00:00");
  EXPECT_EQ(MetaValue((*st)->meta, kMetaUncompressed), "2");
  ArchiveFilter f;
  f.since = f.until = CivilDay{2025, 11, 25};
  store_.heads = 0;
  Result<std::vector<ArchivedLog>> logs = ListArchive(store_, f);
  ASSERT_TRUE(logs.ok());
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ(*(*logs)[0].day, (CivilDay{2025, 11, 25}));
  EXPECT_EQ(store_.heads, 1);
  f.since = f.until = CivilDay{2025, 11, 26};
  EXPECT_EQ(ListArchive(store_, f)->size(), 0u);
}

TEST_F(ArchiveTest, DateLayoutListsOnePrefixPerDay) {
  ASSERT_EQ(Ship("web1", {"app.log-20251122.gz", "app.log-20251123.gz", "app.log-20251124.gz"},
                 Layout::kDate)
                .uploaded,
            3);
  ASSERT_EQ(Ship("web2", {"app.log-20251123.gz"}, Layout::kDate).uploaded, 1);
  ArchiveFilter f;
  f.layout = Layout::kDate;
  f.since = f.until = CivilDay{2025, 11, 23};
  store_.prefixes.clear();
  store_.heads = 0;
  Result<std::vector<ArchivedLog>> logs = ListArchive(store_, f);
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ(logs->size(), 2u);
  EXPECT_EQ(store_.prefixes, std::vector<std::string>{"2025/11/23/"});
  EXPECT_EQ(store_.heads, 0);
  f.host = "web1";
  f.until = CivilDay{2025, 11, 24};
  store_.prefixes.clear();
  logs = ListArchive(store_, f);
  EXPECT_EQ(logs->size(), 2u);
  EXPECT_EQ(store_.prefixes, (std::vector<std::string>{"2025/11/23/web1/", "2025/11/24/web1/"}));
  // A whole month of the whole fleet is one month prefix, the rest days.
  f.host.clear();
  f.since = CivilDay{2025, 10, 31};
  f.until = CivilDay{2025, 12, 1};
  store_.prefixes.clear();
  logs = ListArchive(store_, f);
  EXPECT_EQ(logs->size(), 4u);
  EXPECT_EQ(store_.prefixes, (std::vector<std::string>{"2025/10/31/", "2025/11/", "2025/12/01/"}));
}

TEST_F(ArchiveTest, GrepPrintsMatchesInListingOrderAndStopsAtMaxCount) {
  ASSERT_EQ(Ship("web1", {"app.log-20251122.gz", "app.log-20251123.gz"}, Layout::kHost).uploaded,
            2);
  ASSERT_EQ(Ship("web2", {"app.log-20251123.gz"}, Layout::kHost).uploaded, 1);
  Result<std::vector<ArchivedLog>> logs = ListArchive(store_, ArchiveFilter{});
  ASSERT_TRUE(logs.ok());
  GrepOptions o;
  o.pattern = "^error";
  o.parallel = 3;
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* out = ::open_memstream(&buf, &len);
  Result<GrepReport> r = GrepArchive(store_, *logs, o, out);
  std::fclose(out);
  std::string text(buf, len);
  std::free(buf);
  ASSERT_TRUE(r.ok());
  std::string d = dir_.path();
  EXPECT_EQ(text, "web1 " + d + "/web1/app.log-20251122.gz:error in app.log-20251122.gz\n" +
                      "web1 " + d + "/web1/app.log-20251123.gz:error in app.log-20251123.gz\n" +
                      "web2 " + d + "/web2/app.log-20251123.gz:error in app.log-20251123.gz\n");
  EXPECT_EQ(r->matches, 3u);
  EXPECT_EQ(r->failed, 0);
  o.max_count = 2;
  buf = nullptr;
  out = ::open_memstream(&buf, &len);
  r = GrepArchive(store_, *logs, o, out);
  std::fclose(out);
  text.assign(buf, len);
  std::free(buf);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_EQ(text.substr(0, 5), "web1 ");
  o.pattern = "a[";
  EXPECT_EQ(GrepArchive(store_, *logs, o, stdout).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stopgap::logship
