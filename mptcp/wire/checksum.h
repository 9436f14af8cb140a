// The Internet checksum (RFC 1071) and the three sums built on it: the TCP checksum over the
// IPv4/IPv6 pseudo-header, and the MPTCP DSS checksum (RFC 8684 §3.3.1).
#ifndef MPTCP_WIRE_CHECKSUM_H_
#define MPTCP_WIRE_CHECKSUM_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "mptcp/address.h"
#include "mptcp/wire/bytes.h"

namespace mptcp::wire {

// IP protocol number of TCP (the pseudo-header's PTCL / Next Header field).
inline constexpr uint8_t kIpProtoTcp = 6;

namespace checksum_internal {

// Folds a 64-bit end-around-carry accumulator to 16 bits (ones' complement, not negated).
constexpr uint16_t Fold64(uint64_t s) {
  s = (s >> 32) + (s & 0xffffffffu);  // <= 0x1fffffffe
  s = (s >> 32) + (s & 0xffffffffu);  // <= 0xffffffff
  s = (s >> 16) + (s & 0xffffu);      // <= 0x1fffe
  s = (s >> 16) + (s & 0xffffu);      // <= 0xffff
  return static_cast<uint16_t>(s);
}

constexpr uint16_t Swap16(uint16_t v) { return static_cast<uint16_t>(v << 8 | v >> 8); }

// Ones' complement sum of `data` as big-endian 16-bit words starting at an even offset, an odd
// trailing byte padded on the right with zero (RFC 1071 §1). Sums native-endian 64-bit words
// with end-around carry and swaps once at the end, which RFC 1071 §2(B) shows is equivalent.
inline uint16_t PartialSum(const uint8_t* p, size_t n) {
  uint64_t a = 0, b = 0;  // two chains so the carries of consecutive words overlap
  while (n >= 16) {
    uint64_t w0, w1;
    std::memcpy(&w0, p, 8);
    std::memcpy(&w1, p + 8, 8);
    a += w0;
    a += (a < w0);  // end-around carry; cannot overflow again
    b += w1;
    b += (b < w1);
    p += 16;
    n -= 16;
  }
  if (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    a += w;
    a += (a < w);
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;  // zero tail == right padding in memory order
    std::memcpy(&w, p, n);
    b += w;
    b += (b < w);
  }
  a += b;
  a += (a < b);
  const uint16_t native = Fold64(a);
  if constexpr (std::endian::native == std::endian::little) return Swap16(native);
  return native;
}

}  // namespace checksum_internal

// Accumulates an RFC 1071 ones' complement sum over any sequence of Add calls; the byte stream
// is what counts, so splitting it at odd offsets gives the same result.
class InternetChecksum {
 public:
  constexpr InternetChecksum() = default;

  void Add(std::span<const uint8_t> data) {
    if (data.empty()) return;
    AddPartial(checksum_internal::PartialSum(data.data(), data.size()), (data.size() & 1) != 0);
  }
  // Big-endian helpers: the same as Add() over the value's network-order bytes.
  constexpr void AddU16(uint16_t v) { AddPartial(v, false); }
  constexpr void AddU32(uint32_t v) {
    AddPartial(checksum_internal::Fold64(uint64_t{v >> 16} + (v & 0xffffu)), false);
  }
  constexpr void AddU64(uint64_t v) {
    AddPartial(checksum_internal::Fold64((v >> 48) + ((v >> 32) & 0xffffu) +
                                         ((v >> 16) & 0xffffu) + (v & 0xffffu)),
               false);
  }
  // Appends the bytes summed by `other` (e.g. a payload summed ahead of its pseudo-header).
  constexpr void Add(const InternetChecksum& other) { AddPartial(other.Sum(), other.odd_); }

  // The folded sum, not complemented.
  constexpr uint16_t Sum() const { return checksum_internal::Fold64(sum_); }
  // The value to put on the wire: the ones' complement of the sum (RFC 1071 §1).
  constexpr uint16_t Finish() const { return static_cast<uint16_t>(~Sum()); }
  // True when an odd number of bytes has been added so far.
  constexpr bool odd() const { return odd_; }

  static uint16_t Compute(std::span<const uint8_t> data) {
    InternetChecksum c;
    c.Add(data);
    return c.Finish();
  }

 private:
  // `s` is the sum of a chunk as if it started at an even offset; after an odd number of bytes
  // its bytes land in the other halves of the 16-bit words, i.e. the sum is byte-swapped
  // (RFC 1071 §2(B)).
  constexpr void AddPartial(uint16_t s, bool odd_len) {
    sum_ += odd_ ? checksum_internal::Swap16(s) : s;
    odd_ = odd_ != odd_len;
  }

