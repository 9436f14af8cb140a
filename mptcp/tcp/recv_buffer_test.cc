#include "mptcp/tcp/recv_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "mptcp/random.h"

namespace mptcp {
namespace {

using Range = Assembler::Range;

uint8_t StreamByte(size_t i) { return static_cast<uint8_t>((i * 131 + (i >> 8) * 7 + 1) & 0xff); }

std::vector<uint8_t> Stream(size_t from, size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = StreamByte(from + i);
  return v;
}

std::vector<uint8_t> ReadAll(RecvBuffer& b) {
  std::vector<uint8_t> out(b.readable());
  EXPECT_EQ(b.Read(out), out.size());
  return out;
}

std::vector<Range> Ranges(const RecvBuffer& b) {
  return {b.ooo_ranges().begin(), b.ooo_ranges().end()};
}

TEST(RecvBufferTest, StartsEmptyAndHoldsNoMemory) {
  RecvBuffer b(1000);
  EXPECT_EQ(b.capacity(), 1000u);
  EXPECT_EQ(b.readable(), 0u);
  EXPECT_EQ(b.window(), 1000u);
  EXPECT_EQ(b.ooo_bytes(), 0u);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.allocated_bytes(), 0u);
  EXPECT_EQ(b.ooo_ranges().max_ranges(), Assembler::kDefaultMaxRanges);
  EXPECT_EQ(RecvBuffer(10, 3).ooo_ranges().max_ranges(), 3u);
}

TEST(RecvBufferTest, ZeroLengthOperationsDoNothing) {
  RecvBuffer b(100);
  const auto r = b.Write(0, {});
  EXPECT_EQ(r.accepted, 0u);
  EXPECT_EQ(r.advanced, 0u);
  EXPECT_FALSE(r.rejected_too_many_ranges);
  EXPECT_EQ(b.Write(50, {}).accepted, 0u);
  EXPECT_EQ(b.allocated_bytes(), 0u);
  uint8_t out[4];
  EXPECT_EQ(b.Read(out), 0u);
  EXPECT_EQ(b.Read(std::span<uint8_t>(out, 0)), 0u);
  EXPECT_EQ(b.PeekReadable(10).size(), 0u);
  b.Consume(0);
  b.Consume(10);
  EXPECT_TRUE(b.empty());
}

TEST(RecvBufferTest, InOrderWriteAndRead) {
  RecvBuffer b(100);
  auto r = b.Write(0, Stream(0, 30));
  EXPECT_EQ(r.accepted, 30u);
  EXPECT_EQ(r.advanced, 30u);
  EXPECT_EQ(b.readable(), 30u);
  EXPECT_EQ(b.window(), 70u);
  r = b.Write(0, Stream(30, 20));
  EXPECT_EQ(r.advanced, 20u);
  std::vector<uint8_t> out(10);
  EXPECT_EQ(b.Read(out), 10u);
  EXPECT_EQ(out, Stream(0, 10));
  const auto p = b.PeekReadable(15);
  ASSERT_EQ(p.size(), 15u);
  std::vector<uint8_t> peeked(15);
  p.CopyTo(peeked);
  EXPECT_EQ(peeked, Stream(10, 15));
  b.Consume(15);
  EXPECT_EQ(ReadAll(b), Stream(25, 25));
  EXPECT_TRUE(b.empty());
}

TEST(RecvBufferTest, ClipsToTheWindow) {
  RecvBuffer b(100);
  b.Write(0, Stream(0, 60));
  EXPECT_EQ(b.window(), 40u);
  auto r = b.Write(30, Stream(90, 20));  // [30,50) past RCV.NXT, window ends at 40
  EXPECT_EQ(r.accepted, 10u);
  EXPECT_EQ(r.advanced, 0u);
  EXPECT_EQ(Ranges(b), (std::vector<Range>{{30, 40}}));
  r = b.Write(40, Stream(100, 5));  // entirely outside
  EXPECT_EQ(r.accepted, 0u);
  EXPECT_FALSE(r.rejected_too_many_ranges);
  r = b.Write(0, Stream(60, 100));  // fills the hole and reaches the window's end
  EXPECT_EQ(r.accepted, 40u);
  EXPECT_EQ(r.advanced, 40u);
  EXPECT_EQ(b.readable(), 100u);
  EXPECT_EQ(b.window(), 0u);
  EXPECT_EQ(b.Write(0, Stream(100, 1)).accepted, 0u);
  EXPECT_EQ(ReadAll(b), Stream(0, 100));
  EXPECT_LE(b.allocated_bytes(), 100u);
}

TEST(RecvBufferTest, OutOfOrderDataBecomesReadableWhenTheHoleFills) {
  RecvBuffer b(1000);
  EXPECT_EQ(b.Write(100, Stream(100, 50)).advanced, 0u);
  EXPECT_EQ(b.Write(200, Stream(200, 50)).advanced, 0u);
  EXPECT_EQ(b.readable(), 0u);
  EXPECT_EQ(b.ooo_bytes(), 100u);
  EXPECT_EQ(Ranges(b), (std::vector<Range>{{100, 150}, {200, 250}}));
  EXPECT_FALSE(b.empty());
  auto r = b.Write(0, Stream(0, 100));
  EXPECT_EQ(r.accepted, 100u);
  EXPECT_EQ(r.advanced, 150u);
  EXPECT_EQ(b.readable(), 150u);
  EXPECT_EQ(b.ooo_bytes(), 50u);
  EXPECT_EQ(Ranges(b), (std::vector<Range>{{50, 100}}));  // relative to the new RCV.NXT
  r = b.Write(0, Stream(150, 50));
  EXPECT_EQ(r.advanced, 100u);
  EXPECT_EQ(b.ooo_bytes(), 0u);
  EXPECT_EQ(ReadAll(b), Stream(0, 250));
}

TEST(RecvBufferTest, OverlapKeepsBytesAlreadyReceived) {
  RecvBuffer b(100);
  b.Write(10, std::vector<uint8_t>(10, 0xaa));  // [10,20)
  std::vector<uint8_t> fresh(30, 0xbb);         // [0,30) overlapping it
  const auto r = b.Write(0, fresh);
  EXPECT_EQ(r.accepted, 30u);
  EXPECT_EQ(r.advanced, 30u);
  std::vector<uint8_t> want(30, 0xbb);
  for (size_t i = 10; i < 20; ++i) want[i] = 0xaa;
  EXPECT_EQ(ReadAll(b), want);
}

TEST(RecvBufferTest, DuplicateWriteIsAcceptedButAdvancesNothing) {
  RecvBuffer b(100);
  b.Write(20, Stream(20, 10));
  const auto r = b.Write(22, Stream(22, 5));
  EXPECT_EQ(r.accepted, 5u);
  EXPECT_EQ(r.advanced, 0u);
  EXPECT_EQ(b.ooo_bytes(), 10u);
}

TEST(RecvBufferTest, TooManyRangesRejectsOutOfOrderButNeverInOrder) {
  RecvBuffer b(1000, 2);
  b.Write(100, Stream(100, 10));
  b.Write(200, Stream(200, 10));
  auto r = b.Write(300, Stream(300, 10));
  EXPECT_TRUE(r.rejected_too_many_ranges);
  EXPECT_EQ(r.accepted, 0u);
  EXPECT_EQ(b.ooo_bytes(), 20u);
  // Extending a range needs none.
  r = b.Write(110, Stream(110, 10));
  EXPECT_FALSE(r.rejected_too_many_ranges);
  EXPECT_EQ(r.accepted, 10u);
  // In-order bytes that do not reach the first range are still taken.
  r = b.Write(0, Stream(0, 50));
  EXPECT_FALSE(r.rejected_too_many_ranges);
  EXPECT_EQ(r.accepted, 50u);
  EXPECT_EQ(r.advanced, 50u);
  EXPECT_EQ(Ranges(b), (std::vector<Range>{{50, 70}, {150, 160}}));
  r = b.Write(0, Stream(50, 50));
  EXPECT_EQ(r.advanced, 70u);
  EXPECT_EQ(ReadAll(b), Stream(0, 120));
  EXPECT_EQ(Ranges(b), (std::vector<Range>{{80, 90}}));
}

TEST(RecvBufferTest, NoRangesMeansInOrderOnly) {
  RecvBuffer b(100, 0);
  EXPECT_TRUE(b.Write(5, Stream(5, 5)).rejected_too_many_ranges);
  EXPECT_EQ(b.Write(0, Stream(0, 5)).advanced, 5u);
  EXPECT_EQ(b.Write(0, Stream(5, 5)).advanced, 5u);
  EXPECT_EQ(ReadAll(b), Stream(0, 10));
}

TEST(RecvBufferTest, ZeroCapacityStoresNothing) {
  RecvBuffer b(0);
  EXPECT_EQ(b.Write(0, Stream(0, 5)).accepted, 0u);
  EXPECT_EQ(b.allocated_bytes(), 0u);
}

TEST(RecvBufferTest, MemoryIsLazyGrowsAndIsReleasedWhenEmpty) {
  constexpr size_t kMin = ByteRing::kMinAllocation;
  RecvBuffer b(100 * kMin);
  b.Write(0, Stream(0, 10));
  EXPECT_EQ(b.allocated_bytes(), kMin);
  b.Write(3 * kMin, Stream(3 * kMin + 10, 5));  // far out of order: grows to reach it
  EXPECT_EQ(b.allocated_bytes(), 4 * kMin);
  b.ReleaseMemoryIfEmpty();  // not empty
  EXPECT_EQ(b.allocated_bytes(), 4 * kMin);
  b.Write(0, Stream(10, 3 * kMin));
  EXPECT_EQ(ReadAll(b), Stream(0, 3 * kMin + 15));
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.allocated_bytes(), 4 * kMin);  // kept while the connection is busy
  b.ReleaseMemoryIfEmpty();
  EXPECT_EQ(b.allocated_bytes(), 0u);
}

