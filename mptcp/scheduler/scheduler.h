// The scheduler interface: which subflow gets the next chunk of connection data. The
// connection offers only subflows that may carry data now (established, not stale, backup
// subflows only when no regular one is alive: RFC 8684 §3.3.8); a scheduler picks among them
// or declines (waits for a better one to have room).
#ifndef MPTCP_SCHEDULER_SCHEDULER_H_
#define MPTCP_SCHEDULER_SCHEDULER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "mptcp/event.h"
#include "mptcp/time.h"

namespace mptcp {

// One subflow as the connection offers it to the scheduler.
struct SubflowCandidate {
  SubflowId id = 0;
  Duration srtt;            // Duration::Zero() before the first sample
  bool has_rtt = false;
  uint32_t room = 0;        // bytes the subflow may take now (0: full; offered all the same)
  uint32_t cwnd = 0;        // bytes
  uint32_t in_flight = 0;   // bytes sent and not yet acknowledged (RFC 6675 pipe)
  bool backup = false;
  Duration rttvar;          // RFC 6298 RTTVAR
  uint32_t mss = 0;         // payload bytes of a full segment
  uint32_t queued = 0;      // bytes handed to the subflow and not yet sent
  // How long a byte handed to the subflow now would take to reach the peer (the connection's
  // estimate: half the minimum RTT plus the queue ahead of it), and the rate the subflow
  // delivers at (bytes per second; 0 before its first sample).
  Duration forward_delay;
  double delivery_rate = 0;
};

// What the connection knows beside the candidates: the shared window and the backlog.
struct SchedulingContext {
  // RFC 8684 §3.3.4: the peer's data-level window (its right edge less DATA_ACK), and the
  // part of it not yet used by data handed to a subflow.
  uint64_t send_window = 0;
  uint64_t window_left = 0;
  // Bytes the application queued that no subflow has had yet.
  uint64_t unsent = 0;
  // Nothing more is on its way for now: the application has closed, or left room in the send
  // buffer. Otherwise `unsent` is what a full buffer let in, not what is left.
  bool app_limited = false;
  // The chunk on offer is a reinjection (the receiver already waits for it): no scheduler
  // should hold it back for a faster subflow.
  bool reinjection = false;
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual std::string_view name() const = 0;
  // Index into `candidates` of the subflow to receive the next chunk, or nullopt to wait
  // (every candidate is full, or the scheduler prefers to wait for a full one). A pure
  // function of its inputs and the scheduler's state: the connection also asks it to learn
  // whether it has data to send (Connection::NextDeadline) without sending.
  virtual std::optional<size_t> Pick(std::span<const SubflowCandidate> candidates,
                                     const SchedulingContext& context) const = 0;
  // True when every chunk goes on every subflow: the connection then keeps, per subflow, the
  // highest data sequence number handed to it and offers each subflow what it has not had.
  virtual bool redundant() const { return false; }
  // The connection handed `bytes` to candidates[pick], as Pick said.
  virtual void OnScheduled(std::span<const SubflowCandidate> candidates,
                           const SchedulingContext& context, size_t pick, uint32_t bytes) {
    (void)candidates;
    (void)context;
    (void)pick;
    (void)bytes;
  }
  // Pick declined although some candidate had room: the connection waits. A scheduler that
  // keeps hysteresis state updates it here; it must not make the next Pick (with the same
  // inputs) choose to send, or the connection's "is there output" answer would flip.
  virtual void OnWaited(std::span<const SubflowCandidate> candidates,
                        const SchedulingContext& context) {
    (void)candidates;
    (void)context;
  }
};

// The lowest-RTT candidate with room: a measured subflow ranks before one without an RTT
// sample (it is unproven). The building block of most schedulers here.
inline std::optional<size_t> LowestRttWithRoom(std::span<const SubflowCandidate> c) {
  std::optional<size_t> best;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c[i].room == 0) continue;
    if (!best) {
      best = i;
      continue;
    }
    const SubflowCandidate& b = c[*best];
    if (c[i].has_rtt != b.has_rtt) {
      if (c[i].has_rtt) best = i;
    } else if (c[i].srtt < b.srtt) {
      best = i;
    }
  }
  return best;
}

// The end of the data (the application has nothing more for now): another measured subflow,
// full or not, that would deliver every byte left to send (the unsent bytes within the peer's
// window) before candidate `pick` delivered its first segment, if any (the one finishing
// soonest). Sending on `pick` would then only make the transfer end later: ECF's test (Lim et
// al., CoNEXT 2017; mptcp/scheduler/ecf.h) on the connection's estimates of forward delay and
// delivery rate rather than on RTT and cwnd, which count the queue on the way back and the
// window, not the rate. Never while more is left than the other subflow delivers in the
// difference of their forward delays.
inline std::optional<size_t> FinishesSooner(std::span<const SubflowCandidate> c, size_t pick,
                                            const SchedulingContext& context) {
  const SubflowCandidate& b = c[pick];
  if (!context.app_limited || b.delivery_rate <= 0) return std::nullopt;
  const double left = static_cast<double>(std::min(context.unsent, context.window_left));
  const double first = b.forward_delay.seconds() + std::min<double>(left, b.mss) / b.delivery_rate;
  std::optional<size_t> sooner;
  double soonest = first;
  for (size_t j = 0; j < c.size(); ++j) {
    if (j == pick || !c[j].has_rtt || c[j].delivery_rate <= 0) continue;
    const double end = c[j].forward_delay.seconds() + left / c[j].delivery_rate;
    if (end < soonest) {
      sooner = j;
      soonest = end;
    }
  }
  return sooner;
}

// The lowest-RTT measured candidate, full or not (BLEST's and ECF's "fastest subflow").
inline std::optional<size_t> FastestMeasured(std::span<const SubflowCandidate> c) {
  std::optional<size_t> best;
  for (size_t i = 0; i < c.size(); ++i) {
    if (!c[i].has_rtt) continue;
    if (!best || c[i].srtt < c[*best].srtt) best = i;
  }
  return best;
}

}  // namespace mptcp

#endif  // MPTCP_SCHEDULER_SCHEDULER_H_
