#include <gtest/gtest.h>

#include <vector>

#include "mptcp/scheduler/factory.h"

namespace mptcp {
namespace {

SubflowCandidate C(SubflowId id, int64_t srtt_ms, uint32_t room, bool has_rtt = true) {
  SubflowCandidate c;
  c.id = id;
  c.srtt = Duration::Millis(srtt_ms);
  c.has_rtt = has_rtt;
  c.room = room;
  return c;
}

TEST(MinRttSchedulerTest, PicksLowestRttWithRoom) {
  MinRttScheduler s;
  std::vector<SubflowCandidate> c = {C(1, 50, 1000), C(2, 10, 1000), C(3, 5, 0)};
  EXPECT_EQ(s.Pick(c), 1u) << "subflow 3 is faster but full";
  c[1].room = 0;
  EXPECT_EQ(s.Pick(c), 0u);
  c[0].room = 0;
  EXPECT_FALSE(s.Pick(c).has_value());
}

TEST(MinRttSchedulerTest, MeasuredBeatsUnmeasured) {
  MinRttScheduler s;
  std::vector<SubflowCandidate> c = {C(1, 0, 1000, false), C(2, 80, 1000)};
  EXPECT_EQ(s.Pick(c), 1u);
  c[1].room = 0;
  EXPECT_EQ(s.Pick(c), 0u);
}

TEST(RoundRobinSchedulerTest, RotatesAmongSubflowsWithRoom) {
  RoundRobinScheduler s;
  std::vector<SubflowCandidate> c = {C(4, 1, 100), C(2, 1, 100), C(7, 1, 100)};
  // Pick only looks; OnScheduled moves the turn on.
  const auto take = [&] {
    const SubflowId id = c[*s.Pick(c)].id;
    s.OnScheduled(id, 100);
    return id;
  };
  EXPECT_EQ(c[*s.Pick(c)].id, 2u);
  EXPECT_EQ(c[*s.Pick(c)].id, 2u) << "asking twice without sending changes nothing";
  EXPECT_EQ(take(), 2u);
  EXPECT_EQ(take(), 4u);
  EXPECT_EQ(take(), 7u);
  EXPECT_EQ(take(), 2u);
  c[0].room = 0;
  EXPECT_EQ(take(), 7u) << "4 is full";
}

TEST(SchedulerFactoryTest, BuildsEveryKind) {
  EXPECT_EQ(MakeScheduler(SchedulerKind::kMinRtt)->name(), "min-rtt");
  EXPECT_EQ(MakeScheduler(SchedulerKind::kRoundRobin)->name(), "round-robin");
}

}  // namespace
}  // namespace mptcp
