// CollectorContext: capped, cut-off-aware writes into a bundle; see collector.h.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "core/file.h"
#include "diag/internal/collector.h"

namespace stopgap::diag {

CollectorContext::CollectorContext(std::string bundle_dir, std::string name, std::string subdir,
                                   MonoTime deadline, size_t size_cap, internal::Redactor redactor,
                                   CollectRequest req)
    : bundle_dir_(std::move(bundle_dir)),
      name_(std::move(name)),
      subdir_(std::move(subdir)),
      deadline_(deadline),
      size_cap_(size_cap),
      redactor_(std::move(redactor)),
      req_(std::move(req)) {
  out_.name = name_;
}

bool CollectorContext::Expired() const {
  return abandoned_.load(std::memory_order_relaxed) ||
         std::chrono::steady_clock::now() >= deadline_;
}

size_t CollectorContext::remaining_cap() const {
  std::lock_guard<std::mutex> lock(mu_);
  return out_.bytes >= size_cap_ ? 0 : size_cap_ - out_.bytes;
}

void CollectorContext::Metric(std::string key, int64_t value) {
  std::lock_guard<std::mutex> lock(mu_);
  out_.metrics.emplace_back(std::move(key), value);
}

void CollectorContext::Skip(std::string what) {
  std::lock_guard<std::mutex> lock(mu_);
  out_.skipped.push_back(std::move(what));
}

Status CollectorContext::WriteFile(const std::string& file, std::string_view data) {
  std::lock_guard<std::mutex> lock(mu_);
  if (abandoned_.load()) return DeadlineExceeded(name_ + ": abandoned at its time budget");
  if (file.empty() || file.find("..") != std::string::npos || file[0] == '/') {
    return InvalidArgument("bad bundle file name: " + file);
  }
  std::string dir = bundle_dir_ + "/" + subdir_;
  if (!dir_made_) {
    if (::mkdir(dir.c_str(), 0700) != 0) {
      if (errno != EEXIST) return ErrnoStatus("mkdir " + dir, errno);
      // A second step of the same collector shares the directory; a symlink
      // or a directory of another user is not written into.
      struct stat st {};
      if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
        return AlreadyExists(dir + " exists and is not our directory; not written into");
      }
    }
    dir_made_ = true;
  }
  size_t room = out_.bytes >= size_cap_ ? 0 : size_cap_ - out_.bytes;
  bool cut = data.size() > room;
  if (cut) {
    data = data.substr(0, room);
    out_.truncated = true;
  }
  std::string path = dir + "/" + file;
  // Never through a planted symlink: a name already there (a file from an
  // earlier step, or a symlink) is unlinked, which never follows it, and the
  // file is created anew.
  Result<int> fd = CreateNewFile(path, 0600);
  if (!fd.ok() && fd.status().code() == StatusCode::kAlreadyExists && ::unlink(path.c_str()) == 0) {
    fd = CreateNewFile(path, 0600);
  }
  if (!fd.ok()) return fd.status();
  Status written = WriteAll(*fd, data, path);
  ::close(*fd);
  if (!written.ok()) return written;
  out_.bytes += data.size();
  out_.files.push_back(subdir_ + "/" + file);
  return Status::Ok();
}

Status CollectorContext::CopyFile(const std::string& src, const std::string& file) {
  int fd = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + src, errno);
  size_t cap = remaining_cap();
  std::string data;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > cap) break;  // WriteFile cuts at the cap and marks truncated
  }
  ::close(fd);
  return WriteFile(file, data);
}

void CollectorContext::Abandon() {
  std::lock_guard<std::mutex> lock(mu_);
  abandoned_.store(true);
}

CollectorOutcome CollectorContext::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

}  // namespace stopgap::diag
