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
// may send one with HTTP 200) is kUnavailable naming its code; any other
// document is kDataLoss (callers judge the upload by a HEAD then).
Result<std::string> ParseCompleteMultipart(std::string_view xml);
// CopyPartResult (UploadPartCopy) -> ETag (unquoted); <Error> (which may come
// with HTTP 200) is kUnavailable, anything else kDataLoss.
Result<std::string> ParseCopyPartResult(std::string_view xml);

struct S3ListPage {
  std::vector<ObjectInfo> objects;  // keys as stored (full, with the prefix)
  bool truncated = false;
  std::string next_marker;  // NextMarker, else the last key
};
Result<S3ListPage> ParseListBucket(std::string_view xml);

// ListMultipartUploadsResult: the unfinished uploads, a page at a time.
struct S3MultipartUpload {
  std::string key;  // full, with the prefix
  std::string upload_id;
};
struct S3UploadsPage {
  std::vector<S3MultipartUpload> uploads;
  bool truncated = false;
  std::string next_key_marker, next_upload_id_marker;
};
Result<S3UploadsPage> ParseListMultipartUploads(std::string_view xml);

struct CompletedPart {
  int number = 0;
  std::string etag;  // unquoted hex
};
std::string BuildCompleteMultipart(const std::vector<CompletedPart>& parts);

// A LifecycleConfiguration with one rule for `prefix` (XML-escaped): expire
// objects after keep_days, abort incomplete multipart uploads after
// abort_days.
std::string BuildLifecycle(const std::string& prefix, int keep_days, int abort_days);

}  // namespace stopgap::logship
