// AWS Signature Version 4 for S3 requests (header-based), over OpenSSL
// HMAC-SHA256/SHA-256. Pure functions; thread-safe.
//
//   SigV4Request r{"PUT", "bucket.s3.amazonaws.com", "/key", {}, {}, "UNSIGNED-PAYLOAD"};
//   for (auto& h : SignV4(r, creds, "us-east-1", "s3", "20261125T120000Z")) add(h);
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "net/http_client.h"

namespace stopgap::logship {

struct AwsCredentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // optional
};

struct SigV4Request {
  std::string method;
  std::string host;           // as sent in Host: (with ":port" when not default)
  std::string canonical_uri;  // already URI-encoded path, e.g. "/bucket/a%20b"
  std::vector<std::pair<std::string, std::string>> query;  // raw (unencoded) pairs
  net::HttpHeaders headers;  // extra headers to sign (besides host and x-amz-*)
  std::string payload_hash;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

std::string Sha256Hex(std::string_view data);
// "key=value&..." sorted by key then value, both URI-encoded (also the query string to send).
std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query);
std::string CanonicalRequest(const SigV4Request& r, const std::string& amz_date,
                             const std::string& session_token, std::string* signed_headers);
// The headers to add: x-amz-date, x-amz-content-sha256, optional
// x-amz-security-token, and Authorization. amz_date: "YYYYMMDDTHHMMSSZ".
net::HttpHeaders SignV4(const SigV4Request& r, const AwsCredentials& creds,
                        const std::string& region, const std::string& service,
                        const std::string& amz_date);
// Now, formatted for x-amz-date.
std::string AmzDateNow();

}  // namespace stopgap::logship
