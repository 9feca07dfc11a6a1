// Packs a bundle (src/diag) and uploads it through the log shipper's object
// stores (src/logship/store).
#include "app/bundle_archiver.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/file.h"
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
  // A random id per archiver: with the execution's created-at time it keeps
  // keys apart when a recreated ledger hands out the same execution ids.
  unsigned char raw[4];
  if (::getrandom(raw, sizeof raw, 0) != static_cast<ssize_t>(sizeof raw)) {
    return Internal("getrandom failed: " + std::string(std::strerror(errno)));
  }
  char instance[9];
  std::snprintf(instance, sizeof instance, "%02x%02x%02x%02x", raw[0], raw[1], raw[2], raw[3]);
  return std::unique_ptr<BundleArchiver>(
      new BundleArchiver(std::move(*store), host, std::string(instance)));
}

namespace {

// "20261125T140000Z" from the bundle manifest's created_at; the bundle
// directory's mtime when the manifest has none.
std::string CreatedStamp(const std::string& dir) {
  std::string created;
  if (auto text = ReadFile(dir + "/manifest.json", 1 << 20); text.ok()) {
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_object() && j.contains("created_at") && j["created_at"].is_string()) {
      created = j["created_at"].get<std::string>();
    }
  }
  std::string out;
  for (char c : created) {
    if ((c >= '0' && c <= '9') || c == 'T' || c == 'Z') out.push_back(c);
  }
  if (out.size() >= 15) return out.substr(0, 15) + "Z";
  struct stat st {};
  time_t t = ::stat(dir.c_str(), &st) == 0 ? st.st_mtim.tv_sec : ::time(nullptr);
  tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

Result<std::string> BundleArchiver::Ship(const std::string& bundle_dir) {
  std::string dir = bundle_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::string name = dir.substr(dir.find_last_of('/') + 1);
  std::string packed = dir + ".tar.zst";
  STOPGAP_RETURN_IF_ERROR(diag::PackBundle(dir, packed));
  struct stat st {};
  if (::stat(packed.c_str(), &st) != 0) return ErrnoStatus("stat " + packed, errno);
  std::string key =
      "bundles/" + host_ + "/" + name + "-" + CreatedStamp(dir) + "-" + instance_ + ".tar.zst";
  // Never replace an archived bundle: an existing key is an error, not an overwrite.
  auto existing = store_->Stat(key);
  if (!existing.ok() || existing->has_value()) {
    ::unlink(packed.c_str());
    if (!existing.ok()) return existing.status().WithContext("stat " + key);
    return AlreadyExists("archive key " + key + " already exists; not overwritten");
  }
  auto up = store_->Upload(packed, static_cast<uint64_t>(st.st_size), key);
  ::unlink(packed.c_str());
  if (!up.ok()) return up.status().WithContext("upload " + key);
  return key;
}

}  // namespace stopgap::app
