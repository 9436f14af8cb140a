#include "mptcp/tcp/send_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <vector>

#include "mptcp/random.h"

namespace mptcp {
namespace {

// Byte i of a test stream: distinct enough that a misplaced copy shows.
uint8_t StreamByte(size_t i) { return static_cast<uint8_t>((i * 131 + (i >> 8) * 7 + 1) & 0xff); }

std::vector<uint8_t> Stream(size_t from, size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = StreamByte(from + i);
  return v;
}

std::vector<uint8_t> Flatten(const SendBuffer::Pieces& p) {
  std::vector<uint8_t> v(p.first.begin(), p.first.end());
  v.insert(v.end(), p.second.begin(), p.second.end());
  return v;
}

TEST(SendBufferTest, StartsEmptyAndHoldsNoMemory) {
  SendBuffer b(1000);
  EXPECT_EQ(b.capacity(), 1000u);
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.free_space(), 1000u);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.allocated_bytes(), 0u);
  EXPECT_EQ(b.Peek(0, 10).size(), 0u);
}

TEST(SendBufferTest, ZeroLengthOperationsDoNothing) {
  SendBuffer b(100);
  EXPECT_EQ(b.Append({}), 0u);
  EXPECT_EQ(b.allocated_bytes(), 0u);  // nothing stored, nothing allocated
  b.Consume(0);
  uint8_t out[4];
  EXPECT_EQ(b.CopyOut(0, std::span<uint8_t>(out, 0)), 0u);
  EXPECT_EQ(b.CopyOut(0, out), 0u);
  const auto data = Stream(0, 10);
  EXPECT_EQ(b.Append(data), 10u);
  EXPECT_EQ(b.CopyOut(3, std::span<uint8_t>(out, 0)), 0u);
  EXPECT_EQ(b.Peek(3, 0).size(), 0u);
  EXPECT_EQ(b.Peek(10, 5).size(), 0u);
  EXPECT_EQ(b.CopyOut(10, out), 0u);
  EXPECT_EQ(b.CopyOut(1000, out), 0u);
}

TEST(SendBufferTest, AppendStopsAtCapacity) {
  SendBuffer b(10);
  const auto data = Stream(0, 25);
  EXPECT_EQ(b.Append(std::span(data).first(4)), 4u);
  EXPECT_EQ(b.Append(data), 6u);
  EXPECT_EQ(b.size(), 10u);
  EXPECT_EQ(b.free_space(), 0u);
  EXPECT_EQ(b.Append(data), 0u);
  EXPECT_LE(b.allocated_bytes(), 10u);
  std::vector<uint8_t> out(20);
  EXPECT_EQ(b.CopyOut(0, out), 10u);
  std::vector<uint8_t> want = Stream(0, 4);
  const auto rest = Stream(0, 6);
  want.insert(want.end(), rest.begin(), rest.end());
  out.resize(10);
  EXPECT_EQ(out, want);
}

TEST(SendBufferTest, ZeroCapacityAcceptsNothing) {
  SendBuffer b(0);
  const auto data = Stream(0, 5);
  EXPECT_EQ(b.Append(data), 0u);
  EXPECT_EQ(b.allocated_bytes(), 0u);
}

TEST(SendBufferTest, ConsumeClampsAndEmptyBufferKeepsMemoryUntilReleased) {
  SendBuffer b(100);
  const auto data = Stream(0, 50);
  b.Append(data);
  const size_t held = b.allocated_bytes();
  EXPECT_GT(held, 0u);
  b.Consume(30);
  b.ReleaseMemoryIfEmpty();  // not empty: keeps memory
  EXPECT_EQ(b.allocated_bytes(), held);
  b.Consume(1000);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.allocated_bytes(), held);
  b.ReleaseMemoryIfEmpty();
  EXPECT_EQ(b.allocated_bytes(), 0u);
  // And it comes back on the next Append.
  EXPECT_EQ(b.Append(data), 50u);
  EXPECT_EQ(Flatten(b.Peek(0, 100)), data);
}

