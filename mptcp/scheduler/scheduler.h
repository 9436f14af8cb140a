// The scheduler interface: which subflow gets the next chunk of connection data. The
// connection offers only subflows that may carry data now (established, not stale, backup
// subflows only when no regular one is alive); a scheduler picks among them or declines.
#ifndef MPTCP_SCHEDULER_SCHEDULER_H_
#define MPTCP_SCHEDULER_SCHEDULER_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "mptcp/event.h"
#include "mptcp/time.h"

namespace mptcp {

struct SubflowCandidate {
  SubflowId id = 0;
  Duration srtt;            // Duration::Zero() before the first sample
  bool has_rtt = false;
  uint32_t room = 0;        // bytes cwnd allows beyond what is queued on the subflow
  uint32_t cwnd = 0;
  uint32_t in_flight = 0;
  bool backup = false;
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual std::string_view name() const = 0;
  // Index into `candidates` of the subflow to receive the next chunk, or nullopt to wait
  // (every candidate is full). Candidates with room == 0 may be offered. A pure function of
  // the candidates and the scheduler's state: the connection also asks it to learn whether it
  // has data to send (Connection::NextDeadline) without sending.
  virtual std::optional<size_t> Pick(std::span<const SubflowCandidate> candidates) const = 0;
  // The connection handed `bytes` to subflow `id` as picked.
  virtual void OnScheduled(SubflowId id, uint32_t bytes) {
    (void)id;
    (void)bytes;
  }
};

}  // namespace mptcp

#endif  // MPTCP_SCHEDULER_SCHEDULER_H_
