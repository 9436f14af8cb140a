// The TCP header (RFC 9293 §3.1): a checked view over a received segment, and TcpRepr, the
// parsed segment the subflow engine consumes and emits.
#ifndef MPTCP_WIRE_TCP_H_
#define MPTCP_WIRE_TCP_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <span>
#include <string>

#include "absl/strings/str_format.h"
#include "mptcp/address.h"
#include "mptcp/seq.h"
#include "mptcp/wire/bytes.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/tcp_options.h"
#include "mptcp/wire/wire_error.h"

namespace mptcp::wire {

// The control bits in byte 13 of the header (RFC 9293 §3.1, RFC 3168 §6.1 for ECE/CWR).
namespace TcpFlag {
constexpr uint8_t kFin = 0x01;
constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kRst = 0x04;
constexpr uint8_t kPsh = 0x08;
constexpr uint8_t kAck = 0x10;
constexpr uint8_t kUrg = 0x20;
constexpr uint8_t kEce = 0x40;
constexpr uint8_t kCwr = 0x80;
}  // namespace TcpFlag

inline constexpr size_t kTcpMinHeaderLength = 20;

// A validated TCP header. After Check() succeeds, header and options lie inside the segment.
class TcpHeaderView {
 public:
  // RFC 9293 §3.1. Rejects: < 20 bytes (kTruncated); data offset < 5 or data offset * 4 >
  // segment length (kBadHeaderLength, `length` = data offset * 4). The checksum is not checked
  // here (see VerifyTcpChecksum): it needs the IP addresses.
  static WireResult<TcpHeaderView> Check(std::span<const uint8_t> segment) {
    if (segment.size() < kTcpMinHeaderLength) {
      return WireError{WireErrorCode::kTruncated, 0, WireError::kNoSubtype,
                       static_cast<uint16_t>(segment.size())};
    }
    const size_t header_len = (size_t{segment[12]} >> 4) * 4;
    if (header_len < kTcpMinHeaderLength || header_len > segment.size()) {
      return WireError{WireErrorCode::kBadHeaderLength, 0, WireError::kNoSubtype,
                       static_cast<uint16_t>(header_len)};
    }
    return TcpHeaderView(segment);
  }

  uint16_t src_port() const { return LoadBe16(p()); }
  uint16_t dst_port() const { return LoadBe16(p() + 2); }
  SeqNum32 seq() const { return SeqNum32(LoadBe32(p() + 4)); }
  SeqNum32 ack() const { return SeqNum32(LoadBe32(p() + 8)); }
  uint8_t data_offset() const { return p()[12] >> 4; }  // in 32-bit words
  size_t header_length() const { return size_t{data_offset()} * 4; }
  // CWR..FIN. The 4 bits before them (reserved, incl. the AE/NS bit) are not exposed.
  uint8_t flags() const { return p()[13]; }
  bool has_flag(uint8_t f) const { return (flags() & f) != 0; }
  uint16_t window() const { return LoadBe16(p() + 14); }
  uint16_t checksum() const { return LoadBe16(p() + 16); }
  uint16_t urgent() const { return LoadBe16(p() + 18); }
  std::span<const uint8_t> options() const {
    return segment_.subspan(kTcpMinHeaderLength, header_length() - kTcpMinHeaderLength);
  }
  std::span<const uint8_t> payload() const { return segment_.subspan(header_length()); }
  std::span<const uint8_t> segment() const { return segment_; }

 private:
  explicit TcpHeaderView(std::span<const uint8_t> segment) : segment_(segment) {}
  const uint8_t* p() const { return segment_.data(); }

  std::span<const uint8_t> segment_;
};

struct TcpRepr {
  uint16_t src_port = 0, dst_port = 0;
  SeqNum32 seq, ack;
  uint8_t flags = 0;
  uint16_t window = 0;
  uint16_t urgent = 0;
  TcpOptions options;
  std::span<const uint8_t> payload;  // borrowed: from the parsed segment, or the caller's data

  // Checks the header and parses the options; does not verify the checksum (that needs the IP
  // addresses: VerifyTcpChecksum). The reserved bits are ignored. No allocation.
  static WireResult<TcpRepr> Parse(std::span<const uint8_t> segment);

  bool has_flag(uint8_t f) const { return (flags & f) != 0; }
  // SEG.LEN (RFC 9293 §3.4): payload bytes plus one each for SYN and FIN.
  size_t SeqLength() const {
    return payload.size() + (has_flag(TcpFlag::kSyn) ? 1 : 0) + (has_flag(TcpFlag::kFin) ? 1 : 0);
  }
  size_t HeaderLength() const { return kTcpMinHeaderLength + options.EncodedLength(); }
  size_t EncodedLength() const { return HeaderLength() + payload.size(); }

