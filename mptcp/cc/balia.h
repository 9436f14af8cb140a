// BALIA, the Balanced Linked Adaptation algorithm (Peng, Walid, Hwang, Low, "Multipath TCP:
// Analysis, Design, and Implementation", IEEE/ACM ToN 24(1), 2016; draft-walid-mptcp-
// congestion-control-04).
#ifndef MPTCP_CC_BALIA_H_
#define MPTCP_CC_BALIA_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mptcp/cc/controller.h"
#include "mptcp/cc/coupled.h"

namespace mptcp::cc {

// BALIA with windows in bytes. Slow start and the timeout response are NewReno's; alone, or
// uncoupled, BALIA is NewReno step for step (alpha_r = 1 on one path: the increase is 1/w_r
// per packet and the decrease w_r/2).
//
// With x_k = w_k / rtt_k and alpha_r = max_k x_k / x_r (ToN 2016, the Balia algorithm; draft-walid-mptcp-
// congestion-control-04, which restates it; section numbers not cited as not checked here),
// the per-packet rules in packets are
//   increase per ACK:  w_r += x_r / (rtt_r * (sum_k x_k)^2) * ((1 + alpha_r)/2) * ((4 + alpha_r)/5)
//   decrease per loss: w_r -= (w_r / 2) * min(alpha_r, 1.5)
// In bytes (w in bytes, x in bytes per unit time, bytes_acked / MSS_r packets acknowledged)
// the increase carries one factor MSS_r per acknowledged packet of MSS_r bytes:
//   w_r += x_r / (rtt_r * (sum_k x_k)^2) * ((1 + alpha_r)/2) * ((4 + alpha_r)/5)
//          * MSS_r * bytes_acked
// (for one path: x/(rtt x^2) = 1/w, the factors are 1, so MSS * bytes_acked / w: NewReno).
// This is the Linux mptcp_balia.c increase, 1/ai per packet with ai = (sum x)^2 * 10 * w_r /
// ((x_r + x_max)(4 x_r + x_max)), rewritten. Rates use each path's window in bytes (Linux
// scales every window by the acking subflow's MSS, which is the same when all MSS are equal).
//
// The decrease is applied to FlightSize as RFC 5681 §3.1 applies NewReno's halving:
// ssthresh = max(FlightSize * (1 - min(alpha_r, 1.5)/2), 2*SMSS), cwnd = ssthresh. alpha_r is
// taken from the windows just before the loss.
class Balia final : public CoupledController {
 public:
  explicit Balia(uint32_t mss, uint32_t initial_cwnd_segments = 10)
      : CoupledController(mss, initial_cwnd_segments) {}

  std::string_view name() const override { return "balia"; }
  size_t state_bytes() const override { return sizeof(*this); }

  // This path's alpha_r = max_k x_k / x_r for the current group, or nullopt when uncoupled.
  std::optional<double> Alpha() const {
    const Rates r = Sum();
    if (!r.pass.coupled()) return std::nullopt;
    return r.max_x / r.own_x;
  }

 protected:
  std::optional<double> CoupledChange(uint32_t bytes_acked) const override {
    const Rates r = Sum();
    if (!r.pass.coupled()) return std::nullopt;
    const double alpha = r.max_x / r.own_x;
    const double rtt = static_cast<double>(r.own_rtt_ns);
    // Balia's increase (ToN 2016; draft-walid-04), in bytes (see the class comment).
    const double per_byte = r.own_x / (rtt * r.sum_x * r.sum_x) * ((1 + alpha) / 2) *
                            ((4 + alpha) / 5);
    return per_byte * mss() * static_cast<double>(bytes_acked);
  }

  std::optional<double> CoupledLossFactor() const override {
    const Rates r = Sum();
    if (!r.pass.coupled()) return std::nullopt;
    // Balia's decrease (ToN 2016; draft-walid-04): w_r - (w_r/2) * min(alpha_r, 1.5) = w_r * (1 - min/2).
    return 1.0 - std::min(r.max_x / r.own_x, 1.5) / 2;
  }

 private:
  struct Rates {
    CoupledPassResult pass;
    double sum_x = 0;
    double max_x = 0;
    double own_x = 0;
    int64_t own_rtt_ns = 0;
  };

  // One O(n) pass: x_k = w_k / rtt_k for every path with an RTT.
  Rates Sum() const {
    Rates r;
    r.pass = ForEachPath([&r](const CoupledPath& p) {
      const double x = static_cast<double>(p.cwnd) / static_cast<double>(p.rtt_ns);
      r.sum_x += x;
      r.max_x = std::max(r.max_x, x);
      if (p.self) {
        r.own_x = x;
        r.own_rtt_ns = p.rtt_ns;
      }
    });
    return r;
  }
};

}  // namespace mptcp::cc

#endif  // MPTCP_CC_BALIA_H_
