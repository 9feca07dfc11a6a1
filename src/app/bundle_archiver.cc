// Packs a bundle (src/diag) and uploads it through the log shipper's object
// stores (src/logship/store).
#include "app/bundle_archiver.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "diag/bundle.h"

namespace stopgap::app {

Result<std::unique_ptr<BundleArchiver>> BundleArchiver::Open(const remedy::ArchiveConfig& archive) {
  logship::StoreOptions options;
  options.endpoint = archive.endpoint;
  options.region = archive.region;
  options.path_style = archive.path_style;
  auto store = logship::OpenStore(archive.url, options);
  if (!store.ok()) return store.status().WithContext("archive " + archive.url);
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof host, "%s", "localhost");
  }
  return std::unique_ptr<BundleArchiver>(new BundleArchiver(std::move(*store), host));
}

Result<std::string> BundleArchiver::Ship(const std::string& bundle_dir) {
  std::string dir = bundle_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::string name = dir.substr(dir.find_last_of('/') + 1);
  std::string packed = dir + ".tar.zst";
  STOPGAP_RETURN_IF_ERROR(diag::PackBundle(dir, packed));
  struct stat st {};
  if (::stat(packed.c_str(), &st) != 0) return ErrnoStatus("stat " + packed, errno);
  std::string key = "bundles/" + host_ + "/" + name + ".tar.zst";
  auto up = store_->Upload(packed, static_cast<uint64_t>(st.st_size), key);
  ::unlink(packed.c_str());
  if (!up.ok()) return up.status().WithContext("upload " + key);
  return key;
}

}  // namespace stopgap::app
