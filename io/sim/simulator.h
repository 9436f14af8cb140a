// The discrete-event core of the in-memory network simulator: a virtual clock, actors woken at
// the times they ask for in a deterministic order, one-shot scheduled callbacks, and the seeded
// random source every component forks its own stream from. No wall clock, no threads.
//
// Design after quiche's quic/test_tools/simulator: an Actor asks to be woken at a time
// (Schedule), the simulator advances the clock to the earliest request and calls Act(). Each
// actor has at most one pending wake-up, and asking for a later one than it already has is a
// no-op, so an actor with several things pending schedules itself for the earliest and
// re-schedules from Act(). Events at the same time run in the order they were scheduled
// (insertion order), which together with forked random streams makes a run a pure function of
// its seed and inputs.
#ifndef MPTCP_IO_SIM_SIMULATOR_H_
#define MPTCP_IO_SIM_SIMULATOR_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/container/btree_map.h"
#include "io/sim/packet.h"
#include "mptcp/random.h"
#include "mptcp/time.h"

namespace mptcp::sim {

class Simulator;

// A named thing the simulator wakes up. Registers itself on construction; the simulator must
// outlive its actors (declare it first, so it is destroyed last).
class Actor {
 public:
  Actor(Simulator& sim, std::string name) : sim_(sim), name_(std::move(name)) {}
  virtual ~Actor();
  Actor(const Actor&) = delete;
  Actor& operator=(const Actor&) = delete;

  const std::string& name() const { return name_; }
  // The pending wake-up, or Never().
  Timestamp scheduled_at() const { return at_; }

  // Called by the simulator at the time the actor asked for (`now` == simulator.now()). The
  // pending wake-up is cleared first, so Act() re-schedules if it has more to do.
  virtual void Act(Timestamp now) = 0;

 protected:
  // Wakes the actor at `at`, or now if `at` is in the past, unless it is already due no later.
  // Never() is a no-op.
  void Schedule(Timestamp at);
  // Replaces any pending wake-up by `at` (which may be later, or Never() to cancel).
  void Reschedule(Timestamp at);
  void Unschedule();
  Simulator& simulator() const { return sim_; }

 private:
  friend class Simulator;
  Simulator& sim_;
  std::string name_;
  Timestamp at_ = Timestamp::Never();
  uint64_t seq_ = 0;  // the queue key's tie-breaker while scheduled
};

enum class RunOutcome : uint8_t {
  kDone,       // the predicate became true
  kDeadline,   // the next event lies past the deadline; the clock stands at the deadline
  kStalled,    // nothing is scheduled any more (and the predicate is false)
  kStepLimit,  // the step budget ran out
};

constexpr std::string_view RunOutcomeName(RunOutcome o) {
  switch (o) {
    case RunOutcome::kDone: return "done";
    case RunOutcome::kDeadline: return "deadline";
    case RunOutcome::kStalled: return "stalled";
    case RunOutcome::kStepLimit: return "step-limit";
  }
  return "?";
}

inline std::ostream& operator<<(std::ostream& os, RunOutcome o) { return os << RunOutcomeName(o); }

// Why a run that had to reach its predicate did not, for failure messages; empty for kDone.
constexpr std::string_view RunOutcomeFailure(RunOutcome o) {
  switch (o) {
    case RunOutcome::kDone: return "";
    case RunOutcome::kDeadline: return "simulated deadline passed";
    case RunOutcome::kStalled: return "stalled: nothing scheduled";
    case RunOutcome::kStepLimit: return "step limit";
  }
  return "?";
}

struct RunResult {
  RunOutcome outcome = RunOutcome::kDone;
  Timestamp now;       // the clock when the run stopped
  uint64_t steps = 0;  // events run by this call
};

class Simulator {
 public:
  static constexpr uint64_t kDefaultMaxSteps = 200'000'000;

  explicit Simulator(uint64_t seed) : rng_(seed) {}
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  Timestamp now() const { return now_; }
  // The simulator's own stream. Components take a Fork() at construction instead of drawing
  // from it, so that one component's draws do not shift another's.
  Random& random() { return rng_; }
  Random Fork() { return rng_.Fork(); }

  // A packet created now with a fresh id.
  Packet NewPacket(std::vector<uint8_t> bytes) {
    return Packet{std::move(bytes), ++last_packet_id_, now_};
  }

  // Runs `fn` once at `at` (now, if `at` is past). Scheduled changes of links and middleboxes
  // use this: sim.At(t, [&] { link.SetUp(false); }).
  void At(Timestamp at, std::function<void()> fn) {
    if (at < now_) at = now_;
    queue_.emplace(Key{at, next_seq_++}, std::move(fn));
  }
  void After(Duration d, std::function<void()> fn) { At(now_ + d, std::move(fn)); }

