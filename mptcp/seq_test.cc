#include "mptcp/seq.h"

#include <gtest/gtest.h>

namespace mptcp {
namespace {

TEST(SeqNum32Test, ComparesAcrossWrap) {
  const SeqNum32 a(0xfffffff0u);
  const SeqNum32 b = a + 0x20;  // wraps past zero
  EXPECT_EQ(b.value(), 0x10u);
  EXPECT_LT(a, b);
  EXPECT_GT(b, a);
  EXPECT_EQ(b - a, 0x20);
  EXPECT_EQ(a - b, -0x20);
  EXPECT_TRUE(SeqInRange(SeqNum32(0), a, b));
  EXPECT_FALSE(SeqInRange(b, a, b));
  EXPECT_EQ(SeqMax(a, b), b);
  EXPECT_EQ(SeqMin(a, b), a);
}

TEST(ExpandDsn32Test, SameEpoch) {
  EXPECT_EQ(ExpandDsn32(0x1234, 0x5'0000'1000ULL), 0x5'0000'1234ULL);
  EXPECT_EQ(ExpandDsn32(0x0100, 0x5'0000'1000ULL), 0x5'0000'0100ULL);
}

TEST(ExpandDsn32Test, WrapsForwardAndBack) {
  // Reference just below a 2^32 boundary, value just above it.
  EXPECT_EQ(ExpandDsn32(0x10, 0x5'ffff'fff0ULL), 0x6'0000'0010ULL);
  // Reference just above a boundary, value (a retransmission) just below it.
  EXPECT_EQ(ExpandDsn32(0xffff'fff0u, 0x6'0000'0010ULL), 0x5'ffff'fff0ULL);
}

TEST(ExpandDsn32Test, NoUnderflowNearZero) {
  EXPECT_EQ(ExpandDsn32(0xffff'fff0u, 0x10), 0xffff'fff0ULL);
  EXPECT_EQ(ExpandDsn32(0x5, 0x10), 0x5ULL);
  EXPECT_EQ(ExpandDsn32(0x0, 0x0), 0x0ULL);
}

TEST(ExpandDsn32Test, MatchesBruteForceNearest) {
  // For each reference and value, the expansion is the 64-bit number with those low bits that
  // lies nearest to the reference (ties impossible with int32 range).
  const uint64_t refs[] = {0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x1'0000'0000ULL,
                           0x1'7fff'ffffULL, 0xabc'8000'0001ULL};
  const uint32_t lows[] = {0, 1, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff};
  for (uint64_t ref : refs) {
    for (uint32_t low : lows) {
      const uint64_t got = ExpandDsn32(low, ref);
      EXPECT_EQ(static_cast<uint32_t>(got), low);
      uint64_t best = 0;
      uint64_t best_dist = ~0ULL;
      for (int64_t k = -1; k <= 1; ++k) {
        const int64_t epoch = static_cast<int64_t>(ref >> 32) + k;
        if (epoch < 0) continue;
        const uint64_t cand = (static_cast<uint64_t>(epoch) << 32) | low;
        const uint64_t dist = cand > ref ? cand - ref : ref - cand;
        if (dist < best_dist) {
          best_dist = dist;
          best = cand;
        }
      }
      EXPECT_EQ(got, best) << "ref=" << ref << " low=" << low;
    }
  }
}

}  // namespace
}  // namespace mptcp
