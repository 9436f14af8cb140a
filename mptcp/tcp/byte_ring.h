// The lazily allocated, geometrically growing byte ring under SendBuffer and RecvBuffer: every
// copy in or out is at most two memcpy calls, and memory is only taken when bytes are stored.
#ifndef MPTCP_TCP_BYTE_RING_H_
#define MPTCP_TCP_BYTE_RING_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace mptcp {

// A zero-copy view of up to two contiguous pieces (the second is non-empty only when the
// viewed bytes wrap around the end of the ring). Valid until the buffer is next modified.
struct BytePieces {
  std::span<const uint8_t> first;
  std::span<const uint8_t> second;

  size_t size() const { return first.size() + second.size(); }
  bool empty() const { return size() == 0; }
  // Copies min(out.size(), size()) bytes and returns that count.
  size_t CopyTo(std::span<uint8_t> out) const {
    const size_t a = std::min(out.size(), first.size());
    if (a > 0) std::memcpy(out.data(), first.data(), a);
    const size_t b = std::min(out.size() - a, second.size());
    if (b > 0) std::memcpy(out.data() + a, second.data(), b);
    return a + b;
  }
};

// Positions are relative to the head (the oldest stored byte); the owner keeps track of how
// many bytes past the head are meaningful. No bounds are enforced beyond what the comments
// state: the owning buffer does the clipping, so this class stays branch-light.
class ByteRing {
 public:
  // The first allocation: small enough that an almost idle connection stays cheap, large
  // enough that a bulk transfer reaches its capacity in a handful of doublings.
  static constexpr size_t kMinAllocation = 4096;

  ByteRing() = default;
  ByteRing(ByteRing&&) noexcept = default;
  ByteRing& operator=(ByteRing&&) noexcept = default;
  ByteRing(const ByteRing&) = delete;
  ByteRing& operator=(const ByteRing&) = delete;

  size_t allocated() const { return alloc_; }

  // Makes at least `needed` bytes past the head addressable, growing geometrically but never
  // past `limit` (callers pass needed <= limit). The first `preserve` bytes survive the move.
  void Reserve(size_t needed, size_t preserve, size_t limit) {
    if (needed <= alloc_) return;
    // Doubling from kMinAllocation keeps the sizes powers of two until the limit clips them.
    size_t target = std::max(alloc_, kMinAllocation);
    while (target < needed && target < limit) target *= 2;
    Reallocate(std::max(std::min(target, limit), needed), preserve);
  }

  // Moves the first `preserve` bytes into a fresh allocation of exactly `size` bytes
  // (size >= preserve); size 0 frees the memory.
  void Reallocate(size_t size, size_t preserve) {
    if (size == 0) {
      data_.reset();
      alloc_ = 0;
      head_ = 0;
      return;
    }
    auto fresh = std::make_unique_for_overwrite<uint8_t[]>(size);
    if (preserve > 0) Read(0, std::span<uint8_t>(fresh.get(), preserve));
    data_ = std::move(fresh);
    alloc_ = size;
    head_ = 0;
  }

  // Stores `in` at [pos, pos + in.size()); pos + in.size() <= allocated().
  void Write(size_t pos, std::span<const uint8_t> in) {
    if (in.empty()) return;
    const size_t p = Wrap(head_ + pos);
    const size_t a = std::min(in.size(), alloc_ - p);
    std::memcpy(data_.get() + p, in.data(), a);
    if (a < in.size()) std::memcpy(data_.get(), in.data() + a, in.size() - a);
  }

  // Fills `out` from [pos, pos + out.size()); pos + out.size() <= allocated().
  void Read(size_t pos, std::span<uint8_t> out) const {
    const BytePieces v = View(pos, out.size());
    v.CopyTo(out);
  }

  // The bytes [pos, pos + len); pos + len <= allocated().
  BytePieces View(size_t pos, size_t len) const {
    if (len == 0) return {};
    const size_t p = Wrap(head_ + pos);
    const size_t a = std::min(len, alloc_ - p);
    return {std::span<const uint8_t>(data_.get() + p, a),
            std::span<const uint8_t>(data_.get(), len - a)};
  }

  // Drops n bytes from the front; n <= allocated().
  void Advance(size_t n) {
    if (alloc_ == 0) return;
    head_ = Wrap(head_ + n);
  }

  // When nothing is stored the head may move anywhere; putting it at 0 keeps the next bytes
  // in one piece for as long as possible.
  void ResetHead() { head_ = 0; }

 private:
  // x < 2 * alloc_ always holds (head_ < alloc_ and positions stay within alloc_).
  size_t Wrap(size_t x) const { return x >= alloc_ ? x - alloc_ : x; }

  std::unique_ptr<uint8_t[]> data_;
  size_t alloc_ = 0;
  size_t head_ = 0;
};

}  // namespace mptcp

#endif  // MPTCP_TCP_BYTE_RING_H_
