// Sweep/upload logic: candidate discovery, the archived-or-not decision,
// upload on a small thread pool, state recording and guarded deletion.
// Thread safety: worker threads share only the report (under a mutex), the
// store and the state file (both thread-safe).
#include "logship/shipper.h"

#include <dirent.h>
#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "core/file.h"
#include "core/log.h"
#include "logship/internal/decompress_sink.h"

namespace stopgap::logship {
namespace {

std::mutex g_out_mu;

// The store checksums the next 16-32 files beside the current uploads (the
// hasher's lanes), refilled 16 at a time.
constexpr size_t kPrefetchFiles = 16;

std::string BaseName(const std::string& p) {
  auto pos = p.find_last_of('/');
  return pos == std::string::npos ? p : p.substr(pos + 1);
}

bool HasGlobChars(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

int64_t MtimeNs(const struct stat& sb) {
  return static_cast<int64_t>(sb.st_mtim.tv_sec) * 1'000'000'000 + sb.st_mtim.tv_nsec;
}

}  // namespace

std::string AbsolutePath(const std::string& path) {
  std::string dir = DirName(path);
  std::string base = BaseName(path);
  char buf[PATH_MAX];
  if (::realpath(dir.c_str(), buf) != nullptr)
    dir = buf;
  else if (!dir.starts_with("/")) {
    if (::getcwd(buf, sizeof buf) != nullptr) dir = std::string(buf) + "/" + dir;
  }
  if (dir == "/") return "/" + base;
  return dir + "/" + base;
}

std::vector<std::string> ExpandLogPatterns(const std::vector<std::string>& args) {
  std::set<std::string> out;
  for (const std::string& arg : args) {
    std::istringstream words(arg);  // logrotate passes "pat1 pat2 " as one argument
    std::string pat;
    while (words >> pat) {
      if (!HasGlobChars(pat)) {
        out.insert(pat);
        continue;
      }
      glob_t g{};
      if (::glob(pat.c_str(), 0, nullptr, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; ++i) out.insert(g.gl_pathv[i]);
      }
      ::globfree(&g);
    }
  }
  return {out.begin(), out.end()};
}

std::string Shipper::ObjectKey(const std::string& host, const std::string& abs_path) {
  std::string p = abs_path;
  while (p.starts_with("/")) p.erase(0, 1);
  return host + "/" + p;
}

std::string Shipper::KeyOf(const Candidate& c) const {
  if (options_.layout == Layout::kHost) return ObjectKey(options_.hostname, c.path);
  CivilDay day;
  if (c.rotation) {
    day = c.rotation->time.Day();
  } else {
    struct stat sb {};
    ::stat(c.path.c_str(), &sb);
    day = CivilDayOf(WallTime(std::chrono::nanoseconds(MtimeNs(sb))));
  }
  std::string p = c.path;
  while (p.starts_with("/")) p.erase(0, 1);
  return ArchiveKey(Layout::kDate, options_.hostname, "/" + p, day);
}

Shipper::Shipper(ObjectStore& store, StateFile& state, const Clock& clock, ShipOptions options)
    : store_(store), state_(state), clock_(clock), options_(std::move(options)) {
  if (options_.parallel_files < 1) options_.parallel_files = 1;
}

void Shipper::Say(const std::string& line) const {
  if (options_.quiet) return;
  std::lock_guard<std::mutex> lock(g_out_mu);
  std::fprintf(stdout, "%s\n", line.c_str());
  std::fflush(stdout);
}

std::vector<Candidate> Shipper::FindRotations(const std::string& pattern) const {
  // The live log may be gone (no `create`): match rotation names, not live files.
  std::string abs = pattern.starts_with("/") ? pattern : AbsolutePath(pattern);
  std::string dir_pat = DirName(abs);
  std::string live_pat = BaseName(abs);
  const bool live_glob = HasGlobChars(live_pat);
  std::vector<std::string> dirs;
  if (HasGlobChars(dir_pat)) {
    glob_t g{};
    if (::glob(dir_pat.c_str(), GLOB_ONLYDIR, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) dirs.push_back(g.gl_pathv[i]);
    }
    ::globfree(&g);
  } else {
    dirs.push_back(dir_pat);
  }
  std::vector<Candidate> out;
  for (const std::string& base_dir : dirs) {
    std::vector<std::string> search = {base_dir};
    if (!options_.olddir.empty()) {
      search.push_back(options_.olddir.starts_with("/") ? options_.olddir
                                                        : base_dir + "/" + options_.olddir);
    }
    for (const std::string& d : search) {
      std::vector<std::string> names = ListDir(d);
      std::set<std::string> present(names.begin(), names.end());
      for (const std::string& n : names) {
        std::optional<Rotation> r;
        if (live_glob) {
          r = ParseRotationAnyBase(options_.dateformat, n);
          if (r && ::fnmatch(live_pat.c_str(), r->live_name.c_str(), FNM_PERIOD) != 0) r.reset();
        } else {
          r = ParseRotation(options_.dateformat, n, live_pat);
        }
        if (!r) continue;
        Candidate c;
        c.path = AbsolutePath(d + "/" + n);
        c.rotation = r;
        struct stat sb;
        if (::lstat(c.path.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        if (r->compression.empty()) {
          if (!options_.include_uncompressed) {
            c.skip_reason = "not compressed yet (delaycompress); --include-uncompressed ships it";
          }
        } else if (present.count(n.substr(0, n.size() - r->compression.size())) != 0) {
          c.skip_reason = "being compressed (uncompressed twin still present)";
        }
        out.push_back(std::move(c));
      }
    }
  }
  return out;
}

ShipReport Shipper::Sweep(const std::vector<std::string>& patterns) {
  std::vector<Candidate> all;
  std::set<std::string> seen;
  for (const std::string& arg : patterns) {
    std::istringstream words(arg);  // logrotate passes "pat1 pat2 " as one argument
    std::string pat;
    while (words >> pat) {
      for (Candidate& c : FindRotations(pat)) {
        if (seen.insert(c.path).second) all.push_back(std::move(c));
      }
    }
  }
  return Run(all);
}

ShipReport Shipper::Upload(const std::vector<std::string>& files) {
  std::vector<Candidate> all;
  for (const std::string& f : files) {
    Candidate c;
    c.path = AbsolutePath(f);
    c.rotation = ParseRotationAnyBase(options_.dateformat, BaseName(c.path));
    if (!c.rotation) c.rotation = RecogniseRotation(BaseName(c.path));
    all.push_back(std::move(c));
  }
  return Run(all);
}

ShipReport Shipper::Run(const std::vector<Candidate>& candidates) {
  ShipReport total;
  std::mutex mu;
  // Files to upload (not archived per the state file), with their sizes.
  auto needs_upload = [&](const Candidate& c, uint64_t* size) {
    struct stat sb;
    if (!c.skip_reason.empty() || ::stat(c.path.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode)) {
      return false;
    }
    *size = static_cast<uint64_t>(sb.st_size);
    ArchivedFile rec;
    return !(state_.Find(options_.store_url, KeyOf(c), &rec) && rec.size == *size &&
             rec.mtime_ns == MtimeNs(sb));
  };
  if (options_.pending_bytes != nullptr && !options_.dry_run) {
    for (const Candidate& c : candidates) {
      uint64_t size = 0;
      if (needs_upload(c, &size)) *options_.pending_bytes += size;
    }
  }
  std::atomic<size_t> next{0};
  // Let the store checksum the next files beside the current uploads (its
  // multi-buffer hasher wants many independent streams), a bounded window
  // ahead so it does not read far ahead of the uploads.
  std::mutex prefetch_mu;
  size_t prefetched = 0;
  auto prefetch_until = [&](size_t i) {
    if (options_.dry_run) return;
    std::lock_guard<std::mutex> lock(prefetch_mu);
    // In batches: one file at a time would keep the hasher at one lane.
    if (prefetched > i + kPrefetchFiles) return;
    for (; prefetched < candidates.size() && prefetched < i + 2 * kPrefetchFiles; ++prefetched) {
      uint64_t size = 0;
      if (needs_upload(candidates[prefetched], &size)) {
        store_.Prefetch(candidates[prefetched].path, size);
      }
    }
  };
  auto worker = [&] {
    for (size_t i = next++; i < candidates.size() && !stop_; i = next++) {
      prefetch_until(i);
      ShipReport r;
      ShipOne(candidates[i], &r);
      std::lock_guard<std::mutex> lock(mu);
      total.uploaded += r.uploaded;
      total.already += r.already;
      total.skipped += r.skipped;
      total.failed += r.failed;
      total.deleted += r.deleted;
      total.bytes += r.bytes;
    }
  };
  int n = std::min<int>(options_.parallel_files, static_cast<int>(candidates.size()));
  std::vector<std::thread> threads;
  for (int i = 1; i < n; ++i) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  // Multipart uploads an earlier run left open (cut off mid-part) cost
  // storage until aborted: abort those of the keys this run owns. This
  // run's own uploads are all completed or aborted by now.
  if (!options_.dry_run && !stop_) {
    std::vector<std::string> keys;
    for (const Candidate& c : candidates) {
      if (c.skip_reason.empty()) keys.push_back(KeyOf(c));
    }
    Result<int> aborted = store_.AbortStaleUploads(keys);
    if (!aborted.ok()) {
      Log(LogLevel::kWarn, "could not clean up unfinished multipart uploads",
          {{"error", aborted.status().ToString()}});
    } else {
      total.stale_aborted = *aborted;
    }
  }
  // Those aborted as soon as their key was complete count too.
  total.stale_aborted += orphans_aborted_.exchange(0);
  if (total.stale_aborted > 0) {
    Say("aborted " + std::to_string(total.stale_aborted) +
        " unfinished multipart upload(s) left by an earlier run or a lost answer");
  }
  return total;
}

void Shipper::Fail(const std::string& path, const std::string& key, const Status& st) {
  // Credentials and missing configuration are the same for every file: say
  // it once and stop instead of failing each file the same way.
  if (st.code() == StatusCode::kPermissionDenied || st.code() == StatusCode::kFailedPrecondition) {
    if (stop_.exchange(true)) return;
    Log(LogLevel::kError, "stopping: the store refused us; local files kept",
        {{"path", path}, {"error", st.ToString()}});
    return;
  }
  Log(LogLevel::kError, "upload failed; local file kept",
      {{"path", path}, {"object", store_.Describe(key)}, {"error", st.ToString()}});
}

void Shipper::ShipOne(const Candidate& c, ShipReport* report) {
  if (!c.skip_reason.empty()) {
    ++report->skipped;
    Say("skip " + c.path + ": " + c.skip_reason);
    return;
  }
  struct stat sb;
  if (::stat(c.path.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    ++report->failed;
    Log(LogLevel::kError, "cannot upload: not a regular file",
        {{"path", c.path}, {"error", std::strerror(errno)}});
    return;
  }
  const uint64_t size = static_cast<uint64_t>(sb.st_size);
  const int64_t mtime = MtimeNs(sb);
  const std::string key = KeyOf(c);

  ArchivedFile rec;
  bool archived = false;
  if (state_.Find(options_.store_url, key, &rec) && rec.size == size) {
    if (rec.mtime_ns == mtime) {
      archived = true;
    } else {
      Result<std::string> etag = store_.LocalEtag(c.path, size);
      archived = etag.ok() && *etag == rec.etag;
      if (archived && !options_.dry_run) {
        rec.mtime_ns = mtime;  // touched but identical: remember the new mtime
        rec.local_path = c.path;
        if (!state_.Record(rec).ok()) archived = false;
      }
    }
  }
  if (!archived && !options_.dry_run) {
    // No (matching) record: the object may be there from a run whose state
    // was lost. Same size and ETag as this file counts as archived.
    Result<std::optional<ObjectInfo>> remote = store_.Stat(key);
    if (!remote.ok()) {
      ++report->failed;
      Fail(c.path, key, remote.status());
      return;
    }
    if (remote->has_value() && (*remote)->size == size) {
      Result<std::string> etag = store_.LocalEtag(c.path, size);
      if (etag.ok() && *etag == (*remote)->etag) {
        // Typically a run killed after the store completed the upload and
        // before it was recorded: that run's (or earlier runs') unfinished
        // multipart uploads of this key are orphans no later run would own
        // once the file is deleted.
        if (Result<int> n = store_.AbortStaleUploads({key}); !n.ok()) {
          Log(LogLevel::kWarn, "could not clean up unfinished multipart uploads",
              {{"object", store_.Describe(key)}, {"error", n.status().ToString()}});
        } else {
          orphans_aborted_ += *n;
        }
        rec = ArchivedFile{options_.store_url,         key, c.path, size, mtime, *etag,
                           FormatRfc3339(clock_.Now())};
        Status st = state_.Record(rec);
        if (!st.ok()) {
          ++report->failed;
          Log(LogLevel::kError, "state file write failed", {{"error", st.ToString()}});
          return;
        }
        archived = true;
      }
    }
  }
  if (archived) {
    ++report->already;
    Say("archived " + c.path + " (already at " + store_.Describe(key) + ")");
  } else if (options_.dry_run) {
    Say("would upload " + c.path + " -> " + store_.Describe(key));
    return;
  } else {
    // Kept with the object, so a later ls need not guess the dateformat.
    std::optional<uint64_t> content_size;
    if (!c.rotation || c.rotation->compression.empty()) {
      content_size = size;
    } else if (c.rotation->compression != ".bz2") {
      Result<uint64_t> n = internal::UncompressedSize(c.path, c.rotation->compression);
      if (n.ok()) content_size = *n;
    }
    Result<UploadResult> up = store_.Upload(
        c.path, size, key, ArchiveMeta(options_.hostname, c.path, c.rotation, content_size));
    if (!up.ok()) {
      ++report->failed;
      Fail(c.path, key, up.status());
      return;
    }
    orphans_aborted_ += up->orphans_aborted;
    // The file must not have changed while it was read.
    struct stat after;
    if (::stat(c.path.c_str(), &after) != 0 || static_cast<uint64_t>(after.st_size) != size ||
        MtimeNs(after) != mtime) {
      ++report->failed;
      Log(LogLevel::kError, "file changed during upload; will retry next run", {{"path", c.path}});
      return;
    }
    rec = ArchivedFile{options_.store_url,         key, c.path, size, mtime, up->etag,
                       FormatRfc3339(clock_.Now())};
    Status st = state_.Record(rec);
    if (!st.ok()) {
      ++report->failed;
      Log(LogLevel::kError, "state file write failed", {{"error", st.ToString()}});
      return;
    }
    ++report->uploaded;
    report->bytes += size;
    Say("uploaded " + c.path + " -> " + store_.Describe(key) + " (" + std::to_string(size) +
        " bytes, etag " + up->etag +
        (up->parts > 1 ? ", " + std::to_string(up->parts) + " parts" : "") + ", verified)");
  }

  // Deletion: only with a verified record matching the file as it is now.
  if (!options_.delete_after_upload && options_.keep_days < 0) return;
  if (options_.keep_days >= 0) {
    CivilDay day =
        c.rotation ? c.rotation->time.Day() : CivilDayOf(WallTime(std::chrono::nanoseconds(mtime)));
    int64_t age = DaysSinceEpoch(CivilDayOf(clock_.Now())) - DaysSinceEpoch(day);
    if (age <= options_.keep_days) return;
  }
  ArchivedFile check;
  struct stat now;
  if (!state_.Find(options_.store_url, key, &check) || check.size != size ||
      ::stat(c.path.c_str(), &now) != 0 || static_cast<uint64_t>(now.st_size) != size ||
      MtimeNs(now) != check.mtime_ns) {
    Say("kept " + c.path + " (no matching verified record)");
    return;
  }
  if (::unlink(c.path.c_str()) != 0) {
    Log(LogLevel::kError, "delete failed", {{"path", c.path}, {"error", std::strerror(errno)}});
    return;
  }
  ++report->deleted;
  Say("deleted " + c.path + " (archived and verified)");
}

}  // namespace stopgap::logship
