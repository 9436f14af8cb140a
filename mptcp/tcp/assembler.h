// Tracks which byte ranges past a moving front have arrived, as a small sorted array of
// disjoint ranges: the hole bookkeeping behind out-of-order reassembly and SACK blocks.
#ifndef MPTCP_TCP_ASSEMBLER_H_
#define MPTCP_TCP_ASSEMBLER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <ostream>
#include <span>

#include "absl/container/inlined_vector.h"

namespace mptcp {

// The ranges are kept sorted, disjoint and non-adjacent (touching ranges are merged), with
// offsets relative to the front. Their number is bounded by max_ranges so that a peer
// spraying tiny out-of-order segments cannot make the bookkeeping grow without limit; every
// operation is O(number of ranges), which that bound keeps small.
class Assembler {
 public:
  static constexpr size_t kDefaultMaxRanges = 32;

  // [start, end) relative to the front.
  struct Range {
    size_t start = 0;
    size_t end = 0;

    size_t size() const { return end - start; }
    bool operator==(const Range&) const = default;
    friend std::ostream& operator<<(std::ostream& os, const Range& r) {
      return os << "[" << r.start << ", " << r.end << ")";
    }
  };

  enum class AddResult : uint8_t {
    kAccepted,       // merged (possibly a no-op: len 0 or bytes already present)
    kTooManyRanges,  // would need more than max_ranges ranges; nothing changed
  };

  using const_iterator = const Range*;

  // max_ranges 0 is allowed: then no range can ever be held (every Add that needs one is
  // rejected), which a caller may use to refuse all out-of-order data.
  explicit Assembler(size_t max_ranges = kDefaultMaxRanges) : max_ranges_(max_ranges) {}

  size_t max_ranges() const { return max_ranges_; }
  size_t range_count() const { return ranges_.size(); }
  bool empty() const { return ranges_.empty(); }
  // Bytes covered by all ranges together.
  size_t covered_bytes() const { return covered_; }
  // One past the last covered byte (0 when empty).
  size_t Extent() const { return ranges_.empty() ? 0 : ranges_.back().end; }

  // Ranges in ascending order, e.g. to build SACK blocks (RFC 2018 §3).
  std::span<const Range> ranges() const { return {ranges_.data(), ranges_.size()}; }
  const_iterator begin() const { return ranges_.data(); }
  const_iterator end() const { return ranges_.data() + ranges_.size(); }
  const Range& operator[](size_t i) const { return ranges_[i]; }

  // Marks [offset, offset + len) as present. A range that would run past SIZE_MAX is clipped.
  AddResult Add(size_t offset, size_t len) {
    len = std::min(len, std::numeric_limits<size_t>::max() - offset);
    if (len == 0) return AddResult::kAccepted;
    const size_t new_end = offset + len;
    // First range that touches or follows the new one, and one past the last that touches it.
    size_t i = 0;
    while (i < ranges_.size() && ranges_[i].end < offset) ++i;
    size_t j = i;
    while (j < ranges_.size() && ranges_[j].start <= new_end) ++j;
    if (i == j) {
      if (ranges_.size() >= max_ranges_) return AddResult::kTooManyRanges;
      ranges_.insert(ranges_.begin() + static_cast<ptrdiff_t>(i), Range{offset, new_end});
      covered_ += len;
      return AddResult::kAccepted;
    }
    size_t old_covered = 0;
    for (size_t k = i; k < j; ++k) old_covered += ranges_[k].size();
    const Range merged{std::min(offset, ranges_[i].start), std::max(new_end, ranges_[j - 1].end)};
    ranges_[i] = merged;
    ranges_.erase(ranges_.begin() + static_cast<ptrdiff_t>(i + 1),
                  ranges_.begin() + static_cast<ptrdiff_t>(j));
    covered_ += merged.size() - old_covered;
    return AddResult::kAccepted;
  }

  // If a range starts at the front, removes it, moves the front past it and returns its
  // length; otherwise returns 0.
  size_t PopFront() {
    if (ranges_.empty() || ranges_.front().start != 0) return 0;
    const size_t n = ranges_.front().end;
    ranges_.erase(ranges_.begin());
    covered_ -= n;
    for (Range& r : ranges_) {
      r.start -= n;
      r.end -= n;
    }
    return n;
  }

  // Moves the front forward by n, forgetting whatever lay before it (e.g. a cumulative ACK
  // passing SACKed ranges, RFC 2018 §5).
  void Advance(size_t n) {
    if (n == 0) return;
    size_t drop = 0;
    while (drop < ranges_.size() && ranges_[drop].end <= n) covered_ -= ranges_[drop++].size();
    ranges_.erase(ranges_.begin(), ranges_.begin() + static_cast<ptrdiff_t>(drop));
    for (Range& r : ranges_) {
      if (r.start < n) {
        covered_ -= n - r.start;
        r.start = n;
      }
      r.start -= n;
      r.end -= n;
    }
  }

  // True when every byte of [offset, offset + len) is present; vacuously true for len 0.
  bool Contains(size_t offset, size_t len) const {
    if (len == 0) return true;
    const Range* r = Find(offset);
    return r != nullptr && len <= r->end - offset;
  }

  // The range holding byte `offset`, or nullptr (e.g. to put the block holding the segment
  // that triggered an ACK first, RFC 2018 §4).
  const Range* Find(size_t offset) const {
    for (const Range& r : ranges_) {
      if (offset < r.start) return nullptr;
      if (offset < r.end) return &r;
    }
    return nullptr;
  }

  // Calls f(gap_offset, gap_len) for each maximal sub-range of [offset, offset + len) that is
  // not present, in ascending order.
  template <typename F>
  void ForEachGap(size_t offset, size_t len, F&& f) const {
    len = std::min(len, std::numeric_limits<size_t>::max() - offset);
    const size_t stop = offset + len;
    size_t pos = offset;
    for (const Range& r : ranges_) {
      if (pos >= stop) return;
      if (r.end <= pos) continue;
      if (r.start >= stop) break;
      if (r.start > pos) f(pos, r.start - pos);
      pos = r.end;
    }
    if (pos < stop) f(pos, stop - pos);
  }

  void Clear() {
    ranges_.clear();
    covered_ = 0;
  }

 private:
  // Four ranges inline covers the usual loss patterns without a heap allocation; beyond that
  // the vector grows once and keeps its capacity.
  absl::InlinedVector<Range, 4> ranges_;
  size_t max_ranges_;
  size_t covered_ = 0;
};

}  // namespace mptcp

#endif  // MPTCP_TCP_ASSEMBLER_H_
