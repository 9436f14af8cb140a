// TCP options (RFC 9293 §3.1, RFC 7323, RFC 2018, RFC 7413): the parsed set the subflow engine
// uses, a strict parser, and an emitter with Linux's canonical layout. MPTCP options (kind 30) are kept
// as raw bytes for the MPTCP layer to parse.
#ifndef MPTCP_WIRE_TCP_OPTIONS_H_
#define MPTCP_WIRE_TCP_OPTIONS_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
#include <ostream>
#include <span>
#include <string>

#include "absl/strings/str_format.h"
#include "mptcp/seq.h"
#include "mptcp/wire/bytes.h"
#include "mptcp/wire/wire_error.h"

namespace mptcp::wire {

// IANA TCP option kinds used here.
namespace TcpOptionKind {
constexpr uint8_t kEol = 0;
constexpr uint8_t kNop = 1;
constexpr uint8_t kMss = 2;
constexpr uint8_t kWindowScale = 3;
constexpr uint8_t kSackPermitted = 4;
constexpr uint8_t kSack = 5;
constexpr uint8_t kTimestamps = 8;
constexpr uint8_t kMptcp = 30;
constexpr uint8_t kFastOpen = 34;  // RFC 7413 §4.1.1
}  // namespace TcpOptionKind

// The option space is at most 40 bytes: data offset 15 words minus the 20-byte header.
inline constexpr size_t kMaxTcpOptionsLength = 40;
// RFC 7323 §2.3: a received shift above 14 is used as 14.
inline constexpr uint8_t kMaxWindowScale = 14;
inline constexpr uint8_t kMaxSackBlocks = 4;

constexpr uint8_t ClampWindowScale(uint8_t shift) {
  return shift > kMaxWindowScale ? kMaxWindowScale : shift;
}

struct SackBlock {
  SeqNum32 left, right;  // [left, right): right is the sequence number after the block
  bool operator==(const SackBlock&) const = default;
};

// The TCP Fast Open cookie option (RFC 7413 §4.1.1): an empty cookie is a request (length 2);
// otherwise the cookie is 4 to 16 bytes (length 6 to 18). The stack does not do TFO; the option
// is kept so that tools (mptcp_trace) can show it and a segment re-encodes whole.
inline constexpr size_t kMinTfoCookieLength = 4;
inline constexpr size_t kMaxTfoCookieLength = 16;

struct TcpFastOpenCookie {
  uint8_t len = 0;  // 0 (a cookie request) or kMinTfoCookieLength..kMaxTfoCookieLength
  std::array<uint8_t, kMaxTfoCookieLength> bytes{};

  static TcpFastOpenCookie Of(std::span<const uint8_t> cookie) {
    TcpFastOpenCookie c;
    c.len = static_cast<uint8_t>(std::min(cookie.size(), kMaxTfoCookieLength));
    std::copy_n(cookie.begin(), c.len, c.bytes.begin());
    return c;
  }
  std::span<const uint8_t> cookie() const {
    return std::span<const uint8_t>(bytes).first(std::min<size_t>(len, kMaxTfoCookieLength));
  }
  bool valid() const {
    return len == 0 || (len >= kMinTfoCookieLength && len <= kMaxTfoCookieLength);
  }
  // Option bytes with the NOP padding to a 4-byte boundary that Linux writes after it.
  size_t EncodedLength() const { return (2 + size_t{len} + 3) & ~size_t{3}; }
  bool operator==(const TcpFastOpenCookie& o) const {
    return len == o.len && std::ranges::equal(cookie(), o.cookie());
  }
};

struct TcpTimestamps {
  uint32_t tsval = 0, tsecr = 0;
  bool operator==(const TcpTimestamps&) const = default;
};

// Walks a byte run of whole MPTCP options (kind, length, body)*. Stops at the first entry whose
// length byte is < 2 or runs past the end, so it is safe over any bytes.
class MptcpOptionIterator {
 public:
  using value_type = std::span<const uint8_t>;
  using difference_type = std::ptrdiff_t;
  using iterator_category = std::forward_iterator_tag;

  MptcpOptionIterator() = default;
  explicit MptcpOptionIterator(std::span<const uint8_t> rest) : rest_(rest) { Normalize(); }

