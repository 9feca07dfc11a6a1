// The SQLite ledger's schema as numbered migrations (docs/ledger-schema.md).
// Migration N brings the schema from version N-1 to N; applied in order in
// one transaction each, recorded in schema_version. Never edit a released
// migration: add a new one.
//
// Thread safety: constants.
#pragma once

#include <string>

#include "remedy/ledger.h"

namespace stopgap::remedy::internal {

// The indexes of SQLite's migration 8 and PostgreSQL's 5, one text for both
// (the same names and predicates on each backend). The look-ups intake and
// admission make for every alert read indexes without refusals: the limit
// checks' counts of runs in a window (kSqlCountRuns*) leave refused rows out,
// as migration 2 did for the last run; the open execution of a fingerprint
// (SqlInFlightByFingerprint) reads open executions only. Before, the storm
// breaker's hourly count walked every execution of the hour and the in-flight
// look-up every execution of the fingerprint, refusals included: under a
// refusal storm of 1,000 alerts/s each alert cost more, by the hour (the
// one-hour soak). Released with both migrations: never edit it, add one.
inline constexpr const char* kPerAlertIndexes = R"sql(
CREATE INDEX executions_runs_by_created ON executions(created_at)
  WHERE state != 'refused';
CREATE INDEX executions_runs_by_workaround_created ON executions(workaround_id, created_at)
  WHERE state != 'refused';
CREATE INDEX executions_runs_by_group_created
  ON executions(workaround_id, group_json, created_at) WHERE state != 'refused';
CREATE INDEX executions_in_flight_by_fingerprint ON executions(fingerprint, id)
  WHERE state IN ('matched','diagnosing','acting','verifying','awaiting-approval');
)sql";

