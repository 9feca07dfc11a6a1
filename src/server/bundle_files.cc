// Bundle reads for the API: listing, one file by checked relative path
// (openat one component at a time, O_NOFOLLOW), packing into memory.
//
// Thread safety: stateless; every call opens its own descriptors.
#include "server/bundle_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "core/file.h"
#include "diag/bundle.h"

namespace stopgap::server {
namespace {

namespace fs = std::filesystem;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::vector<std::string_view> Components(std::string_view rel) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t slash = rel.find('/', start);
    if (slash == std::string_view::npos) slash = rel.size();
    out.push_back(rel.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

Status OpenError(std::string_view rel, int err) {
  if (err == ENOENT) return NotFound("bundle has no file '" + std::string(rel) + "'");
  if (err == ELOOP || err == ENOTDIR || err == EISDIR) {
    return FailedPrecondition("'" + std::string(rel) +
                              "' is not a regular file of the bundle (symlinks are not followed)");
  }
  return ErrnoStatus("open " + std::string(rel), err);
}

Result<std::string> ReadFd(int fd, size_t limit) {
  std::string out;
  char buf[65536];
  while (out.size() < limit) {
    ssize_t n = ::read(fd, buf, std::min(sizeof buf, limit - out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read", errno);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

Status CheckBundlePath(std::string_view rel) {
  if (rel.empty()) return InvalidArgument("path: empty (expected a path relative to the bundle)");
  if (rel.size() > 4096) return InvalidArgument("path: longer than 4096 bytes");
  if (rel.front() == '/') return InvalidArgument("path: must be relative to the bundle");
  if (rel.find('\0') != std::string_view::npos || rel.find('\\') != std::string_view::npos) {
    return InvalidArgument("path: NUL and backslash are not allowed");
  }
  for (std::string_view c : Components(rel)) {
    if (c.empty() || c == ".") return InvalidArgument("path: empty or '.' component");
    if (c == "..") return InvalidArgument("path: '..' is not allowed");
  }
  return Status::Ok();
}

bool LooksLikeText(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = c >= 0xF0 && c <= 0xF4 ? 3 : c >= 0xE0 ? 2 : c >= 0xC2 && c <= 0xDF ? 1 : 9;
    if (n == 9 || c > 0xF4) return false;
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return true;  // a prefix cut inside the last character
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

Result<std::string> ReadBundleFile(const std::string& dir, std::string_view rel, size_t max_bytes) {
  STOPGAP_RETURN_IF_ERROR(CheckBundlePath(rel));
  Result<int> root = OpenDirNoFollow(dir);
  if (!root.ok()) return root.status();
  Fd at{*root};
  std::vector<std::string_view> parts = Components(rel);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    std::string name(parts[i]);
    int fd = ::openat(at.fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return OpenError(rel, errno);
    ::close(at.fd);
    at.fd = fd;
  }
  std::string last(parts.back());
  // O_NONBLOCK: a FIFO planted in the bundle must not block the handler.
  Fd f{::openat(at.fd, last.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)};
  if (f.fd < 0) return OpenError(rel, errno);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return ErrnoStatus("stat " + std::string(rel), errno);
  if (!S_ISREG(st.st_mode)) return OpenError(rel, EISDIR);
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return ResourceExhausted("'" + std::string(rel) + "' is " + std::to_string(st.st_size) +
                             " bytes, over the " + std::to_string(max_bytes) +
                             "-byte cap: download the bundle's .tar.zst");
  }
  return ReadFd(f.fd, max_bytes);
}

Result<std::vector<BundleFile>> ListBundleFiles(const std::string& dir, size_t max_files) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(dir, ec))) {
    return NotFound("bundle directory " + dir + " is gone (pruned by policy.retain_bundles?)");
  }
  std::vector<BundleFile> out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    if (out.size() >= max_files) break;
    BundleFile f;
    f.path = it->path().lexically_relative(dir).generic_string();
    struct stat st {};
    Result<int> fd = OpenRegularNoFollow(it->path().string(), &st);
    if (!fd.ok()) continue;
    Fd closer{*fd};
    f.size = st.st_size;
    Result<std::string> head = ReadFd(*fd, 8192);
    f.text = head.ok() && LooksLikeText(*head);
    out.push_back(std::move(f));
  }
  if (ec) return Internal("listing " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end(),
            [](const BundleFile& a, const BundleFile& b) { return a.path < b.path; });
  return out;
}

Result<std::string> PackBundleToMemory(const std::string& dir, size_t max_bytes) {
  Result<std::string> tmp = MakeTempDir("/tmp/stopgap-bundle-pack-");
  if (!tmp.ok()) return tmp.status();
  struct Remove {
    std::string path;
    ~Remove() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  } remove{*tmp};
  std::string out = *tmp + "/bundle.tar.zst";
  STOPGAP_RETURN_IF_ERROR(diag::PackBundle(dir, out));
  struct stat st {};
  Result<int> fd = OpenRegularNoFollow(out, &st);
  if (!fd.ok()) return fd.status();
  Fd closer{*fd};
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return ResourceExhausted("packed bundle is " + std::to_string(st.st_size) +
                             " bytes, over the " + std::to_string(max_bytes) + "-byte cap");
  }
  return ReadFd(*fd, max_bytes);
}

}  // namespace stopgap::server
