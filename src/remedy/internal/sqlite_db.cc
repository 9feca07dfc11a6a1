// SqliteDb, Stmt, Transaction; see sqlite_db.h.
#include "remedy/internal/sqlite_db.h"

namespace stopgap::remedy::internal {

Stmt::~Stmt() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

Stmt& Stmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}

Stmt& Stmt::Bind(int i, std::string_view v) {
  // A default string_view has data() == nullptr, which SQLite would bind as NULL.
  sqlite3_bind_text(s_, i, v.data() ? v.data() : "", static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::Bind(int i, const std::optional<int64_t>& v) {
  if (v) return Bind(i, *v);
  return BindNull(i);
}

Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error("sqlite step");
}

Status Stmt::Run() {
  for (;;) {
    Result<bool> r = Step();
    if (!r.ok()) return r.status();
    if (!*r) return Status::Ok();
  }
}

std::optional<int64_t> Stmt::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}

std::string Stmt::Text(int col) const {
  const unsigned char* t = sqlite3_column_text(s_, col);
  if (!t) return {};
  return std::string(reinterpret_cast<const char*>(t),
                     static_cast<size_t>(sqlite3_column_bytes(s_, col)));
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, s] : cache_) sqlite3_finalize(s);
  if (db_) sqlite3_close(db_);
}

Status SqliteDb::Open(const std::string& path, bool read_only) {
  int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status st = Error("open " + path);
    sqlite3_close(db_);
    db_ = nullptr;
    return st;
  }
  sqlite3_extended_result_codes(db_, 1);
  return Status::Ok();
}

Status SqliteDb::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = std::string("sqlite: ") + (err ? err : sqlite3_errstr(rc));
  sqlite3_free(err);
  return Classify(db_ ? sqlite3_extended_errcode(db_) : rc, std::move(msg));
}

Status SqliteDb::Classify(int code, std::string msg) const {
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Unavailable(std::move(msg));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLoss(std::move(msg));
    case SQLITE_FULL:
      return ResourceExhausted(msg + " (the ledger's filesystem is full)");
    case SQLITE_IOERR: {
      Status st = Internal(std::move(msg));
      if (on_io_error_) on_io_error_(st);
      return st;
    }
    default:
      return Internal(std::move(msg));
  }
}

void SqliteDb::CheckpointEvery(int frames) {
  checkpoint_frames_ = frames;
  sqlite3_wal_hook(db_, &SqliteDb::WalHook, this);
}

// Runs inside the COMMIT that grew the WAL (on its thread). The commit has
// succeeded whatever the checkpoint does; a failed checkpoint fsync is
// reported (latched by the ledger) instead of being retried by the next one.
int SqliteDb::WalHook(void* self, sqlite3* db, const char* name, int frames) {
  auto* d = static_cast<SqliteDb*>(self);
  if (frames < d->checkpoint_frames_) return SQLITE_OK;
  int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if ((rc & 0xff) == SQLITE_IOERR) {
    (void)d->Classify(sqlite3_extended_errcode(db),
                      std::string("ledger checkpoint: ") + sqlite3_errmsg(db));
  }
  return SQLITE_OK;
}

Result<sqlite3_stmt*> SqliteDb::Prepare(const char* sql) {
  auto it = cache_.find(std::string_view(sql));
  if (it != cache_.end()) return it->second;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) return Error("prepare");
  cache_.emplace(sql, s);
  return s;
}

Status SqliteDb::Error(std::string_view what) const {
  int code = db_ ? sqlite3_extended_errcode(db_) : SQLITE_ERROR;
  std::string msg = std::string(what) + ": " + (db_ ? sqlite3_errmsg(db_) : "no database");
  return Classify(code, std::move(msg));
}

Transaction::~Transaction() {
  if (open_) (void)db_.Exec("ROLLBACK");
}

Status Transaction::Begin() {
  STOPGAP_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE"));
  open_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  Status st = db_.Exec("COMMIT");
  if (st.ok()) open_ = false;
  return st;
}

}  // namespace stopgap::remedy::internal
