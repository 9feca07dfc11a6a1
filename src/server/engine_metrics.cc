// EngineMetrics: observer callbacks -> Prometheus series + StatsD names.
//
// Thread safety: stateless apart from the two thread-safe sinks.
#include "server/engine_metrics.h"

#include <string>

namespace stopgap::server {

namespace {
constexpr const char* kRuns = "stopgap_runs_total";
constexpr const char* kRefusals = "stopgap_refusals_total";
constexpr const char* kExecutions = "stopgap_executions_total";
constexpr const char* kStepDuration = "stopgap_step_duration_seconds";
}  // namespace

EngineMetrics::EngineMetrics(MetricsRegistry& metrics, StatsEmitter& statsd)
    : metrics_(metrics), statsd_(statsd) {}

void EngineMetrics::DescribeMetrics(MetricsRegistry& m) {
  m.Describe(kRuns, MetricType::kCounter,
             "Executions admitted to run, by workaround and issue (runs per issue).");
  m.Describe(kRefusals, MetricType::kCounter, "Executions refused, by workaround and reason.");
  m.Describe(kExecutions, MetricType::kCounter,
             "Executions finished, by workaround and result (succeeded, failed).");
  m.Describe(kStepDuration, MetricType::kHistogram,
             "Duration of workaround steps, by workaround and phase.");
}

void EngineMetrics::OnAdmitted(remedy::ExecutionId, const remedy::Workaround& w) {
  metrics_.Add(kRuns, {{"workaround", w.id}, {"issue", w.issue.text}});
  statsd_.Count("stopgap.runs." + StatsdSlug(w.id));
  statsd_.Count("stopgap.issue." + StatsdSlug(w.issue.Slug()) + ".runs");
}

void EngineMetrics::OnRefused(remedy::ExecutionId, const remedy::Workaround& w,
                              const remedy::Refusal& r) {
  std::string reason(remedy::RefusalReasonName(r.reason));
  metrics_.Add(kRefusals, {{"workaround", w.id}, {"reason", reason}});
  statsd_.Count("stopgap.refused." + StatsdSlug(reason));
}

void EngineMetrics::OnStepFinished(remedy::ExecutionId, const remedy::Workaround& w,
                                   const remedy::StepRecord& step) {
  std::string phase(remedy::StepPhaseName(step.phase));
  double ms = static_cast<double>(step.duration.count());
  metrics_.Observe(kStepDuration, {{"workaround", w.id}, {"phase", phase}}, ms / 1000.0);
  statsd_.TimingMs("stopgap.step." + StatsdSlug(w.id) + "." + phase, ms);
}

void EngineMetrics::OnExecutionFinished(const remedy::Workaround& w,
                                        const remedy::ExecutionOutcome& outcome) {
  if (outcome.state == remedy::ExecutionState::kRefused) return;  // counted in OnRefused
  std::string result(remedy::ExecutionStateName(outcome.state));
  metrics_.Add(kExecutions, {{"workaround", w.id}, {"result", result}});
  statsd_.Count("stopgap.executions." + result);
}

}  // namespace stopgap::server
