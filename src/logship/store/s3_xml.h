// S3's XML answers and the one XML request body we send, via pugixml.
// Pure functions over strings (fuzzed: fuzz/logship.cmake); thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "logship/store/object_store.h"

namespace stopgap::logship {

struct S3Error {
  std::string code;  // "SignatureDoesNotMatch"; "" when the body is no S3 error
  std::string message;
};
S3Error ParseS3Error(std::string_view xml);

// InitiateMultipartUploadResult -> UploadId.
Result<std::string> ParseInitiateMultipart(std::string_view xml);
// CompleteMultipartUploadResult -> ETag (unquoted). An <Error> document (S3
// may send one with HTTP 200) is an error naming its code.
Result<std::string> ParseCompleteMultipart(std::string_view xml);

struct S3ListPage {
  std::vector<ObjectInfo> objects;  // keys as stored (full, with the prefix)
  bool truncated = false;
  std::string next_marker;  // NextMarker, else the last key
};
Result<S3ListPage> ParseListBucket(std::string_view xml);

struct CompletedPart {
  int number = 0;
  std::string etag;  // unquoted hex
};
std::string BuildCompleteMultipart(const std::vector<CompletedPart>& parts);

}  // namespace stopgap::logship