TEST(RecvBufferTest, ReleaseWithOnlyOutOfOrderDataKeepsIt) {
  RecvBuffer b(100);
  b.Write(10, Stream(10, 5));
  b.ReleaseMemoryIfEmpty();
  EXPECT_GT(b.allocated_bytes(), 0u);
  b.Write(0, Stream(0, 10));
  EXPECT_EQ(ReadAll(b), Stream(0, 15));
}

// Every head position x every readable length x every hole position, on a ring whose size is
// exactly the capacity, so that readable bytes, the out-of-order write and the hole fill each
// wrap at every possible place.
TEST(RecvBufferTest, WrapAroundAtEveryOffset) {
  constexpr size_t kCap = 31;  // below kMinAllocation, so the ring is exactly kCap bytes
  for (size_t head = 0; head < kCap; ++head) {
    for (size_t rd = 1; rd <= kCap; ++rd) {
      const size_t win = kCap - rd;
      for (size_t hole = 0; hole <= win; ++hole) {
        RecvBuffer b(kCap);
        // One readable byte at physical `head` (never empty, so the head is not reset),
        // then rd readable bytes in all; stream byte `head` sits at the head.
        b.Write(0, Stream(0, head + 1));
        ASSERT_EQ(b.allocated_bytes(), kCap);
        b.Consume(head);
        b.Write(0, Stream(head + 1, rd - 1));
        ASSERT_EQ(b.readable(), rd);
        ASSERT_EQ(b.window(), win);
        const size_t nxt = head + rd;  // stream index of RCV.NXT
        if (hole < win) {
          // Out of order [hole, win), offered with a tail past the window.
          const auto r = b.Write(hole, Stream(nxt + hole, win - hole + 3));
          ASSERT_EQ(r.accepted, win - hole);
          ASSERT_EQ(r.advanced, hole == 0 ? win : 0u);
          if (hole > 0) {
            ASSERT_EQ(Ranges(b), (std::vector<Range>{{hole, win}}));
          }
        }
        const auto r = b.Write(0, Stream(nxt, hole));  // fills [0, hole)
        ASSERT_EQ(r.advanced, hole == 0 ? 0u : win);
        ASSERT_EQ(b.readable(), kCap) << head << " " << rd << " " << hole;
        ASSERT_EQ(b.ooo_bytes(), 0u);
        const auto p = b.PeekReadable(kCap);
        ASSERT_EQ(p.size(), kCap);
        ASSERT_EQ(!p.second.empty(), head != 0);
        std::vector<uint8_t> out(kCap);
        ASSERT_EQ(b.Read(out), kCap);
        ASSERT_EQ(out, Stream(head, kCap)) << head << " " << rd << " " << hole;
      }
    }
  }
}

