// Cluster metrics and /healthz fields of a node (see cluster_status.h).
#include "server/cluster_status.h"

namespace stopgap::server {

namespace {
constexpr const char* kClaims = "stopgap_cluster_claims_total";
constexpr const char* kRenewals = "stopgap_cluster_lease_renewals_total";
constexpr const char* kFailovers = "stopgap_cluster_failovers_total";
constexpr const char* kReconnects = "stopgap_cluster_reconnects_total";
constexpr const char* kSingleton = "stopgap_cluster_singleton_held";
constexpr const char* kReachable = "stopgap_ledger_reachable";
constexpr const char* kFenced = "stopgap_cluster_fenced";
constexpr const char* kFences = "stopgap_cluster_fences_total";
}  // namespace

void DescribeClusterMetrics(MetricsRegistry& metrics) {
  metrics.Describe(kClaims, MetricType::kCounter,
                   "Claims this node made in the shared ledger (an alert's firing window, a "
                   "rerun), by result: won (this node runs it), lost (another node had it).");
  metrics.Describe(kRenewals, MetricType::kCounter,
                   "Rounds renewing the leases of this node's unfinished executions, by result.");
  metrics.Describe(kFailovers, MetricType::kCounter,
                   "Executions this node marked interrupted because the node running them "
                   "stopped renewing their lease.");
  metrics.Describe(kReconnects, MetricType::kCounter,
                   "Ledger calls retried on a new connection (database restart or failover).");
  metrics.Describe(kSingleton, MetricType::kGauge,
                   "1 while this node holds the cluster-wide lease of this housekeeping job.");
  metrics.Describe(kReachable, MetricType::kGauge,
                   "1 while the shared ledger's database answers this node's housekeeping.");
  metrics.Describe(kFenced, MetricType::kGauge,
                   "1 while this node is fenced: no lease renewal for over half the lease, its "
                   "steps stopped and no new ones started.");
  metrics.Describe(kFences, MetricType::kCounter, "Times this node was fenced.");
}

void RefreshClusterMetrics(MetricsRegistry& metrics, const remedy::ClusterLedger& cluster,
                           const remedy::LeaseFence* fence, WallTime now) {
  auto catch_up = [&](std::string_view name, const MetricLabels& labels, int64_t total) {
    double seen = metrics.Value(name, labels);
    if (static_cast<double>(total) > seen) metrics.Add(name, labels, total - seen);
  };
  const remedy::ClusterCounters c = cluster.Counters();
  catch_up(kClaims, {{"result", "won"}}, c.claims_won);
  catch_up(kClaims, {{"result", "lost"}}, c.claims_lost);
  catch_up(kRenewals, {{"result", "ok"}}, c.lease_renewals);
  catch_up(kRenewals, {{"result", "failed"}}, c.lease_renewal_failures);
  catch_up(kFailovers, {}, c.failovers);
  catch_up(kReconnects, {}, c.reconnects);
  catch_up(kFences, {}, fence ? fence->fences() : 0);
  metrics.Set(kFenced, {}, fence && fence->fenced());
  const remedy::ClusterHealth h = cluster.Health(now);
  for (const auto& [name, held] : h.singletons) metrics.Set(kSingleton, {{"name", name}}, held);
  metrics.Set(kReachable, {}, h.reachable);
}

nlohmann::json LedgerHealthJson(remedy::LedgerConfig::Kind kind,
                                const remedy::ClusterLedger* cluster,
                                const remedy::LeaseFence* fence, WallTime now) {
  nlohmann::json j = {
      {"kind", kind == remedy::LedgerConfig::Kind::kPostgres ? "postgresql" : "sqlite"}};
  if (!cluster) return j;
  const remedy::ClusterHealth h = cluster->Health(now);
  j["reachable"] = h.reachable;
  j["lease_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(h.lease).count();
  j["last_contact_ms_ago"] =
      h.last_contact ? nlohmann::json(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          now - *h.last_contact)
                                          .count())
                     : nlohmann::json(nullptr);
  j["fenced"] = fence && fence->fenced();
  j["fenced_records_pending"] = h.fenced_records_pending;
  if (!h.error.empty()) j["error"] = h.error;
  return j;
}

nlohmann::json SingletonsJson(const remedy::ClusterLedger* cluster, WallTime now) {
  nlohmann::json j = nlohmann::json::object();
  if (!cluster) return j;
  for (const auto& [name, held] : cluster->Health(now).singletons) j[name] = held;
  return j;
}

}  // namespace stopgap::server
