// SYN cookies (RFC 4987 §3.6) for a stateless MP_CAPABLE v1 server: what a SYN-ACK's initial
// sequence number encodes, how the ACK that answers it is checked, and the per-connection
// values (MPTCP key, timestamp offset) a server derives again from the ACK instead of keeping.
//
// RFC 8684 §3.1 makes MPTCP v1 cookie-friendly: the client's third ACK echoes both keys, so
// the server needs no state between its SYN-ACK and that ACK. We derive the server's key from
// a secret, the four-tuple and the cookie, and require the ACK to echo exactly that key: a
// blind attacker must guess 64 bits of key on top of the cookie's MAC. Plain TCP cookies
// (no MP_CAPABLE) rest on the cookie's 18-bit MAC and its 2-minute validity alone, as Linux's
// do on theirs.
#ifndef MPTCP_SYN_COOKIE_H_
#define MPTCP_SYN_COOKIE_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

#include "mptcp/address.h"
#include "mptcp/crypto/hmac.h"
#include "mptcp/time.h"

namespace mptcp {

// What the client's SYN said that its third ACK does not repeat.
struct SynCookieFields {
  uint16_t mss = 536;                      // rounded down to a table entry
  std::optional<uint8_t> window_scale;     // RFC 7323 §2
  bool sack_permitted = false;             // RFC 2018
};

class SynCookies {
 public:
  // Cookie layout, most significant bit first:
  //   5 bits  time slot (64 s each, modulo 32): a cookie is good for the slot it was made in
  //           and the next one, 64 to 128 s
  //   3 bits  MSS index into kMss
  //   4 bits  window scale + 1 (0: none)
  //   1 bit   SACK permitted
  //   1 bit   reserved (0)
  //  18 bits  MAC over the secret, four-tuple, client ISN and the fields above
  static constexpr std::array<uint16_t, 8> kMss = {536, 1200, 1220, 1360, 1400, 1440, 1460, 8960};
  static constexpr int64_t kSlotSeconds = 64;

  explicit SynCookies(const std::array<uint8_t, 32>& secret) : secret_(secret) {}

  // The ISN of a cookie SYN-ACK answering a SYN with sequence number `client_isn`.
  uint32_t Make(Timestamp now, const FourTuple& tuple, uint32_t client_isn,
                const SynCookieFields& f) const {
    uint32_t mss_index = 0;
    for (uint32_t i = 0; i < kMss.size(); ++i) {
      if (kMss[i] <= f.mss) mss_index = i;
    }
    const uint32_t ws = f.window_scale ? (std::min<uint32_t>(*f.window_scale, 14) + 1) : 0;
    const uint64_t slot = Slot(now);
    const uint32_t fields = static_cast<uint32_t>((slot & 31) << 27) | (mss_index << 24) |
                            (ws << 20) | (f.sack_permitted ? 1u << 19 : 0u);
    return fields | Mac(tuple, client_isn, fields, slot);
  }

  // The fields of a valid cookie (`ack` - 1 of the third ACK, whose sequence number is
  // `client_isn` + 1), or nullopt for a forged, mangled or expired one.
  std::optional<SynCookieFields> Check(Timestamp now, const FourTuple& tuple, uint32_t client_isn,
                                       uint32_t cookie) const {
    const uint32_t fields = cookie & ~kMacMask;
    if ((fields & (1u << 18)) != 0) return std::nullopt;
    // The cookie names its slot modulo 32; the MAC covers the whole slot number, so a cookie
    // whose counter has wrapped around is refused too.
    const uint64_t now_slot = Slot(now);
    const uint32_t age = static_cast<uint32_t>((now_slot - (fields >> 27)) & 31);
    if (age > 1 || now_slot < age) return std::nullopt;
    if ((cookie & kMacMask) != Mac(tuple, client_isn, fields, now_slot - age)) return std::nullopt;
    SynCookieFields f;
    f.mss = kMss[(fields >> 24) & 7];
    const uint32_t ws = (fields >> 20) & 15;
    if (ws != 0) f.window_scale = static_cast<uint8_t>(ws - 1);
    f.sack_permitted = (fields & (1u << 19)) != 0;
    return f;
  }

  // The server's MPTCP key for the connection a cookie opens (never 0).
  uint64_t Key(const FourTuple& tuple, uint32_t cookie) const {
    const auto h = Hash('K', tuple, cookie, 0);
    const uint64_t k = Be64(h.data());
    return k == 0 ? 1 : k;
  }

  // The subflow's timestamp offset (RFC 7323 §5.4), the same for the cookie SYN-ACK and the
  // connection the ACK opens, so the echoed TSval times the handshake.
  uint32_t TsOffset(const FourTuple& tuple) const {
    const auto h = Hash('T', tuple, 0, 0);
    return static_cast<uint32_t>(Be64(h.data()));
  }

 private:
  static constexpr uint32_t kMacMask = (1u << 18) - 1;

  static uint64_t Be64(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
    return v;
  }

  static uint64_t Slot(Timestamp now) {
    return static_cast<uint64_t>(std::max<int64_t>(0, now.nanos()) / 1'000'000'000) / kSlotSeconds;
  }

  uint32_t Mac(const FourTuple& tuple, uint32_t client_isn, uint32_t fields, uint64_t slot) const {
    const auto h = Hash('C', tuple, client_isn, (slot << 32) | fields);
    return static_cast<uint32_t>(Be64(h.data()) >> 32) & kMacMask;
  }

  std::array<uint8_t, crypto::kHmacSha256Size> Hash(uint8_t label, const FourTuple& tuple,
                                                    uint32_t a, uint64_t b) const {
    // label, local address (16) and port (2), remote address and port, a, b.
    std::array<uint8_t, 1 + 18 + 18 + 12> m{};
    size_t n = 0;
    m[n++] = label;
    for (const SocketAddress* s : {&tuple.local, &tuple.remote}) {
      // 4 or 16 bytes; zero-padded to 16, so that both families hash the same layout.
      const size_t len = s->ip.is_v4() ? 4 : 16;
      for (size_t i = 0; i < 16; ++i) m[n++] = i < len ? s->ip.data()[i] : 0;
      m[n++] = static_cast<uint8_t>(s->port >> 8);
      m[n++] = static_cast<uint8_t>(s->port);
    }
    for (int i = 0; i < 4; ++i) m[n++] = static_cast<uint8_t>(a >> (24 - 8 * i));
    for (int i = 0; i < 8; ++i) m[n++] = static_cast<uint8_t>(b >> (56 - 8 * i));
    return crypto::HmacSha256(secret_, m);
  }

  std::array<uint8_t, 32> secret_;
};

}  // namespace mptcp

#endif  // MPTCP_SYN_COOKIE_H_
