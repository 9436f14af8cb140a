// LIA, the Linked Increases Algorithm of RFC 6356: MPTCP's coupled congestion control.
#ifndef MPTCP_CC_LIA_H_
#define MPTCP_CC_LIA_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mptcp/cc/controller.h"
#include "mptcp/cc/coupled.h"

namespace mptcp::cc {

// RFC 6356 with windows in bytes. Slow start, the loss and the timeout response are NewReno's
// (RFC 6356 §3 changes only the congestion-avoidance increase); alone, or uncoupled, LIA is
// NewReno step for step.
//
// Per ACK in congestion avoidance on subflow i (RFC 6356 §3), with cwnd in bytes:
//   cwnd_i += min(alpha * bytes_acked * MSS_i / cwnd_total, bytes_acked * MSS_i / cwnd_i)
//   alpha   = cwnd_total * max_k(cwnd_k / rtt_k^2) / (sum_k cwnd_k / rtt_k)^2     (§3, §4)
// The second term of the min caps the increase at that of an uncoupled NewReno subflow (§3,
// goal 1). Both are computed in double on every ACK from the group's current views; the result
// is banked to the byte (see CoupledController), which is RFC 6356 §4's concern that integer
// arithmetic must not lose small increases.
class Lia final : public CoupledController {
 public:
  explicit Lia(uint32_t mss, uint32_t initial_cwnd_segments = 10)
      : CoupledController(mss, initial_cwnd_segments) {}

  std::string_view name() const override { return "lia"; }
  size_t state_bytes() const override { return sizeof(*this); }

  // RFC 6356 §3's alpha for the current group, or nullopt when uncoupled. For tests.
  std::optional<double> Alpha() const {
    const Sums s = Sum();
    if (!s.pass.coupled()) return std::nullopt;
    return s.total_cwnd * s.max_cwnd_over_rtt2 / (s.sum_cwnd_over_rtt * s.sum_cwnd_over_rtt);
  }

 protected:
  std::optional<double> CoupledChange(uint32_t bytes_acked) const override {
    const Sums s = Sum();
    if (!s.pass.coupled()) return std::nullopt;
    const double alpha =
        s.total_cwnd * s.max_cwnd_over_rtt2 / (s.sum_cwnd_over_rtt * s.sum_cwnd_over_rtt);
    const double acked_mss = static_cast<double>(bytes_acked) * mss();
    // RFC 6356 §3: min(alpha * bytes_acked * MSS_i / cwnd_total, bytes_acked * MSS_i / cwnd_i).
    return std::min(alpha * acked_mss / s.total_cwnd, acked_mss / cwnd());
  }

 private:
  struct Sums {
    CoupledPassResult pass;
    double total_cwnd = 0;          // cwnd_total
    double sum_cwnd_over_rtt = 0;   // sum_k cwnd_k / rtt_k
    double max_cwnd_over_rtt2 = 0;  // max_k cwnd_k / rtt_k^2
  };

  // One pass over the group (RFC 6356 §4 notes alpha need only change when a window does; a
  // pass per ACK is simpler than tracking every sibling's changes, and O(n) for n <= 8).
  Sums Sum() const {
    Sums s;
    s.pass = ForEachPath([&s](const CoupledPath& p) {
      const double w = p.cwnd;
      const double rtt = static_cast<double>(p.rtt_ns);
      s.total_cwnd += w;
      s.sum_cwnd_over_rtt += w / rtt;
      s.max_cwnd_over_rtt2 = std::max(s.max_cwnd_over_rtt2, w / (rtt * rtt));
    });
    return s;
  }
};

}  // namespace mptcp::cc

#endif  // MPTCP_CC_LIA_H_
