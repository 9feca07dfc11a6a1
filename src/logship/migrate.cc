// MigrateLayout: list once, classify every key, then o.parallel workers move
// the sources one at a time: Stat old, Stat new, Copy, Stat new, Delete old.
#include "logship/migrate.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "logship/catalog.h"

namespace stopgap::logship {
namespace {

bool MultipartEtag(const std::string& etag) { return etag.find('-') != std::string::npos; }

}  // namespace

bool SameObject(const ObjectInfo& source, const ObjectInfo& copy) {
  if (source.size != copy.size) return false;
  if (!source.etag.empty() && source.etag == copy.etag) return true;
  if (!MultipartEtag(source.etag) && !MultipartEtag(copy.etag)) return false;
  for (const char* name : {kMetaDate, kMetaHost, kMetaPath, kMetaUncompressed}) {
    if (MetaValue(source.meta, name) != MetaValue(copy.meta, name)) return false;
  }
  return !MetaValue(source.meta, kMetaPath).empty();
}

Result<MigrateReport> MigrateLayout(ObjectStore& store, const MigrateOptions& o) {
  if (o.from == o.to) return InvalidArgument("the archive is already in that layout");
  Result<std::vector<ObjectInfo>> listed = store.List("");
  if (!listed.ok()) return listed.status();

  MigrateReport report;
  std::vector<ArchivedLog> sources;
  for (const ObjectInfo& obj : *listed) {
    // A date key also reads as a host key (host "2026"): ask the date layout first.
    bool date_key = SplitArchiveKey(Layout::kDate, obj.key).has_value();
    bool host_key = !date_key && SplitArchiveKey(Layout::kHost, obj.key).has_value();
    Layout layout = date_key ? Layout::kDate : Layout::kHost;
    if (!date_key && !host_key) {
      ++report.foreign;
      continue;
    }
    if (layout == o.to) {
      ++report.in_target;
      continue;
    }
    std::optional<ArchivedLog> a = ParseObjectKey(obj, o.dateformat, o.from);
    if (!a || !ValidateObjectKey(obj.key).ok()) {
      ++report.foreign;
      continue;
    }
    sources.push_back(std::move(*a));
  }

  std::mutex mu;
  auto say = [&](const std::string& line) {
    if (o.progress) o.progress(line);
  };
  std::atomic<size_t> next{0};
  auto move_one = [&](const ArchivedLog& a) {
    const std::string& from = a.object.key;
    auto fail = [&](const Status& st) {
      std::lock_guard<std::mutex> lock(mu);
      ++report.failed;
      say("failed " + from + ": " + st.ToString());
    };
    Result<std::optional<ObjectInfo>> src = store.Stat(from);
    if (!src.ok()) return fail(src.status());
    if (!src->has_value()) {  // gone since the listing (another run moved it)
      std::lock_guard<std::mutex> lock(mu);
      ++report.in_target;
      return;
    }
    std::optional<CivilDay> day = a.day;
    if (!day) day = ReadArchiveMeta((*src)->meta).day;
    if (o.to == Layout::kDate && !day) {
      std::lock_guard<std::mutex> lock(mu);
      ++report.undated;
      say("undated " + from + ": its day is unknown (name and metadata); left in place");
      return;
    }
    const std::string to = ArchiveKey(o.to, a.host, a.path, day.value_or(CivilDay{}));
    Result<std::optional<ObjectInfo>> dest = store.Stat(to);
    if (!dest.ok()) return fail(dest.status());
    bool resumed = false;
    if (dest->has_value()) {
      if (!SameObject(**src, **dest)) {
        return fail(AlreadyExists(store.Describe(to) +
                                  " exists and differs from it (size or ETag); left both"));
      }
      // Copied by a run that was cut off before its delete; a copy without
      // the original's expiry (an older stopgap) is made again below.
      resumed = (*src)->delete_at == (*dest)->delete_at;
    }
    if (!resumed && !o.dry_run) {
      if (Status st = store.Copy(**src, to); !st.ok()) return fail(st);
      dest = store.Stat(to);
      if (!dest.ok()) return fail(dest.status());
      if (!dest->has_value() || !SameObject(**src, **dest)) {
        return fail(DataLoss(store.Describe(to) +
                             ": the copy does not match the original (size, ETag or "
                             "metadata); the original is kept"));
      }
      if ((*dest)->delete_at != (*src)->delete_at) {
        return fail(DataLoss(store.Describe(to) + ": the copy expires at '" + (*dest)->delete_at +
                             "', the original at '" + (*src)->delete_at +
                             "' (X-Delete-At); the original is kept"));
      }
    }
    if (!o.dry_run) {
      if (Status st = store.Delete(from); !st.ok()) return fail(st);
    }
    std::lock_guard<std::mutex> lock(mu);
    ++report.moved;
    if (resumed) ++report.resumed;
    say(std::string(o.dry_run ? "would move " : "moved ") + from + " -> " + to +
        (resumed ? " (copy found from an earlier run)" : ""));
  };
  auto worker = [&] {
    for (size_t i = next++; i < sources.size(); i = next++) move_one(sources[i]);
  };
  int n = std::clamp(o.parallel, 1, 64);
  std::vector<std::thread> threads;
  for (int i = 1; i < n && static_cast<size_t>(i) < sources.size(); ++i)
    threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  return report;
}

}  // namespace stopgap::logship
