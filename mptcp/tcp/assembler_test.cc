#include "mptcp/tcp/assembler.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "mptcp/random.h"

namespace mptcp {
namespace {

using Range = Assembler::Range;
using AddResult = Assembler::AddResult;

std::vector<Range> Ranges(const Assembler& a) { return {a.begin(), a.end()}; }

TEST(AssemblerTest, StartsEmpty) {
  Assembler a;
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.max_ranges(), Assembler::kDefaultMaxRanges);
  EXPECT_EQ(a.range_count(), 0u);
  EXPECT_EQ(a.covered_bytes(), 0u);
  EXPECT_EQ(a.Extent(), 0u);
  EXPECT_EQ(a.PopFront(), 0u);
  EXPECT_TRUE(a.Contains(5, 0));
  EXPECT_FALSE(a.Contains(0, 1));
  EXPECT_EQ(a.Find(0), nullptr);
}

TEST(AssemblerTest, ZeroLengthAddIsAcceptedAndChangesNothing) {
  Assembler a(1);
  EXPECT_EQ(a.Add(10, 0), AddResult::kAccepted);
  EXPECT_TRUE(a.empty());
  a.Add(20, 5);
  EXPECT_EQ(a.Add(100, 0), AddResult::kAccepted);  // even when full
  EXPECT_EQ(Ranges(a), (std::vector<Range>{{20, 25}}));
}

TEST(AssemblerTest, MergesOverlappingAdjacentAndSpanningRanges) {
  Assembler a;
  a.Add(10, 5);  // [10,15)
  a.Add(20, 5);  // [20,25)
  a.Add(30, 5);  // [30,35)
  EXPECT_EQ(Ranges(a), (std::vector<Range>{{10, 15}, {20, 25}, {30, 35}}));
  EXPECT_EQ(a.covered_bytes(), 15u);
  a.Add(15, 2);  // touches [10,15) on the right
  EXPECT_EQ(Ranges(a), (std::vector<Range>{{10, 17}, {20, 25}, {30, 35}}));
  a.Add(18, 2);  // touches [20,25) on the left
  EXPECT_EQ(Ranges(a), (std::vector<Range>{{10, 17}, {18, 25}, {30, 35}}));
  a.Add(21, 2);  // inside
  EXPECT_EQ(Ranges(a), (std::vector<Range>{{10, 17}, {18, 25}, {30, 35}}));
  EXPECT_EQ(a.covered_bytes(), 19u);
  a.Add(12, 20);  // [12,32) bridges all three
  EXPECT_EQ(Ranges(a), (std::vector<Range>{{10, 35}}));
  EXPECT_EQ(a.covered_bytes(), 25u);
  a.Add(0, 50);  // swallows
  EXPECT_EQ(Ranges(a), (std::vector<Range>{{0, 50}}));
  EXPECT_EQ(a.covered_bytes(), 50u);
  EXPECT_EQ(a.Extent(), 50u);
}

TEST(AssemblerTest, InsertsBeforeBetweenAndAfter) {
  Assembler a;
  a.Add(50, 10);
  a.Add(10, 10);
  a.Add(30, 5);
  a.Add(100, 1);
  a.Add(0, 2);
  EXPECT_EQ(Ranges(a), (std::vector<Range>{{0, 2}, {10, 20}, {30, 35}, {50, 60}, {100, 101}}));
  EXPECT_EQ(a.covered_bytes(), 28u);
}

TEST(AssemblerTest, RejectsBeyondMaxRangesWithoutChange) {
  Assembler a(3);
  ASSERT_EQ(a.Add(10, 5), AddResult::kAccepted);
  ASSERT_EQ(a.Add(20, 5), AddResult::kAccepted);
  ASSERT_EQ(a.Add(30, 5), AddResult::kAccepted);
  const auto before = Ranges(a);
  EXPECT_EQ(a.Add(40, 5), AddResult::kTooManyRanges);
  EXPECT_EQ(a.Add(0, 5), AddResult::kTooManyRanges);
  EXPECT_EQ(a.Add(16, 2), AddResult::kTooManyRanges);
  EXPECT_EQ(Ranges(a), before);
  EXPECT_EQ(a.covered_bytes(), 15u);
  // Extending or bridging needs no new range, so it is still accepted when full.
  EXPECT_EQ(a.Add(35, 3), AddResult::kAccepted);
  EXPECT_EQ(a.Add(5, 5), AddResult::kAccepted);
  EXPECT_EQ(a.Add(15, 5), AddResult::kAccepted);
  EXPECT_EQ(Ranges(a), (std::vector<Range>{{5, 25}, {30, 38}}));
  EXPECT_EQ(a.Add(100, 1), AddResult::kAccepted);  // room again
}

TEST(AssemblerTest, MaxRangesZeroHoldsNothing) {
  Assembler a(0);
  EXPECT_EQ(a.Add(0, 10), AddResult::kTooManyRanges);
  EXPECT_TRUE(a.empty());
}

TEST(AssemblerTest, PopFrontShiftsTheRest) {
  Assembler a;
  a.Add(5, 5);
  a.Add(20, 5);
  EXPECT_EQ(a.PopFront(), 0u);  // nothing at 0
  a.Add(0, 5);                  // merges into [0,10)
  EXPECT_EQ(a.PopFront(), 10u);
  EXPECT_EQ(Ranges(a), (std::vector<Range>{{10, 15}}));
  EXPECT_EQ(a.covered_bytes(), 5u);
  EXPECT_EQ(a.PopFront(), 0u);
}

TEST(AssemblerTest, AdvanceDropsTrimsAndShifts) {
  Assembler a;
  a.Add(5, 5);    // [5,10)
  a.Add(20, 10);  // [20,30)
  a.Add(40, 5);   // [40,45)
  a.Advance(0);
  EXPECT_EQ(a.range_count(), 3u);
  a.Advance(25);
  EXPECT_EQ(Ranges(a), (std::vector<Range>{{0, 5}, {15, 20}}));
  EXPECT_EQ(a.covered_bytes(), 10u);
  a.Advance(5);  // exactly the end of the first range
  EXPECT_EQ(Ranges(a), (std::vector<Range>{{10, 15}}));
  a.Advance(1000);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.covered_bytes(), 0u);
}

