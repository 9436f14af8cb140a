// ECF, Earliest Completion First, of Lim, Nahum, Towsley and Gibbens, "ECF: An MPTCP Path
// Scheduler to Manage Heterogeneous Paths", ACM CoNEXT 2017.
//
// Lowest RTT first, except when the fastest subflow x_f is full and only a slower one, x_s,
// has room. With k bytes waiting to be sent, x_f would finish them after about
// n = 1 + k / CWND_f of its RTTs once it has room again; x_s finishes its share after about
// RTT_s (plus delta = max(RTTVAR_f, RTTVAR_s) for the variation). ECF waits for x_f when
//
//     n * RTT_f < (1 + waiting * beta) * (RTT_s + delta)       (x_f would finish first)
//     and  k / CWND_s * RTT_s >= 2 * RTT_f + delta              (x_s is not quick enough)
//
// (the paper's algorithm), and otherwise sends on x_s. `waiting` is the hysteresis: set when ECF
// decides to wait, cleared when it sends on a slower subflow, with beta = 0.25 as in the
// paper, so that the choice does not flip on noise.
//
// k: the paper takes the bytes in the send buffer not yet sent. A sender is also bounded by the
// peer's data-level window (RFC 8684 §3.3.4), which a send buffer far larger than the window
// would hide (x_f would seem to need many RTTs, and ECF would always use x_s); so k here is the
// smaller of the unsent bytes and the peer's window. Reinjections are never held back.
#ifndef MPTCP_SCHEDULER_ECF_H_
#define MPTCP_SCHEDULER_ECF_H_

#include <algorithm>

#include "mptcp/scheduler/scheduler.h"

namespace mptcp {

class EcfScheduler final : public Scheduler {
 public:
  explicit EcfScheduler(double beta = 0.25) : beta_(beta) {}
  std::string_view name() const override { return "ecf"; }
  std::optional<size_t> Pick(std::span<const SubflowCandidate> c,
                             const SchedulingContext& context) const override {
    const std::optional<size_t> best = LowestRttWithRoom(c);
    if (!best || context.reinjection) return best;
    const std::optional<size_t> fastest = FastestMeasured(c);
    if (!fastest || *fastest == *best || !c[*best].has_rtt) return best;
    return ShouldWait(c[*fastest], c[*best], context) ? std::nullopt : best;
  }
  void OnScheduled(std::span<const SubflowCandidate> c, const SchedulingContext& context,
                   size_t pick, uint32_t bytes) override {
    (void)context;
    (void)bytes;
    // Sending on a slower subflow than the fastest ends a wait.
    const std::optional<size_t> fastest = FastestMeasured(c);
    if (fastest && c[pick].has_rtt && c[*fastest].srtt < c[pick].srtt) waiting_ = false;
  }
  void OnWaited(std::span<const SubflowCandidate> c, const SchedulingContext& context) override {
    (void)c;
    (void)context;
    waiting_ = true;  // only makes waiting likelier: the next Pick still waits
  }
  bool waiting() const { return waiting_; }

 private:
  bool ShouldWait(const SubflowCandidate& f, const SubflowCandidate& s,
                  const SchedulingContext& context) const {
    const double mss = std::max<uint32_t>(f.mss, 1);
    const double cwnd_f = std::max<double>(f.cwnd, mss);
    const double cwnd_s = std::max<double>(s.cwnd, mss);
    const double rtt_f = static_cast<double>(f.srtt.nanos());
    const double rtt_s = static_cast<double>(s.srtt.nanos());
    const double delta = static_cast<double>(std::max(f.rttvar, s.rttvar).nanos());
    const double k = static_cast<double>(std::min(context.unsent, context.send_window));
    const double n = 1 + k / cwnd_f;
    if (n * rtt_f < (1 + (waiting_ ? beta_ : 0)) * (rtt_s + delta)) {
      return k / cwnd_s * rtt_s >= 2 * rtt_f + delta;
    }
    return false;
  }

  double beta_;
  bool waiting_ = false;
};

}  // namespace mptcp

#endif  // MPTCP_SCHEDULER_ECF_H_
