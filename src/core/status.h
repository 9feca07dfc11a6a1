// Status and Result<T>: errors as values across stopgap's own APIs.
//
// A Status is OK or carries a code and a message a user can act on. A
// Result<T> holds either a T or a non-OK Status. Both are [[nodiscard]]:
// an ignored error is a compile-time warning (and warnings are errors).
//
//   Result<Catalog> c = LoadCatalog(path);
//   if (!c.ok()) return c.status();
//   Use(*c);
//
// Thread safety: values; no shared state.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace stopgap {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input from outside: exit 2, HTTP 400
  kNotFound,            // no such file, id, issue
  kAlreadyExists,       // a name collision that must not be overwritten
  kFailedPrecondition,  // refused by policy (expired, cooldown, ...)
  kPermissionDenied,    // auth failures
  kUnavailable,         // a peer could not be reached; retry may help
  kDeadlineExceeded,    // a timeout
  kResourceExhausted,   // queue full, cap reached
  kDataLoss,            // checksum mismatch, torn record
  kInternal,            // a syscall or library failed unexpectedly
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid-argument: <message>", or "ok".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>".
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
// Internal error from errno: "<what>: <strerror(errno)>".
Status ErrnoStatus(std::string_view what, int err);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // The error; OK when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace stopgap

// Propagates a non-OK Status from an expression returning Status.
#define STOPGAP_RETURN_IF_ERROR(expr) \
  do {                                \
    ::stopgap::Status _st = (expr);   \
    if (!_st.ok()) return _st;        \
  } while (0)