TEST(RecvBufferTest, GrowthKeepsWrappedReadableAndOutOfOrderBytes) {
  constexpr size_t kMin = ByteRing::kMinAllocation;
  RecvBuffer b(4 * kMin);
  b.Write(0, Stream(0, kMin - 30));
  b.Consume(kMin - 130);  // 100 readable at physical [kMin - 130, kMin - 30)
  const size_t nxt = kMin - 30;
  b.Write(10, Stream(nxt + 10, 200));  // out of order, straddles the end of the ring
  ASSERT_EQ(b.allocated_bytes(), kMin);
  b.Write(2 * kMin, Stream(nxt + 2 * kMin, 10));  // forces growth
  EXPECT_EQ(b.allocated_bytes(), 4 * kMin);
  EXPECT_EQ(b.Write(0, Stream(nxt, 10)).advanced, 210u);
  EXPECT_EQ(b.readable(), 310u);
  std::vector<uint8_t> out(310);
  b.Read(out);
  EXPECT_EQ(out, Stream(kMin - 130, 310));
  EXPECT_EQ(Ranges(b), (std::vector<Range>{{2 * kMin - 210, 2 * kMin - 200}}));
  b.Write(0, Stream(nxt + 210, 2 * kMin - 210));
  std::vector<uint8_t> rest(b.readable());
  b.Read(rest);
  EXPECT_EQ(rest, Stream(nxt + 210, 2 * kMin - 200));
}

