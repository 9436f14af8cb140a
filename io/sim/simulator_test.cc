#include "io/sim/simulator.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mptcp::sim {
namespace {

Timestamp Ms(int64_t n) { return Timestamp::Zero() + Duration::Millis(n); }

// Logs "name@ms" each time it acts, and acts again at the times queued in `plan`.
class Logger : public Actor {
 public:
  Logger(Simulator& sim, std::string name, std::vector<std::string>* log)
      : Actor(sim, std::move(name)), log_(log) {}
  void WakeAt(Timestamp t) { Schedule(t); }
  void MoveTo(Timestamp t) { Reschedule(t); }
  void Cancel() { Unschedule(); }
  void Act(Timestamp now) override {
    log_->push_back(name() + "@" + std::to_string((now - Timestamp::Zero()).millis()));
    if (!plan_.empty()) {
      Schedule(plan_.front());
      plan_.erase(plan_.begin());
    }
  }
  std::vector<Timestamp> plan_;

 private:
  std::vector<std::string>* log_;
};

TEST(SimulatorTest, RunsActorsInTimeOrder) {
  Simulator sim(1);
  std::vector<std::string> log;
  Logger a(sim, "a", &log), b(sim, "b", &log);
  a.WakeAt(Ms(5));
  b.WakeAt(Ms(2));
  a.plan_ = {Ms(7)};
  sim.RunUntil(Ms(100));
  EXPECT_EQ(log, (std::vector<std::string>{"b@2", "a@5", "a@7"}));
  EXPECT_EQ(sim.now(), Ms(100));
}

TEST(SimulatorTest, TiesRunInInsertionOrder) {
  Simulator sim(1);
  std::vector<std::string> log;
  Logger a(sim, "a", &log), b(sim, "b", &log), c(sim, "c", &log);
  c.WakeAt(Ms(3));
  a.WakeAt(Ms(3));
  sim.At(Ms(3), [&log] { log.push_back("fn@3"); });
  b.WakeAt(Ms(3));
  sim.RunUntil(Ms(3));
  EXPECT_EQ(log, (std::vector<std::string>{"c@3", "a@3", "fn@3", "b@3"}));
}

TEST(SimulatorTest, ScheduleKeepsTheEarlierWakeUpAndRescheduleReplacesIt) {
  Simulator sim(1);
  std::vector<std::string> log;
  Logger a(sim, "a", &log);
  a.WakeAt(Ms(5));
  a.WakeAt(Ms(9));  // later: ignored
  EXPECT_EQ(a.scheduled_at(), Ms(5));
  a.WakeAt(Ms(4));  // earlier: replaces
  EXPECT_EQ(a.scheduled_at(), Ms(4));
  EXPECT_EQ(sim.pending_events(), 1u);
  a.MoveTo(Ms(8));  // explicit: may move later
  EXPECT_EQ(a.scheduled_at(), Ms(8));
  sim.RunUntil(Ms(20));
  EXPECT_EQ(log, (std::vector<std::string>{"a@8"}));
  a.WakeAt(Ms(30));
  a.Cancel();
  EXPECT_EQ(sim.pending_events(), 0u);
}

TEST(SimulatorTest, PastTimesRunNowAndTheClockNeverGoesBack) {
  Simulator sim(1);
  std::vector<std::string> log;
  Logger a(sim, "a", &log);
  sim.RunUntil(Ms(10));
  a.WakeAt(Ms(3));
  EXPECT_EQ(a.scheduled_at(), Ms(10));
  sim.At(Ms(1), [&] { log.push_back("fn"); });
  sim.RunUntil(Ms(10));
  EXPECT_EQ(log, (std::vector<std::string>{"a@10", "fn"}));
  EXPECT_EQ(sim.now(), Ms(10));
  sim.RunUntil(Ms(5));  // earlier than now: nothing moves
  EXPECT_EQ(sim.now(), Ms(10));
}

TEST(SimulatorTest, DestroyedActorIsUnscheduled) {
  Simulator sim(1);
  std::vector<std::string> log;
  {
    Logger a(sim, "a", &log);
    a.WakeAt(Ms(1));
    EXPECT_EQ(sim.pending_events(), 1u);
  }
  EXPECT_EQ(sim.pending_events(), 0u);
  sim.RunUntil(Ms(5));
  EXPECT_TRUE(log.empty());
}

TEST(SimulatorTest, PredicateRunReportsEachOutcome) {
  Simulator sim(1);
  int fired = 0;
  for (int i = 1; i <= 5; ++i) sim.At(Ms(i * 10), [&fired] { ++fired; });

  // Done: the predicate holds after the third event.
  RunResult r = sim.RunUntil([&] { return fired == 3; }, Ms(1000));
  EXPECT_EQ(r.outcome, RunOutcome::kDone);
  EXPECT_EQ(r.now, Ms(30));
  EXPECT_EQ(r.steps, 3u);

  // Already true: no step at all.
  r = sim.RunUntil([] { return true; }, Ms(1000));
  EXPECT_EQ(r.outcome, RunOutcome::kDone);
  EXPECT_EQ(r.steps, 0u);

  // Deadline: the next event (40 ms) lies past 35 ms; the clock stands at the deadline.
  r = sim.RunUntil([] { return false; }, Ms(35));
  EXPECT_EQ(r.outcome, RunOutcome::kDeadline);
  EXPECT_EQ(sim.now(), Ms(35));
  EXPECT_EQ(fired, 3);

  // Step limit.
  r = sim.RunUntil([] { return false; }, Ms(1000), 1);
  EXPECT_EQ(r.outcome, RunOutcome::kStepLimit);
  EXPECT_EQ(fired, 4);

  // Stalled: nothing left to run.
  r = sim.RunUntil([] { return false; }, Ms(1000));
  EXPECT_EQ(r.outcome, RunOutcome::kStalled);
  EXPECT_EQ(fired, 5);
  EXPECT_EQ(sim.now(), Ms(50));
  EXPECT_EQ(sim.NextEventTime(), Timestamp::Never());
}

TEST(SimulatorTest, TimedRunStopsAtTheStepLimit) {
  Simulator sim(1);
  std::vector<std::string> log;
  Logger a(sim, "a", &log);
  a.WakeAt(Ms(1));
  a.plan_ = {Ms(2), Ms(3), Ms(4)};
  const RunResult r = sim.RunUntil(Ms(100), 2);
  EXPECT_EQ(r.outcome, RunOutcome::kStepLimit);
  EXPECT_EQ(r.now, Ms(2));
  EXPECT_EQ(log.size(), 2u);
}

TEST(SimulatorTest, ScheduledCallbacksCanScheduleMore) {
  Simulator sim(1);
  std::vector<int64_t> at;
  std::function<void()> tick = [&] {
    at.push_back((sim.now() - Timestamp::Zero()).millis());
    if (at.size() < 4) sim.After(Duration::Millis(10), tick);
  };
  sim.At(Ms(5), tick);
  sim.RunUntil(Ms(1000));
  EXPECT_EQ(at, (std::vector<int64_t>{5, 15, 25, 35}));
}

TEST(SimulatorTest, ForksAreDeterministicAndIndependent) {
  Simulator a(42), b(42), c(43);
  Random fa = a.Fork(), fb = b.Fork(), fc = c.Fork();
  const uint64_t va = fa.Next(), vb = fb.Next(), vc = fc.Next();
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
  // A second fork differs from the first.
  Random fa2 = a.Fork();
  EXPECT_NE(fa2.Next(), va);
}

TEST(SimulatorTest, PacketIdsAreUniqueAndStamped) {
  Simulator sim(1);
  sim.RunUntil(Ms(7));
  const Packet p1 = sim.NewPacket({1, 2, 3});
  const Packet p2 = sim.NewPacket({4});
  EXPECT_NE(p1.id, p2.id);
  EXPECT_EQ(p1.created, Ms(7));
  EXPECT_EQ(p1.size(), 3u);
}

}  // namespace
}  // namespace mptcp::sim
