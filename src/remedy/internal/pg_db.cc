// libpq wrapper (see pg_db.h): connections, prepared statements, the pool
// and its reconnect backoff. Thread safety: as in pg_db.h.
#include "remedy/internal/pg_db.h"

#include <charconv>
#include <thread>

#include "core/log.h"

namespace stopgap::remedy::internal {

PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

int64_t PgResult::Changes() const {
  const char* n = r_ ? PQcmdTuples(r_) : "";
  int64_t v = 0;
  std::from_chars(n, n + std::char_traits<char>::length(n), v);
  return v;
}

std::string PgResult::Text(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
}

int64_t PgResult::Int(int row, int col) const {
  const char* s = PQgetvalue(r_, row, col);
  int64_t v = 0;
  std::from_chars(s, s + PQgetlength(r_, row, col), v);
  return v;
}

std::optional<int64_t> PgResult::OptInt(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Int(row, col);
}

PgConn::~PgConn() {
  if (c_) PQfinish(c_);
}

Status PgConn::Connect(const std::string& conninfo) {
  if (c_) PQfinish(c_);
  prepared_.clear();
  c_ = PQconnectdb(conninfo.c_str());
  if (!c_) return Unavailable("postgresql: out of memory");
  if (PQstatus(c_) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Unavailable("postgresql connect: " + msg);
  }
  return Status::Ok();
}

void PgConn::Close() {
  if (c_) PQfinish(c_);
  c_ = nullptr;
  prepared_.clear();
}

bool PgConn::Broken() const { return !c_ || PQstatus(c_) != CONNECTION_OK; }

std::string PgConn::Server() const {
  if (!c_) return "";
  return std::string(PQhost(c_)) + ":" + PQport(c_);
}

Status PgConn::Error(std::string_view what, const PGresult* r) const {
  std::string msg = r ? PQresultErrorMessage(r) : (c_ ? PQerrorMessage(c_) : "no connection");
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state ? state : "";
  std::string full = "postgresql " + std::string(what) + ": " + msg;
  if (Broken() || sqlstate.starts_with("08") || sqlstate.starts_with("57P") ||
      sqlstate == "25006" /* read-only transaction: we reached a standby */) {
    return Unavailable(full);
  }
  if (sqlstate == "23505") return AlreadyExists(full);
  if (sqlstate == "55P03") return DeadlineExceeded(full);  // lock_timeout: not retried here
  if (sqlstate == "40001" || sqlstate == "40P01") return Unavailable(full);  // retry may help
  return Internal(full);
}

namespace {
bool Succeeded(const PgResult& r) {
  ExecStatusType st = PQresultStatus(r.raw());
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}
}  // namespace

Result<PgResult> PgConn::Exec(const std::string& sql) {
  if (!c_) return Unavailable("postgresql: not connected");
  PgResult r(PQexec(c_, sql.c_str()));
  if (!Succeeded(r)) return Error("exec", r.raw());
  return r;
}

Result<PgResult> PgConn::Run(const char* name, const std::string& sql,
                             const std::vector<PgParam>& params) {
  if (!c_) return Unavailable("postgresql: not connected");
  if (!prepared_.contains(std::string_view(name))) {
    PgResult p(PQprepare(c_, name, sql.c_str(), 0, nullptr));
    if (!Succeeded(p)) return Error(std::string("prepare ") + name, p.raw());
    prepared_.emplace(name);
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const PgParam& v : params) values.push_back(v ? v->c_str() : nullptr);
  PgResult r(PQexecPrepared(c_, name, static_cast<int>(values.size()), values.data(), nullptr,
                            nullptr, 0));
  if (!Succeeded(r)) return Error(name, r.raw());
  return r;
}

PgPool::PgPool(std::string conninfo, PgPoolOptions options)
    : conninfo_(std::move(conninfo)), options_(options) {}

PgPool::~PgPool() = default;

PgPool::Lease::~Lease() {
  if (pool_ && c_) pool_->Release(std::move(c_));
}

void PgPool::Release(std::unique_ptr<PgConn> c) {
  std::lock_guard lock(mu_);
  --out_;
  // A broken connection is dropped: the next Acquire opens a new one.
  if (!c->Broken()) idle_.push_back(std::move(c));
  cv_.notify_one();
}

int64_t PgPool::reconnects() const {
  std::lock_guard lock(mu_);
  return connects_ > 0 ? connects_ - 1 : 0;
}

Result<PgPool::Lease> PgPool::Acquire() {
  {
    std::unique_lock lock(mu_);
    // At most `size` connections: wait for one to come back.
    if (!cv_.wait_for(lock, options_.connect_for,
                      [&] { return !idle_.empty() || out_ < options_.size; })) {
      return Unavailable("postgresql: no free connection in the pool");
    }
    ++out_;
    if (!idle_.empty()) {
      std::unique_ptr<PgConn> c = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(c));
    }
  }
  auto c = std::make_unique<PgConn>();
  const auto deadline = std::chrono::steady_clock::now() + options_.connect_for;
  std::chrono::milliseconds backoff{50};
  for (int attempt = 1;; ++attempt) {
    Status st = c->Connect(conninfo_);
    if (st.ok()) {
      std::lock_guard lock(mu_);
      ++connects_;
      break;
    }
    if (std::chrono::steady_clock::now() + backoff > deadline) {
      std::lock_guard lock(mu_);
      --out_;
      cv_.notify_one();
      return st.WithContext(RedactedUrl(conninfo_));
    }
    if (attempt == 1 || attempt % 10 == 0) {
      Log(LogLevel::kWarn, "ledger database unreachable, retrying",
          {{"ledger", RedactedUrl(conninfo_)}, {"error", st.message()}});
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
  return Lease(this, std::move(c));
}

std::string RedactedUrl(std::string_view url) {
  // scheme://user:password@host...: hide what is between ':' and '@' in the authority.
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  size_t start = scheme + 3;
  size_t at = url.find('@', start);
  size_t slash = url.find('/', start);
  if (at == std::string_view::npos || (slash != std::string_view::npos && at > slash))
    return std::string(url);
  size_t colon = url.find(':', start);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

bool IsConnectionError(const Status& s) { return s.code() == StatusCode::kUnavailable; }

}  // namespace stopgap::remedy::internal