  // Runs the earliest event; false when none is scheduled.
  bool Step();

  // Runs every event due up to `until`, then sets the clock to `until` (kDeadline), unless
  // the step budget runs out first (kStepLimit). An empty queue is no failure here: the clock
  // simply moves on.
  RunResult RunUntil(Timestamp until, uint64_t max_steps = kDefaultMaxSteps);
  RunResult RunFor(Duration d, uint64_t max_steps = kDefaultMaxSteps) {
    return RunUntil(now_ + d, max_steps);
  }
  // Runs events until `done()` holds (checked before the first event and after each), the
  // next event lies past `deadline`, nothing is scheduled, or `max_steps` events have run.
  RunResult RunUntil(const std::function<bool()>& done, Timestamp deadline,
                     uint64_t max_steps = kDefaultMaxSteps);

  // The time of the earliest pending event, or Never().
  Timestamp NextEventTime() const {
    return queue_.empty() ? Timestamp::Never() : queue_.begin()->first.at;
  }
  size_t pending_events() const { return queue_.size(); }
  // Events run since construction.
  uint64_t steps() const { return steps_; }

 private:
  friend class Actor;
  struct Key {
    Timestamp at;
    uint64_t seq;
    friend bool operator<(const Key& a, const Key& b) {
      return a.at != b.at ? a.at < b.at : a.seq < b.seq;
    }
  };
  using Target = std::variant<Actor*, std::function<void()>>;

  void ScheduleActor(Actor& a, Timestamp at) {
    if (at.IsNever()) return;
    if (at < now_) at = now_;
    if (a.at_ <= at) return;
    UnscheduleActor(a);
    a.at_ = at;
    a.seq_ = next_seq_++;
    queue_.emplace(Key{at, a.seq_}, &a);
  }
  void UnscheduleActor(Actor& a) {
    if (a.at_.IsNever()) return;
    queue_.erase(Key{a.at_, a.seq_});
    a.at_ = Timestamp::Never();
  }

  Random rng_;
  Timestamp now_ = Timestamp::Zero();
  absl::btree_map<Key, Target> queue_;
  uint64_t next_seq_ = 0;
  uint64_t steps_ = 0;
  uint64_t last_packet_id_ = 0;
};

// --- implementation ---------------------------------------------------------------------------

inline Actor::~Actor() { sim_.UnscheduleActor(*this); }
inline void Actor::Schedule(Timestamp at) { sim_.ScheduleActor(*this, at); }
inline void Actor::Reschedule(Timestamp at) {
  sim_.UnscheduleActor(*this);
  sim_.ScheduleActor(*this, at);
}
inline void Actor::Unschedule() { sim_.UnscheduleActor(*this); }

inline bool Simulator::Step() {
  if (queue_.empty()) return false;
  auto it = queue_.begin();
  const Timestamp at = it->first.at;
  Target target = std::move(it->second);
  queue_.erase(it);
  now_ = at;  // the queue never holds a time before now_ (Schedule/At clamp)
  ++steps_;
  if (Actor** actor = std::get_if<Actor*>(&target)) {
    (*actor)->at_ = Timestamp::Never();
    (*actor)->Act(now_);
  } else {
    std::get<std::function<void()>>(target)();
  }
  return true;
}

inline RunResult Simulator::RunUntil(Timestamp until, uint64_t max_steps) {
  RunResult r;
  while (!queue_.empty() && queue_.begin()->first.at <= until) {
    if (r.steps >= max_steps) {
      r.outcome = RunOutcome::kStepLimit;
      r.now = now_;
      return r;
    }
    Step();
    ++r.steps;
  }
  if (until > now_) now_ = until;
  r.outcome = RunOutcome::kDeadline;
  r.now = now_;
  return r;
}

inline RunResult Simulator::RunUntil(const std::function<bool()>& done, Timestamp deadline,
                                     uint64_t max_steps) {
  RunResult r;
  for (;;) {
    if (done()) {
      r.outcome = RunOutcome::kDone;
      break;
    }
    if (queue_.empty()) {
      r.outcome = RunOutcome::kStalled;
      break;
    }
    if (queue_.begin()->first.at > deadline) {
      if (deadline > now_) now_ = deadline;
      r.outcome = RunOutcome::kDeadline;
      break;
    }
    if (r.steps >= max_steps) {
      r.outcome = RunOutcome::kStepLimit;
      break;
    }
    Step();
    ++r.steps;
  }
  r.now = now_;
  return r;
}

}  // namespace mptcp::sim

#endif  // MPTCP_IO_SIM_SIMULATOR_H_
