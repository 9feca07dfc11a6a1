// BearerToken: token file handling and constant-time comparison via OpenSSL.
//
// Thread safety: see the header.
#include "server/token_auth.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <cerrno>

#include "core/file.h"
#include "core/strings.h"

namespace stopgap::server {
namespace {

std::string Sha256(std::string_view s) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
  return std::string(reinterpret_cast<const char*>(md), sizeof md);
}

}  // namespace

Result<std::string> GenerateToken() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return Internal("RAND_bytes failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

BearerToken::BearerToken(std::string token) : digest_(Sha256(token)) {}

BearerToken BearerToken::FromString(std::string token) { return BearerToken(std::move(token)); }

Result<BearerToken> BearerToken::Load(const std::string& path, bool create, bool* created) {
  if (created) *created = false;
  if (path.empty()) return InvalidArgument("server.token_file: missing (writes need a token)");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT || !create) return ErrnoStatus("token file " + path, errno);
    auto token = GenerateToken();
    if (!token.ok()) return token.status();
    STOPGAP_RETURN_IF_ERROR(MakeDirs(DirName(path), 0700));
    STOPGAP_RETURN_IF_ERROR(WriteFileAtomic(path, *token + "\n", 0600));
    if (created) *created = true;
    return BearerToken(std::move(*token));
  }
  if (st.st_mode & 0077) {
    return PermissionDenied("token file " + path + " is readable by group/others: chmod 600 it");
  }
  auto text = ReadFile(path, 4096);
  if (!text.ok()) return text.status().WithContext("token file " + path);
  std::string_view first = *text;
  first = first.substr(0, first.find('\n'));
  first = TrimWhitespace(first);
  if (first.size() < 16) {
    return InvalidArgument("token file " + path + ": token shorter than 16 characters");
  }
  return BearerToken(std::string(first));
}

bool BearerToken::Authorizes(std::string_view header) const {
  header = TrimWhitespace(header);
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() < kScheme.size()) return false;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = header[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return false;
  }
  std::string given = Sha256(TrimWhitespace(header.substr(kScheme.size())));
  return CRYPTO_memcmp(given.data(), digest_.data(), digest_.size()) == 0;
}

}  // namespace stopgap::server