  value_type operator*() const { return rest_.first(rest_[1]); }
  MptcpOptionIterator& operator++() {
    rest_ = rest_.subspan(rest_[1]);
    Normalize();
    return *this;
  }
  MptcpOptionIterator operator++(int) {
    MptcpOptionIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const MptcpOptionIterator& o) const {
    return rest_.size() == o.rest_.size() && (rest_.empty() || rest_.data() == o.rest_.data());
  }

 private:
  void Normalize() {
    if (rest_.size() < 2 || rest_[1] < 2 || rest_[1] > rest_.size()) rest_ = {};
  }
  std::span<const uint8_t> rest_;
};

struct MptcpOptionRange {
  std::span<const uint8_t> bytes;
  MptcpOptionIterator begin() const { return MptcpOptionIterator(bytes); }
  MptcpOptionIterator end() const { return MptcpOptionIterator(); }
};

struct TcpOptions {
  std::optional<uint16_t> mss;
  // The raw received shift (may exceed 14); use ClampWindowScale() when applying it.
  std::optional<uint8_t> window_scale;
  bool sack_permitted = false;
  uint8_t num_sack_blocks = 0;
  std::array<SackBlock, kMaxSackBlocks> sack_blocks{};
  std::optional<TcpTimestamps> timestamps;
  std::optional<TcpFastOpenCookie> fast_open;
  // Raw MPTCP (kind 30) options, in order of appearance, each whole (kind, length, body),
  // concatenated. The TCP layer does not interpret them; the MPTCP layer parses them.
  uint8_t mptcp_len = 0;
  std::array<uint8_t, kMaxTcpOptionsLength> mptcp_bytes{};

  std::span<const uint8_t> mptcp() const {
    return std::span<const uint8_t>(mptcp_bytes).first(std::min<size_t>(mptcp_len, 40));
  }
  // Iterates the individual MPTCP options: `for (std::span<const uint8_t> o : mptcp_options())`.
  MptcpOptionRange mptcp_options() const { return MptcpOptionRange{mptcp()}; }
  // Appends one whole MPTCP option. False (and nothing appended) if it is not a well-formed
  // kind-30 option whose length byte equals its size, or if there is no room left.
  bool AddMptcpOption(std::span<const uint8_t> option) {
    if (option.size() < 2 || option[0] != TcpOptionKind::kMptcp || option[1] != option.size()) {
      return false;
    }
    if (mptcp_len > kMaxTcpOptionsLength ||
        option.size() > kMaxTcpOptionsLength - mptcp_len) {
      return false;
    }
    std::memcpy(mptcp_bytes.data() + mptcp_len, option.data(), option.size());
    mptcp_len = static_cast<uint8_t>(mptcp_len + option.size());
    return true;
  }
  void ClearMptcp() { mptcp_len = 0; }

  std::span<const SackBlock> sacks() const {
    return std::span<const SackBlock>(sack_blocks)
        .first(std::min<size_t>(num_sack_blocks, kMaxSackBlocks));
  }
  // False if all four slots are in use.
  bool AddSackBlock(SackBlock b) {
    if (num_sack_blocks >= kMaxSackBlocks) return false;
    sack_blocks[num_sack_blocks++] = b;
    return true;
  }

  // Bytes EmitTcpOptions() writes, padded to a multiple of 4. May exceed 40, which means the
  // set does not fit in a TCP header; CheckTcpOptions() is the full emit-time validation.
  size_t EncodedLength() const {
    size_t n = 0;
    if (mss) n += 4;
    if (timestamps) {
      n += 12;  // SACK-permitted + TS, or NOP NOP TS
    } else if (sack_permitted) {
      n += 4;  // NOP NOP SACK-permitted
    }
    if (window_scale) n += 4;                      // NOP WS
    if (num_sack_blocks > 0) n += 4 + 8 * size_t{num_sack_blocks};  // NOP NOP SACK
    if (fast_open) n += fast_open->EncodedLength();                 // TFO, NOPs
    n += mptcp_len;
    return (n + 3) & ~size_t{3};
  }

