// The subflow receive buffer: in-order readable bytes followed by out-of-order bytes stored
// in place at their final ring position, with an Assembler tracking the holes between them.
#ifndef MPTCP_TCP_RECV_BUFFER_H_
#define MPTCP_TCP_RECV_BUFFER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "mptcp/tcp/assembler.h"
#include "mptcp/tcp/byte_ring.h"

namespace mptcp {

// Layout from the ring head: [readable bytes][window: holes and out-of-order ranges ...].
// Write offsets are relative to the end of the readable bytes, i.e. offset 0 is RCV.NXT
// (RFC 9293 §3.3.1), so out-of-order data lands where it will be read and costs no second
// copy when the hole before it fills.
//
// Memory: nothing is held until the first Write; the ring then grows geometrically (from
// ByteRing::kMinAllocation, doubling) as far as the furthest byte stored, never past the
// capacity, and keeps that memory until ReleaseMemoryIfEmpty(). Steady state allocates
// nothing; each Write copies into each hole it fills with at most two memcpy calls.
class RecvBuffer {
 public:
  using Pieces = BytePieces;

  struct WriteResult {
    // Bytes of `data` inside the window, i.e. stored now or already present (duplicates).
    size_t accepted = 0;
    // How far the contiguous readable end (RCV.NXT) moved.
    size_t advanced = 0;
    // The write would have needed more out-of-order ranges than max_ranges: nothing stored.
    bool rejected_too_many_ranges = false;
  };

  explicit RecvBuffer(size_t capacity, size_t max_ranges = Assembler::kDefaultMaxRanges)
      : capacity_(capacity), assembler_(max_ranges) {}

  size_t capacity() const { return capacity_; }
  size_t readable() const { return readable_; }
  // How far past RCV.NXT bytes may be stored: the receive window (RFC 9293 §3.8.6) offered
  // when the application leaves the readable bytes unread.
  size_t window() const { return capacity_ - readable_; }
  // Bytes held past holes (not yet readable).
  size_t ooo_bytes() const { return assembler_.covered_bytes(); }
  // Out-of-order ranges relative to RCV.NXT, for SACK blocks (RFC 2018 §4).
  const Assembler& ooo_ranges() const { return assembler_; }
  size_t allocated_bytes() const { return ring_.allocated(); }
  bool empty() const { return readable_ == 0 && assembler_.empty(); }

  // Stores the segment payload `data` whose first byte is at `offset` past RCV.NXT. Bytes past
  // the window are trimmed (RFC 9293 §3.10.7.4: only data inside the window is kept); bytes
  // already present keep their first-arrived value and only the holes are filled. In-order
  // data (offset 0) is never refused for lack of ranges, since it needs none once merged.
  WriteResult Write(size_t offset, std::span<const uint8_t> data) {
    WriteResult result;
    const size_t win = window();
    if (data.empty() || offset >= win) return result;
    const size_t len = std::min(data.size(), win - offset);
    ring_.Reserve(readable_ + offset + len, readable_ + assembler_.Extent(), capacity_);

    // Fast path: in order with nothing queued behind, as in a lossless bulk transfer.
    if (offset == 0 && assembler_.empty()) {
      ring_.Write(readable_, data.first(len));
      readable_ += len;
      result.accepted = result.advanced = len;
      return result;
    }

    // Filling only the holes is harmless even if Add below refuses the range: bytes outside
    // every range are unspecified.
    assembler_.ForEachGap(offset, len, [&](size_t gap, size_t gap_len) {
      ring_.Write(readable_ + gap, data.subspan(gap - offset, gap_len));
    });
    if (assembler_.Add(offset, len) == Assembler::AddResult::kTooManyRanges) {
      if (offset != 0) {
        result.rejected_too_many_ranges = true;
        return result;
      }
      // Refused only because [0, len) does not touch the first range; it becomes readable
      // at once, so no range is needed after all.
      assembler_.Advance(len);
      readable_ += len;
      result.accepted = result.advanced = len;
      return result;
    }
    result.accepted = len;
    result.advanced = assembler_.PopFront();
    readable_ += result.advanced;
    return result;
  }

  // Copies up to out.size() readable bytes into `out` and consumes them; returns the count.
  size_t Read(std::span<uint8_t> out) {
    const size_t n = PeekReadable(out.size()).CopyTo(out);
    Consume(n);
    return n;
  }

  // Views the first min(max, readable()) readable bytes, valid until the next non-const call.
  Pieces PeekReadable(size_t max) const { return ring_.View(0, std::min(max, readable_)); }

  // Drops n readable bytes (clamped to readable()), opening the window by as much.
  void Consume(size_t n) {
    n = std::min(n, readable_);
    ring_.Advance(n);
    readable_ -= n;
    if (empty()) ring_.ResetHead();
  }

  // Changes the capacity, which never drops below the bytes stored (readable plus the extent
  // of out-of-order data). Shrinking below the memory held reallocates down to it. Note that
  // shrinking the offered window is discouraged (RFC 9293 §3.8.6); that is the caller's call.
  void set_capacity(size_t c) {
    const size_t used = readable_ + assembler_.Extent();
    capacity_ = std::max(c, used);
    if (ring_.allocated() > capacity_) ring_.Reallocate(used == 0 ? 0 : capacity_, used);
  }

  // Frees the memory when nothing is stored (for instance once a connection goes idle).
  void ReleaseMemoryIfEmpty() {
    if (empty()) ring_.Reallocate(0, 0);
  }

 private:
  size_t capacity_;
  size_t readable_ = 0;
  Assembler assembler_;
  ByteRing ring_;
};

}  // namespace mptcp

#endif  // MPTCP_TCP_RECV_BUFFER_H_
