// ExecutionBundle; see execution_bundle.h.
#include "remedy/internal/execution_bundle.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <set>

#include "core/file.h"
#include "diag/bundle.h"

namespace stopgap::remedy::internal {

Result<ExecutionBundle> ExecutionBundle::Create(const std::string& root, Header header) {
  STOPGAP_RETURN_IF_ERROR(MakeDirs(root, 0700));
  ExecutionBundle b;
  b.root_ = root;
  b.dir_ = root + "/" + std::to_string(header.execution_id);
  b.header_ = std::move(header);
  b.host_ = diag::ManifestHostName();
  // Never reuse a directory already there (a recreated ledger starts its ids
  // again; another user may have planted one with symlinks inside): take a
  // fresh, unpredictable <id>-XXXXXX instead. The ledger records the path.
  if (::mkdir(b.dir_.c_str(), 0700) != 0) {
    if (errno != EEXIST) return ErrnoStatus("mkdir " + b.dir_, errno);
    Result<std::string> fresh = MakeTempDir(b.dir_ + "-");
    if (!fresh.ok()) return fresh.status();
    b.dir_ = *fresh;
  }
  return b;
}

ExecutionBundle ExecutionBundle::Resume(std::string dir, Header header,
                                        std::vector<StepRecord> steps,
                                        std::optional<WallTime> diagnostics_finished_at) {
  ExecutionBundle b;
  b.root_ = DirName(dir);
  b.dir_ = std::move(dir);
  b.header_ = std::move(header);
  b.host_ = diag::ManifestHostName();
  for (StepRecord& s : steps) b.steps_.push_back({std::move(s), {}});
  b.diagnostics_finished_at_ = diagnostics_finished_at;
  return b;
}

std::string ExecutionBundle::StreamFile(StepPhase phase, int index, const char* stream) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%02d.%s", std::string(StepPhaseName(phase)).c_str(), index,
                stream);
  return buf;
}

std::string ExecutionBundle::ManifestJson(bool complete, const std::string& state) const {
  diag::Manifest m;
  m.host = host_;
  m.created_at = header_.created_at;
  m.finished_at = finished_at_;
  m.complete = complete;
  diag::ManifestExecution& e = m.execution.emplace();
  e.id = header_.execution_id;
  e.workaround = header_.workaround_id;
  e.issue = header_.issue;
  e.fingerprint = header_.fingerprint;
  e.labels = header_.labels;
  e.state = state;
  e.diagnostics_finished_at = diagnostics_finished_at_;
  for (const Step& step : steps_) {
    const StepRecord& s = step.record;
    diag::ManifestStep& j = m.steps.emplace_back();
    j.phase = std::string(StepPhaseName(s.phase));
    j.index = s.index;
    j.kind = s.kind;
    j.argv = s.argv;
    j.outcome = std::string(StepOutcomeName(s.outcome));
    j.exit_code = s.exit_code;
    j.signal = s.signal;
    j.timed_out = s.timed_out;
    j.truncated = s.truncated;
    j.started_at = s.started_at;
    j.finished_at = s.finished_at;
    j.duration = s.duration;
    j.files = s.files;
    j.error = s.error;
    j.collectors = step.collectors;
  }
  return diag::ManifestToJson(m);
}

Status ExecutionBundle::Seal(WallTime diagnostics_finished_at) {
  STOPGAP_RETURN_IF_ERROR(WriteSealedManifest(diagnostics_finished_at));
  return Sync();
}

Status ExecutionBundle::WriteSealedManifest(WallTime diagnostics_finished_at) {
  diagnostics_finished_at_ = diagnostics_finished_at;
  return ReplaceManifest(ManifestJson(false, "acting"));
}

Status ExecutionBundle::Sync() {
  // Every file, the manifest, the bundle directory and its parent: fsynced
  // concurrently (independent files; concurrent fsyncs share journal commits).
  // Collector files sit in subdirectories (process-<pid>/...): each of those
  // directories is fsynced too, or its entries may vanish after a crash.
  std::vector<std::string> paths;
  std::set<std::string> subdirs;
  for (const Step& s : steps_) {
    for (const std::string& f : s.record.files) {
      paths.push_back(dir_ + "/" + f);
      for (size_t slash = f.find('/'); slash != std::string::npos; slash = f.find('/', slash + 1)) {
        subdirs.insert(dir_ + "/" + f.substr(0, slash));
      }
    }
  }
  paths.insert(paths.end(), subdirs.begin(), subdirs.end());
  paths.push_back(dir_ + "/manifest.json");
  paths.push_back(dir_);
  paths.push_back(root_);
  std::vector<std::future<Status>> syncs;
  for (size_t i = 1; i < paths.size(); ++i) {
    syncs.push_back(std::async(std::launch::async, [p = paths[i]] { return FsyncPath(p); }));
  }
  Status first = FsyncPath(paths[0]);
  for (auto& f : syncs) {
    Status st = f.get();
    if (first.ok() && !st.ok()) first = st;
  }
  return first;
}

Status ExecutionBundle::Finish(ExecutionState state, WallTime finished_at) {
  finished_at_ = finished_at;
  return ReplaceManifest(ManifestJson(true, std::string(ExecutionStateName(state))));
}

// Temp file and rename: a reader (or a process killed mid-write) finds the
// old manifest or the new one, never a torn one. Not fsynced (see Sync()).
Status ExecutionBundle::ReplaceManifest(const std::string& data) {
  Result<NewTempFile> t = CreateTempFile(dir_ + "/.manifest.json.tmp.", 0600);
  if (!t.ok()) return t.status();
  Status st = WriteAll(t->fd, data, t->path);
  ::close(t->fd);
  if (st.ok() && std::rename(t->path.c_str(), (dir_ + "/manifest.json").c_str()) != 0) {
    st = ErrnoStatus("rename " + t->path, errno);
  }
  if (!st.ok()) ::unlink(t->path.c_str());
  return st;
}

}  // namespace stopgap::remedy::internal
