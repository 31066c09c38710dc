// Errors as values: Status for operations without a value, Result<T> for those with one.
//
// Every error carries a machine-readable code (a stable snake_case string that the HTTP layer
// places in {"error":{"code":…}}), a human message, and optionally the name of the input field
// it concerns. Exceptions never cross a module boundary; adapters convert them into these.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace zengen {

// Broad classes of failure. The HTTP layer maps each to a status code (http/errors.cc).
enum class ErrorKind {
  kInvalidArgument,    // the caller sent something malformed or out of range (400)
  kUnauthenticated,    // no or bad credentials (401)
  kPermissionDenied,   // authenticated but not allowed (403)
  kNotFound,           // no such thing (404)
  kMethodNotAllowed,   // the resource exists but not with this method (405)
  kConflict,           // state does not allow it, or duplicate (409)
  kTooLarge,           // input exceeds a hard limit (413)
  kUnsupportedMediaType,  // body in a format the route does not take (415)
  kHeaderTooLarge,     // request line and headers exceed the limit (431)
  kTooManyRequests,    // locked out or rate-limited for now; retry later (429)
  kUnavailable,        // a dependency (database, storage) is down; retry later (503)
  kInternal,           // a bug or an unexpected environment failure (500)
};

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string code;     // stable identifier, e.g. "invalid_json"
  std::string message;  // for people; English
  std::string field;    // the offending input field, empty when none applies
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error e) : error_(std::move(e)) {}  // NOLINT: implicit by design

  static Status Ok() { return {}; }
  bool ok() const { return !error_.has_value(); }
  // REQUIRES: !ok()
  const Error& error() const {
    assert(error_);
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error e) : v_(std::move(e)) {}      // NOLINT: implicit by design
  Result(Status s) : v_(s.error()) {}        // REQUIRES: !s.ok()

  bool ok() const { return std::holds_alternative<T>(v_); }
  // REQUIRES: ok()
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  // REQUIRES: !ok()
  const Error& error() const { return std::get<Error>(v_); }
  Status status() const { return ok() ? Status::Ok() : Status(error()); }

 private:
  std::variant<T, Error> v_;
};

inline Error InvalidArgument(std::string code, std::string message, std::string field = {}) {
  return {ErrorKind::kInvalidArgument, std::move(code), std::move(message), std::move(field)};
}
inline Error NotFound(std::string code, std::string message) {
  return {ErrorKind::kNotFound, std::move(code), std::move(message), {}};
}
inline Error Conflict(std::string code, std::string message, std::string field = {}) {
  return {ErrorKind::kConflict, std::move(code), std::move(message), std::move(field)};
}
inline Error Unavailable(std::string code, std::string message) {
  return {ErrorKind::kUnavailable, std::move(code), std::move(message), {}};
}
inline Error Internal(std::string code, std::string message) {
  return {ErrorKind::kInternal, std::move(code), std::move(message), {}};
}
inline Error PermissionDenied(std::string code, std::string message) {
  return {ErrorKind::kPermissionDenied, std::move(code), std::move(message), {}};
}
inline Error Unauthenticated(std::string code, std::string message) {
  return {ErrorKind::kUnauthenticated, std::move(code), std::move(message), {}};
}

}  // namespace zengen

// Propagates a failed Status/Result out of the enclosing function.
#define ZG_RETURN_IF_ERROR(expr)            \
  do {                                      \
    auto zg_status_ = (expr);               \
    if (!zg_status_.ok()) return zg_status_.error(); \
  } while (0)

#define ZG_CONCAT_INNER_(a, b) a##b
#define ZG_CONCAT_(a, b) ZG_CONCAT_INNER_(a, b)
// Evaluates a Result-returning expression; on error returns the error from the enclosing
// function, otherwise moves the value into lhs (a declaration or an lvalue).
#define ZG_ASSIGN_OR_RETURN(lhs, expr) \
  ZG_ASSIGN_OR_RETURN_IMPL_(ZG_CONCAT_(zg_result_, __LINE__), lhs, expr)
#define ZG_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.error();              \
  lhs = std::move(tmp).value()
