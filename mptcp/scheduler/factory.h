// Builds the scheduler a ConnectionConfig names, and reads and writes schedulers' names.
#ifndef MPTCP_SCHEDULER_FACTORY_H_
#define MPTCP_SCHEDULER_FACTORY_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "mptcp/config.h"
#include "mptcp/scheduler/blest.h"
#include "mptcp/scheduler/ecf.h"
#include "mptcp/scheduler/min_rtt.h"
#include "mptcp/scheduler/redundant.h"
#include "mptcp/scheduler/round_robin.h"

namespace mptcp {

inline constexpr SchedulerKind kAllSchedulerKinds[] = {
    SchedulerKind::kMinRtt, SchedulerKind::kRoundRobin, SchedulerKind::kRedundant,
    SchedulerKind::kBlest, SchedulerKind::kEcf};

// The names ParseSchedulerKind takes, for messages and --help.
inline constexpr std::string_view kSchedulerNames =
    "default (or min-rtt), round-robin (or rr), redundant, blest, ecf";

// The canonical name of a kind (the one its scheduler's name() gives).
constexpr std::string_view SchedulerKindName(SchedulerKind kind) {
  switch (kind) {
    case SchedulerKind::kMinRtt: return "min-rtt";
    case SchedulerKind::kRoundRobin: return "round-robin";
    case SchedulerKind::kRedundant: return "redundant";
    case SchedulerKind::kBlest: return "blest";
    case SchedulerKind::kEcf: return "ecf";
  }
  return "unknown";
}

// A scheduler's name as a user gives it ("default" is Linux's name for lowest RTT first;
// "minrtt" and "roundrobin" are the names mptcp_sim's scenarios used first).
inline absl::StatusOr<SchedulerKind> ParseSchedulerKind(std::string_view name) {
  if (name == "default" || name == "min-rtt" || name == "minrtt") return SchedulerKind::kMinRtt;
  if (name == "round-robin" || name == "rr" || name == "roundrobin") {
    return SchedulerKind::kRoundRobin;
  }
  if (name == "redundant") return SchedulerKind::kRedundant;
  if (name == "blest") return SchedulerKind::kBlest;
  if (name == "ecf") return SchedulerKind::kEcf;
  return absl::InvalidArgumentError(absl::StrCat("unknown scheduler \"", std::string(name),
                                                 "\" (expected one of ",
                                                 std::string(kSchedulerNames), ")"));
}

inline std::unique_ptr<Scheduler> MakeScheduler(SchedulerKind kind) {
  switch (kind) {
    case SchedulerKind::kRoundRobin: return std::make_unique<RoundRobinScheduler>();
    case SchedulerKind::kRedundant: return std::make_unique<RedundantScheduler>();
    case SchedulerKind::kBlest: return std::make_unique<BlestScheduler>();
    case SchedulerKind::kEcf: return std::make_unique<EcfScheduler>();
    case SchedulerKind::kMinRtt: break;
  }
  return std::make_unique<MinRttScheduler>();
}

}  // namespace mptcp

#endif  // MPTCP_SCHEDULER_FACTORY_H_
