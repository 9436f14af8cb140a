// Builds the scheduler a ConnectionConfig names.
#ifndef MPTCP_SCHEDULER_FACTORY_H_
#define MPTCP_SCHEDULER_FACTORY_H_

#include <memory>

#include "mptcp/config.h"
#include "mptcp/scheduler/min_rtt.h"
#include "mptcp/scheduler/round_robin.h"

namespace mptcp {

inline std::unique_ptr<Scheduler> MakeScheduler(SchedulerKind kind) {
  switch (kind) {
    case SchedulerKind::kRoundRobin: return std::make_unique<RoundRobinScheduler>();
    case SchedulerKind::kMinRtt: break;
  }
  return std::make_unique<MinRttScheduler>();
}

}  // namespace mptcp

#endif  // MPTCP_SCHEDULER_FACTORY_H_
