// libFuzzer target: every S3 XML answer parser on arbitrary bytes (object and
// multipart-upload listings included); parsed listings must hold sane values.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "logship/store/s3_xml.h"

using namespace stopgap::logship;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view xml(reinterpret_cast<const char*>(data), size);
  (void)ParseS3Error(xml);
  (void)ParseInitiateMultipart(xml);
  (void)ParseCompleteMultipart(xml);
  (void)ParseCopyPartResult(xml);
  auto page = ParseListBucket(xml);
  if (page.ok()) {
    for (const auto& o : page->objects) {
      if (o.key.empty()) std::abort();
    }
    if (page->truncated && page->next_marker.empty()) std::abort();
  }
  auto uploads = ParseListMultipartUploads(xml);
  if (uploads.ok()) {
    for (const auto& u : uploads->uploads) {
      if (u.key.empty() || u.upload_id.empty()) std::abort();
    }
    if (uploads->truncated && uploads->next_key_marker.empty()) std::abort();
  }
  return 0;
}
