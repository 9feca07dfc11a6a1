// MD5 helpers over OpenSSL EVP. Thread safety: per-object.
#include "logship/internal/md5.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

namespace stopgap::logship::internal {

Md5::Md5() : ctx_(EVP_MD_CTX_new()) { Reset(); }
Md5::~Md5() { EVP_MD_CTX_free(ctx_); }
void Md5::Reset() { EVP_DigestInit_ex(ctx_, EVP_md5(), nullptr); }
void Md5::Update(std::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
std::string Md5::Digest() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_, out, &n);
  return std::string(reinterpret_cast<char*>(out), n);
}

std::string Hex(std::string_view raw) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string Base64(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()),
                          static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Md5OfFileRange(const std::string& path, uint64_t offset, uint64_t length) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  ::posix_fadvise(fd, static_cast<off_t>(offset), static_cast<off_t>(length),
                  POSIX_FADV_SEQUENTIAL);
  constexpr size_t kBuf = 1 << 20;
  std::unique_ptr<char[]> buf(new char[kBuf]);
  Md5 md5;
  uint64_t left = length;
  while (left > 0) {
    size_t want = left < kBuf ? static_cast<size_t>(left) : kBuf;
    ssize_t n = ::pread(fd, buf.get(), want, static_cast<off_t>(offset + (length - left)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return "";
    }
    md5.Update(std::string_view(buf.get(), static_cast<size_t>(n)));
    left -= static_cast<uint64_t>(n);
  }
  ::close(fd);
  return Hex(md5.Digest());
}

std::string MultipartEtag(const std::vector<std::string>& raw_part_digests) {
  Md5 md5;
  for (const std::string& d : raw_part_digests) md5.Update(d);
  return Hex(md5.Digest()) + "-" + std::to_string(raw_part_digests.size());
}

std::string Unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

}  // namespace stopgap::logship::internal
