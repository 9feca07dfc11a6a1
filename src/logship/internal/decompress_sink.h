// ResponseSinks for `logship get`: a file descriptor sink and a streaming
// decompressor (.gz via zlib, .xz via liblzma, .zst via libzstd) in front of
// another sink. Memory stays bounded (fixed output buffers).
// Thread safety: one transfer at a time per sink.
#pragma once

#include <memory>
#include <string>

#include "net/http_client.h"

namespace stopgap::logship::internal {

// Writes to fd; Reset() truncates (fails for pipes/ttys: no retry mid-stream).
class FdSink : public net::ResponseSink {
 public:
  explicit FdSink(int fd) : fd_(fd) {}
  Status Write(std::string_view chunk) override;
  Status Reset() override;

 private:
  int fd_;
};

// compression: ".gz", ".xz", ".zst". Finish() checks the stream ended cleanly.
class DecompressSink : public net::ResponseSink {
 public:
  static Result<std::unique_ptr<DecompressSink>> Create(const std::string& compression,
                                                        net::ResponseSink& next);
  ~DecompressSink() override = default;
  virtual Status Finish() = 0;
};

// The size of a compressed file's content (".gz", ".xz", ".zst"), found by
// decompressing it into nothing; DataLoss when it is not valid.
Result<uint64_t> UncompressedSize(const std::string& path, const std::string& compression);

}  // namespace stopgap::logship::internal
