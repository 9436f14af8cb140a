// Round-robin scheduler: each chunk goes to the next subflow with room, in turn.
#ifndef MPTCP_SCHEDULER_ROUND_ROBIN_H_
#define MPTCP_SCHEDULER_ROUND_ROBIN_H_

#include "mptcp/scheduler/scheduler.h"

namespace mptcp {

class RoundRobinScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "round-robin"; }
  std::optional<size_t> Pick(std::span<const SubflowCandidate> c) const override {
    // The first candidate with room whose id comes after the last pick (wrapping).
    std::optional<size_t> first, after;
    for (size_t i = 0; i < c.size(); ++i) {
      if (c[i].room == 0) continue;
      if (!first || c[i].id < c[*first].id) first = i;
      if (c[i].id > last_ && (!after || c[i].id < c[*after].id)) after = i;
    }
    return after ? after : first;
  }
  void OnScheduled(SubflowId id, uint32_t bytes) override {
    (void)bytes;
    last_ = id;
  }

 private:
  SubflowId last_ = 0;
};

}  // namespace mptcp

#endif  // MPTCP_SCHEDULER_ROUND_ROBIN_H_