  // Compares the used SACK blocks and MPTCP bytes only, not the unused array tails.
  bool operator==(const TcpOptions& o) const {
    return mss == o.mss && window_scale == o.window_scale &&
           sack_permitted == o.sack_permitted && num_sack_blocks == o.num_sack_blocks &&
           std::ranges::equal(sacks(), o.sacks()) && timestamps == o.timestamps &&
           fast_open == o.fast_open && std::ranges::equal(mptcp(), o.mptcp());
  }

  // "mss 1460,sackOK,TS val 1 ecr 0,wscale 7,sack 1 {10:20},mptcp sub 0 len 12" (debug only).
  std::string ToString() const {
    std::string s;
    auto sep = [&s] {
      if (!s.empty()) s += ',';
    };
    if (mss) absl::StrAppendFormat(&s, "mss %u", *mss);
    if (sack_permitted) {
      sep();
      s += "sackOK";
    }
    if (timestamps) {
      sep();
      absl::StrAppendFormat(&s, "TS val %u ecr %u", timestamps->tsval, timestamps->tsecr);
    }
    if (window_scale) {
      sep();
      absl::StrAppendFormat(&s, "wscale %u", *window_scale);
    }
    if (num_sack_blocks > 0) {
      sep();
      absl::StrAppendFormat(&s, "sack %u ", num_sack_blocks);
      for (const SackBlock& b : sacks()) {
        absl::StrAppendFormat(&s, "{%u:%u}", b.left.value(), b.right.value());
      }
    }
    if (fast_open) {
      sep();
      if (fast_open->len == 0) {
        s += "tfo cookiereq";
      } else {
        s += "tfo cookie ";
        for (uint8_t b : fast_open->cookie()) absl::StrAppendFormat(&s, "%02x", b);
      }
    }
    for (std::span<const uint8_t> o : mptcp_options()) {
      sep();
      if (o.size() >= 3) {
        absl::StrAppendFormat(&s, "mptcp sub %u len %u", o[2] >> 4, o.size());
      } else {
        absl::StrAppendFormat(&s, "mptcp len %u", o.size());
      }
    }
    return s;
  }
};

inline std::ostream& operator<<(std::ostream& os, const SackBlock& b) {
  return os << '{' << b.left << ':' << b.right << '}';
}
inline std::ostream& operator<<(std::ostream& os, const TcpOptions& o) {
  return os << '<' << o.ToString() << '>';
}

namespace tcp_options_internal {
inline WireError BadOptionLength(uint8_t kind, uint8_t len) {
  return WireError{WireErrorCode::kBadOptionLength, kind, WireError::kNoSubtype, len};
}
}  // namespace tcp_options_internal

// Parses an option block (the bytes between the fixed header and the data offset).
//
// RFC 9293 §3.1: EOL (0) ends the list, NOP (1) is skipped, every other option carries a length
// byte >= 2 counting kind and length, which must fit in the block; otherwise kBadOptionLength
// with option_kind set and `length` the length byte (0 when the block ends before it). Unknown
// kinds are skipped by their length.
//
// Known options at a wrong length (MSS != 4, WS != 3, SACK-permitted != 2, SACK != 2+8n with
// n in 1..4, TS != 10) are also kBadOptionLength, where Linux silently ignores them. Strict is
// the better default for this stack: (1) RFC 9293 §3.1 (MUST-7) treats an illegal option
// length as an error to report; (2) the option boundaries are still unambiguous, so this is
// policy, not safety, and the caller can still choose to drop just the segment; (3) skipping a
// mangled option changes meaning silently: a connection that negotiated timestamps or SACK
// would process a segment as if it carried none (RFC 7323 §3.2 says such segments should be
// dropped anyway), and a middlebox that corrupts option lengths is exactly the kind of path on
// which MPTCP must fall back, not guess. Being a typed error, it is visible in counters and
// tests, unlike a silent skip.
//
// TCP Fast Open (kind 34, RFC 7413 §4.1.1) is kept when its length is 2 (a cookie request) or
// 6..18 (a 4- to 16-byte cookie). At any other length it is skipped like an unknown option,
// as it was before this stack kept it: TFO is not part of what the stack negotiates, so a
// mangled cookie is no reason to drop a segment.
//
// Duplicate options: the last one wins for MSS, WS, TS, TFO and SACK (a later SACK option replaces
// the earlier blocks), matching Linux's in-order overwrite; SACK-permitted is idempotent; every
// MPTCP option is kept, in order.
inline WireResult<TcpOptions> ParseTcpOptions(std::span<const uint8_t> options_block) {
  using tcp_options_internal::BadOptionLength;
  namespace k = TcpOptionKind;
  TcpOptions o;
  const uint8_t* p = options_block.data();
  const size_t n = options_block.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t kind = p[i];
    if (kind == k::kEol) break;
    if (kind == k::kNop) {
      ++i;
      continue;
    }
    if (n - i < 2) return BadOptionLength(kind, 0);
    const uint8_t len = p[i + 1];
    if (len < 2 || len > n - i) return BadOptionLength(kind, len);
    const uint8_t* body = p + i + 2;
    switch (kind) {
      case k::kMss:  // RFC 9293 §3.2
        if (len != 4) return BadOptionLength(kind, len);
        o.mss = LoadBe16(body);
        break;
      case k::kWindowScale:  // RFC 7323 §2.2
        if (len != 3) return BadOptionLength(kind, len);
        o.window_scale = body[0];
        break;
      case k::kSackPermitted:  // RFC 2018 §2
        if (len != 2) return BadOptionLength(kind, len);
        o.sack_permitted = true;
        break;
      case k::kSack: {  // RFC 2018 §3
        const size_t blocks = (len - 2) / 8;
        if ((len - 2) % 8 != 0 || blocks < 1 || blocks > kMaxSackBlocks) {
          return BadOptionLength(kind, len);
        }
        o.num_sack_blocks = static_cast<uint8_t>(blocks);
        for (size_t b = 0; b < blocks; ++b) {
          o.sack_blocks[b] = SackBlock{SeqNum32(LoadBe32(body + 8 * b)),
                                       SeqNum32(LoadBe32(body + 8 * b + 4))};
        }
        break;
      }
      case k::kTimestamps:  // RFC 7323 §3.2
        if (len != 10) return BadOptionLength(kind, len);
        o.timestamps = TcpTimestamps{LoadBe32(body), LoadBe32(body + 4)};
        break;
      case k::kFastOpen:  // RFC 7413 §4.1.1
        if (len == 2 || (len >= 2 + kMinTfoCookieLength && len <= 2 + kMaxTfoCookieLength)) {
          o.fast_open = TcpFastOpenCookie::Of(std::span<const uint8_t>(body, len - 2u));
        }
        break;
      case k::kMptcp:  // RFC 8684 §2: kept whole for the MPTCP layer
        // Only fails on a block longer than 40 bytes holding more than 40 bytes of MPTCP.
        if (!o.AddMptcpOption(options_block.subspan(i, len))) return BadOptionLength(kind, len);
        break;
      default:
        break;  // unknown: skipped by length
    }
    i += len;
  }
  return o;
}

