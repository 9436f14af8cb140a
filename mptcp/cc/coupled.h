// The window skeleton LIA, OLIA and BALIA share: NewReno's slow start, loss and timeout
// response, with the congestion-avoidance change (and BALIA's decrease) supplied by the
// algorithm from its coupling group.
#ifndef MPTCP_CC_COUPLED_H_
#define MPTCP_CC_COUPLED_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "mptcp/cc/controller.h"
#include "mptcp/cc/reno_window.h"
#include "mptcp/time.h"

namespace mptcp::cc {

// One path of a coupling group as the coupled formulas read it. RTTs are in nanoseconds: every
// formula here is a ratio in which the unit of time cancels (RFC 6356 §3's alpha is
// dimensionless; OLIA's and BALIA's terms are window / window^2), so no conversion is needed.
struct CoupledPath {
  uint32_t cwnd = 0;     // bytes
  int64_t rtt_ns = 0;    // > 0
  uint32_t mss = 0;
  uint64_t bytes_since_loss = 0;
  uint64_t bytes_between_losses = 0;
  bool self = false;     // the controller doing the computation
};

// What a pass over the group found.
struct CoupledPassResult {
  size_t paths = 0;        // paths counted (the formulas' |R|)
  bool self_found = false;
  // Coupled formulas apply: this controller is a member and has at least one sibling with an
  // RTT. Otherwise the controller behaves as NewReno (RFC 6356 §3: LIA on one path is NewReno).
  bool coupled() const { return self_found && paths >= 2; }
};

// NewReno plus a coupled congestion-avoidance increase: slow start, the loss and timeout
// responses and undo are internal::RenoWindow's, as in mptcp/cc/new_reno.h, so that uncoupled
// the controller is NewReno step for step (which the coupled tests check).
//
// When coupled, the change an ACK earns is a fraction of a byte as often as not (RFC 6356 §4
// warns about precision), so it is banked in `credit_` and only whole bytes move cwnd: nothing
// is lost to rounding, however small the per-ACK increase. Uncoupled, the RFC 3465 §2.1 byte
// counter of NewReno is used instead, so that one path alone is exactly NewReno.
//
// The group is read fresh on every ACK in one or two O(n) passes (n <= 8 subflows): a cached
// alpha would have to be invalidated whenever any sibling's window or RTT changed, which this
// controller cannot observe, and the pass costs tens of nanoseconds (see cc_benchmark.cc).
//
// RTT: a sibling whose view has srtt == 0 (no sample yet) has no rate and is left out of the
// sums, as the Linux implementations skip subflows without srtt. This controller's own RTT is
// its own view's srtt (the engine's), else the latest AckEvent::srtt (or RTT sample); until it
// has one the controller behaves as NewReno, since none of the coupled formulas can place it.
class CoupledController : public CongestionController {
 public:
  CoupledController(uint32_t mss, uint32_t initial_cwnd_segments)
      : CongestionController(mss), window_(this->mss(), initial_cwnd_segments) {}

  void OnAck(const AckEvent& ev) final {
    if (ev.bytes_acked == 0) return;
    if (ev.srtt > Duration::Zero()) {
      rtt_ = ev.srtt;
    } else if (ev.rtt > Duration::Zero()) {
      rtt_ = ev.rtt;
    }
    OnBytesAcked(ev.bytes_acked);
    // As NewReno: no growth in recovery or on ACKs the sender did not earn, and slow start
    // as RFC 5681 §3.1 (RFC 6356 §3 leaves it unchanged).
    if (!window_.OnAck(ev, mss())) return;
    const std::optional<double> change =
        coupling() != nullptr ? CoupledChange(ev.bytes_acked) : std::nullopt;
    if (change) {
      ApplyCredit(*change);
    } else {
      credit_ = 0;
      window_.RenoIncrease(ev.bytes_acked, mss());
    }
  }

  void OnCongestionEvent(const LossEvent& ev) final {
    OnLoss();
    // RFC 5681 §3.1 equation 4 (halving FlightSize), or the algorithm's coupled decrease
    // applied to FlightSize in its place; RFC 6675 §5: cwnd = ssthresh.
    const std::optional<double> kept =
        coupling() != nullptr ? CoupledLossFactor() : std::nullopt;
    if (kept) {
      const double reduced =
          std::floor(static_cast<double>(ev.bytes_in_flight) * *kept + kRoundingGuard);
      window_.OnCongestionEvent(internal::ClampWindow(
          std::max<uint64_t>(static_cast<uint64_t>(reduced), uint64_t{2} * mss())));
    } else {
      window_.OnCongestionEvent(internal::ReducedSsthresh(ev.bytes_in_flight, 1, 2, mss()));
    }
    credit_ = 0;
  }

  void OnRecoveryExit(Timestamp /*now*/) final {
    window_.OnRecoveryExit();
    credit_ = 0;
  }

  // As NewReno (RFC 5681 §3.1). None of the three papers defines a coupled timeout response.
  void OnRto(const RtoEvent& ev) final {
    if (ev.backoff_count == 0) OnLoss();
    window_.OnRto(ev, mss());
    credit_ = 0;
  }

