// PackBundle (libarchive: pax tar + zstd filter) and PruneBundles. Called on
// the caller's thread; both only touch the paths they are given.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "core/file.h"
#include "diag/bundle.h"

namespace stopgap::diag {
namespace {

namespace fs = std::filesystem;

Status ArchiveError(archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return Internal(what + ": " + (msg != nullptr ? msg : "libarchive error"));
}

Status AddFile(archive* a, const fs::path& path, const std::string& name) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return ErrnoStatus("stat " + path.string(), errno);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_copy_stat(e, &st);
  archive_entry_set_uname(e, "");
  archive_entry_set_gname(e, "");
  Status result;
  if (archive_write_header(a, e) != ARCHIVE_OK) {
    result = ArchiveError(a, "tar header for " + name);
  } else if (S_ISREG(st.st_mode)) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      result = ErrnoStatus("open " + path.string(), errno);
    } else {
      char buf[65536];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        if (archive_write_data(a, buf, static_cast<size_t>(n)) < 0) {
          result = ArchiveError(a, "tar data for " + name);
          break;
        }
      }
      ::close(fd);
    }
  }
  archive_entry_free(e);
  return result;
}

}  // namespace

Status PackBundle(const std::string& dir, const std::string& out_path) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return InvalidArgument("bundle " + dir + ": not a directory");
  std::string base = fs::path(dir).lexically_normal().filename().string();
  if (base.empty()) base = fs::path(dir).lexically_normal().parent_path().filename().string();
  // Collect entries first, sorted, so archives are reproducible.
  std::vector<fs::path> entries;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    entries.push_back(it->path());
  }
  if (ec) return Internal("listing " + dir + ": " + ec.message());
  std::sort(entries.begin(), entries.end());

  archive* a = archive_write_new();
  struct Closer {
    archive* a;
    ~Closer() { archive_write_free(a); }
  } closer{a};
  if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
      archive_write_add_filter_zstd(a) != ARCHIVE_OK) {
    return ArchiveError(a, "tar.zst setup");
  }
  // A new, unpredictably named temp file: nothing planted next to out_path
  // can redirect the write; rename(2) then replaces a symlink at out_path
  // itself, never its target.
  Result<NewTempFile> t = CreateTempFile(out_path + ".tmp.", 0600);
  if (!t.ok()) return t.status();
  int fd = t->fd;
  const std::string tmp = t->path;
  if (archive_write_open_fd(a, fd) != ARCHIVE_OK) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return ArchiveError(a, "open " + tmp);
  }
  Status st = AddFile(a, dir, base);
  for (const fs::path& p : entries) {
    if (!st.ok()) break;
    st = AddFile(a, p, base + "/" + fs::relative(p, dir).string());
  }
  if (st.ok() && archive_write_close(a) != ARCHIVE_OK) st = ArchiveError(a, "close " + tmp);
  if (st.ok() && ::fsync(fd) != 0) st = ErrnoStatus("fsync " + tmp, errno);
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), out_path.c_str()) != 0) {
    st = ErrnoStatus("rename " + tmp + " -> " + out_path, errno);
  }
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return FsyncPath(DirName(out_path));
}

Result<std::vector<std::string>> PruneBundles(const std::string& root, Duration older_than,
                                              const Clock& clock) {
  std::error_code ec;
  std::vector<std::string> removed;
  if (!fs::is_directory(root, ec)) return NotFound("bundles directory " + root + ": not found");
  auto cutoff = clock.Now() - older_than;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const fs::path& p = e.path();
    bool dir_bundle = e.is_directory() && fs::exists(p / "manifest.json");
    bool packed = e.is_regular_file() && p.string().size() > 8 &&
                  p.string().compare(p.string().size() - 8, 8, ".tar.zst") == 0;
    if (!dir_bundle && !packed) continue;
    struct stat st {};
    std::string stat_path = dir_bundle ? (p / "manifest.json").string() : p.string();
    if (::stat(stat_path.c_str(), &st) != 0) continue;
    auto mtime = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
    if (mtime >= cutoff) continue;
    fs::remove_all(p, ec);
    if (ec) return Internal("removing " + p.string() + ": " + ec.message());
    removed.push_back(p.string());
  }
  if (ec) return Internal("listing " + root + ": " + ec.message());
  return removed;
}

}  // namespace stopgap::diag