// For every head position and every (offset, len): the bytes read back are the bytes written,
// and Peek splits exactly where the ring wraps.
TEST(SendBufferTest, WrapAroundAtEveryOffset) {
  constexpr size_t kCap = 37;  // below kMinAllocation, so the ring is exactly kCap bytes
  for (size_t head = 0; head < kCap; ++head) {
    SendBuffer b(kCap);
    ASSERT_EQ(b.Append(Stream(0, kCap)), kCap);
    ASSERT_EQ(b.allocated_bytes(), kCap);
    b.Consume(head);
    // Refill so the buffer is full and its contents start at `head` physically.
    ASSERT_EQ(b.Append(Stream(kCap, head)), head);
    ASSERT_EQ(b.size(), kCap);
    for (size_t off = 0; off <= kCap; ++off) {
      for (size_t len = 0; len <= kCap - off + 1; ++len) {
        const auto p = b.Peek(off, len);
        const size_t want_len = std::min(len, kCap - off);
        ASSERT_EQ(p.size(), want_len) << head << " " << off << " " << len;
        ASSERT_EQ(Flatten(p), Stream(head + off, want_len)) << head << " " << off << " " << len;
        // The physical position of `off` is (head + off) % kCap: a split must happen exactly
        // when the range crosses the end of the ring.
        const size_t phys = (head + off) % kCap;
        const bool wraps = want_len > 0 && phys + want_len > kCap;
        ASSERT_EQ(!p.second.empty(), wraps) << head << " " << off << " " << len;
        std::vector<uint8_t> out(len);
        ASSERT_EQ(b.CopyOut(off, out), want_len);
        out.resize(want_len);
        ASSERT_EQ(out, Stream(head + off, want_len));
      }
    }
  }
}

// Appends that themselves wrap, at every head position and length.
TEST(SendBufferTest, AppendWrapsAtEveryOffset) {
  constexpr size_t kCap = 29;
  for (size_t head = 0; head < kCap; ++head) {
    for (size_t len = 1; len <= kCap; ++len) {
      SendBuffer b(kCap);
      b.Append(Stream(0, kCap));
      b.Consume(kCap - 1);  // one byte left, at physical kCap - 1
      b.Append(Stream(kCap, head));
      b.Consume(head);  // one byte left, now at physical (kCap - 1 + head) % kCap
      const size_t n = b.Append(Stream(kCap + head, len));
      ASSERT_EQ(n, std::min(len, kCap - 1));
      ASSERT_EQ(Flatten(b.Peek(0, kCap)), Stream(kCap - 1 + head, 1 + n)) << head << " " << len;
    }
  }
}

TEST(SendBufferTest, GrowsGeometricallyAndKeepsWrappedBytes) {
  constexpr size_t kMin = ByteRing::kMinAllocation;
  SendBuffer b(10 * kMin);
  ASSERT_EQ(b.Append(Stream(0, 100)), 100u);
  EXPECT_EQ(b.allocated_bytes(), kMin);
  b.Append(Stream(100, kMin - 100));
  EXPECT_EQ(b.allocated_bytes(), kMin);
  b.Consume(1000);
  b.Append(Stream(kMin, 1000));  // wraps inside the first allocation
  EXPECT_EQ(b.allocated_bytes(), kMin);
  ASSERT_FALSE(b.Peek(0, kMin).second.empty());
  b.Append(Stream(kMin + 1000, 1));  // forces growth with wrapped contents
  EXPECT_EQ(b.allocated_bytes(), 2 * kMin);
  EXPECT_EQ(Flatten(b.Peek(0, b.size())), Stream(1000, kMin + 1));
  b.Append(Stream(kMin + 1001, 3 * kMin));
  EXPECT_EQ(b.allocated_bytes(), 8 * kMin);
  b.Append(Stream(4 * kMin + 1001, 10 * kMin));  // growth stops at the capacity
  EXPECT_EQ(b.size(), 10 * kMin);
  EXPECT_EQ(b.allocated_bytes(), 10 * kMin);
  EXPECT_EQ(Flatten(b.Peek(0, b.size())), Stream(1000, 10 * kMin));
}

