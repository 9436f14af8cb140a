// Redundant scheduler: every segment on every subflow, as the "redundant" scheduler of the
// multipath-tcp.org kernel (Frömmgen, Erbshäußer, Buchmann, Zimmermann and Wehrle, "ReMP TCP:
// Low Latency Multipath TCP", IEEE ICC 2016). It trades capacity for latency: each byte arrives
// by the first path that gets it through, so a loss or a delay spike on one path costs nothing
// while another delivers. RFC 8684 §3.3.6 allows data on more than one subflow; the receiver's
// data-level reassembly keeps the first copy and discards the rest.
//
// The connection does the bookkeeping (Scheduler::redundant()): it keeps per subflow the next
// data sequence number to give it and offers each subflow the data it has not had, from at
// least DATA_ACK. A slower subflow so catches up by skipping what the peer has acknowledged,
// and memory stays bounded by the connection's send buffer (nothing is kept past DATA_ACK).
// Here Pick only orders the subflows that have something to take: lowest RTT first.
#ifndef MPTCP_SCHEDULER_REDUNDANT_H_
#define MPTCP_SCHEDULER_REDUNDANT_H_

#include "mptcp/scheduler/scheduler.h"

namespace mptcp {

class RedundantScheduler final : public Scheduler {
 public:
  std::string_view name() const override { return "redundant"; }
  bool redundant() const override { return true; }
  std::optional<size_t> Pick(std::span<const SubflowCandidate> c,
                             const SchedulingContext& context) const override {
    (void)context;
    return LowestRttWithRoom(c);
  }
};

}  // namespace mptcp

#endif  // MPTCP_SCHEDULER_REDUNDANT_H_
