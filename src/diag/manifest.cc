// BundleManifest: manifest.json written with WriteFileAtomic (fsync + rename +
// directory fsync) at creation and after every change. Schema in
// docs/bundle-format.md.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <nlohmann/json.hpp>
#include <random>

#include "core/file.h"
#include "diag/bundle.h"

namespace stopgap::diag {
namespace {

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

std::string NewBundleDirName(const Clock& clock) {
  WallTime now = clock.Now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
  std::random_device rd;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%06x", rd() & 0xffffff);
  std::string host = HostName();
  for (char& c : host) {
    if (c == '/' || c == ' ') c = '_';
  }
  return std::string(ts) + "-" + host + "-" + suffix;
}

Result<std::unique_ptr<BundleManifest>> BundleManifest::Create(
    const std::string& dir, const Clock& clock, std::map<std::string, std::string> labels) {
  // The parent may exist; the bundle directory itself must be new, so files
  // or symlinks someone planted in it are never written through.
  STOPGAP_RETURN_IF_ERROR(MakeDirs(DirName(dir), 0700));
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return AlreadyExists("bundle directory " + dir + " exists; not reused");
    return ErrnoStatus("mkdir " + dir, errno);
  }
  std::unique_ptr<BundleManifest> m(new BundleManifest(dir, clock));
  m->host_ = HostName();
  m->created_ = clock.Now();
  m->labels_ = std::move(labels);
  STOPGAP_RETURN_IF_ERROR(m->Write());
  return m;
}

Status BundleManifest::Add(const CollectorOutcome& outcome) {
  outcomes_.push_back(outcome);
  return Write();
}

Status BundleManifest::Finish() {
  finished_ = clock_.Now();
  return Write();
}

std::string BundleManifest::ToJson() const {
  nlohmann::ordered_json j;
  j["schema"] = kManifestSchema;
  j["version"] = kManifestVersion;
  j["host"] = host_;
  j["created"] = FormatRfc3339(created_);
  j["finished"] = finished_ ? nlohmann::ordered_json(FormatRfc3339(*finished_)) : nullptr;
  j["complete"] = finished_.has_value();
  j["labels"] = nlohmann::ordered_json::object();
  for (const auto& [k, v] : labels_) j["labels"][k] = v;
  j["collectors"] = nlohmann::ordered_json::array();
  for (const CollectorOutcome& o : outcomes_) {
    nlohmann::ordered_json c;
    c["name"] = o.name;
    c["ok"] = o.ok;
    c["timed_out"] = o.timed_out;
    c["truncated"] = o.truncated;
    c["error"] =
        o.error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(o.error);
    c["duration_ms"] = o.duration.count();
    c["bytes"] = o.bytes;
    c["files"] = o.files;
    c["metrics"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : o.metrics) c["metrics"][k] = v;
    j["collectors"].push_back(std::move(c));
  }
  return j.dump(2) + "\n";
}

Status BundleManifest::Write() const {
  return WriteFileAtomic(dir_ + "/manifest.json", ToJson(), 0600);
}

}  // namespace stopgap::diag