TEST(SendBufferTest, SetCapacityNeverDropsBytes) {
  SendBuffer b(100);
  b.Append(Stream(0, 60));
  b.set_capacity(10);
  EXPECT_EQ(b.capacity(), 60u);
  EXPECT_EQ(b.free_space(), 0u);
  EXPECT_LE(b.allocated_bytes(), 60u);
  EXPECT_EQ(Flatten(b.Peek(0, 100)), Stream(0, 60));
  b.Consume(20);
  b.set_capacity(200);
  EXPECT_EQ(b.Append(Stream(60, 500)), 160u);
  EXPECT_EQ(Flatten(b.Peek(0, 1000)), Stream(20, 200));
  b.Consume(200);
  b.set_capacity(0);
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(b.allocated_bytes(), 0u);
}

TEST(SendBufferTest, ShrinkingKeepsWrappedBytes) {
  SendBuffer b(50);
  b.Append(Stream(0, 50));
  b.Consume(40);
  b.Append(Stream(50, 20));  // wraps: 30 bytes stored
  b.set_capacity(35);
  EXPECT_EQ(b.allocated_bytes(), 35u);
  EXPECT_EQ(Flatten(b.Peek(0, 100)), Stream(40, 30));
  EXPECT_EQ(b.Append(Stream(70, 10)), 5u);
  EXPECT_EQ(Flatten(b.Peek(0, 100)), Stream(40, 35));
}

// Random Append / Consume / CopyOut / Peek / set_capacity against a std::deque model.
void RunRandomOps(uint64_t seed, size_t initial_capacity, size_t max_op) {
  Random rng(seed);
  SendBuffer b(initial_capacity);
  std::deque<uint8_t> model;
  size_t capacity = initial_capacity;
  size_t next_byte = 0;
  for (int step = 0; step < 5000; ++step) {
    const uint64_t op = rng.Uniform(100);
    if (op < 40) {
      const size_t n = rng.Uniform(max_op + 1);
      const auto data = Stream(next_byte, n);
      const size_t want = std::min(n, capacity - model.size());
      ASSERT_EQ(b.Append(data), want) << "seed " << seed << " step " << step;
      for (size_t i = 0; i < want; ++i) model.push_back(data[i]);
      next_byte += want;
    } else if (op < 70) {
      const size_t n = rng.Uniform(model.size() + 1);
      b.Consume(n);
      model.erase(model.begin(), model.begin() + static_cast<ptrdiff_t>(n));
    } else if (op < 85) {
      const size_t off = rng.Uniform(model.size() + 10);
      std::vector<uint8_t> out(rng.Uniform(max_op + 1));
      const size_t want = off >= model.size() ? 0 : std::min(out.size(), model.size() - off);
      ASSERT_EQ(b.CopyOut(off, out), want) << "seed " << seed << " step " << step;
      for (size_t i = 0; i < want; ++i) ASSERT_EQ(out[i], model[off + i]);
    } else if (op < 97) {
      const size_t off = rng.Uniform(model.size() + 10);
      const size_t len = rng.Uniform(max_op + 1);
      const auto got = Flatten(b.Peek(off, len));
      const size_t want = off >= model.size() ? 0 : std::min(len, model.size() - off);
      ASSERT_EQ(got.size(), want) << "seed " << seed << " step " << step;
      for (size_t i = 0; i < want; ++i) ASSERT_EQ(got[i], model[off + i]);
    } else if (op < 99) {
      capacity = std::max<size_t>(rng.Uniform(2 * initial_capacity + 1), model.size());
      b.set_capacity(capacity);
    } else {
      b.ReleaseMemoryIfEmpty();
      if (model.empty()) {
        ASSERT_EQ(b.allocated_bytes(), 0u);
      }
    }
    ASSERT_EQ(b.size(), model.size());
    ASSERT_EQ(b.capacity(), capacity);
    ASSERT_EQ(b.free_space(), capacity - model.size());
    ASSERT_LE(b.allocated_bytes(), capacity);
    ASSERT_GE(b.allocated_bytes(), model.size());
  }
}

TEST(SendBufferTest, RandomOperationsMatchDequeModel) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    RunRandomOps(seed, 3000, 1500);         // ring smaller than kMinAllocation
    RunRandomOps(seed + 100, 20000, 6000);  // grows through several reallocations
  }
}

}  // namespace
}  // namespace mptcp
