// An intrusive binary min-heap of items keyed by a deadline: the earliest in O(1), insert,
// move and remove any item in O(log n), since each item keeps its own position. The Endpoint
// keeps one entry per connection with a timer armed, so that finding due work never visits
// idle connections (Linux and ngtcp2 use a timer wheel and a heap for the same reason).
//
// T provides `Timestamp heap_key` and `uint32_t heap_pos` (kNotInHeap when absent); ties are
// broken by `heap_tiebreak` (a stable id), so that the order is the same on every run.
#ifndef MPTCP_DEADLINE_HEAP_H_
#define MPTCP_DEADLINE_HEAP_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "mptcp/time.h"

namespace mptcp {

inline constexpr uint32_t kNotInHeap = UINT32_MAX;

template <typename T>
class DeadlineHeap {
 public:
  bool empty() const { return v_.empty(); }
  size_t size() const { return v_.size(); }
  T* top() const { return v_.empty() ? nullptr : v_.front(); }
  Timestamp top_key() const { return v_.empty() ? Timestamp::Never() : v_.front()->heap_key; }
  size_t allocated_bytes() const { return v_.capacity() * sizeof(T*); }

  // Puts `item` at `key` (inserting or moving it); Never() removes it.
  void Set(T* item, Timestamp key) {
    if (key.IsNever()) {
      Remove(item);
      return;
    }
    if (item->heap_pos == kNotInHeap) {
      item->heap_key = key;
      item->heap_pos = static_cast<uint32_t>(v_.size());
      v_.push_back(item);
      SiftUp(item->heap_pos);
      return;
    }
    if (key == item->heap_key) return;
    const bool earlier = key < item->heap_key;
    item->heap_key = key;
    if (earlier) {
      SiftUp(item->heap_pos);
    } else {
      SiftDown(item->heap_pos);
    }
  }

  void Remove(T* item) {
    const uint32_t i = item->heap_pos;
    if (i == kNotInHeap) return;
    item->heap_pos = kNotInHeap;
    item->heap_key = Timestamp::Never();
    T* last = v_.back();
    v_.pop_back();
    if (i == v_.size()) return;  // it was the last
    Place(i, last);
    SiftDown(i);
    SiftUp(last->heap_pos);
  }

 private:
  static bool Less(const T* a, const T* b) {
    if (a->heap_key != b->heap_key) return a->heap_key < b->heap_key;
    return a->heap_tiebreak < b->heap_tiebreak;
  }
  void Place(uint32_t i, T* item) {
    v_[i] = item;
    item->heap_pos = i;
  }
  void SiftUp(uint32_t i) {
    T* item = v_[i];
    while (i > 0) {
      const uint32_t parent = (i - 1) / 2;
      if (!Less(item, v_[parent])) break;
      Place(i, v_[parent]);
      i = parent;
    }
    Place(i, item);
  }
  void SiftDown(uint32_t i) {
    T* item = v_[i];
    const uint32_t n = static_cast<uint32_t>(v_.size());
    for (;;) {
      uint32_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && Less(v_[child + 1], v_[child])) ++child;
      if (!Less(v_[child], item)) break;
      Place(i, v_[child]);
      i = child;
    }
    Place(i, item);
  }

  std::vector<T*> v_;
};

}  // namespace mptcp

#endif  // MPTCP_DEADLINE_HEAP_H_
