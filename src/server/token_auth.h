// Bearer-token auth for stopgap serve: the token lives in server.token_file
// (generated with mode 0600 on first start when absent) and requests carry
// `Authorization: Bearer <token>`. Comparison is constant-time (SHA-256 of
// both sides, then CRYPTO_memcmp), so neither content nor length leaks.
// The token itself never reaches a log line or an error message.
//
// Thread safety: BearerToken is immutable after construction; share it.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace stopgap::server {

class BearerToken {
 public:
  // Reads the token (first line, trimmed) from `path`. When the file does not
  // exist and `create` is set, writes a new random 256-bit token (hex) with
  // mode 0600 (parent directories 0700). A readable-by-others file is refused.
  static Result<BearerToken> Load(const std::string& path, bool create, bool* created = nullptr);
  static BearerToken FromString(std::string token);

  // True when `authorization_header` is "Bearer <token>" with this token.
  bool Authorizes(std::string_view authorization_header) const;

 private:
  explicit BearerToken(std::string token);
  std::string digest_;  // SHA-256 of the token; the token itself is not kept
};

// 32 random bytes as 64 lowercase hex digits (OpenSSL RAND_bytes).
Result<std::string> GenerateToken();

}  // namespace stopgap::server
