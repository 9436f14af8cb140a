// Sequence-number arithmetic: 32-bit TCP sequence numbers compared modulo 2^32 (RFC 9293 §3.4),
// and 64-bit MPTCP data sequence numbers with the 32→64 expansion of RFC 8684 §3.3.1.
#ifndef MPTCP_SEQ_H_
#define MPTCP_SEQ_H_

#include <cstdint>
#include <ostream>

namespace mptcp {

// A TCP sequence number. Ordering is defined only for numbers less than 2^31 apart, as in
// RFC 9293 §3.4; `<` etc. use the signed difference so they survive wrap-around.
class SeqNum32 {
 public:
  constexpr SeqNum32() = default;
  constexpr explicit SeqNum32(uint32_t v) : v_(v) {}
  constexpr uint32_t value() const { return v_; }

  constexpr SeqNum32 operator+(uint32_t n) const { return SeqNum32(v_ + n); }
  constexpr SeqNum32 operator-(uint32_t n) const { return SeqNum32(v_ - n); }
  constexpr SeqNum32& operator+=(uint32_t n) { v_ += n; return *this; }
  // Signed distance this - o, valid when |distance| < 2^31.
  constexpr int32_t operator-(SeqNum32 o) const { return static_cast<int32_t>(v_ - o.v_); }

  constexpr bool operator==(const SeqNum32&) const = default;
  constexpr bool operator<(SeqNum32 o) const { return (*this - o) < 0; }
  constexpr bool operator<=(SeqNum32 o) const { return (*this - o) <= 0; }
  constexpr bool operator>(SeqNum32 o) const { return (*this - o) > 0; }
  constexpr bool operator>=(SeqNum32 o) const { return (*this - o) >= 0; }

 private:
  uint32_t v_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, SeqNum32 s) { return os << s.value(); }

constexpr SeqNum32 SeqMax(SeqNum32 a, SeqNum32 b) { return a < b ? b : a; }
constexpr SeqNum32 SeqMin(SeqNum32 a, SeqNum32 b) { return a < b ? a : b; }
// a <= x < b, modulo 2^32.
constexpr bool SeqInRange(SeqNum32 x, SeqNum32 a, SeqNum32 b) { return a <= x && x < b; }

// A 64-bit data sequence number (RFC 8684 §3.3). It does not wrap in practice, so plain
// integer ordering applies.
using Dsn64 = uint64_t;

// Expands a 32-bit DSN (or DATA_ACK) carried on the wire to the 64-bit value nearest `ref`,
// the receiver's current 64-bit position. RFC 8684 §3.3.1: "the 32-bit value ... represents
// the low 32 bits of the 64-bit DSN"; the high bits are inferred from the current state, and
// the candidate within 2^31 of the reference is chosen.
constexpr Dsn64 ExpandDsn32(uint32_t low, Dsn64 ref) {
  const int32_t diff = static_cast<int32_t>(low - static_cast<uint32_t>(ref));
  if (diff < 0 && static_cast<uint64_t>(-static_cast<int64_t>(diff)) > ref) {
    return ref + static_cast<uint32_t>(diff);  // no earlier wrap exists: take the later one
  }
  return ref + static_cast<uint64_t>(static_cast<int64_t>(diff));
}

}  // namespace mptcp

#endif  // MPTCP_SEQ_H_
