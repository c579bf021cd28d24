#pragma once
// Errors as values. A fallible function returns Result<T>: either a T or an
// Error{code, message}. The message is for people (logs, status files) and
// names the offending input; the code is for programs (exit codes, retries).

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace scepd {

enum class ErrorCode {
  kInvalidArgument,  // bad input from the user or settings (subject, names, options)
  kParse,            // malformed data from outside (DER, PEM, capability lists)
  kCrypto,           // an OpenSSL operation failed
  kVerify,           // a signature, nonce, transaction ID or key check failed
  kProtocol,         // the server broke the SCEP protocol (wrong type, missing field)
  kHttp,             // the server answered, but not with 200 / the right content
  kNetwork,          // no answer: refused, unresolvable, reset
  kTimeout,          // the server did not answer in time
  kIo,               // a local file could not be read or written
  kUnsupported,      // a feature the peer or this build does not offer
  kInternal,
};

// Stable lower-case name of an error code, for logs and status.json.
const char* ErrorCodeName(ErrorCode code) noexcept;

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

inline Error MakeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

// Returns an Error whose message is `context` followed by the drained OpenSSL
// error queue (which is cleared), e.g. "signing request: ... unsupported".
Error OpenSslError(ErrorCode code, std::string context);

// Clears the OpenSSL error queue; used after an expected, handled failure.
void ClearOpenSslErrors() noexcept;

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(v_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const& { assert(!ok_); return error_; }
  Error&& error() && { assert(!ok_); return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace scepd

// Propagates an error: `SCEPD_TRY(auto x, Foo());` or `SCEPD_TRY_STATUS(Bar());`.
#define SCEPD_CONCAT_INNER(a, b) a##b
#define SCEPD_CONCAT(a, b) SCEPD_CONCAT_INNER(a, b)
#define SCEPD_TRY_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                    \
  if (!tmp.ok()) return std::move(tmp).error(); \
  decl = std::move(tmp).value()
#define SCEPD_TRY(decl, expr) SCEPD_TRY_IMPL(SCEPD_CONCAT(scepd_try_, __LINE__), decl, expr)
#define SCEPD_TRY_STATUS(expr)                           \
  do {                                                   \
    auto scepd_status_ = (expr);                         \
    if (!scepd_status_.ok()) return std::move(scepd_status_).error(); \
  } while (0)
