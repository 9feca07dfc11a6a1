// ls/get over an ObjectStore. Thread safety: stateless.
#include "logship/catalog.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/file.h"
#include "logship/internal/decompress_sink.h"

namespace stopgap::logship {

std::optional<ArchivedLog> ParseObjectKey(const ObjectInfo& object,
                                          const std::optional<DateFormat>& format, Layout layout) {
  std::optional<KeyParts> k = SplitArchiveKey(layout, object.key);
  if (!k) return std::nullopt;
  ArchivedLog a;
  a.object = object;
  a.host = std::move(k->host);
  a.path = std::move(k->path);
  std::string name = a.path.substr(a.path.find_last_of('/') + 1);
  a.rotation = format ? ParseRotationAnyBase(*format, name) : RecogniseRotation(name);
  a.day = k->day;
  if (!a.day && a.rotation) a.day = a.rotation->time.Day();
  return a;
}

namespace {

// The live log path a rotation belongs to, or "" when its name is unknown.
bool MatchesLog(const ArchivedLog& a, const std::string& log) {
  if (log.empty()) return true;
  std::string dir = DirName(a.path);
  std::string name = a.path.substr(a.path.find_last_of('/') + 1);
  std::string live = a.rotation ? a.rotation->live_name : "";
  std::string want_name = log.substr(log.find_last_of('/') + 1);
  if (log.starts_with("/") && DirName(log) != dir) return false;
  // A name whose date is not recognised still belongs to the log it starts with.
  return a.rotation ? live == want_name : name.starts_with(want_name);
}

}  // namespace

Result<std::vector<ArchivedLog>> ListArchive(ObjectStore& store, const ArchiveFilter& filter) {
  std::vector<std::string> prefixes;
  if (filter.layout == Layout::kDate && filter.since && filter.until &&
      DaysSinceEpoch(*filter.until) - DaysSinceEpoch(*filter.since) < 3660) {
    // One listing per day (per host-day with --host), not the whole archive;
    // a whole month of the whole fleet is one "YYYY/MM/" listing instead.
    const int64_t last = DaysSinceEpoch(*filter.until);
    for (int64_t d = DaysSinceEpoch(*filter.since); d <= last;) {
      CivilDay day = CivilDayFromDays(d);
      int64_t month_end = DaysSinceEpoch(CivilDay{day.month == 12 ? day.year + 1 : day.year,
                                                  day.month == 12 ? 1 : day.month + 1, 1}) -
                          1;
      if (filter.host.empty() && day.day == 1 && month_end <= last) {
        prefixes.push_back(DayPrefix(day, "").substr(0, 8));  // "YYYY/MM/"
        d = month_end + 1;
        continue;
      }
      prefixes.push_back(DayPrefix(day, filter.host));
      ++d;
    }
  } else if (filter.layout == Layout::kHost && !filter.host.empty()) {
    prefixes.push_back(filter.host + "/");
    // A full log path narrows the listing to its directory.
    if (filter.log.starts_with("/")) prefixes.back() = filter.host + DirName(filter.log) + "/";
  } else {
    prefixes.push_back("");
  }
  std::vector<ArchivedLog> out;
  for (const std::string& prefix : prefixes) {
    Result<std::vector<ObjectInfo>> objects = store.List(prefix);
    if (!objects.ok()) return objects.status();
    for (const ObjectInfo& o : *objects) {
      std::optional<ArchivedLog> a = ParseObjectKey(o, filter.dateformat, filter.layout);
      if (!a) continue;
      if (!filter.host.empty() && a->host != filter.host) continue;
      if (!MatchesLog(*a, filter.log)) continue;
      if (!a->day || filter.read_meta) {
        // The name does not tell the day: the metadata written at upload may.
        Result<std::optional<ObjectInfo>> head = store.Stat(a->object.key);
        if (!head.ok()) return head.status();
        if (head->has_value()) {
          MetaFacts m = ReadArchiveMeta((*head)->meta);
          if (m.day) a->day = m.day;
          a->uncompressed_size = m.uncompressed_size;
          a->object.meta = (*head)->meta;
          a->object.content_type = (*head)->content_type;
        }
      }
      if (a->day) {
        if (filter.since && *a->day < *filter.since) continue;
        if (filter.until && *a->day > *filter.until) continue;
      }
      out.push_back(std::move(*a));
    }
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
  std::string comp(CompressionSuffix(name));
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