  uint64_t sum_ = 0;  // each add is < 2^16, so this cannot overflow in practice
  bool odd_ = false;
};

// The sum of the TCP pseudo-header for a segment of `tcp_length` bytes: RFC 9293 §3.1 (IPv4:
// src, dst, zero, PTCL, TCP length) or RFC 8200 §8.1 (IPv6: src, dst, 32-bit upper-layer
// length, 24 zero bits, next header). src and dst should be the same family; if they are not,
// the IPv6 layout is used with the addresses' own sizes.
inline InternetChecksum TcpPseudoHeaderSum(const IpAddress& src, const IpAddress& dst,
                                           size_t tcp_length) {
  InternetChecksum c;
  c.Add(std::span<const uint8_t>(src.data(), src.size()));
  c.Add(std::span<const uint8_t>(dst.data(), dst.size()));
  if (src.is_v4() && dst.is_v4()) {
    c.AddU16(kIpProtoTcp);  // zero byte, PTCL
    c.AddU16(static_cast<uint16_t>(tcp_length));
  } else {
    c.AddU32(static_cast<uint32_t>(tcp_length));
    c.AddU32(kIpProtoTcp);  // 3 zero bytes, next header
  }
  return c;
}

// The TCP checksum over pseudo-header + segment, with the segment's checksum field taken as it
// is: over a segment whose field holds zero this is the value to write; over a correct segment
// it is 0.
inline uint16_t TcpChecksum(const IpAddress& src, const IpAddress& dst,
                            std::span<const uint8_t> tcp_segment) {
  InternetChecksum c = TcpPseudoHeaderSum(src, dst, tcp_segment.size());
  c.Add(tcp_segment);
  return c.Finish();
}

inline bool VerifyTcpChecksum(const IpAddress& src, const IpAddress& dst,
                              std::span<const uint8_t> tcp_segment) {
  return TcpChecksum(src, dst, tcp_segment) == 0;
}

// Offset of the checksum field in the TCP header (RFC 9293 §3.1).
inline constexpr size_t kTcpChecksumOffset = 16;

// Zeroes the segment's checksum field and writes the correct checksum. A segment shorter than
// the 20-byte fixed header is left untouched (there is no valid TCP segment to checksum).
inline void FillTcpChecksum(const IpAddress& src, const IpAddress& dst,
                            std::span<uint8_t> segment) {
  if (segment.size() < 20) return;
  StoreBe16(segment.data() + kTcpChecksumOffset, 0);
  StoreBe16(segment.data() + kTcpChecksumOffset, TcpChecksum(src, dst, segment));
}

// RFC 8684 §3.3.1 (Figure 10): the DSS checksum covers a pseudo-header of the 64-bit DSN, the
// 32-bit relative subflow sequence number, the 16-bit data-level length and 16 zero bits (the
// checksum field), followed by the mapping's payload. The payload may be summed ahead of time
// (it can span several segments), so this variant takes its running sum. A DATA_FIN counts one
// byte in data_level_length (RFC 8684 §3.3.3) but adds no payload.
inline uint16_t DssChecksumFromPayloadSum(uint64_t dsn, uint32_t relative_subflow_seq,
                                          uint16_t data_level_length,
                                          const InternetChecksum& payload_sum) {
  InternetChecksum c;
  c.AddU64(dsn);
  c.AddU32(relative_subflow_seq);
  c.AddU16(data_level_length);
  c.AddU16(0);
  c.Add(payload_sum);
  return c.Finish();
}

inline uint16_t DssChecksum(uint64_t dsn, uint32_t relative_subflow_seq,
                            uint16_t data_level_length, std::span<const uint8_t> payload) {
  InternetChecksum p;
  p.Add(payload);
  return DssChecksumFromPayloadSum(dsn, relative_subflow_seq, data_level_length, p);
}

// Checks a received DSS checksum by summing it in the checksum slot and testing for zero, which
// accepts both ones' complement encodings of a zero sum (0x0000 and 0xffff).
inline bool VerifyDssChecksumFromPayloadSum(uint64_t dsn, uint32_t relative_subflow_seq,
                                           uint16_t data_level_length,
                                           const InternetChecksum& payload_sum,
                                           uint16_t received) {
  InternetChecksum c;
  c.AddU64(dsn);
  c.AddU32(relative_subflow_seq);
  c.AddU16(data_level_length);
  c.AddU16(received);
  c.Add(payload_sum);
  return c.Finish() == 0;
}

inline bool VerifyDssChecksum(uint64_t dsn, uint32_t relative_subflow_seq,
                              uint16_t data_level_length, std::span<const uint8_t> payload,
                              uint16_t received) {
  InternetChecksum p;
  p.Add(payload);
  return VerifyDssChecksumFromPayloadSum(dsn, relative_subflow_seq, data_level_length, p,
                                         received);
}

}  // namespace mptcp::wire

#endif  // MPTCP_WIRE_CHECKSUM_H_
