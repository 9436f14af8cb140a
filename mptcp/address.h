// Addresses: an IPv4 or IPv6 address, a socket address (address + port), and the 4-tuple that
// names a subflow. Plain values with hashing for Abseil containers.
#ifndef MPTCP_ADDRESS_H_
#define MPTCP_ADDRESS_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/strings/str_format.h"

namespace mptcp {

class IpAddress {
 public:
  enum class Family : uint8_t { kV4 = 4, kV6 = 6 };

  constexpr IpAddress() = default;
  static constexpr IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    IpAddress r;
    r.family_ = Family::kV4;
    r.bytes_ = {a, b, c, d};
    return r;
  }
  static IpAddress V4FromBytes(const uint8_t* p) { return V4(p[0], p[1], p[2], p[3]); }
  static IpAddress V6FromBytes(const uint8_t* p) {
    IpAddress r;
    r.family_ = Family::kV6;
    std::memcpy(r.bytes_.data(), p, 16);
    return r;
  }
  // Parses dotted-quad IPv4 or RFC 4291 text IPv6; nullopt on anything else.
  static std::optional<IpAddress> Parse(std::string_view text);

  constexpr Family family() const { return family_; }
  constexpr bool is_v4() const { return family_ == Family::kV4; }
  constexpr bool is_v6() const { return family_ == Family::kV6; }
  // 4 bytes for IPv4, 16 for IPv6.
  constexpr size_t size() const { return is_v4() ? 4 : 16; }
  constexpr const uint8_t* data() const { return bytes_.data(); }
  // IPv4 as a host-order integer (IPv6: 0).
  constexpr uint32_t v4_value() const {
    return is_v4() ? (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) |
                         (uint32_t{bytes_[2]} << 8) | bytes_[3]
                   : 0;
  }

  std::string ToString() const;

  friend constexpr bool operator==(const IpAddress&, const IpAddress&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const IpAddress& a) {
    return H::combine(std::move(h), a.family_, a.bytes_);
  }

 private:
  Family family_ = Family::kV4;
  std::array<uint8_t, 16> bytes_{};  // unused tail is zero for IPv4
};

struct SocketAddress {
  IpAddress ip;
  uint16_t port = 0;

  std::string ToString() const {
    return ip.is_v6() ? absl::StrFormat("[%s]:%u", ip.ToString(), port)
                      : absl::StrFormat("%s:%u", ip.ToString(), port);
  }
  friend constexpr bool operator==(const SocketAddress&, const SocketAddress&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const SocketAddress& a) {
    return H::combine(std::move(h), a.ip, a.port);
  }
};

// A subflow's name as seen from this host.
struct FourTuple {
  SocketAddress local;
  SocketAddress remote;

  FourTuple Reversed() const { return {remote, local}; }
  std::string ToString() const { return local.ToString() + " <-> " + remote.ToString(); }
  friend constexpr bool operator==(const FourTuple&, const FourTuple&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const FourTuple& t) {
    return H::combine(std::move(h), t.local, t.remote);
  }
};

inline std::ostream& operator<<(std::ostream& os, const IpAddress& a) { return os << a.ToString(); }
inline std::ostream& operator<<(std::ostream& os, const SocketAddress& a) {
  return os << a.ToString();
}
inline std::ostream& operator<<(std::ostream& os, const FourTuple& t) { return os << t.ToString(); }

// --- implementation ---

inline std::string IpAddress::ToString() const {
  if (is_v4()) return absl::StrFormat("%u.%u.%u.%u", bytes_[0], bytes_[1], bytes_[2], bytes_[3]);
  // RFC 5952: lower-case hex, longest run (>= 2) of zero groups compressed to "::".
  uint16_t g[8];
  for (int i = 0; i < 8; ++i) g[i] = static_cast<uint16_t>(bytes_[2 * i] << 8 | bytes_[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) { ++i; continue; }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) { best = i; best_len = j - i; }
    i = j;
  }
  std::string s;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      s += "::";
      i += best_len - 1;
      continue;
    }
    if (!s.empty() && s.back() != ':') s += ':';
    absl::StrAppendFormat(&s, "%x", g[i]);
  }
  return s;
}

inline std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.find(':') == std::string_view::npos) {
    uint8_t b[4];
    int part = 0;
    size_t i = 0;
    while (part < 4) {
      if (i >= text.size() || text[i] < '0' || text[i] > '9') return std::nullopt;
      unsigned v = 0;
      size_t digits = 0;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        v = v * 10 + static_cast<unsigned>(text[i] - '0');
        if (++digits > 3 || v > 255) return std::nullopt;
        ++i;
      }
      b[part++] = static_cast<uint8_t>(v);
      if (part < 4) {
        if (i >= text.size() || text[i] != '.') return std::nullopt;
        ++i;
      }
    }
    if (i != text.size()) return std::nullopt;
    return V4(b[0], b[1], b[2], b[3]);
  }
  // IPv6: groups of up to 4 hex digits, at most one "::".
  uint16_t head[8], tail[8];
  int nhead = 0, ntail = 0;
  bool seen_gap = false;
  size_t i = 0;
  if (text.substr(0, 2) == "::") {
    seen_gap = true;
    i = 2;
  } else if (!text.empty() && text[0] == ':') {
    return std::nullopt;
  }
  while (i < text.size()) {
    unsigned v = 0;
    size_t digits = 0;
    while (i < text.size() && digits < 5) {
      const char c = text[i];
      int d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else break;
      v = v * 16 + static_cast<unsigned>(d);
      ++digits;
      ++i;
    }
    if (digits == 0 || digits > 4) return std::nullopt;
    if (nhead + ntail >= 8) return std::nullopt;
    (seen_gap ? tail[ntail++] : head[nhead++]) = static_cast<uint16_t>(v);
    if (i == text.size()) break;
    if (text[i] != ':') return std::nullopt;
    ++i;
    if (i < text.size() && text[i] == ':') {
      if (seen_gap) return std::nullopt;
      seen_gap = true;
      ++i;
    } else if (i == text.size()) {
      return std::nullopt;  // trailing single ':'
    }
  }
  if (!seen_gap && nhead != 8) return std::nullopt;
  if (seen_gap && nhead + ntail > 7) return std::nullopt;
  uint8_t b[16] = {};
  for (int k = 0; k < nhead; ++k) {
    b[2 * k] = static_cast<uint8_t>(head[k] >> 8);
    b[2 * k + 1] = static_cast<uint8_t>(head[k]);
  }
  for (int k = 0; k < ntail; ++k) {
    const int pos = 8 - ntail + k;
    b[2 * pos] = static_cast<uint8_t>(tail[k] >> 8);
    b[2 * pos + 1] = static_cast<uint8_t>(tail[k]);
  }
  return V6FromBytes(b);
}

}  // namespace mptcp

#endif  // MPTCP_ADDRESS_H_
