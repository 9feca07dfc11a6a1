// The PostgreSQL ledger's schema as numbered migrations (docs/ledger-schema.md).
// Migration 1 is the SQLite schema at its version 4 (same tables, columns and
// meanings; BIGSERIAL ids, BIGINT milliseconds); 2 adds what several nodes
// need: execution leases, claims (one per fingerprint + firing window) and
// singleton leases; 3 is SQLite's 5 and 6 (groups, degraded time,
// approvals, the breaker's latch). Applied in order under an advisory lock (nodes starting
// together migrate once), recorded in schema_version. Never edit a released
// migration: add a new one.
//
// Thread safety: constants.
#pragma once

#include "remedy/internal/ledger_schema.h"

namespace stopgap::remedy::internal {

inline constexpr const char* kPgLedgerMigrations[] = {
    // 1: executions, steps, transitions, alerts, totals, tracker outbox.
    R"sql(
CREATE TABLE executions (
  id             BIGSERIAL PRIMARY KEY,
  workaround_id  TEXT    NOT NULL,
  issue          TEXT    NOT NULL,
  fingerprint    TEXT    NOT NULL DEFAULT '',
  alert_id       BIGINT,
  source         TEXT    NOT NULL,
  labels_json    TEXT    NOT NULL DEFAULT '{}',
  state          TEXT    NOT NULL,
  refusal_reason TEXT    NOT NULL DEFAULT '',
  detail         TEXT    NOT NULL DEFAULT '',
  created_at     BIGINT  NOT NULL,
  updated_at     BIGINT  NOT NULL,
  finished_at    BIGINT,
  bundle_dir     TEXT    NOT NULL DEFAULT '',
  owner          TEXT    NOT NULL DEFAULT '',
  instance_start BIGINT,
  attempt        INTEGER NOT NULL DEFAULT 1,
  token          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX executions_by_workaround ON executions(workaround_id, created_at);
CREATE INDEX executions_by_issue ON executions(issue, created_at);
CREATE INDEX executions_by_created ON executions(created_at);
CREATE INDEX executions_by_fingerprint ON executions(fingerprint, id);
CREATE INDEX executions_unfinished ON executions(state)
  WHERE state IN ('matched', 'diagnosing', 'acting', 'verifying');
CREATE INDEX executions_runs_by_workaround ON executions(workaround_id, id)
  WHERE state != 'refused';
CREATE TABLE steps (
  id           BIGSERIAL PRIMARY KEY,
  execution_id BIGINT  NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
  phase        TEXT    NOT NULL,
  idx          INTEGER NOT NULL,
  kind         TEXT    NOT NULL,
  argv_json    TEXT    NOT NULL,
  outcome      TEXT    NOT NULL,
  exit_code    INTEGER,
  signal       INTEGER NOT NULL DEFAULT 0,
  timed_out    INTEGER NOT NULL DEFAULT 0,
  truncated    INTEGER NOT NULL DEFAULT 0,
  started_at   BIGINT  NOT NULL,
  finished_at  BIGINT  NOT NULL,
  duration_ms  BIGINT  NOT NULL,
  files_json   TEXT    NOT NULL DEFAULT '[]',
  error        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX steps_by_execution ON steps(execution_id);
CREATE TABLE transitions (
  id           BIGSERIAL PRIMARY KEY,
  execution_id BIGINT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
  state        TEXT   NOT NULL,
  at           BIGINT NOT NULL,
  detail       TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX transitions_by_execution ON transitions(execution_id);
CREATE TABLE alerts (
  id               BIGSERIAL PRIMARY KEY,
  received_at      BIGINT NOT NULL,
  source           TEXT   NOT NULL,
  fingerprint      TEXT   NOT NULL DEFAULT '',
  name             TEXT   NOT NULL DEFAULT '',
  status           TEXT   NOT NULL,
  labels_json      TEXT   NOT NULL DEFAULT '{}',
  annotations_json TEXT   NOT NULL DEFAULT '{}',
  disposition      TEXT   NOT NULL,
  execution_id     BIGINT,
  reason           TEXT   NOT NULL DEFAULT '',
  token            TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX alerts_by_received ON alerts(received_at);
CREATE INDEX alerts_resolved_by_fingerprint ON alerts(fingerprint, received_at)
  WHERE status = 'resolved';
CREATE TABLE issue_totals (
  issue          TEXT PRIMARY KEY,
  runs_total     BIGINT NOT NULL DEFAULT 0,
  refusals_total BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE workaround_totals (
  workaround_id  TEXT PRIMARY KEY,
  issue          TEXT   NOT NULL,
  runs_total     BIGINT NOT NULL DEFAULT 0,
  refusals_total BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE tracker_outbox (
  id              BIGSERIAL PRIMARY KEY,
  issue           TEXT    NOT NULL,
  kind            TEXT    NOT NULL,
  payload_json    TEXT    NOT NULL,
  created_at      BIGINT  NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT  NOT NULL,
  done_at         BIGINT,
  last_error      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX tracker_outbox_due ON tracker_outbox(done_at, next_attempt_at);
)sql",
    // 2: several nodes. An unfinished execution carries a lease its node
    // renews; once it lapses another node marks the execution interrupted.
    // A claim is the one row per alert fingerprint + firing window (+ opt-in
    // repeat attempt) that lets exactly one node act: the primary key makes
    // the second insert lose, not a check before it. Singleton leases pick the
    // node that runs cluster-wide housekeeping.
    R"sql(
ALTER TABLE executions ADD COLUMN lease_until BIGINT;
CREATE TABLE claims (
  fingerprint  TEXT    NOT NULL,
  window_key   TEXT    NOT NULL,
  attempt      INTEGER NOT NULL,
  execution_id BIGINT  NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
  PRIMARY KEY (fingerprint, window_key, attempt)
);
CREATE INDEX claims_by_execution ON claims(execution_id);
CREATE TABLE singleton_leases (
  name     TEXT PRIMARY KEY,
  holder   TEXT   NOT NULL,
  until_ms BIGINT NOT NULL
);
)sql",
    // 3: SQLite's migrations 5 and 6, same names. Limits per group
    // (limits.group_by: canonical JSON of the label values, '{}' without)
    // and the end of the degraded time each execution answered; the mode of
    // each execution and, for approve mode, the wait's deadline and the
    // decision with who made it; the storm breaker's latch as events (it is
    // tripped while the newest is a trip). Admission and the latch are made
    // atomic across nodes by advisory locks (docs/ledger-schema.md), not by
    // anything in the schema.
    R"sql(
ALTER TABLE executions ADD COLUMN group_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE executions ADD COLUMN degraded_end BIGINT;
UPDATE executions SET degraded_end = finished_at WHERE state = 'succeeded';
CREATE INDEX executions_runs_by_group ON executions(workaround_id, group_json, id)
  WHERE state != 'refused';
CREATE INDEX executions_open_by_fingerprint ON executions(fingerprint)
  WHERE degraded_end IS NULL;
ALTER TABLE executions ADD COLUMN mode TEXT NOT NULL DEFAULT 'auto';
ALTER TABLE executions ADD COLUMN approval_deadline BIGINT;
ALTER TABLE executions ADD COLUMN approval_decision TEXT NOT NULL DEFAULT '';
ALTER TABLE executions ADD COLUMN approval_by TEXT NOT NULL DEFAULT '';
ALTER TABLE executions ADD COLUMN approval_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE executions ADD COLUMN approval_at BIGINT;
CREATE INDEX executions_awaiting_approval ON executions(id)
  WHERE state = 'awaiting-approval';
CREATE TABLE breaker_events (
  id      BIGSERIAL PRIMARY KEY,
  kind    TEXT   NOT NULL,
  reason  TEXT   NOT NULL DEFAULT '',
  actor   TEXT   NOT NULL DEFAULT '',
  comment TEXT   NOT NULL DEFAULT '',
  at      BIGINT NOT NULL
);
)sql",
    // 4 (pglease; 3 is pgroles' mirror of SQLite's 5 and 6): SQLite's 7,
    // same names. The workaround's `resume:` kept with each execution, and
    // the link from a rerun to the interrupted execution it runs again:
    // unique, so of two nodes that race to rerun it, one inserts and the
    // other's insert does nothing (ON CONFLICT), not a check before it.
    R"sql(
ALTER TABLE executions ADD COLUMN resume TEXT NOT NULL DEFAULT 'escalate';
ALTER TABLE executions ADD COLUMN rerun_of BIGINT;
CREATE UNIQUE INDEX executions_rerun_of ON executions(rerun_of) WHERE rerun_of IS NOT NULL;
CREATE INDEX executions_rerun_candidates ON executions(id)
  WHERE state = 'interrupted' AND resume = 'rerun' AND rerun_of IS NULL;
)sql",
    // 5: SQLite's 8, the same text: the per-alert look-ups read indexes
    // without refused rows, so a refusal storm does not slow every later alert.
    kPerAlertIndexes,
};

}  // namespace stopgap::remedy::internal
