//===- Status.h - Errors as values ------------------------------*- C++ -*-===//
//
// Every fallible runtime and kernel call returns a Status (or a StatusOr<T>)
// carrying a code and a message that names the cause. Header-only so that
// kernels/ can use it without linking the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_RUNTIME_STATUS_H
#define MIMO_RUNTIME_STATUS_H

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace mimo::rt {

enum class StatusCode {
  Ok = 0,
  InvalidArgument,    ///< a bad value from the user (flag, file, shape)
  NotFound,           ///< a file or key that does not exist
  OutOfMemory,        ///< an allocation that did not fit
  IoError,            ///< the file system said no
  DataLoss,           ///< a truncated or corrupted file
  FailedPrecondition, ///< called in the wrong state
  Unavailable,        ///< a backend not built in or not present (no GPU)
  Aborted,            ///< another rank failed
  Internal,           ///< a broken invariant
};

const char *statusCodeName(StatusCode code);

class [[nodiscard]] Status {
public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status success() { return Status(); }

  bool ok() const { return code_ == StatusCode::Ok; }
  explicit operator bool() const { return ok(); }
  StatusCode code() const { return code_; }
  const std::string &message() const { return message_; }

  /// "<code>: <message>", or "ok".
  std::string toString() const;

  /// Prefixes context to the message ("loading checkpoint: ...").
  Status withContext(const std::string &context) const {
    if (ok())
      return *this;
    return Status(code_, context + ": " + message_);
  }

private:
  StatusCode code_ = StatusCode::Ok;
  std::string message_;
};

inline Status invalidArgument(std::string m) {
  return Status(StatusCode::InvalidArgument, std::move(m));
}
inline Status notFound(std::string m) {
  return Status(StatusCode::NotFound, std::move(m));
}
inline Status outOfMemory(std::string m) {
  return Status(StatusCode::OutOfMemory, std::move(m));
}
inline Status ioError(std::string m) {
  return Status(StatusCode::IoError, std::move(m));
}
inline Status dataLoss(std::string m) {
  return Status(StatusCode::DataLoss, std::move(m));
}
inline Status failedPrecondition(std::string m) {
  return Status(StatusCode::FailedPrecondition, std::move(m));
}
inline Status unavailable(std::string m) {
  return Status(StatusCode::Unavailable, std::move(m));
}
inline Status aborted(std::string m) {
  return Status(StatusCode::Aborted, std::move(m));
}
inline Status internalError(std::string m) {
  return Status(StatusCode::Internal, std::move(m));
}

inline const char *statusCodeName(StatusCode code) {
  switch (code) {
  case StatusCode::Ok:
    return "ok";
  case StatusCode::InvalidArgument:
    return "invalid argument";
  case StatusCode::NotFound:
    return "not found";
  case StatusCode::OutOfMemory:
    return "out of memory";
  case StatusCode::IoError:
    return "i/o error";
  case StatusCode::DataLoss:
    return "data loss";
  case StatusCode::FailedPrecondition:
    return "failed precondition";
  case StatusCode::Unavailable:
    return "unavailable";
  case StatusCode::Aborted:
    return "aborted";
  case StatusCode::Internal:
    return "internal error";
  }
  return "unknown";
}

inline std::string Status::toString() const {
  if (ok())
    return "ok";
  return std::string(statusCodeName(code_)) + ": " + message_;
}

/// A value or the Status that explains why there is none.
template <typename T> class [[nodiscard]] StatusOr {
public:
  StatusOr(T value) : value_(std::move(value)) {}
  StatusOr(Status status) : status_(std::move(status)) {
    assert(!status_.ok() && "StatusOr built from an ok Status without value");
  }

  bool ok() const { return status_.ok(); }
  const Status &status() const { return status_; }
  T &value() & { return *value_; }
  const T &value() const & { return *value_; }
  T &&value() && { return std::move(*value_); }
  T *operator->() { return &*value_; }
  const T *operator->() const { return &*value_; }
  T &operator*() & { return *value_; }
  const T &operator*() const & { return *value_; }

private:
  Status status_;
  std::optional<T> value_;
};

} // namespace mimo::rt

#define MIMO_RT_CONCAT_INNER(a, b) a##b
#define MIMO_RT_CONCAT(a, b) MIMO_RT_CONCAT_INNER(a, b)

/// Returns the Status of `expr` from the enclosing function if it failed.
#define MIMO_RETURN_IF_ERROR(expr)                                             \
  do {                                                                         \
    ::mimo::rt::Status mimo_status_ = (expr);                                  \
    if (!mimo_status_.ok())                                                    \
      return mimo_status_;                                                     \
  } while (0)

/// `MIMO_ASSIGN_OR_RETURN(auto x, makeX());`
#define MIMO_ASSIGN_OR_RETURN(lhs, expr)                                       \
  MIMO_ASSIGN_OR_RETURN_IMPL(MIMO_RT_CONCAT(mimo_statusor_, __LINE__), lhs,    \
                             expr)
#define MIMO_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)                             \
  auto tmp = (expr);                                                           \
  if (!tmp.ok())                                                               \
    return tmp.status();                                                       \
  lhs = std::move(tmp).value()

#endif // MIMO_RUNTIME_STATUS_H
