// The typed error every parser in mptcp/wire returns, and `WireResult<T>`, a value or that
// error. Errors are plain values (no allocation) because parsers run on every packet; they say
// what was wrong and where (option kind, MPTCP subtype, length) and convert to absl::Status at
// the API boundary.
#ifndef MPTCP_WIRE_WIRE_ERROR_H_
#define MPTCP_WIRE_WIRE_ERROR_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace mptcp::wire {

enum class WireErrorCode : uint8_t {
  kTruncated,          // fewer bytes than the header or field needs
  kBadHeaderLength,    // IHL / data offset / payload length inconsistent with the buffer
  kBadVersion,         // IP version, or an MPTCP version with no layout for this length
  kBadOptionLength,    // a TCP option whose length byte is < 2 or runs past the option space
  kBadMptcpLength,     // an MPTCP subtype at a length the RFC does not define for it
  kUnknownSubtype,     // an MPTCP subtype this codec has no layout for
  kBadChecksum,        // the TCP (or DSS) checksum does not verify
  kBufferTooSmall,     // emit: the caller's buffer is shorter than the encoding
  kInvalidField,       // emit or parse: a field value that cannot be encoded (e.g. 0 IDs)
};

constexpr const char* WireErrorCodeName(WireErrorCode c) {
  switch (c) {
    case WireErrorCode::kTruncated: return "truncated";
    case WireErrorCode::kBadHeaderLength: return "bad header length";
    case WireErrorCode::kBadVersion: return "bad version";
    case WireErrorCode::kBadOptionLength: return "bad option length";
    case WireErrorCode::kBadMptcpLength: return "bad MPTCP option length";
    case WireErrorCode::kUnknownSubtype: return "unknown MPTCP subtype";
    case WireErrorCode::kBadChecksum: return "bad checksum";
    case WireErrorCode::kBufferTooSmall: return "buffer too small";
    case WireErrorCode::kInvalidField: return "invalid field";
  }
  return "?";
}

struct WireError {
  static constexpr uint8_t kNoSubtype = 0xff;

  WireErrorCode code = WireErrorCode::kTruncated;
  uint8_t option_kind = 0;          // TCP option kind, 0 when not about an option
  uint8_t subtype = kNoSubtype;     // MPTCP subtype when option_kind == 30
  uint16_t length = 0;              // the offending length (option length, buffer size, ...)

  friend bool operator==(const WireError&, const WireError&) = default;

  std::string ToString() const {
    std::string s = WireErrorCodeName(code);
    if (option_kind != 0) absl::StrAppendFormat(&s, " (option kind %u", option_kind);
    if (subtype != kNoSubtype) absl::StrAppendFormat(&s, ", MPTCP subtype %u", subtype);
    if (option_kind != 0) s += ")";
    absl::StrAppendFormat(&s, " at length %u", length);
    return s;
  }
  absl::Status ToStatus() const {
    return code == WireErrorCode::kBufferTooSmall ? absl::ResourceExhaustedError(ToString())
                                                  : absl::InvalidArgumentError(ToString());
  }
};

inline std::ostream& operator<<(std::ostream& os, const WireError& e) {
  return os << e.ToString();
}

// A parsed value or the error that stopped the parse.
template <typename T>
class [[nodiscard]] WireResult {
 public:
  WireResult(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  WireResult(WireError error) : v_(error) {}             // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  const WireError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, WireError> v_;
};

}  // namespace mptcp::wire

#endif  // MPTCP_WIRE_WIRE_ERROR_H_