inline constexpr const char* kLedgerMigrations[] = {
    // 1: executions, steps, transitions, alerts, totals, tracker outbox.
    R"sql(
CREATE TABLE executions (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  workaround_id  TEXT    NOT NULL,
  issue          TEXT    NOT NULL,
  fingerprint    TEXT    NOT NULL DEFAULT '',
  alert_id       INTEGER,
  source         TEXT    NOT NULL,
  labels_json    TEXT    NOT NULL DEFAULT '{}',
  state          TEXT    NOT NULL,
  refusal_reason TEXT    NOT NULL DEFAULT '',
  detail         TEXT    NOT NULL DEFAULT '',
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  finished_at    INTEGER,
  bundle_dir     TEXT    NOT NULL DEFAULT '',
  owner          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX executions_by_workaround ON executions(workaround_id, created_at);
CREATE INDEX executions_by_issue ON executions(issue, created_at);
CREATE INDEX executions_by_created ON executions(created_at);
CREATE INDEX executions_by_fingerprint ON executions(fingerprint, id);
CREATE INDEX executions_unfinished ON executions(state)
  WHERE state IN ('matched', 'diagnosing', 'acting', 'verifying');
CREATE TABLE steps (
  id           INTEGER PRIMARY KEY,
  execution_id INTEGER NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
  phase        TEXT    NOT NULL,
  idx          INTEGER NOT NULL,
  kind         TEXT    NOT NULL,
  argv_json    TEXT    NOT NULL,
  outcome      TEXT    NOT NULL,
  exit_code    INTEGER,
  signal       INTEGER NOT NULL DEFAULT 0,
  timed_out    INTEGER NOT NULL DEFAULT 0,
  truncated    INTEGER NOT NULL DEFAULT 0,
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER NOT NULL,
  duration_ms  INTEGER NOT NULL,
  files_json   TEXT    NOT NULL DEFAULT '[]',
  error        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX steps_by_execution ON steps(execution_id);
CREATE TABLE transitions (
  execution_id INTEGER NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
  state        TEXT    NOT NULL,
  at           INTEGER NOT NULL,
  detail       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX transitions_by_execution ON transitions(execution_id);
CREATE TABLE alerts (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  received_at      INTEGER NOT NULL,
  source           TEXT    NOT NULL,
  fingerprint      TEXT    NOT NULL DEFAULT '',
  name             TEXT    NOT NULL DEFAULT '',
  status           TEXT    NOT NULL,
  labels_json      TEXT    NOT NULL DEFAULT '{}',
  annotations_json TEXT    NOT NULL DEFAULT '{}',
  disposition      TEXT    NOT NULL,
  execution_id     INTEGER,
  reason           TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX alerts_by_received ON alerts(received_at);
CREATE TABLE issue_totals (
  issue          TEXT PRIMARY KEY,
  runs_total     INTEGER NOT NULL DEFAULT 0,
  refusals_total INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE workaround_totals (
  workaround_id  TEXT PRIMARY KEY,
  issue          TEXT    NOT NULL,
  runs_total     INTEGER NOT NULL DEFAULT 0,
  refusals_total INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE tracker_outbox (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  issue           TEXT    NOT NULL,
  kind            TEXT    NOT NULL,
  payload_json    TEXT    NOT NULL,
  created_at      INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  done_at         INTEGER,
  last_error      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX tracker_outbox_due ON tracker_outbox(done_at, next_attempt_at);
)sql",
    // 2: the limit checks' look-ups stay index-only under a refusal storm: the
    // last run of a workaround skips refused rows without visiting them.
    R"sql(
CREATE INDEX executions_runs_by_workaround ON executions(workaround_id, id)
  WHERE state != 'refused';
)sql",
    // 3: firing instances. An execution belongs to the firing instance of its
    // alert (fingerprint + Alertmanager's startsAt, or, without one, the span
    // from the first firing to the next resolve); `attempt` counts the
    // opt-in repeats (`repeat:`) of one instance. The index finds the last
    // resolve of a fingerprint.
    R"sql(
ALTER TABLE executions ADD COLUMN instance_start INTEGER;
ALTER TABLE executions ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
CREATE INDEX alerts_resolved_by_fingerprint ON alerts(fingerprint, received_at)
  WHERE status = 'resolved';
)sql",
    // 4: which API token made each write (its catalog name, never the
    // secret); '' for rows written before, by `stopgap run`, or internally.
    R"sql(
ALTER TABLE alerts ADD COLUMN token TEXT NOT NULL DEFAULT '';
ALTER TABLE executions ADD COLUMN token TEXT NOT NULL DEFAULT '';
)sql",
    // 5: limits per group (limits.group_by: the label values, canonical JSON
    // with sorted keys, '{}' without group_by) and the end of the degraded
    // time each execution answered (its success or its alert's resolve,
    // whichever first; NULL while open). Executions that succeeded before
    // this migration end at their finish.
    R"sql(
ALTER TABLE executions ADD COLUMN group_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE executions ADD COLUMN degraded_end INTEGER;
UPDATE executions SET degraded_end = finished_at WHERE state = 'succeeded';
CREATE INDEX executions_runs_by_group ON executions(workaround_id, group_json, id)
  WHERE state != 'refused';
CREATE INDEX executions_open_by_fingerprint ON executions(fingerprint)
  WHERE degraded_end IS NULL;
)sql",
    // 6: operators in the loop. The workaround's mode (auto, observe,
    // approve) per execution; for approve mode, the deadline of the wait and
    // the decision (approved, denied, expired) with the token that made it.
    // The storm breaker's latch: every trip and reset, newest last; it is
    // tripped while the newest event is a trip. Older rows read mode 'auto'.
    R"sql(
ALTER TABLE executions ADD COLUMN mode TEXT NOT NULL DEFAULT 'auto';
ALTER TABLE executions ADD COLUMN approval_deadline INTEGER;
ALTER TABLE executions ADD COLUMN approval_decision TEXT NOT NULL DEFAULT '';
ALTER TABLE executions ADD COLUMN approval_by TEXT NOT NULL DEFAULT '';
ALTER TABLE executions ADD COLUMN approval_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE executions ADD COLUMN approval_at INTEGER;
CREATE INDEX executions_awaiting_approval ON executions(id)
  WHERE state = 'awaiting-approval';
CREATE TABLE breaker_events (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  kind    TEXT    NOT NULL,
  reason  TEXT    NOT NULL DEFAULT '',
  actor   TEXT    NOT NULL DEFAULT '',
  comment TEXT    NOT NULL DEFAULT '',
  at      INTEGER NOT NULL
);
)sql",
    // 7: resume. The workaround's `resume:` (escalate, rerun) kept with each
    // execution, and the link from a rerun to the interrupted execution it
    // runs again: unique, so one interrupted execution is rerun at most once
    // however many processes race for it. Older rows read 'escalate'.
    R"sql(
ALTER TABLE executions ADD COLUMN resume TEXT NOT NULL DEFAULT 'escalate';
ALTER TABLE executions ADD COLUMN rerun_of INTEGER;
CREATE UNIQUE INDEX executions_rerun_of ON executions(rerun_of) WHERE rerun_of IS NOT NULL;
CREATE INDEX executions_rerun_candidates ON executions(id)
  WHERE state = 'interrupted' AND resume = 'rerun' AND rerun_of IS NULL;
)sql",
    // 8: the look-ups intake and admission make for every alert read indexes
    // without refusals (kPerAlertIndexes above says which and why).
    kPerAlertIndexes,
};

// The limit checks' counts of runs (executions not refused) created after a
// time: of every workaround (the storm breaker), of one, of one group. Each
// is answered from a partial index of migration 8 without visiting refused
// rows (LedgerTest.LimitCountsDoNotWalkRefusals).
inline constexpr const char* kSqlCountRunsAll =
    "SELECT COUNT(*) FROM executions WHERE created_at > ?1 AND state != 'refused'";
inline constexpr const char* kSqlCountRuns =
    "SELECT COUNT(*) FROM executions WHERE workaround_id = ?1 AND created_at > ?2 "
    "AND state != 'refused'";
inline constexpr const char* kSqlCountGroupRuns =
    "SELECT COUNT(*) FROM executions WHERE workaround_id = ?1 AND group_json = ?2 "
    "AND created_at > ?3 AND state != 'refused'";

// The open execution of a fingerprint, intake's first look-up for every
// alert. Served by executions_in_flight_by_fingerprint (migration 8), whose
// WHERE is this state list word for word (SQLite uses a partial index only
// then; LedgerStates.InFlightIndexListsTheOpenStates keeps them equal).
inline std::string SqlInFlightByFingerprint() {
  return "SELECT id FROM executions WHERE fingerprint = ? AND fingerprint != '' AND state IN " +
         SqlStateList(StateSet::kOpen) + " ORDER BY id DESC LIMIT 1";
}

}  // namespace stopgap::remedy::internal
