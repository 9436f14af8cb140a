#include "mptcp/fifo.h"

#include <gtest/gtest.h>

#include <deque>

#include "mptcp/random.h"

namespace mptcp {
namespace {

TEST(FifoTest, NoAllocationUntilUsedAndFreedWhenShrunk) {
  Fifo<int> f;
  EXPECT_EQ(f.allocated_bytes(), 0u);
  f.push_back(1);
  EXPECT_GT(f.allocated_bytes(), 0u);
  f.pop_front();
  EXPECT_TRUE(f.empty());
  f.ShrinkIfEmpty();
  EXPECT_EQ(f.allocated_bytes(), 0u);
}

TEST(FifoTest, MatchesDequeUnderRandomOperations) {
  Random r(3);
  Fifo<uint64_t> f;
  std::deque<uint64_t> d;
  for (int step = 0; step < 20000; ++step) {
    const uint64_t op = r.Uniform(10);
    if (op < 5) {
      const uint64_t v = r.Next();
      f.push_back(v);
      d.push_back(v);
    } else if (op < 8) {
      if (!d.empty()) {
        f.pop_front();
        d.pop_front();
      }
    } else if (op < 9 && !d.empty()) {
      const size_t i = r.Uniform(d.size());
      f.insert(i, step);
      d.insert(d.begin() + static_cast<std::ptrdiff_t>(i), step);
    } else {
      const size_t n = r.Uniform(4);
      f.erase_front(n);
      for (size_t k = 0; k < n && !d.empty(); ++k) d.pop_front();
    }
    ASSERT_EQ(f.size(), d.size());
    if (!d.empty()) {
      ASSERT_EQ(f.front(), d.front());
      ASSERT_EQ(f.back(), d.back());
      const size_t i = r.Uniform(d.size());
      ASSERT_EQ(f[i], d[i]);
    }
  }
  size_t i = 0;
  for (uint64_t v : f) EXPECT_EQ(v, d[i++]);
}

}  // namespace
}  // namespace mptcp