// Validates `opts` for emission and returns its EncodedLength(). kInvalidField if it has more
// than 4 SACK blocks, a TFO cookie of 1-3 or more than 16 bytes, its MPTCP bytes are not a run
// of whole kind-30 options, or it does not
// fit in 40 bytes (option_kind names the culprit when it is one option; `length` the size).
inline WireResult<size_t> CheckTcpOptions(const TcpOptions& opts) {
  namespace k = TcpOptionKind;
  if (opts.num_sack_blocks > kMaxSackBlocks) {
    return WireError{WireErrorCode::kInvalidField, k::kSack, WireError::kNoSubtype,
                     opts.num_sack_blocks};
  }
  if (opts.mptcp_len > kMaxTcpOptionsLength) {
    return WireError{WireErrorCode::kInvalidField, k::kMptcp, WireError::kNoSubtype,
                     opts.mptcp_len};
  }
  if (opts.fast_open && !opts.fast_open->valid()) {
    return WireError{WireErrorCode::kInvalidField, k::kFastOpen, WireError::kNoSubtype,
                     opts.fast_open->len};
  }
  for (size_t i = 0; i < opts.mptcp_len;) {
    const size_t rest = opts.mptcp_len - i;
    if (rest < 2 || opts.mptcp_bytes[i] != k::kMptcp || opts.mptcp_bytes[i + 1] < 2 ||
        opts.mptcp_bytes[i + 1] > rest) {
      return WireError{WireErrorCode::kInvalidField, k::kMptcp, WireError::kNoSubtype,
                       opts.mptcp_len};
    }
    i += opts.mptcp_bytes[i + 1];
  }
  const size_t len = opts.EncodedLength();
  if (len > kMaxTcpOptionsLength) {
    return WireError{WireErrorCode::kInvalidField, 0, WireError::kNoSubtype,
                     static_cast<uint16_t>(len)};
  }
  return len;
}

