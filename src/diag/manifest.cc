// The manifest writer: ManifestToJson (schema stopgap.bundle/2,
// docs/bundle-format.md) and BundleManifest, whose manifest.json is written
// with WriteFileAtomic (fsync + rename + directory fsync) at creation and
// after every change. Stateless functions; BundleManifest has one owner.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <nlohmann/json.hpp>
#include <random>

#include "core/file.h"
#include "diag/bundle.h"
#include "diag/internal/manifest_step.h"

namespace stopgap::diag {
namespace {

using json = nlohmann::ordered_json;

json TimeOrNull(const std::optional<WallTime>& t) {
  return t ? json(FormatRfc3339(*t)) : json(nullptr);
}

json StringOrNull(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json Labels(const std::map<std::string, std::string>& labels) {
  json j = json::object();
  for (const auto& [k, v] : labels) j[k] = v;
  return j;
}

json CollectorJson(const CollectorOutcome& o) {
  json c;
  c["name"] = o.name;
  c["ok"] = o.ok;
  c["timed_out"] = o.timed_out;
  c["truncated"] = o.truncated;
  c["error"] = StringOrNull(o.error);
  c["duration_ms"] = o.duration.count();
  c["bytes"] = o.bytes;
  c["files"] = o.files;
  c["metrics"] = json::object();
  for (const auto& [k, v] : o.metrics) c["metrics"][k] = v;
  c["skipped"] = o.skipped;
  return c;
}

json StepJson(const ManifestStep& s) {
  json j;
  j["phase"] = s.phase;
  j["index"] = s.index;
  j["kind"] = s.kind;
  j["argv"] = s.argv;
  j["outcome"] = s.outcome;
  j["exit_code"] = s.exit_code ? json(*s.exit_code) : json(nullptr);
  j["signal"] = s.signal;
  j["timed_out"] = s.timed_out;
  j["truncated"] = s.truncated;
  j["started_at"] = TimeOrNull(s.started_at);
  j["finished_at"] = TimeOrNull(s.finished_at);
  j["duration_ms"] = s.duration.count();
  j["files"] = s.files;
  j["error"] = StringOrNull(s.error);
  j["collectors"] = json::array();
  for (const CollectorOutcome& c : s.collectors) j["collectors"].push_back(CollectorJson(c));
  return j;
}

}  // namespace

namespace internal {

void SummariseCollectStep(ManifestStep* s) {
  std::string names;
  bool ok = !s->collectors.empty(), timed_out = false, truncated = false;
  s->files.clear();
  s->error.clear();
  s->duration = Duration{0};
  for (const CollectorOutcome& c : s->collectors) {
    names += (names.empty() ? "" : ", ") + c.name;
    ok = ok && c.ok;
    timed_out = timed_out || c.timed_out;
    truncated = truncated || c.truncated;
    s->files.insert(s->files.end(), c.files.begin(), c.files.end());
    if (!c.error.empty()) s->error += (s->error.empty() ? "" : "; ") + c.name + ": " + c.error;
    s->duration = std::max(s->duration, c.duration);  // collectors run concurrently
  }
  s->kind = "collect";
  s->argv = {"collect: [" + names + "]"};
  s->timed_out = timed_out;
  s->truncated = truncated;
  s->outcome = timed_out ? "timeout" : ok ? "ok" : "failed";
}

}  // namespace internal

std::string ManifestHostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string ManifestToJson(const Manifest& m) {
  json j;
  j["schema"] = kManifestSchema;
  j["version"] = kManifestVersion;
  j["host"] = m.host;
  j["created_at"] = FormatRfc3339(m.created_at);
  j["finished_at"] = TimeOrNull(m.finished_at);
  j["complete"] = m.complete;
  j["labels"] = Labels(m.labels);
  if (m.execution) {
    const ManifestExecution& e = *m.execution;
    json x;
    x["id"] = e.id;
    x["workaround"] = e.workaround;
    x["issue"] = e.issue;
    x["fingerprint"] = e.fingerprint;
    x["labels"] = Labels(e.labels);
    x["state"] = e.state;
    x["diagnostics_finished_at"] = TimeOrNull(e.diagnostics_finished_at);
    j["execution"] = std::move(x);
  } else {
    j["execution"] = nullptr;
  }
  j["steps"] = json::array();
  for (const ManifestStep& s : m.steps) j["steps"].push_back(StepJson(s));
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

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
  std::string host = ManifestHostName();
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
  m->m_.host = ManifestHostName();
  m->m_.created_at = clock.Now();
  m->m_.labels = std::move(labels);
  STOPGAP_RETURN_IF_ERROR(m->Write());
  return m;
}

Status BundleManifest::Add(const CollectorOutcome& outcome) {
  if (m_.steps.empty()) {
    ManifestStep step;
    step.kind = "collect";
    step.started_at = m_.created_at;
    m_.steps.push_back(std::move(step));
  }
  ManifestStep& step = m_.steps.front();
  step.collectors.push_back(outcome);
  step.finished_at = clock_.Now();
  internal::SummariseCollectStep(&step);
  return Write();
}

Status BundleManifest::Finish() {
  m_.finished_at = clock_.Now();
  m_.complete = true;
  return Write();
}

std::string BundleManifest::ToJson() const { return ManifestToJson(m_); }

Status BundleManifest::Write() const {
  return WriteFileAtomic(dir_ + "/manifest.json", ToJson(), 0600);
}

}  // namespace stopgap::diag
