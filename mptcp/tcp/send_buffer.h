// The subflow send buffer: bytes the application wrote that the peer has not yet acknowledged
// (RFC 9293 §3.3.1: SND.UNA is byte 0), bounded by a capacity, read zero-copy for segments.
#ifndef MPTCP_TCP_SEND_BUFFER_H_
#define MPTCP_TCP_SEND_BUFFER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "mptcp/tcp/byte_ring.h"

namespace mptcp {

// Memory is taken lazily on the first Append and doubles (from ByteRing::kMinAllocation) up
// to the capacity, so an idle connection holds nothing and steady state allocates nothing.
// Every operation is O(1) plus the bytes it copies, in at most two memcpy calls.
class SendBuffer {
 public:
  using Pieces = BytePieces;

  explicit SendBuffer(size_t capacity) : capacity_(capacity) {}

  size_t capacity() const { return capacity_; }
  size_t size() const { return size_; }
  size_t free_space() const { return capacity_ - size_; }
  bool empty() const { return size_ == 0; }
  size_t allocated_bytes() const { return ring_.allocated(); }

  // Takes min(data.size(), free_space()) bytes from the front of `data`; returns that count.
  size_t Append(std::span<const uint8_t> data) {
    const size_t n = std::min(data.size(), free_space());
    if (n == 0) return 0;
    ring_.Reserve(size_ + n, size_, capacity_);
    ring_.Write(size_, data.first(n));
    size_ += n;
    return n;
  }

  // Copies min(out.size(), size() - offset) bytes starting at `offset`; 0 if offset >= size().
  size_t CopyOut(size_t offset, std::span<uint8_t> out) const {
    return Peek(offset, out.size()).CopyTo(out);
  }

  // Views [offset, offset + len) clipped to size(), in at most two pieces. The view is valid
  // until the next non-const call.
  Pieces Peek(size_t offset, size_t len) const {
    if (offset >= size_) return {};
    return ring_.View(offset, std::min(len, size_ - offset));
  }

  // Drops n bytes from the front, as a cumulative ACK does (RFC 9293 §3.10.7.4: SND.UNA
  // advances). n > size() is clamped to size().
  void Consume(size_t n) {
    n = std::min(n, size_);
    ring_.Advance(n);
    size_ -= n;
    if (size_ == 0) ring_.ResetHead();
  }

  // Changes the capacity, which never drops below size() (stored bytes are never discarded).
  // Shrinking below the memory held reallocates down to the new capacity.
  void set_capacity(size_t c) {
    capacity_ = std::max(c, size_);
    if (ring_.allocated() > capacity_) ring_.Reallocate(size_ == 0 ? 0 : capacity_, size_);
  }

  // Frees the memory of an empty buffer (for instance once a connection goes idle).
  void ReleaseMemoryIfEmpty() {
    if (size_ == 0) ring_.Reallocate(0, 0);
  }

 private:
  size_t capacity_;
  size_t size_ = 0;
  ByteRing ring_;
};

}  // namespace mptcp

#endif  // MPTCP_TCP_SEND_BUFFER_H_
