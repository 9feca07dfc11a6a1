// PostgreSQL limit look-ups and the breaker's latch on one connection; see pg_roles.h.
#include "remedy/internal/pg_roles.h"

#include "remedy/internal/ledger_codec.h"

namespace stopgap::remedy::internal {
namespace {

Result<int64_t> Count(PgConn& c, const char* name, const std::string& sql,
                      const std::vector<PgParam>& params) {
  Result<PgResult> q = c.Run(name, sql, params);
  if (!q.ok()) return q.status();
  return q->Int(0, 0);
}

Result<std::optional<WallTime>> OptTime(PgConn& c, const char* name, const std::string& sql,
                                        const std::vector<PgParam>& params) {
  Result<PgResult> q = c.Run(name, sql, params);
  if (!q.ok()) return q.status();
  if (q->Rows() == 0 || q->IsNull(0, 0)) return std::optional<WallTime>();
  return std::optional<WallTime>(FromMs(q->Int(0, 0)));
}

const std::string& InFlightSql() {
  static const std::string* s =
      new std::string("SELECT COUNT(*) FROM executions WHERE workaround_id = $1 AND state IN " +
                      SqlStateList(StateSet::kRunning));
  return *s;
}

const std::string& GroupInFlightSql() {
  static const std::string* s = new std::string(
      "SELECT COUNT(*) FROM executions WHERE workaround_id = $1 AND group_json = $2 AND state "
      "IN " +
      SqlStateList(StateSet::kRunning));
  return *s;
}

}  // namespace

Status PgLockAdmission(PgConn& c, Duration timeout) {
  // For this transaction only (SET LOCAL): its later row locks wait as long.
  Result<PgResult> t =
      c.Run("admission_lock_timeout", "SELECT set_config('lock_timeout', $1, true)",
            {P(std::to_string(timeout.count()) + "ms")});
  if (!t.ok()) return t.status();
  Result<PgResult> r =
      c.Run("lock_admission", "SELECT pg_advisory_xact_lock($1)", {P(kPgAdmissionLock)});
  if (r.ok()) return Status::Ok();
  if (r.status().code() != StatusCode::kDeadlineExceeded) return r.status();
  return DeadlineExceeded("the cluster-wide admission lock was not granted within " +
                          FormatDuration(timeout) +
                          " (other nodes' admissions, or one stuck holding it); retry later");
}

Result<int64_t> PgCountRunsSince(PgConn& c, std::string_view workaround_id, WallTime since) {
  if (workaround_id.empty()) {
    return Count(c, "count_runs_all",
                 "SELECT COUNT(*) FROM executions WHERE created_at > $1 AND state != 'refused'",
                 {P(Ms(since))});
  }
  return Count(c, "count_runs",
               "SELECT COUNT(*) FROM executions WHERE workaround_id = $1 AND created_at > $2 "
               "AND state != 'refused'",
               {P(workaround_id), P(Ms(since))});
}

Result<int64_t> PgCountInFlight(PgConn& c, std::string_view workaround_id) {
  return Count(c, "count_in_flight", InFlightSql(), {P(workaround_id)});
}

Result<std::optional<WallTime>> PgLastRunAt(PgConn& c, std::string_view workaround_id) {
  return OptTime(c, "last_run_at",
                 "SELECT COALESCE(finished_at, created_at) FROM executions WHERE workaround_id "
                 "= $1 AND state != 'refused' ORDER BY id DESC LIMIT 1",
                 {P(workaround_id)});
}

Result<int64_t> PgCountGroupRunsSince(PgConn& c, std::string_view workaround_id,
                                      const std::map<std::string, std::string>& group,
                                      WallTime since) {
  return Count(c, "count_group_runs",
               "SELECT COUNT(*) FROM executions WHERE workaround_id = $1 AND group_json = $2 "
               "AND created_at > $3 AND state != 'refused'",
               {P(workaround_id), P(MapJson(group)), P(Ms(since))});
}

Result<int64_t> PgCountGroupInFlight(PgConn& c, std::string_view workaround_id,
                                     const std::map<std::string, std::string>& group) {
  return Count(c, "count_group_in_flight", GroupInFlightSql(),
               {P(workaround_id), P(MapJson(group))});
}

Result<std::optional<WallTime>> PgGroupLastRunAt(PgConn& c, std::string_view workaround_id,
                                                 const std::map<std::string, std::string>& group) {
  return OptTime(c, "group_last_run_at",
                 "SELECT COALESCE(finished_at, created_at) FROM executions WHERE workaround_id "
                 "= $1 AND group_json = $2 AND state != 'refused' ORDER BY id DESC LIMIT 1",
                 {P(workaround_id), P(MapJson(group))});
}

Result<BreakerState> PgGetBreaker(PgConn& c) {
  BreakerState b;
  Result<PgResult> last =
      c.Run("breaker_last", "SELECT kind, reason, at FROM breaker_events ORDER BY id DESC LIMIT 1");
  if (!last.ok()) return last.status();
  if (last->Rows() > 0 && last->Text(0, 0) == "trip") {
    b.tripped = true;
    b.reason = last->Text(0, 1);
    b.tripped_at = FromMs(last->Int(0, 2));
  }
  Result<PgResult> reset = c.Run("breaker_last_reset",
                                 "SELECT actor, comment, at FROM breaker_events WHERE kind = "
                                 "'reset' ORDER BY id DESC LIMIT 1");
  if (!reset.ok()) return reset.status();
  if (reset->Rows() > 0) {
    b.last_reset = BreakerReset{reset->Text(0, 0), reset->Text(0, 1), FromMs(reset->Int(0, 2))};
  }
  return b;
}

Result<bool> PgTripBreaker(PgConn& c, std::string_view reason, WallTime at) {
  Result<BreakerState> b = PgGetBreaker(c);
  if (!b.ok()) return b.status();
  if (b->tripped) return false;
  Result<PgResult> ins =
      c.Run("breaker_trip", "INSERT INTO breaker_events(kind, reason, at) VALUES ('trip', $1, $2)",
            {P(reason), P(Ms(at))});
  if (!ins.ok()) return ins.status();
  return true;
}

Result<BreakerState> PgResetBreaker(PgConn& c, const BreakerReset& r) {
  Result<BreakerState> b = PgGetBreaker(c);
  if (!b.ok()) return b.status();
  if (!b->tripped) return *b;
  Result<PgResult> ins =
      c.Run("breaker_reset",
            "INSERT INTO breaker_events(kind, actor, comment, at) VALUES ('reset', $1, $2, $3)",
            {P(r.by), P(r.comment), P(Ms(r.at))});
  if (!ins.ok()) return ins.status();
  return PgGetBreaker(c);
}

}  // namespace stopgap::remedy::internal
