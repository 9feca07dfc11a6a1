// An execution's bundle directory, <bundles>/<execution-id>/: step outputs
// plus manifest.json in the one bundle format (diag::Manifest, schema
// "stopgap.bundle/2", docs/bundle-format.md), with the execution header.
// Seal() makes the directory, every file in it and the manifest durable
// before the first action step; Finish() rewrites the manifest with the
// action and verify steps (not fsynced: the ledger is the durable record of
// those).
//
// Thread safety: one owner (the thread running the execution).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "diag/diag.h"
#include "remedy/ledger.h"

namespace stopgap::remedy::internal {

class ExecutionBundle {
 public:
  struct Header {
    ExecutionId execution_id = 0;
    std::string workaround_id;
    std::string issue;
    std::string fingerprint;
    std::map<std::string, std::string> labels;  // secret-looking names already masked
    WallTime created_at{};
  };

  // Creates <root>/<id>/ (0700; root too if missing). When <id> exists it is
  // never reused: a fresh <root>/<id>-XXXXXX is made instead (see dir()).
  static Result<ExecutionBundle> Create(const std::string& root, Header header);

  // Re-opens the bundle at `dir` of an execution that waited for approval in
  // an earlier process, with the steps the ledger recorded so far (the
  // collectors' per-item detail of those steps is not in the ledger, so the
  // rewritten manifest lists their files without it).
  static ExecutionBundle Resume(std::string dir, Header header, std::vector<StepRecord> steps,
                                std::optional<WallTime> diagnostics_finished_at);

  const std::string& dir() const { return dir_; }
  // Relative file name for a step stream: "diagnostics-00.stdout".
  static std::string StreamFile(StepPhase phase, int index, const char* stream);

  // `collectors`: a collect:/guru: step's per-collector outcomes (what each
  // collected, skipped, and how long it took); empty for run: steps.
  void AddStep(const StepRecord& step, std::vector<diag::CollectorOutcome> collectors = {}) {
    steps_.push_back({step, std::move(collectors)});
  }
  // WriteSealedManifest() then Sync().
  Status Seal(WallTime diagnostics_finished_at);
  // Writes manifest.json (complete: false, state acting) by temp file and
  // rename, not fsynced: from here on a process killed at any moment leaves
  // a whole manifest. The engine calls it before the ledger's "acting"
  // commit, then runs Sync() concurrently with that commit's fsync.
  Status WriteSealedManifest(WallTime diagnostics_finished_at);
  // fsyncs every step file, the manifest, the bundle directory and its parent.
  Status Sync();
  // Rewrites manifest.json with every step, the final state and complete: true.
  Status Finish(ExecutionState state, WallTime finished_at);

  std::string ManifestJson(bool complete, const std::string& state) const;

 private:
  std::string root_;
  std::string dir_;
  Header header_;
  struct Step {
    StepRecord record;
    std::vector<diag::CollectorOutcome> collectors;
  };
  std::vector<Step> steps_;
  Status ReplaceManifest(const std::string& data);

  std::string host_;
  std::optional<WallTime> diagnostics_finished_at_;
  std::optional<WallTime> finished_at_;
};

}  // namespace stopgap::remedy::internal
