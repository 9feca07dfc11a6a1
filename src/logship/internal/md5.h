// Streaming MD5 (OpenSSL EVP) and the ETag forms object stores return:
// plain MD5 hex, S3 multipart "md5(concat of part digests)-N", and Swift SLO
// "md5(concat of segment hex etags)". Thread safety: an Md5 is one stream.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>
#include <vector>

namespace stopgap::logship::internal {

class Md5 {
 public:
  Md5();
  ~Md5();
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;
  void Reset();
  void Update(std::string_view data);
  // 16 raw bytes; the stream must not be updated afterwards without Reset().
  std::string Digest();

 private:
  EVP_MD_CTX* ctx_;
};

std::string Hex(std::string_view raw);
std::string Base64(std::string_view raw);
// Hex MD5 of a whole file (streamed), or "" on an I/O error.
std::string Md5OfFileRange(const std::string& path, uint64_t offset, uint64_t length);
// "hex(md5(d1 d2 ... dn))-n" from raw part digests.
std::string MultipartEtag(const std::vector<std::string>& raw_part_digests);
// Strips surrounding double quotes.
std::string Unquote(std::string_view etag);

}  // namespace stopgap::logship::internal
