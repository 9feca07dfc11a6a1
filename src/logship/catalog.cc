// ls/get over an ObjectStore. Thread safety: stateless.
#include "logship/catalog.h"

#include <fcntl.h>
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

Result<std::string> FetchLog(ObjectStore& store, const ArchivedLog& log, const std::string& out_dir,
                             bool decompress) {
  std::string name = log.path.substr(log.path.find_last_of('/') + 1);
  std::string comp =
      log.rotation ? log.rotation->compression : std::string(CompressionSuffix(name));
  bool unpack = decompress && !comp.empty() && comp != ".bz2";
  if (unpack) name.resize(name.size() - comp.size());

  int fd = 1;
  std::string dest = "-", tmp;
  if (out_dir != "-") {
    STOPGAP_RETURN_IF_ERROR(MakeDirs(out_dir + "/" + log.host, 0755));
    dest = out_dir + "/" + log.host + "/" + name;
    if (::access(dest.c_str(), F_OK) == 0) return AlreadyExists(dest + " exists; not overwritten");
    tmp = dest + ".part";
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("create " + tmp, errno);
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
    if (st.ok() && ::link(tmp.c_str(), dest.c_str()) != 0) {
      st = errno == EEXIST ? AlreadyExists(dest + " exists; not overwritten")
                           : ErrnoStatus("link " + dest, errno);
    }
    ::unlink(tmp.c_str());
  }
  if (!st.ok()) return st.WithContext(store.Describe(log.object.key));
  return dest;
}

}  // namespace stopgap::logship