TEST(AssemblerTest, ContainsAndFind) {
  Assembler a;
  a.Add(10, 10);
  a.Add(30, 5);
  EXPECT_TRUE(a.Contains(10, 10));
  EXPECT_TRUE(a.Contains(12, 3));
  EXPECT_FALSE(a.Contains(9, 2));
  EXPECT_FALSE(a.Contains(19, 2));
  EXPECT_FALSE(a.Contains(15, 20));  // spans a hole
  EXPECT_FALSE(a.Contains(25, 1));
  EXPECT_TRUE(a.Contains(25, 0));
  ASSERT_NE(a.Find(34), nullptr);
  EXPECT_EQ(*a.Find(34), (Range{30, 35}));
  EXPECT_EQ(a.Find(35), nullptr);
  EXPECT_EQ(a.Find(20), nullptr);
}

TEST(AssemblerTest, ForEachGapListsTheHoles) {
  Assembler a;
  a.Add(10, 10);
  a.Add(30, 5);
  std::vector<Range> gaps;
  auto collect = [&](size_t off, size_t len) { gaps.push_back({off, off + len}); };
  a.ForEachGap(0, 50, collect);
  EXPECT_EQ(gaps, (std::vector<Range>{{0, 10}, {20, 30}, {35, 50}}));
  gaps.clear();
  a.ForEachGap(12, 5, collect);
  EXPECT_TRUE(gaps.empty());
  a.ForEachGap(15, 18, collect);
  EXPECT_EQ(gaps, (std::vector<Range>{{20, 30}}));
  gaps.clear();
  a.ForEachGap(40, 0, collect);
  EXPECT_TRUE(gaps.empty());
}

TEST(AssemblerTest, HugeOffsetsDoNotOverflow) {
  constexpr size_t kMax = std::numeric_limits<size_t>::max();
  Assembler a;
  EXPECT_EQ(a.Add(kMax - 4, 100), AddResult::kAccepted);
  EXPECT_EQ(Ranges(a), (std::vector<Range>{{kMax - 4, kMax}}));
  EXPECT_TRUE(a.Contains(kMax - 1, 1));
  EXPECT_FALSE(a.Contains(kMax - 1, 5));
}

TEST(AssemblerTest, Clear) {
  Assembler a;
  a.Add(3, 4);
  a.Clear();
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.covered_bytes(), 0u);
}

