// State file load/record (nlohmann::json, atomic rewrite) and its flock.
// Thread safety: StateFile methods lock mu_.
#include "logship/state_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "core/file.h"

namespace stopgap::logship {
namespace {

std::string MapKey(const std::string& store, const std::string& key) { return store + "\n" + key; }

}  // namespace

Result<std::unique_ptr<StateFile>> StateFile::Load(const std::string& path) {
  std::unique_ptr<StateFile> s(new StateFile(path));
  if (::access(path.c_str(), F_OK) != 0) return s;
  Result<std::string> text = ReadFile(path, 512u << 20);
  if (!text.ok()) return text.status();
  try {
    nlohmann::json j = nlohmann::json::parse(*text);
    if (j.value("version", 0) != 1) {
      return DataLoss(path + ": unknown state file version (want 1)");
    }
    for (const auto& e : j.at("files")) {
      ArchivedFile f;
      f.store = e.at("store").get<std::string>();
      f.key = e.at("key").get<std::string>();
      f.local_path = e.value("path", "");
      f.size = e.at("size").get<uint64_t>();
      f.mtime_ns = e.value("mtime_ns", int64_t{0});
      f.etag = e.value("etag", "");
      f.uploaded_at = e.value("uploaded_at", "");
      s->entries_[MapKey(f.store, f.key)] = std::move(f);
    }
  } catch (const std::exception& e) {
    return DataLoss(path + ": corrupt state file: " + e.what());
  }
  return s;
}

bool StateFile::Find(const std::string& store, const std::string& key, ArchivedFile* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(MapKey(store, key));
  if (it == entries_.end()) return false;
  *out = it->second;
  return true;
}

Status StateFile::Record(const ArchivedFile& entry) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_[MapKey(entry.store, entry.key)] = entry;
  return WriteLocked();
}

size_t StateFile::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

Status StateFile::WriteLocked() const {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& [k, f] : entries_) {
    files.push_back({{"store", f.store},
                     {"key", f.key},
                     {"path", f.local_path},
                     {"size", f.size},
                     {"mtime_ns", f.mtime_ns},
                     {"etag", f.etag},
                     {"uploaded_at", f.uploaded_at}});
  }
  nlohmann::json j = {{"version", 1}, {"files", std::move(files)}};
  STOPGAP_RETURN_IF_ERROR(MakeDirs(DirName(path_), 0700));
  return WriteFileAtomic(path_, j.dump(1) + "\n", 0600);
}

Result<std::unique_ptr<StateLock>> StateLock::Acquire(const std::string& state_path) {
  STOPGAP_RETURN_IF_ERROR(MakeDirs(DirName(state_path), 0700));
  std::string p = state_path + ".lock";
  int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("open " + p, errno);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      int e = errno;
      ::close(fd);
      return ErrnoStatus("flock " + p, e);
    }
  }
  return std::unique_ptr<StateLock>(new StateLock(fd));
}

StateLock::~StateLock() { ::close(fd_); }

std::string DefaultStatePath() {
  if (const char* p = std::getenv("STOPGAP_LOGSHIP_STATE"); p && *p) return p;
  if (::geteuid() == 0) return "/var/lib/stopgap/logship.state";
  std::string base;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) {
    base = x;
  } else {
    const char* home = std::getenv("HOME");
    base = std::string(home ? home : "/tmp") + "/.local/state";
  }
  return base + "/stopgap/logship.state";
}

}  // namespace stopgap::logship
