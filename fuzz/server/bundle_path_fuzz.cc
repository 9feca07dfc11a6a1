// libFuzzer target: the bundle path of GET /api/v1/executions/{id}/bundle/file
// (server/bundle_files.h) over hostile input. Must never crash; a path it
// accepts has no "..", "." or empty component and is not absolute; no read
// ever returns the file outside the bundle, reachable by ".." or through the
// symlinks planted inside it; LooksLikeText never crashes on any bytes.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "server/bundle_files.h"

namespace {

constexpr std::string_view kSecret = "outside-the-bundle-secret";

const std::string& BundleDir() {
  static const std::string* dir = [] {
    namespace fs = std::filesystem;
    std::string root = "/tmp/stopgap-bundle-path-fuzz-" + std::to_string(::getpid());
    fs::create_directories(root + "/bundles/1/sub");
    std::ofstream(root + "/secret.txt") << kSecret;
    std::ofstream(root + "/bundles/1/a.txt") << "inside";
    std::ofstream(root + "/bundles/1/sub/b.txt") << "inside too";
    std::error_code ec;
    fs::create_symlink(root + "/secret.txt", root + "/bundles/1/link", ec);
    fs::create_symlink(root, root + "/bundles/1/sub/up", ec);
    fs::create_symlink("../../../secret.txt", root + "/bundles/1/sub/rel", ec);
    static std::string cleanup_root = root;
    std::atexit([] {
      std::error_code e;
      std::filesystem::remove_all(cleanup_root, e);
    });
    return new std::string(root + "/bundles/1");
  }();
  return *dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)stopgap::server::LooksLikeText(in);
  stopgap::Status s = stopgap::server::CheckBundlePath(in);
  if (s.ok()) {
    if (in.empty() || in.front() == '/') std::abort();
    std::string padded = "/" + std::string(in) + "/";
    if (padded.find("/../") != std::string::npos || padded.find("/./") != std::string::npos ||
        padded.find("//") != std::string::npos) {
      std::abort();
    }
  }
  auto r = stopgap::server::ReadBundleFile(BundleDir(), in, 1 << 16);
  if (r.ok() && r->find(kSecret) != std::string::npos) std::abort();
  return 0;
}
