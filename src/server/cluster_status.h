// What a `stopgap serve` node sharing a PostgreSQL ledger with other nodes
// reports about its place in the cluster: Prometheus series for /metrics and
// the `ledger` and `singletons` fields of /healthz (docs/serve.md#cluster).
//   stopgap_cluster_claims_total{result="won|lost"}
//   stopgap_cluster_lease_renewals_total{result="ok|failed"}
//   stopgap_cluster_failovers_total          executions marked interrupted here
//                                            after their node's lease lapsed
//   stopgap_cluster_reconnects_total         ledger calls retried on a new connection
//   stopgap_cluster_singleton_held{name}     1 while this node holds the lease
//   stopgap_ledger_reachable                 1 while the database answers
//   stopgap_cluster_fenced                   1 while this node is fenced (lease_fence.h)
//   stopgap_cluster_fences_total             times this node was fenced
//
// Thread safety: functions of their arguments; the registry is thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "core/time.h"
#include "remedy/catalog.h"
#include "remedy/lease_fence.h"
#include "remedy/ledger.h"
#include "server/metrics.h"

namespace stopgap::server {

void DescribeClusterMetrics(MetricsRegistry& metrics);
// Brings the series above up to the ledger's counters and health now, and
// the fence's (null: none).
void RefreshClusterMetrics(MetricsRegistry& metrics, const remedy::ClusterLedger& cluster,
                           const remedy::LeaseFence* fence, WallTime now);

// /healthz's "ledger" object: {"kind": "sqlite"} for an embedded ledger; for
// a cluster ledger also reachable, last_contact_ms_ago, lease_ms, fenced,
// fenced_records_pending and error.
nlohmann::json LedgerHealthJson(remedy::LedgerConfig::Kind kind,
                                const remedy::ClusterLedger* cluster,
                                const remedy::LeaseFence* fence, WallTime now);
// /healthz's "singletons" object: {"retention": true, "tracker": false};
// empty without a cluster ledger (one node holds everything).
nlohmann::json SingletonsJson(const remedy::ClusterLedger* cluster, WallTime now);

}  // namespace stopgap::server
