// SigV4 signing. Thread safety: pure functions.
#include "logship/store/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "logship/internal/md5.h"

namespace stopgap::logship {
namespace {

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
  return std::string(reinterpret_cast<char*>(out), n);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string TrimAll(const std::string& v) {
  // Trim and collapse inner runs of spaces, per the canonical-headers rule.
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, EVP_sha256(), nullptr);
  return internal::Hex(std::string_view(reinterpret_cast<char*>(out), n));
}

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> enc;
  for (const auto& [k, v] : query) enc.emplace_back(net::UrlEncode(k), net::UrlEncode(v));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::string CanonicalRequest(const SigV4Request& r, const std::string& amz_date,
                             const std::string& session_token, std::string* signed_headers) {
  std::map<std::string, std::string> h;
  h["host"] = r.host;
  h["x-amz-date"] = amz_date;
  h["x-amz-content-sha256"] = r.payload_hash;
  if (!session_token.empty()) h["x-amz-security-token"] = session_token;
  for (const auto& [k, v] : r.headers) {
    std::string lk = Lower(k);
    auto it = h.find(lk);
    if (it == h.end())
      h[lk] = TrimAll(v);
    else if (lk != "host" && lk != "x-amz-date" && lk != "x-amz-content-sha256")
      it->second += "," + TrimAll(v);
  }
  std::string canon_headers, names;
  for (const auto& [k, v] : h) {
    canon_headers += k + ":" + v + "\n";
    if (!names.empty()) names += ';';
    names += k;
  }
  *signed_headers = names;
  return r.method + "\n" + r.canonical_uri + "\n" + CanonicalQuery(r.query) + "\n" + canon_headers +
         "\n" + names + "\n" + r.payload_hash;
}

net::HttpHeaders SignV4(const SigV4Request& r, const AwsCredentials& creds,
                        const std::string& region, const std::string& service,
                        const std::string& amz_date) {
  std::string signed_headers;
  std::string canonical = CanonicalRequest(r, amz_date, creds.session_token, &signed_headers);
  std::string day = amz_date.substr(0, 8);
  std::string scope = day + "/" + region + "/" + service + "/aws4_request";
  std::string to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + Sha256Hex(canonical);
  std::string k = Hmac("AWS4" + creds.secret_key, day);
  k = Hmac(k, region);
  k = Hmac(k, service);
  k = Hmac(k, "aws4_request");
  std::string sig = internal::Hex(Hmac(k, to_sign));
  net::HttpHeaders out = {{"x-amz-date", amz_date}, {"x-amz-content-sha256", r.payload_hash}};
  if (!creds.session_token.empty()) out.emplace_back("x-amz-security-token", creds.session_token);
  out.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + creds.access_key + "/" +
                                        scope + ",SignedHeaders=" + signed_headers +
                                        ",Signature=" + sig);
  return out;
}

std::string AmzDateNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace stopgap::logship
