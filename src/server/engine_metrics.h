// EngineMetrics: the engine observer that turns admissions, refusals, steps
// and finished executions into Prometheus series (MetricsRegistry) and StatsD
// metrics (StatsEmitter):
//   stopgap_runs_total{workaround,issue}          stopgap.runs.<workaround>
//                                                  stopgap.issue.<issue-slug>.runs
//   stopgap_refusals_total{workaround,reason}     stopgap.refused.<reason>
//   stopgap_executions_total{workaround,result}   stopgap.executions.<result>
//   stopgap_step_duration_seconds{workaround,phase} (histogram)
//                                                  stopgap.step.<workaround>.<phase> (timer)
//
// Thread safety: callbacks may come from any thread; both sinks are thread-safe.
#pragma once

#include "remedy/engine.h"
#include "server/metrics.h"
#include "server/stats_emitter.h"

namespace stopgap::server {

class EngineMetrics final : public remedy::EngineObserver {
 public:
  // Both must outlive this observer.
  EngineMetrics(MetricsRegistry& metrics, StatsEmitter& statsd);
  static void DescribeMetrics(MetricsRegistry& metrics);

  void OnAdmitted(remedy::ExecutionId id, const remedy::Workaround& w) override;
  void OnRefused(remedy::ExecutionId id, const remedy::Workaround& w,
                 const remedy::Refusal& r) override;
  void OnStepFinished(remedy::ExecutionId id, const remedy::Workaround& w,
                      const remedy::StepRecord& step) override;
  void OnExecutionFinished(const remedy::Workaround& w,
                           const remedy::ExecutionOutcome& outcome) override;

 private:
  MetricsRegistry& metrics_;
  StatsEmitter& statsd_;
};

}  // namespace stopgap::server