TEST(RecvBufferTest, SetCapacityNeverDropsStoredBytes) {
  RecvBuffer b(200);
  b.Write(0, Stream(0, 20));
  b.Write(50, Stream(70, 30));  // extent 20 + 80 = 100
  b.set_capacity(10);
  EXPECT_EQ(b.capacity(), 100u);
  EXPECT_EQ(b.window(), 80u);
  EXPECT_LE(b.allocated_bytes(), 100u);
  b.Write(0, Stream(20, 50));
  EXPECT_EQ(ReadAll(b), Stream(0, 100));
  b.set_capacity(0);
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(b.allocated_bytes(), 0u);
  b.set_capacity(50);
  EXPECT_EQ(b.Write(0, Stream(100, 80)).accepted, 50u);
}

// The model: RCV.NXT as an absolute stream position, a deque of readable bytes and a map of
// out-of-order bytes keyed by absolute position (first arrival wins).
struct Model {
  size_t capacity;
  size_t max_ranges;
  size_t rcv_nxt = 0;
  std::deque<uint8_t> readable;
  std::map<size_t, uint8_t> ooo;

  size_t Runs(const std::map<size_t, uint8_t>& m) const {
    size_t runs = 0;
    size_t prev = 0;
    bool first = true;
    for (const auto& [pos, byte] : m) {
      if (first || pos != prev + 1) ++runs;
      prev = pos;
      first = false;
    }
    return runs;
  }

  std::vector<Range> Ranges() const {
    std::vector<Range> out;
    for (const auto& [pos, byte] : ooo) {
      const size_t rel = pos - rcv_nxt;
      if (!out.empty() && out.back().end == rel) {
        ++out.back().end;
      } else {
        out.push_back({rel, rel + 1});
      }
    }
    return out;
  }

  RecvBuffer::WriteResult Write(size_t offset, const std::vector<uint8_t>& data) {
    RecvBuffer::WriteResult r;
    const size_t win = capacity - readable.size();
    if (data.empty() || offset >= win) return r;
    const size_t len = std::min(data.size(), win - offset);
    std::vector<size_t> inserted;
    for (size_t i = 0; i < len; ++i) {
      const size_t pos = rcv_nxt + offset + i;
      if (ooo.emplace(pos, data[i]).second) inserted.push_back(pos);
    }
    if (Runs(ooo) > max_ranges && offset != 0) {
      for (size_t pos : inserted) ooo.erase(pos);
      r.rejected_too_many_ranges = true;
      return r;
    }
    r.accepted = len;
    while (!ooo.empty() && ooo.begin()->first == rcv_nxt) {
      readable.push_back(ooo.begin()->second);
      ooo.erase(ooo.begin());
      ++rcv_nxt;
      ++r.advanced;
    }
    return r;
  }
};