namespace tcp_options_internal {
// Writes the layout described at EmitTcpOptions(); `opts` must have passed CheckTcpOptions()
// with result `len`, and `out` must hold `len` bytes.
inline void WriteTcpOptions(const TcpOptions& opts, uint8_t* out, size_t len) {
  namespace k = TcpOptionKind;
  uint8_t* p = out;
  if (opts.mss) {
    p[0] = k::kMss;
    p[1] = 4;
    StoreBe16(p + 2, *opts.mss);
    p += 4;
  }
  if (opts.timestamps) {
    if (opts.sack_permitted) {
      p[0] = k::kSackPermitted;
      p[1] = 2;
    } else {
      p[0] = k::kNop;
      p[1] = k::kNop;
    }
    p[2] = k::kTimestamps;
    p[3] = 10;
    StoreBe32(p + 4, opts.timestamps->tsval);
    StoreBe32(p + 8, opts.timestamps->tsecr);
    p += 12;
  } else if (opts.sack_permitted) {
    p[0] = k::kNop;
    p[1] = k::kNop;
    p[2] = k::kSackPermitted;
    p[3] = 2;
    p += 4;
  }
  if (opts.window_scale) {
    p[0] = k::kNop;
    p[1] = k::kWindowScale;
    p[2] = 3;
    p[3] = *opts.window_scale;
    p += 4;
  }
  if (opts.num_sack_blocks > 0) {
    p[0] = k::kNop;
    p[1] = k::kNop;
    p[2] = k::kSack;
    p[3] = static_cast<uint8_t>(2 + 8 * opts.num_sack_blocks);
    p += 4;
    for (const SackBlock& b : opts.sacks()) {
      StoreBe32(p, b.left.value());
      StoreBe32(p + 4, b.right.value());
      p += 8;
    }
  }
  if (opts.fast_open) {  // Linux: after SACK, before MPTCP, padded with NOPs
    const TcpFastOpenCookie& c = *opts.fast_open;
    uint8_t* const tfo_end = p + c.EncodedLength();
    p[0] = k::kFastOpen;
    p[1] = static_cast<uint8_t>(2 + c.len);
    std::memcpy(p + 2, c.bytes.data(), c.len);
    p += 2 + c.len;
    while (p < tfo_end) *p++ = k::kNop;
  }
  if (opts.mptcp_len > 0) {
    std::memcpy(p, opts.mptcp_bytes.data(), opts.mptcp_len);
    p += opts.mptcp_len;
  }
  uint8_t* const end = out + len;
  while (p < end) *p++ = k::kNop;
}
}  // namespace tcp_options_internal

// Emits `opts` in Linux's layout (tcp_options_write): MSS; SACK-permitted+TS, or NOP NOP TS,
// or NOP NOP SACK-permitted; NOP WS; NOP NOP SACK; TFO and NOPs to a 4-byte boundary; the
// MPTCP bytes; NOP padding to a multiple
// of 4. Returns the bytes written (== opts.EncodedLength()). Errors as CheckTcpOptions(), then
// kBufferTooSmall if `out` is shorter than EncodedLength(); nothing is written on error.
inline WireResult<size_t> EmitTcpOptions(const TcpOptions& opts, std::span<uint8_t> out) {
  auto checked = CheckTcpOptions(opts);
  if (!checked.ok()) return checked;
  const size_t len = *checked;
  if (out.size() < len) {
    return WireError{WireErrorCode::kBufferTooSmall, 0, WireError::kNoSubtype,
                     static_cast<uint16_t>(std::min<size_t>(out.size(), 0xffff))};
  }
  tcp_options_internal::WriteTcpOptions(opts, out.data(), len);
  return len;
}

}  // namespace mptcp::wire

#endif  // MPTCP_WIRE_TCP_OPTIONS_H_
