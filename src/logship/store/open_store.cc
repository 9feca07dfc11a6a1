// OpenStore: URL scheme -> backend; ContentTypeFor and MetaValue. Thread
// safety: stateless.
#include "logship/dateext.h"
#include "logship/store/file_store.h"
#include "logship/store/object_store.h"
#include "logship/store/s3_store.h"
#include "logship/store/swift_store.h"

namespace stopgap::logship {

std::string MetaValue(const ObjectMeta& meta, std::string_view name) {
  for (const auto& [k, v] : meta) {
    if (k == name) return v;
  }
  return "";
}

std::string ContentTypeFor(std::string_view file_name) {
  file_name = file_name.substr(file_name.find_last_of('/') + 1);
  if (file_name.ends_with(".gz")) return "application/gzip";
  if (file_name.ends_with(".zst")) return "application/zstd";
  if (file_name.ends_with(".xz")) return "application/x-xz";
  if (file_name.ends_with(".bz2")) return "application/x-bzip2";
  if (file_name.ends_with(".log") || file_name.ends_with(".txt") ||
      ParseRotationAnyBase(DateFormat::Default(), file_name) || RecogniseRotation(file_name)) {
    return "text/plain";
  }
  return "application/octet-stream";
}

Result<std::unique_ptr<ObjectStore>> OpenStore(const std::string& url,
                                               const StoreOptions& options) {
  auto split = [](std::string rest, std::string* bucket, std::string* prefix) {
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    size_t slash = rest.find('/');
    *bucket = rest.substr(0, slash);
    *prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  };
  std::string bucket, prefix;
  if (url.starts_with("file://")) {
    std::string root = url.substr(7);
    if (!root.starts_with("/")) return InvalidArgument("file URL needs an absolute path: " + url);
    return NewFileStore(root, options);
  }
  if (url.starts_with("s3://")) {
    split(url.substr(5), &bucket, &prefix);
    if (bucket.empty()) return InvalidArgument("s3 URL needs a bucket: " + url);
    return NewS3Store(bucket, prefix, options);
  }
  if (url.starts_with("swift://")) {
    split(url.substr(8), &bucket, &prefix);
    if (bucket.empty()) return InvalidArgument("swift URL needs a container: " + url);
    return NewSwiftStore(bucket, prefix, options);
  }
  return InvalidArgument("unknown store URL '" + url +
                         "' (want s3://bucket/prefix, swift://container/prefix or file:///dir)");
}

}  // namespace stopgap::logship
