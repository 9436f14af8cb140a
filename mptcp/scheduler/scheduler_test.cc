// Each scheduler as a conversation: these candidates, this context -> this pick.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mptcp/scheduler/factory.h"

namespace mptcp {
namespace {

constexpr uint32_t kMss = 1420;

SubflowCandidate C(SubflowId id, int64_t srtt_ms, uint32_t room, bool has_rtt = true) {
  SubflowCandidate c;
  c.id = id;
  c.srtt = Duration::Millis(srtt_ms);
  c.has_rtt = has_rtt;
  c.room = room;
  c.rttvar = Duration::Millis(srtt_ms / 4);
  c.mss = kMss;
  return c;
}

// A subflow with cwnd `cwnd_segs` segments, `in_flight_segs` of them in flight, and room for
// the rest.
SubflowCandidate Busy(SubflowId id, int64_t srtt_ms, uint32_t cwnd_segs, uint32_t in_flight_segs) {
  SubflowCandidate c = C(id, srtt_ms, (cwnd_segs - in_flight_segs) * kMss);
  c.cwnd = cwnd_segs * kMss;
  c.in_flight = in_flight_segs * kMss;
  return c;
}

SchedulingContext Window(uint64_t window, uint64_t unsent) {
  return SchedulingContext{.send_window = window, .window_left = window, .unsent = unsent};
}

const SchedulingContext kNoContext{};

TEST(MinRttSchedulerTest, PicksLowestRttWithRoom) {
  MinRttScheduler s;
  std::vector<SubflowCandidate> c = {C(1, 50, 1000), C(2, 10, 1000), C(3, 5, 0)};
  EXPECT_EQ(s.Pick(c, kNoContext), 1u) << "subflow 3 is faster but full";
  c[1].room = 0;
  EXPECT_EQ(s.Pick(c, kNoContext), 0u);
  c[0].room = 0;
  EXPECT_FALSE(s.Pick(c, kNoContext).has_value());
}

TEST(MinRttSchedulerTest, MeasuredBeatsUnmeasured) {
  MinRttScheduler s;
  std::vector<SubflowCandidate> c = {C(1, 0, 1000, false), C(2, 80, 1000)};
  EXPECT_EQ(s.Pick(c, kNoContext), 1u);
  c[1].room = 0;
  EXPECT_EQ(s.Pick(c, kNoContext), 0u);
}

TEST(MinRttSchedulerTest, NeverWaitsForAFullFasterSubflowWhileMoreIsComing) {
  MinRttScheduler s;
  // Whatever the window: the slow subflow has room, so it is used.
  std::vector<SubflowCandidate> c = {Busy(1, 10, 10, 10), Busy(2, 100, 10, 0)};
  EXPECT_EQ(s.Pick(c, Window(20 * kMss, 1 << 20)), 1u);
  // Even with the last bytes on offer, unless the application has nothing more for now (a
  // full send buffer lets in only what was acknowledged).
  c[0].forward_delay = Duration::Millis(5);
  c[0].delivery_rate = 3.5e6;
  c[1].forward_delay = Duration::Millis(100);
  c[1].delivery_rate = 1.2e6;
  EXPECT_EQ(s.Pick(c, Window(1 << 20, 10 * kMss)), 1u);
}

// The end of a transfer over a fast path (forward delay 25 ms, 3.5 MB/s) and a slow one whose
// queue holds 100 ms (1.2 MB/s) but whose smoothed RTT is the lower (the fast path's RTT counts
// a queue on the way back).
std::vector<SubflowCandidate> EndOfTransfer() {
  std::vector<SubflowCandidate> c = {Busy(1, 150, 100, 100), Busy(2, 120, 200, 150)};
  c[0].forward_delay = Duration::Millis(25);
  c[0].delivery_rate = 3.5e6;
  c[1].forward_delay = Duration::Millis(100);
  c[1].delivery_rate = 1.2e6;
  return c;
}

SchedulingContext LastBytes(uint64_t unsent) {
  SchedulingContext ctx = Window(4 << 20, unsent);
  ctx.app_limited = true;
  return ctx;
}

TEST(MinRttSchedulerTest, TheLastBytesWaitForTheSubflowThatDeliversThemFirst) {
  MinRttScheduler s;
  std::vector<SubflowCandidate> c = EndOfTransfer();
  // 100 KB: 25 + 29 ms on subflow 1, against 100 ms before subflow 2's first segment arrives.
  EXPECT_FALSE(s.Pick(c, LastBytes(100'000)).has_value());
  // Subflow 1 has room again: it takes them, though subflow 2's RTT is lower.
  c[0].room = 4 * kMss;
  EXPECT_EQ(s.Pick(c, LastBytes(100'000)), 0u);
}

TEST(MinRttSchedulerTest, UsesEverySubflowWhileMoreIsLeftThanTheFastOneCanEndSooner) {
  MinRttScheduler s;
  const std::vector<SubflowCandidate> c = EndOfTransfer();
  // 400 KB: 25 + 114 ms on subflow 1 alone; subflow 2 delivers its first segment at 101 ms.
  EXPECT_EQ(s.Pick(c, LastBytes(400'000)), 1u);
}

TEST(MinRttSchedulerTest, NeverHoldsBackAReinjection) {
  MinRttScheduler s;
  SchedulingContext ctx = LastBytes(kMss);
  ctx.reinjection = true;
  EXPECT_EQ(s.Pick(EndOfTransfer(), ctx), 1u);
}

TEST(MinRttSchedulerTest, ASubflowWithoutARateSampleNeitherWaitsNorIsWaitedFor) {
  MinRttScheduler s;
  std::vector<SubflowCandidate> c = EndOfTransfer();
  c[0].delivery_rate = 0;
  EXPECT_EQ(s.Pick(c, LastBytes(kMss)), 1u);
  c = EndOfTransfer();
  c[1].delivery_rate = 0;
  EXPECT_EQ(s.Pick(c, LastBytes(kMss)), 1u);
}

TEST(RoundRobinSchedulerTest, RotatesAmongSubflowsWithRoom) {
  RoundRobinScheduler s;
  std::vector<SubflowCandidate> c = {C(4, 1, 100), C(2, 1, 100), C(7, 1, 100)};
  // Pick only looks; OnScheduled moves the turn on.
  const auto take = [&] {
    const size_t i = *s.Pick(c, kNoContext);
    s.OnScheduled(c, kNoContext, i, 100);
    return c[i].id;
  };
  EXPECT_EQ(c[*s.Pick(c, kNoContext)].id, 2u);
  EXPECT_EQ(c[*s.Pick(c, kNoContext)].id, 2u) << "asking twice without sending changes nothing";
  EXPECT_EQ(take(), 2u);
  EXPECT_EQ(take(), 4u);
  EXPECT_EQ(take(), 7u);
  EXPECT_EQ(take(), 2u);
  c[0].room = 0;
  EXPECT_EQ(take(), 7u) << "4 is full";
}

TEST(RedundantSchedulerTest, AsksForPerSubflowCursorsAndServesTheFastestFirst) {
  RedundantScheduler s;
  EXPECT_TRUE(s.redundant()) << "the connection offers each subflow what it has not had";
  EXPECT_FALSE(MinRttScheduler().redundant());
  std::vector<SubflowCandidate> c = {C(1, 60, 5000), C(2, 20, 5000)};
  EXPECT_EQ(s.Pick(c, kNoContext), 1u);
  c[1].room = 0;  // subflow 2 has had everything (or is full): 1 catches up
  EXPECT_EQ(s.Pick(c, kNoContext), 0u);
  c[0].room = 0;
  EXPECT_FALSE(s.Pick(c, kNoContext).has_value());
}

// Wi-Fi-like fast subflow (20 ms, cwnd 30 segments, full) and an LTE-like slow one (60 ms,
// room).
std::vector<SubflowCandidate> FastFullSlowFree() {
  return {Busy(1, 20, 30, 30), Busy(2, 60, 20, 0)};
}

TEST(BlestSchedulerTest, WaitsForTheFastSubflowWhenTheSlowOneWouldBlockTheWindow) {
  BlestScheduler s;
  const std::vector<SubflowCandidate> c = FastFullSlowFree();
  // rtts = 3: X = 1420 * (30 + 1) * 3 = 132 KB, more than a 64 KiB window leaves: wait.
  EXPECT_FALSE(s.Pick(c, Window(64 * 1024, 1 << 20)).has_value());
  // A 1 MiB window has room for both: the slow subflow is used.
  EXPECT_EQ(s.Pick(c, Window(1 << 20, 1 << 20)), 1u);
  // Just around the threshold: X = 132,060; held = 1 MSS.
  EXPECT_FALSE(s.Pick(c, Window(132060 + kMss - 1, 1 << 20)).has_value());
  EXPECT_EQ(s.Pick(c, Window(132060 + kMss + 1, 1 << 20)), 1u);
}

TEST(BlestSchedulerTest, BehavesAsMinRttOtherwise) {
  BlestScheduler s;
  std::vector<SubflowCandidate> c = FastFullSlowFree();
  c[0].room = kMss;  // the fast subflow has room: it goes first
  EXPECT_EQ(s.Pick(c, Window(16 * 1024, 1 << 20)), 0u);
  c[0].room = 0;
  SchedulingContext reinject = Window(16 * 1024, 1 << 20);
  reinject.reinjection = true;
  EXPECT_EQ(s.Pick(c, reinject), 1u) << "a reinjection is never held back";
  c[1].room = 0;
  EXPECT_FALSE(s.Pick(c, Window(1 << 20, 1 << 20)).has_value());
  // Without an RTT sample on the fast subflow there is nothing to estimate.
  c = FastFullSlowFree();
  c[0].has_rtt = false;
  EXPECT_EQ(s.Pick(c, Window(16 * 1024, 1 << 20)), 1u);
}

TEST(EcfSchedulerTest, WaitsWhenTheFastSubflowWouldFinishFirst) {
  EcfScheduler s;
  const std::vector<SubflowCandidate> c = FastFullSlowFree();
  // k = 64 KiB (the window bounds the backlog): the fast subflow needs 1 + 65536 / 42600 =
  // 2.54 RTTs = 51 ms < 60 ms + 15 ms; the slow one would need 65536 / 28400 * 60 ms = 138 ms
  // >= 2 * 20 + 15 ms: wait.
  EXPECT_FALSE(s.Pick(c, Window(64 * 1024, 1 << 20)).has_value());
  // A large window and backlog: the fast subflow would need 1 + 1 MiB / 42600 = 25.6 RTTs,
  // far longer than the slow one's RTT: use it.
  EXPECT_EQ(s.Pick(c, Window(1 << 20, 1 << 20)), 1u);
  // Little left to send: the slow subflow finishes it in time (2 KB / 28.4 KB * 60 ms = 4 ms).
  EXPECT_EQ(s.Pick(c, Window(1 << 20, 2000)), 1u);
}

TEST(EcfSchedulerTest, HysteresisKeepsWaitingOnceItWaits) {
  EcfScheduler s;
  const std::vector<SubflowCandidate> c = FastFullSlowFree();
  // RTT_s + delta = 60 + 15 = 75 ms, or 93.75 ms with the margin. k = 140,000: the fast
  // subflow needs (1 + 140000 / 42600) * 20 = 85.7 ms, between the two; the slow one
  // 140000 / 28400 * 60 = 296 ms >= 2 * 20 + 15 ms.
  const SchedulingContext ctx = Window(140'000, 1 << 20);
  EXPECT_EQ(s.Pick(c, ctx), 1u) << "not waiting: the slow subflow is worth using";
  s.OnWaited(c, ctx);  // (as if an earlier decision had been to wait)
  EXPECT_TRUE(s.waiting());
  EXPECT_FALSE(s.Pick(c, ctx).has_value()) << "waiting: the margin beta keeps it waiting";
  // Sending on the slow subflow (the decision changed) ends the wait.
  s.OnScheduled(c, Window(1 << 20, 1 << 20), 1, kMss);
  EXPECT_FALSE(s.waiting());
  EXPECT_EQ(s.Pick(c, ctx), 1u);
}

TEST(EcfSchedulerTest, NeverHoldsBackAReinjection) {
  EcfScheduler s;
  SchedulingContext ctx = Window(64 * 1024, 1 << 20);
  ctx.reinjection = true;
  EXPECT_EQ(s.Pick(FastFullSlowFree(), ctx), 1u);
}

TEST(SchedulerFactoryTest, BuildsEveryKindUnderItsName) {
  for (SchedulerKind k : kAllSchedulerKinds) {
    EXPECT_EQ(MakeScheduler(k)->name(), SchedulerKindName(k));
    const absl::StatusOr<SchedulerKind> parsed = ParseSchedulerKind(SchedulerKindName(k));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, k);
  }
  EXPECT_EQ(*ParseSchedulerKind("default"), SchedulerKind::kMinRtt);
  EXPECT_EQ(*ParseSchedulerKind("rr"), SchedulerKind::kRoundRobin);
}

TEST(SchedulerFactoryTest, AnUnknownNameIsAClearError) {
  const absl::StatusOr<SchedulerKind> k = ParseSchedulerKind("fastest");
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(k.status().message()).find("unknown scheduler \"fastest\""),
            std::string::npos)
      << k.status();
  EXPECT_NE(std::string(k.status().message()).find("blest"), std::string::npos) << k.status();
  EXPECT_FALSE(ParseSchedulerKind("").ok());
  EXPECT_FALSE(ParseSchedulerKind("ECF").ok()) << "names are exact, as Linux's sysctl";
}

}  // namespace
}  // namespace mptcp
