// File helpers over POSIX calls.
#include "core/file.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace stopgap {

namespace {

// Reads fd to its end (closing it), failing past max_bytes.
Result<std::string> ReadAllAndClose(int fd, const std::string& path, size_t max_bytes) {
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return ErrnoStatus("read " + path, e);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      ::close(fd);
      return ResourceExhausted(path + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  return ReadAllAndClose(fd, path, max_bytes);
}

Result<std::string> ReadSecretFile(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return ErrnoStatus("stat " + path, e);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return FailedPrecondition(path + " is not a regular file");
  }
  if ((st.st_mode & 0077) != 0) {
    ::close(fd);
    return PermissionDenied(path +
                            " holds a secret but is readable or writable by group/others: "
                            "chmod 600 it");
  }
  return ReadAllAndClose(fd, path, max_bytes);
}

std::string DirName(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos) return ".";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write " + what, errno);
    }
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status FsyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  int r = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (r != 0) return ErrnoStatus("fsync " + path, e);
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode) {
  // A unique O_EXCL temp name: a symlink planted at a guessable name cannot
  // redirect the write, and rename(2) replaces a symlink at `path` itself.
  Result<NewTempFile> t = CreateTempFile(path + ".tmp.", mode);
  if (!t.ok()) return t.status();
  int fd = t->fd;
  const std::string& tmp = t->path;
  if (Status st = WriteAll(fd, data, tmp); !st.ok()) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return st;
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return ErrnoStatus("fsync " + tmp, e);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus("rename " + tmp + " -> " + path, e);
  }
  return FsyncPath(DirName(path));
}

Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return InvalidArgument("empty directory path");
  std::string cur;
  size_t i = 0;
  while (i <= path.size()) {
    size_t next = path.find('/', i);
    if (next == std::string::npos) next = path.size();
    cur = path.substr(0, next);
    if (!cur.empty() && cur != "/") {
      if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST)
        return ErrnoStatus("mkdir " + cur, errno);
    }
    i = next + 1;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return InvalidArgument(path + " exists and is not a directory");
  }
  return Status::Ok();
}

namespace {

constexpr int kTempAttempts = 100;

std::string RandomSuffix() {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  unsigned char raw[6];
  size_t got = 0;
  while (got < sizeof raw) {
    ssize_t n = ::getrandom(raw + got, sizeof raw - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::abort();  // no entropy source: nothing safe to fall back to
    }
    got += static_cast<size_t>(n);
  }
  std::string out;
  for (unsigned char c : raw) out += kChars[c % (sizeof kChars - 1)];
  return out;
}

Status CreateError(const std::string& path, int e) {
  if (e == EEXIST) return AlreadyExists(path + " already exists (a file or symlink); not reused");
  if (e == ELOOP) return AlreadyExists(path + " is a symlink; not followed");
  return ErrnoStatus("create " + path, e);
}

}  // namespace

Result<int> CreateNewFileAt(int dir_fd, const std::string& name, mode_t mode) {
  int fd =
      ::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return CreateError(name, errno);
  ::fchmod(fd, mode);  // the umask must not widen or narrow what the caller asked for
  return fd;
}

Result<int> CreateNewFile(const std::string& path, mode_t mode) {
  Result<int> fd = CreateNewFileAt(AT_FDCWD, path, mode);
  if (!fd.ok()) return fd.status();
  return *fd;
}

Result<NewTempFile> CreateTempFileAt(int dir_fd, const std::string& prefix, mode_t mode) {
  for (int i = 0; i < kTempAttempts; ++i) {
    std::string name = prefix + RandomSuffix();
    Result<int> fd = CreateNewFileAt(dir_fd, name, mode);
    if (fd.ok()) return NewTempFile{*fd, name};
    if (fd.status().code() != StatusCode::kAlreadyExists) return fd.status();
  }
  return AlreadyExists("no free temporary name for " + prefix + "XXXXXX");
}

Result<NewTempFile> CreateTempFile(const std::string& prefix, mode_t mode) {
  return CreateTempFileAt(AT_FDCWD, prefix, mode);
}

Result<std::string> MakeTempDir(const std::string& prefix) {
  std::string tmpl = prefix + "XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return ErrnoStatus("mkdtemp " + tmpl, errno);
  return tmpl;
}

Result<int> OpenDirNoFollow(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP || errno == ENOTDIR)
      return FailedPrecondition(path + " is not a directory (or is a symlink); not followed");
    return ErrnoStatus("open " + path, errno);
  }
  return fd;
}

Result<int> OpenRegularNoFollow(const std::string& path, struct stat* st) {
  // O_NONBLOCK: opening a FIFO planted at the path must not hang.
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) return FailedPrecondition(path + " is a symlink; not followed");
    return ErrnoStatus("open " + path, errno);
  }
  if (::fstat(fd, st) != 0) {
    int e = errno;
    ::close(fd);
    return ErrnoStatus("stat " + path, e);
  }
  if (!S_ISREG(st->st_mode)) {
    ::close(fd);
    return FailedPrecondition(path + " is not a regular file");
  }
  return fd;
}

}  // namespace stopgap
