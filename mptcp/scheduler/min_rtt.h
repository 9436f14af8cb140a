// The default scheduler (Linux's "default", after the lowest-RTT-first scheduler of the
// MPTCP literature): the subflow with the smallest smoothed RTT among those with room.
#ifndef MPTCP_SCHEDULER_MIN_RTT_H_
#define MPTCP_SCHEDULER_MIN_RTT_H_

#include "mptcp/scheduler/scheduler.h"

namespace mptcp {

class MinRttScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "min-rtt"; }
  std::optional<size_t> Pick(std::span<const SubflowCandidate> c) const override {
    std::optional<size_t> best;
    for (size_t i = 0; i < c.size(); ++i) {
      if (c[i].room == 0) continue;
      if (!best) {
        best = i;
        continue;
      }
      const SubflowCandidate& b = c[*best];
      // A subflow without an RTT sample yet ranks after measured ones: it is unproven.
      if (c[i].has_rtt != b.has_rtt) {
        if (c[i].has_rtt) best = i;
      } else if (c[i].srtt < b.srtt) {
        best = i;
      }
    }
    return best;
  }
};

}  // namespace mptcp

#endif  // MPTCP_SCHEDULER_MIN_RTT_H_
