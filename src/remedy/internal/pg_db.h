// A thin libpq wrapper for the PostgreSQL ledger: RAII connections and
// results, statements prepared once per connection (by name), a small pool
// that reconnects with backoff (libpq's multi-host URLs with
// target_session_attrs=read-write find a promoted standby by themselves), and
// errors as Status (a lost connection is kUnavailable, a unique violation
// kAlreadyExists, a lock_timeout kDeadlineExceeded).
//
// Thread safety: PgPool is thread-safe; a PgConn is used by one thread at a
// time (the pool hands each out to one caller).
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace stopgap::remedy::internal {

// A text-format parameter; nullopt is NULL.
using PgParam = std::optional<std::string>;
inline PgParam P(int64_t v) { return std::to_string(v); }
inline PgParam P(std::string_view v) { return std::string(v); }
inline PgParam P(const char* v) { return std::string(v); }
inline PgParam P(const std::string& v) { return v; }
inline PgParam P(const std::optional<int64_t>& v) {
  return v ? PgParam(std::to_string(*v)) : std::nullopt;
}

class PgResult {
 public:
  explicit PgResult(PGresult* r = nullptr) : r_(r) {}
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult& operator=(PgResult&& o) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult() { PQclear(r_); }

  int Rows() const { return r_ ? PQntuples(r_) : 0; }
  int64_t Changes() const;  // rows affected by an INSERT/UPDATE/DELETE
  bool IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::string Text(int row, int col) const;
  int64_t Int(int row, int col) const;
  std::optional<int64_t> OptInt(int row, int col) const;
  const PGresult* raw() const { return r_; }

 private:
  PGresult* r_;
};

class PgConn {
 public:
  PgConn() = default;
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;
  ~PgConn();

  Status Connect(const std::string& conninfo);
  bool Broken() const;
  // Drops the connection (after an error that leaves it unusable for us,
  // e.g. it reached a standby): the pool then opens a new one.
  void Close();
  // A statement with no parameters (DDL, BEGIN, COMMIT, migrations).
  Result<PgResult> Exec(const std::string& sql);
  // `sql` prepared as `name` on first use on this connection, then executed.
  Result<PgResult> Run(const char* name, const std::string& sql,
                       const std::vector<PgParam>& params = {});
  // "host:port" of the server this connection reached (for logs).
  std::string Server() const;

 private:
  Status Error(std::string_view what, const PGresult* r) const;

  PGconn* c_ = nullptr;
  std::set<std::string, std::less<>> prepared_;
};

struct PgPoolOptions {
  int size = 4;
  // How long Acquire keeps reconnecting (with doubling backoff from 50 ms
  // to 2 s) before it gives up with kUnavailable.
  std::chrono::milliseconds connect_for{std::chrono::seconds(30)};
};

class PgPool {
 public:
  // `conninfo`: a libpq URL or key=value string. Never logged as is (it may
  // hold a password); RedactedUrl() is.
  PgPool(std::string conninfo, PgPoolOptions options);
  ~PgPool();

  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConn> c) : pool_(pool), c_(std::move(c)) {}
    Lease(Lease&&) = default;
    ~Lease();
    PgConn* operator->() { return c_.get(); }
    PgConn& operator*() { return *c_; }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConn> c_;
  };
  // A connected connection, reconnecting with backoff as needed.
  Result<Lease> Acquire();
  // Counters for /metrics and tests.
  int64_t reconnects() const;

 private:
  void Release(std::unique_ptr<PgConn> c);

  const std::string conninfo_;
  const PgPoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConn>> idle_;
  int out_ = 0;  // connections handed out
  int64_t connects_ = 0;
};

// The URL with any password replaced by "***", for messages.
std::string RedactedUrl(std::string_view url);
// True for the errors after which a statement may be retried on a new
// connection (the connection or the server went away, or it is read-only
// after a failover).
bool IsConnectionError(const Status& s);
// A ledger URL (postgresql://..., maybe with stopgap's own lease=) as libpq
// conninfo (pg_ledger.cc, beside the parser of those parameters).
Result<std::string> PgConninfo(const std::string& url);

}  // namespace stopgap::remedy::internal
