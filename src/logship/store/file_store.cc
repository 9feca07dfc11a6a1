// file:// object store: a directory tree. Upload copies with a running MD5,
// fsyncs, renames into place, then re-reads the copy to verify it; the
// object's metadata goes to a sidecar "<object>.stopgap-meta" (JSON).
// Thread safety: no shared mutable state.
#include "logship/store/file_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <memory>

#include "core/file.h"
#include "logship/internal/md5.h"
#include "logship/store/swift_json.h"

namespace stopgap::logship {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSidecar = ".stopgap-meta";

class FileStore final : public ObjectStore {
 public:
  FileStore(std::string root, const StoreOptions& options)
      : root_(std::move(root)), options_(options) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  }

  Result<UploadResult> Upload(const std::string& local_path, uint64_t size, const std::string& key,
                              const ObjectMeta& meta) override {
    Status k = CheckKey(key);
    if (!k.ok()) return k;
    std::string dest = Path(key);
    STOPGAP_RETURN_IF_ERROR(MakeDirs(DirName(dest), 0755));
    int in = ::open(local_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) return ErrnoStatus("open " + local_path, errno);
    // An O_EXCL temp name nobody can guess: a symlink planted next to the
    // object cannot redirect the copy. Archived logs are 0600 like the logs.
    Result<NewTempFile> part = CreateTempFile(dest + ".part.", 0600);
    if (!part.ok()) {
      ::close(in);
      return part.status();
    }
    int out = part->fd;
    const std::string tmp = part->path;
    constexpr size_t kBuf = 1 << 20;
    std::unique_ptr<char[]> buf(new char[kBuf]);
    internal::Md5 md5;
    uint64_t left = size;
    Status st;
    while (left > 0 && st.ok()) {
      ssize_t n = ::read(in, buf.get(), std::min<uint64_t>(left, kBuf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        st = n == 0 ? DataLoss(local_path + ": file shrank while uploading")
                    : ErrnoStatus("read " + local_path, errno);
        break;
      }
      md5.Update(std::string_view(buf.get(), static_cast<size_t>(n)));
      for (ssize_t off = 0; off < n && st.ok();) {
        ssize_t w = ::write(out, buf.get() + off, static_cast<size_t>(n - off));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0)
          st = ErrnoStatus("write " + tmp, errno);
        else
          off += w;
      }
      left -= static_cast<uint64_t>(n);
      if (options_.progress_bytes) *options_.progress_bytes += static_cast<uint64_t>(n);
    }
    ::close(in);
    if (st.ok() && ::fsync(out) != 0) st = ErrnoStatus("fsync " + tmp, errno);
    ::close(out);
    if (st.ok() && ::rename(tmp.c_str(), dest.c_str()) != 0) {
      st = ErrnoStatus("rename " + tmp, errno);
    }
    if (!st.ok()) {
      ::unlink(tmp.c_str());
      return st;
    }
    // The rename is durable only once its directory is: until then a crash
    // can lose the object, and sweep deletes the local copy after a verified
    // upload, so this fsync comes before anyone is told it is stored.
    STOPGAP_RETURN_IF_ERROR(FsyncPath(DirName(dest)));
    std::string want = internal::Hex(md5.Digest());
    std::string got = internal::Md5OfFileRange(dest, 0, size);
    if (got != want) {
      return DataLoss(Describe(key) + ": stored copy has MD5 " + got + ", expected " + want);
    }
    if (!meta.empty()) {
      STOPGAP_RETURN_IF_ERROR(WriteFileAtomic(dest + kSidecar, FormatMetaSidecar(meta), 0600));
    }
    return UploadResult{want, 1};
  }

  Result<std::optional<ObjectInfo>> Stat(const std::string& key) override {
    Status k = CheckKey(key);
    if (!k.ok()) return k;
    struct stat sb;
    if (::stat(Path(key).c_str(), &sb) != 0) {
      if (errno == ENOENT) return std::optional<ObjectInfo>();
      return ErrnoStatus("stat " + Path(key), errno);
    }
    ObjectInfo info;
    info.key = key;
    info.size = static_cast<uint64_t>(sb.st_size);
    info.etag = internal::Md5OfFileRange(Path(key), 0, info.size);
    info.content_type = ContentTypeFor(key);
    if (Result<std::string> side = ReadFile(Path(key) + kSidecar, 1 << 20); side.ok()) {
      info.meta = ParseMetaSidecar(*side);
    }
    return std::optional<ObjectInfo>(info);
  }

