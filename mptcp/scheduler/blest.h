// BLEST, the blocking-estimation scheduler of Ferlin, Alay, Mehani and Boreli, "BLEST:
// Blocking Estimation-based MPTCP Scheduler for Heterogeneous Networks", IFIP Networking 2016.
//
// Lowest RTT first, except when the fastest subflow is full and only a slower one has room.
// Data sent on the slow subflow x_s holds part of the peer's shared window (RFC 8684 §3.3.4)
// for about one of its RTTs; meanwhile the fast subflow x_f could send, growing its window
// by a segment per RTT in congestion avoidance,
//
//     X = MSS_f * (CWND_f + (rtts - 1) / 2) * rtts,   rtts = RTT_s / RTT_f
//
// bytes. If X * lambda exceeds what the window leaves once x_s holds its data in flight plus
// one more segment, |M| - (inflight_s + 1) * MSS_s, sending on x_s now would block x_f later
// (head-of-line blocking at the receiver): BLEST waits for x_f instead.
//
// The paper adapts lambda at run time from the blocking it observes; here it is a constant
// (1.0 by default), so BLEST waits more than the adaptive version would when the window turns
// out large enough for both paths (docs/schedulers.md has the figures).
// Reinjections are never held back (the receiver already waits for them).
#ifndef MPTCP_SCHEDULER_BLEST_H_
#define MPTCP_SCHEDULER_BLEST_H_

#include <algorithm>

#include "mptcp/scheduler/scheduler.h"

namespace mptcp {

class BlestScheduler final : public Scheduler {
 public:
  explicit BlestScheduler(double lambda = 1.0) : lambda_(lambda) {}
  std::string_view name() const override { return "blest"; }
  std::optional<size_t> Pick(std::span<const SubflowCandidate> c,
                             const SchedulingContext& context) const override {
    const std::optional<size_t> best = LowestRttWithRoom(c);
    if (!best || context.reinjection) return best;
    const std::optional<size_t> fastest = FastestMeasured(c);
    if (!fastest || *fastest == *best || !c[*best].has_rtt) return best;
    const SubflowCandidate& f = c[*fastest];
    const SubflowCandidate& s = c[*best];
    if (f.srtt <= Duration::Zero() || f.mss == 0) return best;
    const double rtts = static_cast<double>(s.srtt.nanos()) / static_cast<double>(f.srtt.nanos());
    const double cwnd_f = static_cast<double>(f.cwnd) / f.mss;  // segments
    const double x = f.mss * (cwnd_f + (rtts - 1) / 2) * rtts;
    const double held = static_cast<double>(s.in_flight) + s.queued + std::max<uint32_t>(s.mss, 1);
    const double left = static_cast<double>(context.send_window) - held;
    if (x * lambda_ > left) return std::nullopt;  // wait for the fast subflow
    return best;
  }

 private:
  double lambda_;
};

}  // namespace mptcp

#endif  // MPTCP_SCHEDULER_BLEST_H_
