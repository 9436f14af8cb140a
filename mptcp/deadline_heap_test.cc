#include "mptcp/deadline_heap.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "mptcp/random.h"

namespace mptcp {
namespace {

struct Item {
  Timestamp heap_key = Timestamp::Never();
  uint32_t heap_pos = kNotInHeap;
  uint64_t heap_tiebreak = 0;
};

Timestamp Ms(int64_t ms) { return Timestamp::Zero() + Duration::Millis(ms); }

TEST(DeadlineHeapTest, EarliestFirstTiesByIdNeverRemoves) {
  std::vector<Item> items(4);
  for (size_t i = 0; i < items.size(); ++i) items[i].heap_tiebreak = i;
  DeadlineHeap<Item> h;
  h.Set(&items[2], Ms(5));
  h.Set(&items[1], Ms(5));
  h.Set(&items[0], Ms(9));
  h.Set(&items[3], Ms(1));
  EXPECT_EQ(h.top(), &items[3]);
  h.Set(&items[3], Timestamp::Never());
  EXPECT_EQ(items[3].heap_pos, kNotInHeap);
  EXPECT_EQ(h.top(), &items[1]) << "equal deadlines: the lower id";
  h.Set(&items[0], Ms(2));  // moved earlier
  EXPECT_EQ(h.top(), &items[0]);
  h.Set(&items[0], Ms(20));  // moved later
  EXPECT_EQ(h.top(), &items[1]);
  EXPECT_EQ(h.size(), 3u);
}

// Against a sorted reference under random inserts, moves and removals.
TEST(DeadlineHeapTest, MatchesAReferenceUnderRandomOperations) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Random rng(seed);
    std::vector<std::unique_ptr<Item>> items;
    for (uint64_t i = 0; i < 200; ++i) {
      items.push_back(std::make_unique<Item>());
      items.back()->heap_tiebreak = i;
    }
    std::vector<Timestamp> key(items.size(), Timestamp::Never());
    DeadlineHeap<Item> h;
    for (int step = 0; step < 5000; ++step) {
      const size_t i = rng.Uniform(items.size());
      const Timestamp k = rng.Uniform(4) == 0 ? Timestamp::Never()
                                              : Ms(static_cast<int64_t>(rng.Uniform(1000)));
      if (rng.Uniform(10) == 0) {
        h.Remove(items[i].get());
        key[i] = Timestamp::Never();
      } else {
        h.Set(items[i].get(), k);
        key[i] = k;
      }
      // The earliest key, lowest id among equals.
      size_t best = items.size();
      for (size_t j = 0; j < items.size(); ++j) {
        if (key[j].IsNever()) continue;
        if (best == items.size() || key[j] < key[best]) best = j;
      }
      if (best == items.size()) {
        ASSERT_TRUE(h.empty()) << "seed " << seed << " step " << step;
      } else {
        ASSERT_EQ(h.top(), items[best].get()) << "seed " << seed << " step " << step;
        ASSERT_EQ(h.top_key(), key[best]);
      }
      ASSERT_EQ(h.size(), static_cast<size_t>(std::count_if(
                              key.begin(), key.end(), [](Timestamp t) { return !t.IsNever(); })));
    }
  }
}

}  // namespace
}  // namespace mptcp
