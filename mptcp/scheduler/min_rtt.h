// The default scheduler, lowest RTT first: the subflow with the smallest smoothed RTT among
// those with room, as Linux's "default" MPTCP scheduler (net/mptcp/protocol.c,
// mptcp_subflow_get_send) and the minRTT scheduler of Paasch, Ferlin, Alay and Bonaventure,
// "Experimental Evaluation of Multipath TCP Schedulers", ACM SIGCOMM CSWS 2014. It is
// backup-aware and stale-aware through the candidates: the connection offers neither a stale
// subflow while another can carry data, nor a backup while a regular subflow lives
// (Connection::SchedulerMayUse, RFC 8684 §3.3.6 and §3.3.8).
#ifndef MPTCP_SCHEDULER_MIN_RTT_H_
#define MPTCP_SCHEDULER_MIN_RTT_H_

#include "mptcp/scheduler/scheduler.h"

namespace mptcp {

class MinRttScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "min-rtt"; }
  std::optional<size_t> Pick(std::span<const SubflowCandidate> c,
                             const SchedulingContext& context) const override {
    (void)context;
    return LowestRttWithRoom(c);
  }
};

}  // namespace mptcp

#endif  // MPTCP_SCHEDULER_MIN_RTT_H_
