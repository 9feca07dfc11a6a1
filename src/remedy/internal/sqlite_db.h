// A thin SQLite wrapper for the ledger: one connection, cached prepared
// statements, typed binds and columns, errors as Status, transactions as RAII.
//
// Thread safety: none; the owner (SqliteLedger) serialises access.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace stopgap::remedy::internal {

class SqliteDb;

// A cached statement in use; reset and unbound when it goes out of scope.
class Stmt {
 public:
  Stmt(SqliteDb* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, std::string_view v);
  Stmt& Bind(int i, const std::optional<int64_t>& v);
  Stmt& BindNull(int i);

  // True on a row, false when done; an error otherwise.
  Result<bool> Step();
  // Runs to completion (for writes).
  Status Run();

  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  int Type(int col) const { return sqlite3_column_type(s_, col); }  // SQLITE_INTEGER, ...
  std::optional<int64_t> OptInt(int col) const;
  std::string Text(int col) const;

 private:
  SqliteDb* db_;
  sqlite3_stmt* s_;
};

class SqliteDb {
 public:
  SqliteDb() = default;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  Status Open(const std::string& path, bool read_only = false);
  Status Exec(const char* sql);
  // Prepared once per distinct SQL text, then reused.
  Result<sqlite3_stmt*> Prepare(const char* sql);
  Status Error(std::string_view what) const;
  // Called (on the failing thread) with every SQLITE_IOERR* error: the
  // ledger latches it (a failed write or fsync is never retried). SQLITE_FULL
  // (disk full) comes back as kResourceExhausted and is not reported here.
  void OnIoError(std::function<void(const Status&)> f) { on_io_error_ = std::move(f); }
  // Replaces SQLite's automatic checkpoint (which ignores its own errors, a
  // failed fsync of the database file included) by the same PASSIVE
  // checkpoint once the WAL holds `frames` frames, whose SQLITE_IOERR* goes
  // to OnIoError like any other. For a read-write WAL connection.
  void CheckpointEvery(int frames);
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int64_t Changes() const { return sqlite3_changes(db_); }
  sqlite3* raw() const { return db_; }

 private:
  Status Classify(int code, std::string msg) const;
  static int WalHook(void* self, sqlite3* db, const char* name, int frames);

  sqlite3* db_ = nullptr;
  std::function<void(const Status&)> on_io_error_;
  int checkpoint_frames_ = 0;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(SqliteDb& db) : db_(db) {}
  ~Transaction();
  Status Begin();
  Status Commit();

 private:
  SqliteDb& db_;
  bool open_ = false;
};

// Shorthand: prepare `sql` into `name` or return its error.
#define STOPGAP_SQL(name, db, sql)                    \
  auto name##_prep = (db).Prepare(sql);               \
  if (!name##_prep.ok()) return name##_prep.status(); \
  ::stopgap::remedy::internal::Stmt name(&(db), *name##_prep)

}  // namespace stopgap::remedy::internal
