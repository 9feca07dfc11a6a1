// The PostgreSQL ledger's limit look-ups and the storm breaker's latch, as
// statements on one connection, so PgLedger can run them in a transaction of
// their own or inside an admission's (PgAdmissionView).
//
// Cluster-wide admission (docs/ledger-schema.md): an admission takes the
// transaction-scoped advisory lock kPgAdmissionLock, reads the limits and the
// latch, inserts the execution and commits; the lock is released at commit,
// after the insert is visible. Every admission of every node serialises on
// it, as the engine's admission mutex serialises one process's: two nodes can
// never both pass a limit (max_runs_per_hour counts all workarounds, so one
// key for all). Trips and resets of the latch take the same lock, so the
// latch is one row per trip however many nodes trip it at once.
//
// Thread safety: a PgConn is used by one thread at a time; so is a view.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/time.h"
#include "remedy/internal/pg_db.h"
#include "remedy/ledger.h"

namespace stopgap::remedy::internal {

// pg_advisory_xact_lock keys: the migration's is 5730179.
inline constexpr int64_t kPgAdmissionLock = 5730180;

// Waits for the admission lock, at most `timeout` (then kDeadlineExceeded,
// which the intake answers 503: the sender retries); held until the
// transaction ends.
Status PgLockAdmission(PgConn& c, Duration timeout);

Result<int64_t> PgCountRunsSince(PgConn& c, std::string_view workaround_id, WallTime since);
Result<int64_t> PgCountInFlight(PgConn& c, std::string_view workaround_id);
Result<std::optional<WallTime>> PgLastRunAt(PgConn& c, std::string_view workaround_id);
Result<int64_t> PgCountGroupRunsSince(PgConn& c, std::string_view workaround_id,
                                      const std::map<std::string, std::string>& group,
                                      WallTime since);
Result<int64_t> PgCountGroupInFlight(PgConn& c, std::string_view workaround_id,
                                     const std::map<std::string, std::string>& group);
Result<std::optional<WallTime>> PgGroupLastRunAt(PgConn& c, std::string_view workaround_id,
                                                 const std::map<std::string, std::string>& group);

Result<BreakerState> PgGetBreaker(PgConn& c);
// Both expect the admission lock held in the caller's transaction.
Result<bool> PgTripBreaker(PgConn& c, std::string_view reason, WallTime at);
Result<BreakerState> PgResetBreaker(PgConn& c, const BreakerReset& reset);

// What an admission's decision reads and trips: the look-ups above on the
// admission's connection, inside its transaction (under the lock). The rest
// of the roles is not for a decision: RecordResolve, ListRunsSince and
// ResetBreaker return kFailedPrecondition. Lives for one Admit call.
class PgAdmissionView final : public LimitQueries, public GroupLimitsLedger, public BreakerLedger {
 public:
  explicit PgAdmissionView(PgConn& c) : c_(c) {}

  Result<int64_t> CountRunsSince(std::string_view workaround_id, WallTime since) override {
    return PgCountRunsSince(c_, workaround_id, since);
  }
  Result<int64_t> CountInFlight(std::string_view workaround_id) override {
    return PgCountInFlight(c_, workaround_id);
  }
  Result<std::optional<WallTime>> LastRunAt(std::string_view workaround_id) override {
    return PgLastRunAt(c_, workaround_id);
  }
  Result<int64_t> CountGroupRunsSince(std::string_view workaround_id,
                                      const std::map<std::string, std::string>& group,
                                      WallTime since) override {
    return PgCountGroupRunsSince(c_, workaround_id, group, since);
  }
  Result<int64_t> CountGroupInFlight(std::string_view workaround_id,
                                     const std::map<std::string, std::string>& group) override {
    return PgCountGroupInFlight(c_, workaround_id, group);
  }
  Result<std::optional<WallTime>> GroupLastRunAt(
      std::string_view workaround_id, const std::map<std::string, std::string>& group) override {
    return PgGroupLastRunAt(c_, workaround_id, group);
  }
  Result<int64_t> RecordResolve(std::string_view, WallTime) override { return NotHere(); }
  Result<std::vector<ExecutionRecord>> ListRunsSince(WallTime, int) override { return NotHere(); }
  Result<BreakerState> GetBreaker() override { return PgGetBreaker(c_); }
  Result<bool> TripBreaker(std::string_view reason, WallTime at) override {
    return PgTripBreaker(c_, reason, at);
  }
  Result<BreakerState> ResetBreaker(const BreakerReset&) override { return NotHere(); }

 private:
  static Status NotHere() { return FailedPrecondition("not part of an admission's decision"); }
  PgConn& c_;
};

}  // namespace stopgap::remedy::internal