  Result<std::vector<ObjectInfo>> List(const std::string& key_prefix) override {
    std::vector<ObjectInfo> out;
    std::error_code ec;
    // Walk only the deepest directory the prefix names ("2025/11/24/" under
    // the date layout), not the whole archive.
    std::string start = root_;
    if (size_t slash = key_prefix.find_last_of('/'); slash != std::string::npos) {
      if (!CheckKey(key_prefix.substr(0, slash)).ok()) return out;
      start = root_ + "/" + key_prefix.substr(0, slash);
    }
    if (!fs::is_directory(start, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(start, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      std::string rel = it->path().string().substr(root_.size() + 1);
      if (rel.find(".part.") != std::string::npos || rel.ends_with(kSidecar)) continue;
      if (!rel.starts_with(key_prefix)) continue;
      ObjectInfo info;
      info.key = rel;
      info.size = static_cast<uint64_t>(it->file_size(ec));
      out.push_back(std::move(info));
    }
    if (ec) return Internal("list " + root_ + ": " + ec.message());
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Status Download(const std::string& key, net::ResponseSink& sink) override {
    STOPGAP_RETURN_IF_ERROR(CheckKey(key));
    int fd = ::open(Path(key).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return NotFound(Describe(key) + ": no such object");
      return ErrnoStatus("open " + Path(key), errno);
    }
    constexpr size_t kBuf = 1 << 20;
    std::unique_ptr<char[]> buf(new char[kBuf]);
    Status st;
    while (st.ok()) {
      ssize_t n = ::read(fd, buf.get(), kBuf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) st = ErrnoStatus("read " + Path(key), errno);
      if (n <= 0) break;
      st = sink.Write(std::string_view(buf.get(), static_cast<size_t>(n)));
    }
    ::close(fd);
    return st;
  }

  Status Copy(const ObjectInfo& source, const std::string& to) override {
    const std::string& from = source.key;
    STOPGAP_RETURN_IF_ERROR(CheckKey(from));
    STOPGAP_RETURN_IF_ERROR(CheckKey(to));
    const std::string src = Path(from), dest = Path(to);
    STOPGAP_RETURN_IF_ERROR(MakeDirs(DirName(dest), 0755));
    // A hard link under a temp name, renamed over `to`: the bytes are never
    // copied, and `to` is either the old object or the whole new one.
    static std::atomic<uint64_t> seq{0};
    const std::string tmp =
        dest + ".part.copy." + std::to_string(::getpid()) + "." + std::to_string(++seq);
    if (::link(src.c_str(), tmp.c_str()) != 0) {
      if (errno == ENOENT) return NotFound(Describe(from) + ": no such object");
      return ErrnoStatus("link " + src + " to " + tmp, errno);
    }
    if (::rename(tmp.c_str(), dest.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return ErrnoStatus("rename " + tmp, err);
    }
    Result<std::string> side = ReadFile(src + kSidecar, 1 << 20);
    if (side.ok()) {
      STOPGAP_RETURN_IF_ERROR(WriteFileAtomic(dest + kSidecar, *side, 0600));
    } else if (::unlink((dest + kSidecar).c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus("unlink " + dest + kSidecar, errno);
    }
    return FsyncPath(DirName(dest));
  }

  Status Delete(const std::string& key) override {
    STOPGAP_RETURN_IF_ERROR(CheckKey(key));
    const std::string path = Path(key);
    if (::unlink((path + kSidecar).c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus("unlink " + path + kSidecar, errno);
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink " + path, errno);
    return FsyncPath(DirName(path));
  }

  Result<std::string> LocalEtag(const std::string& local_path, uint64_t size) override {
    std::string md5 = internal::Md5OfFileRange(local_path, 0, size);
    if (md5.empty()) return Internal("cannot read " + local_path);
    return md5;
  }

  std::string Describe(const std::string& key) const override { return "file://" + Path(key); }

 private:
  std::string Path(const std::string& key) const { return root_ + "/" + key; }
  static Status CheckKey(const std::string& key) {
    if (key.empty() || key.front() == '/' || key.find("/../") != std::string::npos ||
        key.starts_with("../") || key.ends_with("/..")) {
      return InvalidArgument("bad object key '" + key + "'");
    }
    return Status::Ok();
  }

  std::string root_;
  StoreOptions options_;
};

}  // namespace

std::unique_ptr<ObjectStore> NewFileStore(std::string root, const StoreOptions& options) {
  return std::make_unique<FileStore>(std::move(root), options);
}

}  // namespace stopgap::logship