  // Writes header, options and payload with the checksum field zero. kInvalidField if the
  // options do not fit (see EmitTcpOptions); kBufferTooSmall if `out` < EncodedLength(). The
  // payload may already sit in `out` (it is moved, not copied, so overlap is fine).
  WireResult<size_t> Emit(std::span<uint8_t> out) const;
  // The same, then fills the checksum for the pseudo-header of src/dst (kInvalidField if they
  // differ in family).
  WireResult<size_t> Emit(std::span<uint8_t> out, const IpAddress& src,
                          const IpAddress& dst) const;

  // Compares the payload by content, not by pointer.
  bool operator==(const TcpRepr& o) const {
    return src_port == o.src_port && dst_port == o.dst_port && seq == o.seq && ack == o.ack &&
           flags == o.flags && window == o.window && urgent == o.urgent &&
           options == o.options && std::ranges::equal(payload, o.payload);
  }

  // tcpdump-like, for test failure messages:
  // "S 1000:1000(0) ack 0 win 65535 <mss 1460,sackOK,TS val 1 ecr 0,wscale 7>".
  std::string ToString() const;
};

inline std::ostream& operator<<(std::ostream& os, const TcpRepr& r) { return os << r.ToString(); }

inline WireResult<TcpRepr> TcpRepr::Parse(std::span<const uint8_t> segment) {
  auto view = TcpHeaderView::Check(segment);
  if (!view.ok()) return view.error();
  auto opts = ParseTcpOptions(view->options());
  if (!opts.ok()) return opts.error();
  TcpRepr r;
  r.src_port = view->src_port();
  r.dst_port = view->dst_port();
  r.seq = view->seq();
  r.ack = view->ack();
  r.flags = view->flags();
  r.window = view->window();
  r.urgent = view->urgent();
  r.options = *opts;
  r.payload = view->payload();
  return r;
}

inline WireResult<size_t> TcpRepr::Emit(std::span<uint8_t> out) const {
  // Validate everything before touching `out`: the payload may live there.
  auto opt_len = CheckTcpOptions(options);
  if (!opt_len.ok()) return opt_len;
  const size_t header_len = kTcpMinHeaderLength + *opt_len;
  if (out.size() < header_len + payload.size()) {
    return WireError{WireErrorCode::kBufferTooSmall, 0, WireError::kNoSubtype,
                     static_cast<uint16_t>(std::min<size_t>(out.size(), 0xffff))};
  }
  uint8_t* p = out.data();
  // Payload first: if it already lies inside `out`, the header writes must not clobber it.
  if (!payload.empty() && payload.data() != p + header_len) {
    std::memmove(p + header_len, payload.data(), payload.size());
  }
  tcp_options_internal::WriteTcpOptions(options, p + kTcpMinHeaderLength, *opt_len);
  StoreBe16(p, src_port);
  StoreBe16(p + 2, dst_port);
  StoreBe32(p + 4, seq.value());
  StoreBe32(p + 8, ack.value());
  p[12] = static_cast<uint8_t>((header_len / 4) << 4);  // reserved bits written as zero
  p[13] = flags;
  StoreBe16(p + 14, window);
  StoreBe16(p + kTcpChecksumOffset, 0);
  StoreBe16(p + 18, urgent);
  return header_len + payload.size();
}

inline WireResult<size_t> TcpRepr::Emit(std::span<uint8_t> out, const IpAddress& src,
                                        const IpAddress& dst) const {
  if (src.family() != dst.family()) {
    return WireError{WireErrorCode::kInvalidField, 0, WireError::kNoSubtype, 0};
  }
  auto n = Emit(out);
  if (!n.ok()) return n;
  FillTcpChecksum(src, dst, out.first(*n));
  return n;
}

inline std::string TcpRepr::ToString() const {
  std::string s;
  if (has_flag(TcpFlag::kSyn)) s += 'S';
  if (has_flag(TcpFlag::kFin)) s += 'F';
  if (has_flag(TcpFlag::kRst)) s += 'R';
  if (has_flag(TcpFlag::kPsh)) s += 'P';
  if (has_flag(TcpFlag::kUrg)) s += 'U';
  if (has_flag(TcpFlag::kEce)) s += 'E';
  if (has_flag(TcpFlag::kCwr)) s += 'W';
  if (s.empty()) s += '.';
  absl::StrAppendFormat(&s, " %u:%u(%u)", seq.value(),
                        (seq + static_cast<uint32_t>(payload.size())).value(), payload.size());
  if (has_flag(TcpFlag::kAck)) absl::StrAppendFormat(&s, " ack %u", ack.value());
  absl::StrAppendFormat(&s, " win %u", window);
  if (has_flag(TcpFlag::kUrg)) absl::StrAppendFormat(&s, " urg %u", urgent);
  const std::string opts = options.ToString();
  if (!opts.empty()) absl::StrAppendFormat(&s, " <%s>", opts);
  return s;
}

}  // namespace mptcp::wire

#endif  // MPTCP_WIRE_TCP_H_