void RunRandomOps(uint64_t seed, size_t capacity, size_t max_ranges, size_t max_len) {
  Random rng(seed);
  RecvBuffer b(capacity, max_ranges);
  Model m{.capacity = capacity, .max_ranges = max_ranges, .readable = {}, .ooo = {}};
  size_t rejected = 0, advanced_ooo = 0;
  for (int step = 0; step < 4000; ++step) {
    const uint64_t op = rng.Uniform(100);
    if (op < 60) {
      // Mostly near RCV.NXT, sometimes past the window; a few "retransmissions" carry
      // different bytes, which must not overwrite what arrived first.
      size_t offset = rng.Bernoulli(0.3) ? 0 : rng.Uniform(capacity / 2);
      if (rng.Bernoulli(0.05)) offset = capacity + rng.Uniform(100);
      const size_t len = rng.Bernoulli(0.05) ? 0 : 1 + rng.Uniform(max_len);
      std::vector<uint8_t> data = Stream(m.rcv_nxt + offset, len);
      if (rng.Bernoulli(0.1)) {
        for (auto& x : data) x = static_cast<uint8_t>(rng.Next());
      }
      const auto want = m.Write(offset, data);
      const auto got = b.Write(offset, data);
      ASSERT_EQ(got.accepted, want.accepted) << "seed " << seed << " step " << step;
      ASSERT_EQ(got.advanced, want.advanced) << "seed " << seed << " step " << step;
      ASSERT_EQ(got.rejected_too_many_ranges, want.rejected_too_many_ranges)
          << "seed " << seed << " step " << step;
      rejected += got.rejected_too_many_ranges;
      if (got.advanced > got.accepted) ++advanced_ooo;
    } else if (op < 80) {
      std::vector<uint8_t> out(rng.Uniform(3000));
      const size_t n = b.Read(out);
      ASSERT_EQ(n, std::min(out.size(), m.readable.size()));
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(out[i], m.readable.front()) << "seed " << seed << " step " << step;
        m.readable.pop_front();
      }
    } else if (op < 95) {
      const auto p = b.PeekReadable(rng.Uniform(3000));
      ASSERT_LE(p.size(), m.readable.size());
      std::vector<uint8_t> out(p.size());
      p.CopyTo(out);
      for (size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], m.readable[i]);
      const size_t n = rng.Uniform(p.size() + 1);
      b.Consume(n);
      m.readable.erase(m.readable.begin(), m.readable.begin() + static_cast<ptrdiff_t>(n));
    } else {
      b.ReleaseMemoryIfEmpty();
      if (m.readable.empty() && m.ooo.empty()) {
        ASSERT_EQ(b.allocated_bytes(), 0u);
      }
    }
    ASSERT_EQ(b.readable(), m.readable.size()) << "seed " << seed << " step " << step;
    ASSERT_EQ(b.window(), capacity - m.readable.size());
    ASSERT_EQ(b.ooo_bytes(), m.ooo.size()) << "seed " << seed << " step " << step;
    ASSERT_EQ(Ranges(b), m.Ranges()) << "seed " << seed << " step " << step;
    ASSERT_LE(b.allocated_bytes(), capacity);
  }
  // Out-of-order data must actually have been reassembled, and small limits hit.
  EXPECT_GT(advanced_ooo, 0u) << "seed " << seed;
  if (max_ranges <= 4) {
    EXPECT_GT(rejected, 0u) << "seed " << seed;
  }
}

TEST(RecvBufferTest, RandomOperationsMatchMapModel) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    RunRandomOps(seed, 3000, Assembler::kDefaultMaxRanges, 1500);
    RunRandomOps(seed + 100, 3000, 3, 200);    // small segments: the range limit bites
    RunRandomOps(seed + 200, 20000, 8, 1500);  // grows through several reallocations
  }
}

}  // namespace
}  // namespace mptcp
