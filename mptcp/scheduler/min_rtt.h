// The default scheduler, lowest RTT first: the subflow with the smallest smoothed RTT among
// those with room, as Linux's "default" MPTCP scheduler (net/mptcp/protocol.c,
// mptcp_subflow_get_send) and the minRTT scheduler of Paasch, Ferlin, Alay and Bonaventure,
// "Experimental Evaluation of Multipath TCP Schedulers", ACM SIGCOMM CSWS 2014. It is
// backup-aware and stale-aware through the candidates: the connection offers neither a stale
// subflow while another can carry data, nor a backup while a regular subflow lives
// (Connection::SchedulerMayUse, RFC 8684 §3.3.6 and §3.3.8).
//
// At the end of the data (the application has nothing more for now), the last bytes go to the
// subflow that delivers them first, waiting for room there if need be (FinishesSooner, ECF's
// test on forward delay and delivery rate): lowest RTT alone would leave them queued on a slow
// path while a fast one idles, and the transfer would end that much later. Linux's default
// scheduler likewise ranks subflows by when they would send a new byte (its "linger time",
// queued bytes over pacing rate), not by RTT alone.
#ifndef MPTCP_SCHEDULER_MIN_RTT_H_
#define MPTCP_SCHEDULER_MIN_RTT_H_

#include "mptcp/scheduler/scheduler.h"

namespace mptcp {

class MinRttScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "min-rtt"; }
  std::optional<size_t> Pick(std::span<const SubflowCandidate> c,
                             const SchedulingContext& context) const override {
    const std::optional<size_t> best = LowestRttWithRoom(c);
    if (!best || context.reinjection) return best;
    // The last bytes go where they arrive first, waiting for room there if need be.
    const std::optional<size_t> sooner = FinishesSooner(c, *best, context);
    if (!sooner) return best;
    return c[*sooner].room > 0 ? sooner : std::nullopt;
  }
};

}  // namespace mptcp

#endif  // MPTCP_SCHEDULER_MIN_RTT_H_
