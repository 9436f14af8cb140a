// SHA-1 (FIPS 180-4 §6.1), one-shot: only for MPTCP v0 (RFC 6824 §3.1), whose token and IDSN
// derive from SHA-1 of the key, so that mptcp_trace can match v0 joins to their connection.
// Not for anything that needs a secure hash.
#ifndef MPTCP_TOOLS_TRACE_SHA1_H_
#define MPTCP_TOOLS_TRACE_SHA1_H_

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mptcp::trace {

using Sha1Digest = std::array<uint8_t, 20>;

inline Sha1Digest Sha1(std::span<const uint8_t> message) {
  uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
  // FIPS 180-4 §5.1.1: a 1 bit, zeros to 56 mod 64 bytes, the bit length big-endian.
  const uint64_t bits = uint64_t{message.size()} * 8;
  const size_t padded = (message.size() + 9 + 63) / 64 * 64;
  auto byte_at = [&](size_t i) -> uint8_t {
    if (i < message.size()) return message[i];
    if (i == message.size()) return 0x80;
    if (i >= padded - 8) return static_cast<uint8_t>(bits >> (8 * (padded - 1 - i)));
    return 0;
  };
  for (size_t block = 0; block < padded; block += 64) {
    uint32_t w[80];
    for (int t = 0; t < 16; ++t) {
      w[t] = uint32_t{byte_at(block + 4 * t)} << 24 | uint32_t{byte_at(block + 4 * t + 1)} << 16 |
             uint32_t{byte_at(block + 4 * t + 2)} << 8 | uint32_t{byte_at(block + 4 * t + 3)};
    }
    for (int t = 16; t < 80; ++t) w[t] = std::rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; ++t) {
      uint32_t f, k;
      if (t < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6;
      }
      const uint32_t tmp = std::rotl(a, 5) + f + e + k + w[t];
      e = d;
      d = c;
      c = std::rotl(b, 30);
      b = a;
      a = tmp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
  }
  Sha1Digest out{};
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<uint8_t>(h[i] >> (24 - 8 * j));
  }
  return out;
}

// RFC 6824 §3.1 (MPTCP v0): the token is the most significant 32 bits of SHA-1(key), the IDSN
// the least significant 64 bits, the key taken in network byte order.
inline Sha1Digest Sha1OfKey(uint64_t key) {
  std::array<uint8_t, 8> be{};
  for (int i = 0; i < 8; ++i) be[i] = static_cast<uint8_t>(key >> (56 - 8 * i));
  return Sha1(be);
}

inline uint32_t V0KeyToken(uint64_t key) {
  const Sha1Digest d = Sha1OfKey(key);
  return uint32_t{d[0]} << 24 | uint32_t{d[1]} << 16 | uint32_t{d[2]} << 8 | d[3];
}

inline uint64_t V0KeyIdsn(uint64_t key) {
  const Sha1Digest d = Sha1OfKey(key);
  uint64_t v = 0;
  for (int i = 12; i < 20; ++i) v = v << 8 | d[i];
  return v;
}

}  // namespace mptcp::trace

#endif  // MPTCP_TOOLS_TRACE_SHA1_H_
