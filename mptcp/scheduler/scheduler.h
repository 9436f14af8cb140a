// The scheduler interface: which subflow gets the next chunk of connection data. The
// connection offers only subflows that may carry data now (established, not stale, backup
// subflows only when no regular one is alive: RFC 8684 §3.3.8); a scheduler picks among them
// or declines (waits for a better one to have room).
#ifndef MPTCP_SCHEDULER_SCHEDULER_H_
#define MPTCP_SCHEDULER_SCHEDULER_H_

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
};

// What the connection knows beside the candidates: the shared window and the backlog.
struct SchedulingContext {
  // RFC 8684 §3.3.4: the peer's data-level window (its right edge less DATA_ACK), and the
  // part of it not yet used by data handed to a subflow.
  uint64_t send_window = 0;
  uint64_t window_left = 0;
  // Bytes the application queued that no subflow has had yet.
  uint64_t unsent = 0;
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
