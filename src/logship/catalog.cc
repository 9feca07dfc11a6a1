// ls/get over an ObjectStore. Thread safety: stateless.
#include "logship/catalog.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/file.h"
#include "logship/internal/decompress_sink.h"

namespace stopgap::logship {

std::optional<ArchivedLog> ParseObjectKey(const ObjectInfo& object, const DateFormat& format) {
  size_t slash = object.key.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 >= object.key.size()) {
    return std::nullopt;
  }
  ArchivedLog a;
  a.object = object;
  a.host = object.key.substr(0, slash);
  a.path = object.key.substr(slash);
  std::string name = a.path.substr(a.path.find_last_of('/') + 1);
  a.rotation = ParseRotationAnyBase(format, name);
  return a;
}

Result<std::vector<ArchivedLog>> ListArchive(ObjectStore& store, const ArchiveFilter& filter) {
  std::string prefix = filter.host.empty() ? "" : filter.host + "/";
  // A full log path narrows the listing to its directory.
  if (!filter.host.empty() && filter.log.starts_with("/")) {
    prefix = filter.host + DirName(filter.log) + "/";
  }
  Result<std::vector<ObjectInfo>> objects = store.List(prefix);
  if (!objects.ok()) return objects.status();
  std::vector<ArchivedLog> out;
  for (const ObjectInfo& o : *objects) {
    std::optional<ArchivedLog> a = ParseObjectKey(o, filter.dateformat);
    if (!a) continue;
    if (!filter.host.empty() && a->host != filter.host) continue;
    if (!filter.log.empty()) {
      if (!a->rotation) continue;
      std::string dir = DirName(a->path);
      std::string live_path = (dir == "/" ? "" : dir) + "/" + a->rotation->live_name;
      if (filter.log.starts_with("/") ? live_path != filter.log
                                      : a->rotation->live_name != filter.log) {
        continue;
      }
    }
    if (filter.since || filter.until) {
      if (!a->rotation) continue;
      CivilDay d = a->rotation->time.Day();
      if (filter.since && d < *filter.since) continue;
      if (filter.until && d > *filter.until) continue;
    }
    out.push_back(std::move(*a));
  }
  return out;
}

Status ValidateObjectKey(std::string_view key) {
  auto refuse = [&](const char* why) {
    std::string shown;
    for (char c : key.substr(0, 200)) shown += c == '\0' ? std::string("\\0") : std::string(1, c);
    return InvalidArgument("object key '" + shown + "' " + why + "; not fetched");
  };
  if (key.empty()) return refuse("is empty");
  if (key.find('\0') != std::string_view::npos) return refuse("holds a NUL byte");
  if (key.front() == '/') return refuse("is an absolute path");
  size_t start = 0;
  while (true) {
    size_t slash = key.find('/', start);
    std::string_view part =
        key.substr(start, slash == std::string_view::npos ? key.npos : slash - start);
    if (part.empty()) return refuse("has an empty path component");
    if (part == "..") return refuse("has a '..' component");
    if (part == ".") return refuse("has a '.' component");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status::Ok();
}

Result<std::string> FetchLog(ObjectStore& store, const ArchivedLog& log, const std::string& out_dir,
                             bool decompress) {
  // The store names the file: every component is checked before anything is
  // written, so a key like "host/../../etc/x" cannot leave --out.
  STOPGAP_RETURN_IF_ERROR(ValidateObjectKey(log.object.key));
  STOPGAP_RETURN_IF_ERROR(ValidateObjectKey(log.host + log.path));
  std::string name = log.path.substr(log.path.find_last_of('/') + 1);
  std::string comp =
      log.rotation ? log.rotation->compression : std::string(CompressionSuffix(name));
  bool unpack = decompress && !comp.empty() && comp != ".bz2";
  if (unpack) name.resize(name.size() - comp.size());
  if (name.empty() || name == "." || name == "..") {
    return InvalidArgument("object key '" + log.object.key + "': no file name left; not fetched");
  }

  int fd = 1;
  int dir_fd = -1;
  std::string dest = "-", tmp;
  if (out_dir != "-") {
    std::string host_dir = out_dir + "/" + log.host;
    STOPGAP_RETURN_IF_ERROR(MakeDirs(host_dir, 0700));
    // Everything below happens relative to the opened host directory: a
    // symlink swapped in for it, or planted at the file or .part name, is
    // refused, never followed.
    Result<int> d = OpenDirNoFollow(host_dir);
    if (!d.ok()) return d.status();
    dir_fd = *d;
    dest = host_dir + "/" + name;
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      ::close(dir_fd);
      return AlreadyExists(dest + " exists; not overwritten");
    }
    Result<NewTempFile> part = CreateTempFileAt(dir_fd, "." + name + ".part.", 0600);
    if (!part.ok()) {
      ::close(dir_fd);
      return part.status().WithContext(host_dir);
    }
    fd = part->fd;
    tmp = part->path;
  }
  internal::FdSink file(fd);
  Status st;
  if (unpack) {
    Result<std::unique_ptr<internal::DecompressSink>> d =
        internal::DecompressSink::Create(comp, file);
    if (!d.ok()) {
      st = d.status();
    } else {
      st = store.Download(log.object.key, **d);
      if (st.ok()) st = (*d)->Finish();
    }
  } else {
    st = store.Download(log.object.key, file);
  }
  if (fd != 1) {
    if (st.ok() && ::fsync(fd) != 0) st = ErrnoStatus("fsync " + tmp, errno);
    ::close(fd);
    // linkat never replaces: a name that appeared meanwhile stays as it is.
    if (st.ok() && ::linkat(dir_fd, tmp.c_str(), dir_fd, name.c_str(), 0) != 0) {
      st = errno == EEXIST ? AlreadyExists(dest + " exists; not overwritten")
                           : ErrnoStatus("link " + dest, errno);
    }
    ::unlinkat(dir_fd, tmp.c_str(), 0);
    if (st.ok() && ::fsync(dir_fd) != 0) st = ErrnoStatus("fsync " + DirName(dest), errno);
    ::close(dir_fd);
  }
  if (!st.ok()) return st.WithContext(store.Describe(log.object.key));
  return dest;
}

}  // namespace stopgap::logship
