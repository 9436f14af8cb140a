// Round-robin scheduler: each chunk goes to the next subflow with room, in turn of subflow
// id, as the "roundrobin" scheduler of the multipath-tcp.org kernel (Paasch et al.,
// "Experimental Evaluation of Multipath TCP Schedulers", ACM SIGCOMM CSWS 2014). Kept as a
// baseline: it ignores RTTs, so on heterogeneous paths it fills the receiver's buffer with data
// that waits for the slow path.
#ifndef MPTCP_SCHEDULER_ROUND_ROBIN_H_
#define MPTCP_SCHEDULER_ROUND_ROBIN_H_

#include "mptcp/scheduler/scheduler.h"

namespace mptcp {

class RoundRobinScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "round-robin"; }
  std::optional<size_t> Pick(std::span<const SubflowCandidate> c,
                             const SchedulingContext& context) const override {
    (void)context;
    // The first candidate with room whose id comes after the last pick (wrapping).
    std::optional<size_t> first, after;
    for (size_t i = 0; i < c.size(); ++i) {
      if (c[i].room == 0) continue;
      if (!first || c[i].id < c[*first].id) first = i;
      if (c[i].id > last_ && (!after || c[i].id < c[*after].id)) after = i;
    }
    return after ? after : first;
  }
  void OnScheduled(std::span<const SubflowCandidate> c, const SchedulingContext& context,
                   size_t pick, uint32_t bytes) override {
    (void)context;
    (void)bytes;
    last_ = c[pick].id;
  }

 private:
  SubflowId last_ = 0;
};

}  // namespace mptcp

#endif  // MPTCP_SCHEDULER_ROUND_ROBIN_H_