  void OnSpuriousLoss(Timestamp /*now*/) final { window_.OnSpuriousLoss(); }

  uint32_t cwnd() const final { return window_.cwnd(); }
  uint32_t ssthresh() const final { return window_.ssthresh(); }

  // Introspection for tests: the fraction of a byte banked by coupled increases, and the
  // latest RTT the ACKs reported (used when the group's view of this controller has none).
  double credit_bytes() const { return credit_; }
  Duration own_rtt() const { return rtt_; }

 protected:
  // The cwnd change in bytes (negative for a decrease) an ACK of `bytes_acked` earns in
  // congestion avoidance, or nullopt when the group does not couple this controller (then
  // NewReno's increase applies). Called only with coupling() set.
  virtual std::optional<double> CoupledChange(uint32_t bytes_acked) const = 0;
  // The fraction of FlightSize kept as ssthresh on a loss, or nullopt for NewReno's 1/2.
  virtual std::optional<double> CoupledLossFactor() const { return std::nullopt; }
  // Every newly acknowledged byte, in any state, before the window is updated (OLIA's l_2r).
  virtual void OnBytesAcked(uint32_t /*bytes*/) {}
  // A congestion event, or the first expiry of the retransmission timer (OLIA's l_1r).
  virtual void OnLoss() {}

  // Calls f(const CoupledPath&) for every path of the group that has an RTT, this controller
  // included (with its live window; its RTT is its view's srtt, else own_rtt(); without
  // either it is not counted, so the pass is not coupled()).
  template <typename F>
  CoupledPassResult ForEachPath(F&& f) const {
    CoupledPassResult r;
    const CouplingGroup* group = coupling();
    if (group == nullptr) return r;
    const size_t n = group->size();
    for (size_t i = 0; i < n; ++i) {
      const PathView v = group->path(i);
      CoupledPath p;
      if (v.controller == this) {
        // The engine's srtt as the connection reports it, else the latest from an AckEvent.
        const Duration rtt = v.srtt > Duration::Zero() ? v.srtt : rtt_;
        if (r.self_found || rtt <= Duration::Zero()) continue;  // listed twice, or no RTT
        r.self_found = true;
        p.self = true;
        p.cwnd = window_.cwnd();
        p.rtt_ns = rtt.nanos();
        p.mss = mss();
        FillLossIntervals(p);
      } else {
        if (v.srtt <= Duration::Zero() || v.cwnd == 0) continue;
        p.cwnd = v.cwnd;
        p.rtt_ns = v.srtt.nanos();
        p.mss = v.mss;
        p.bytes_since_loss = v.bytes_since_loss;
        p.bytes_between_losses = v.bytes_between_losses;
      }
      ++r.paths;
      f(static_cast<const CoupledPath&>(p));
    }
    return r;
  }

  // This controller's own loss intervals, as FillView() reports them to siblings.
  virtual void FillLossIntervals(CoupledPath& /*p*/) const {}

  void OnMssChanged(uint32_t /*old_mss*/) override { window_.OnMssChanged(mss()); }

 private:
  // A product of doubles that is an integer in real arithmetic can come out a hair below it
  // (24.999999999 for 25); this guard keeps such whole bytes from slipping to the next ACK.
  static constexpr double kRoundingGuard = 1e-6;

  void ApplyCredit(double change) {
    // RFC 3465 §2.1: an ACK earns at most one SMSS in congestion avoidance (a stretch ACK
    // would otherwise make up for many); the same bound holds for OLIA's decrease.
    const double cap = mss();
    credit_ += std::isfinite(change) ? std::clamp(change, -cap, cap) : 0.0;
    const double whole =
        std::trunc(credit_ + (credit_ >= 0 ? kRoundingGuard : -kRoundingGuard));
    credit_ -= whole;
    uint32_t cwnd = window_.cwnd();
    uint32_t ssthresh = window_.ssthresh();
    if (whole > 0) {
      cwnd = internal::ClampWindow(uint64_t{cwnd} + static_cast<uint64_t>(whole));
    } else if (whole < 0) {
      // Only OLIA decreases here. Not below 2*SMSS, the smallest ssthresh (RFC 5681 §3.1
      // equation 4), and ssthresh follows cwnd down: a window lowered by congestion
      // avoidance must not restart slow start.
      const uint32_t floor = std::min(cwnd, internal::ClampWindow(uint64_t{2} * mss()));
      const uint64_t dec = static_cast<uint64_t>(-whole);
      cwnd = cwnd - static_cast<uint32_t>(std::min<uint64_t>(dec, cwnd - floor));
      ssthresh = std::min(ssthresh, cwnd);
    }
    window_.SetCongestionAvoidanceWindow(cwnd, ssthresh);
  }

  internal::RenoWindow window_;  // NewReno's byte counter serves uncoupled steps only
  double credit_ = 0;            // banked fraction of a byte, coupled congestion avoidance
  Duration rtt_ = Duration::Zero();
};

}  // namespace mptcp::cc

#endif  // MPTCP_CC_COUPLED_H_
