// Streaming decompressors as response sinks. Thread safety: per object.
#include "logship/internal/decompress_sink.h"

#include <fcntl.h>
#include <lzma.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <vector>

namespace stopgap::logship::internal {

Status FdSink::Write(std::string_view chunk) {
  while (!chunk.empty()) {
    ssize_t n = ::write(fd_, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("write", errno);
    chunk.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status FdSink::Reset() {
  if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0) {
    return Unavailable("download interrupted and the output cannot be rewound");
  }
  return Status::Ok();
}

namespace {

constexpr size_t kOut = 256 * 1024;

class GzipSink final : public DecompressSink {
 public:
  explicit GzipSink(net::ResponseSink& next) : next_(next), out_(kOut) { Init(); }
  ~GzipSink() override { inflateEnd(&z_); }
  Status Write(std::string_view chunk) override {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data()));
    z_.avail_in = static_cast<uInt>(chunk.size());
    while (z_.avail_in > 0) {
      if (ended_) {  // concatenated gzip members
        inflateReset(&z_);
        ended_ = false;
      }
      z_.next_out = out_.data();
      z_.avail_out = static_cast<uInt>(out_.size());
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        return DataLoss(std::string("gzip: ") + (z_.msg ? z_.msg : "corrupt data"));
      }
      size_t n = out_.size() - z_.avail_out;
      if (n > 0) STOPGAP_RETURN_IF_ERROR(next_.Write({reinterpret_cast<char*>(out_.data()), n}));
      if (rc == Z_STREAM_END) ended_ = true;
      if (rc == Z_BUF_ERROR && n == 0) break;
    }
    return Status::Ok();
  }
  Status Reset() override {
    inflateReset(&z_);
    ended_ = false;
    return next_.Reset();
  }
  Status Finish() override { return ended_ ? Status::Ok() : DataLoss("gzip: truncated stream"); }

 private:
  void Init() {
    z_ = {};
    inflateInit2(&z_, 16 + MAX_WBITS);
  }
  net::ResponseSink& next_;
  std::vector<Bytef> out_;
  z_stream z_{};
  bool ended_ = false;
};

class ZstdSink final : public DecompressSink {
 public:
  explicit ZstdSink(net::ResponseSink& next)
      : next_(next), d_(ZSTD_createDStream()), out_(ZSTD_DStreamOutSize()) {
    ZSTD_initDStream(d_);
  }
  ~ZstdSink() override { ZSTD_freeDStream(d_); }
  Status Write(std::string_view chunk) override {
    ZSTD_inBuffer in{chunk.data(), chunk.size(), 0};
    while (in.pos < in.size) {
      ZSTD_outBuffer o{out_.data(), out_.size(), 0};
      size_t rc = ZSTD_decompressStream(d_, &o, &in);
      if (ZSTD_isError(rc)) return DataLoss(std::string("zstd: ") + ZSTD_getErrorName(rc));
      last_ = rc;
      if (o.pos > 0) STOPGAP_RETURN_IF_ERROR(next_.Write({out_.data(), o.pos}));
    }
    return Status::Ok();
  }
  Status Reset() override {
    ZSTD_initDStream(d_);
    last_ = 1;
    return next_.Reset();
  }
  Status Finish() override {
    return last_ == 0 ? Status::Ok() : DataLoss("zstd: truncated stream");
  }

 private:
  net::ResponseSink& next_;
  ZSTD_DStream* d_;
  std::vector<char> out_;
  size_t last_ = 1;
};

class XzSink final : public DecompressSink {
 public:
  explicit XzSink(net::ResponseSink& next) : next_(next), out_(kOut) { Init(); }
  ~XzSink() override { lzma_end(&s_); }
  Status Write(std::string_view chunk) override {
    if (!ok_) return Internal("xz: decoder init failed");
    s_.next_in = reinterpret_cast<const uint8_t*>(chunk.data());
    s_.avail_in = chunk.size();
    while (s_.avail_in > 0 && !ended_) {
      s_.next_out = out_.data();
      s_.avail_out = out_.size();
      lzma_ret rc = lzma_code(&s_, LZMA_RUN);
      if (rc != LZMA_OK && rc != LZMA_STREAM_END) return DataLoss("xz: corrupt data");
      size_t n = out_.size() - s_.avail_out;
      if (n > 0) STOPGAP_RETURN_IF_ERROR(next_.Write({reinterpret_cast<char*>(out_.data()), n}));
      if (rc == LZMA_STREAM_END) ended_ = true;
    }
    return Status::Ok();
  }
  Status Reset() override {
    lzma_end(&s_);
    Init();
    return next_.Reset();
  }
  Status Finish() override {
    if (!ended_) {  // flush: the decoder may need LZMA_FINISH to report the end
      s_.next_in = nullptr;
      s_.avail_in = 0;
      s_.next_out = out_.data();
      s_.avail_out = out_.size();
      lzma_ret rc = lzma_code(&s_, LZMA_FINISH);
      size_t n = out_.size() - s_.avail_out;
      if (n > 0) STOPGAP_RETURN_IF_ERROR(next_.Write({reinterpret_cast<char*>(out_.data()), n}));
      if (rc != LZMA_STREAM_END) return DataLoss("xz: truncated stream");
    }
    return Status::Ok();
  }

 private:
  void Init() {
    s_ = LZMA_STREAM_INIT;
    ok_ = lzma_stream_decoder(&s_, UINT64_MAX, LZMA_CONCATENATED) == LZMA_OK;
    ended_ = false;
  }
  net::ResponseSink& next_;
  std::vector<uint8_t> out_;
  lzma_stream s_ = LZMA_STREAM_INIT;
  bool ended_ = false;
  bool ok_ = false;
};

}  // namespace

Result<std::unique_ptr<DecompressSink>> DecompressSink::Create(const std::string& compression,
                                                               net::ResponseSink& next) {
  if (compression == ".gz") return std::unique_ptr<DecompressSink>(new GzipSink(next));
  if (compression == ".zst") return std::unique_ptr<DecompressSink>(new ZstdSink(next));
  if (compression == ".xz") return std::unique_ptr<DecompressSink>(new XzSink(next));
  return InvalidArgument("cannot decompress '" + compression + "'");
}

Result<uint64_t> UncompressedSize(const std::string& path, const std::string& compression) {
  class Counter final : public net::ResponseSink {
   public:
    Status Write(std::string_view chunk) override {
      n += chunk.size();
      return Status::Ok();
    }
    Status Reset() override {
      n = 0;
      return Status::Ok();
    }
    uint64_t n = 0;
  } counter;
  Result<std::unique_ptr<DecompressSink>> d = DecompressSink::Create(compression, counter);
  if (!d.ok()) return d.status();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  std::vector<char> buf(256 * 1024);
  Status st;
  while (st.ok()) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) st = ErrnoStatus("read " + path, errno);
    if (n <= 0) break;
    st = (*d)->Write(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  ::close(fd);
  if (st.ok()) st = (*d)->Finish();
  if (!st.ok()) return st.WithContext(path);
  return counter.n;
}

}  // namespace stopgap::logship::internal