// The naive model: one bool per byte past the front.
class BitmapModel {
 public:
  explicit BitmapModel(size_t span) : bits_(span, false) {}

  void Add(size_t off, size_t len) {
    for (size_t i = off; i < off + len; ++i) bits_[i] = true;
  }
  size_t PopFront() {
    size_t n = 0;
    while (n < bits_.size() && bits_[n]) ++n;
    Advance(n);
    return n;
  }
  void Advance(size_t n) {
    bits_.erase(bits_.begin(), bits_.begin() + static_cast<ptrdiff_t>(n));
    bits_.resize(bits_.size() + n, false);
  }
  bool Contains(size_t off, size_t len) const {
    for (size_t i = off; i < off + len; ++i) {
      if (!bits_[i]) return false;
    }
    return true;
  }
  std::vector<Range> Runs() const {
    std::vector<Range> runs;
    for (size_t i = 0; i < bits_.size();) {
      if (!bits_[i]) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < bits_.size() && bits_[j]) ++j;
      runs.push_back({i, j});
      i = j;
    }
    return runs;
  }
  size_t Count() const {
    size_t n = 0;
    for (bool b : bits_) n += b;
    return n;
  }

 private:
  std::vector<bool> bits_;
};

void RunAgainstBitmap(uint64_t seed, size_t max_ranges) {
  constexpr size_t kWindow = 600;  // offsets stay below this
  constexpr size_t kSpan = 2 * kWindow;
  Random rng(seed);
  Assembler a(max_ranges);
  BitmapModel m(kSpan);
  size_t rejected = 0;
  for (int step = 0; step < 4000; ++step) {
    const uint64_t op = rng.Uniform(100);
    if (op < 70) {
      const size_t off = rng.Uniform(kWindow);
      const size_t len = rng.Bernoulli(0.1) ? 0 : 1 + rng.Uniform(40);
      BitmapModel after = m;
      after.Add(off, len);
      const bool fits = after.Runs().size() <= max_ranges;
      const AddResult r = a.Add(off, len);
      ASSERT_EQ(r, fits ? AddResult::kAccepted : AddResult::kTooManyRanges)
          << "seed " << seed << " step " << step << " add " << off << "+" << len;
      if (fits) {
        m = after;
      } else {
        ++rejected;
      }
    } else if (op < 85) {
      ASSERT_EQ(a.PopFront(), m.PopFront()) << "seed " << seed << " step " << step;
    } else if (op < 92) {
      const size_t n = rng.Uniform(60);
      a.Advance(n);
      m.Advance(n);
    } else {
      const size_t off = rng.Uniform(kWindow);
      const size_t len = rng.Uniform(30);
      ASSERT_EQ(a.Contains(off, len), m.Contains(off, len))
          << "seed " << seed << " step " << step << " contains " << off << "+" << len;
      std::vector<Range> gaps;
      a.ForEachGap(off, len, [&](size_t g, size_t n) { gaps.push_back({g, g + n}); });
      size_t pos = off;
      for (const Range& g : gaps) {
        ASSERT_GE(g.start, pos);
        ASSERT_LT(g.start, g.end);
        for (size_t i = pos; i < g.start; ++i) ASSERT_TRUE(m.Contains(i, 1));
        for (size_t i = g.start; i < g.end; ++i) ASSERT_FALSE(m.Contains(i, 1));
        pos = g.end;
      }
      for (size_t i = pos; i < off + len; ++i) ASSERT_TRUE(m.Contains(i, 1));
    }
    ASSERT_EQ(Ranges(a), m.Runs()) << "seed " << seed << " step " << step;
    ASSERT_EQ(a.covered_bytes(), m.Count()) << "seed " << seed << " step " << step;
    ASSERT_LE(a.range_count(), max_ranges);
  }
  // The small limits must actually have been exercised.
  if (max_ranges <= 8) {
    EXPECT_GT(rejected, 0u) << "seed " << seed;
  }
}

TEST(AssemblerTest, RandomOperationsMatchBitmapModel) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    RunAgainstBitmap(seed, Assembler::kDefaultMaxRanges);
    RunAgainstBitmap(seed + 1000, 4);
    RunAgainstBitmap(seed + 2000, 1);
  }
}

}  // namespace
}  // namespace mptcp
