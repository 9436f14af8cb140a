// A FIFO over one std::vector: push at the back, pop at the front in O(1) amortized, random
// access, and no allocation until the first push (std::deque allocates on construction, which
// an idle connection with several subflows would pay many times over).
#ifndef MPTCP_FIFO_H_
#define MPTCP_FIFO_H_

#include <cstddef>
#include <iterator>
#include <utility>
#include <vector>

namespace mptcp {

template <typename T>
class Fifo {
 public:
  using iterator = typename std::vector<T>::iterator;
  using const_iterator = typename std::vector<T>::const_iterator;

  bool empty() const { return head_ == v_.size(); }
  size_t size() const { return v_.size() - head_; }
  T& operator[](size_t i) { return v_[head_ + i]; }
  const T& operator[](size_t i) const { return v_[head_ + i]; }
  T& front() { return v_[head_]; }
  const T& front() const { return v_[head_]; }
  T& back() { return v_.back(); }
  const T& back() const { return v_.back(); }
  iterator begin() { return v_.begin() + static_cast<std::ptrdiff_t>(head_); }
  iterator end() { return v_.end(); }
  const_iterator begin() const { return v_.begin() + static_cast<std::ptrdiff_t>(head_); }
  const_iterator end() const { return v_.end(); }

  void push_back(T x) { v_.push_back(std::move(x)); }
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    return v_.emplace_back(std::forward<Args>(args)...);
  }
  void pop_front() {
    ++head_;
    if (head_ == v_.size()) {
      v_.clear();
      head_ = 0;
    } else if (head_ >= 64 && head_ * 2 >= v_.size()) {
      // Compact once the dead prefix is at least half: O(1) amortized per pop.
      v_.erase(v_.begin(), v_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  // Inserts before position i (O(size)); used rarely (splitting a record).
  void insert(size_t i, T x) {
    v_.insert(v_.begin() + static_cast<std::ptrdiff_t>(head_ + i), std::move(x));
  }
  // Removes the element at position i (O(size)).
  void erase_at(size_t i) { v_.erase(v_.begin() + static_cast<std::ptrdiff_t>(head_ + i)); }
  void erase_front(size_t n) {
    for (size_t i = 0; i < n && !empty(); ++i) pop_front();
  }
  void clear() {
    v_.clear();
    head_ = 0;
  }
  // Frees the memory of an empty queue (an idle connection keeps none).
  void ShrinkIfEmpty() {
    if (empty()) {
      v_ = std::vector<T>();
      head_ = 0;
    }
  }
  size_t allocated_bytes() const { return v_.capacity() * sizeof(T); }

 private:
  std::vector<T> v_;
  size_t head_ = 0;
};

}  // namespace mptcp

#endif  // MPTCP_FIFO_H_
