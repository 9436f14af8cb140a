// NewReno congestion control (RFC 5681, RFC 6582) on the CongestionController interface.
#ifndef MPTCP_CC_NEW_RENO_H_
#define MPTCP_CC_NEW_RENO_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mptcp/cc/controller.h"
#include "mptcp/cc/reno_window.h"
#include "mptcp/time.h"

namespace mptcp::cc {

// AIMD(1, 0.5) in bytes: internal::RenoWindow (slow start, RFC 5681 §3.1's loss and timeout
// responses, spurious-RTO undo; recovery is the engine's) with its RFC 3465 §2.1 byte-counting
// congestion avoidance.
class NewReno final : public CongestionController {
 public:
  explicit NewReno(uint32_t mss, uint32_t initial_cwnd_segments = 10)
      : CongestionController(mss), window_(this->mss(), initial_cwnd_segments) {}

  std::string_view name() const override { return "newreno"; }
  size_t state_bytes() const override { return sizeof(*this); }

  void OnAck(const AckEvent& ev) override {
    if (window_.OnAck(ev, mss())) window_.RenoIncrease(ev.bytes_acked, mss());
  }

  void OnCongestionEvent(const LossEvent& ev) override {
    // RFC 5681 §3.1 equation 4: ssthresh = max(FlightSize/2, 2*SMSS).
    window_.OnCongestionEvent(internal::ReducedSsthresh(ev.bytes_in_flight, 1, 2, mss()));
  }

  void OnRecoveryExit(Timestamp /*now*/) override { window_.OnRecoveryExit(); }
  void OnRto(const RtoEvent& ev) override { window_.OnRto(ev, mss()); }
  void OnSpuriousLoss(Timestamp /*now*/) override { window_.OnSpuriousLoss(); }

  uint32_t cwnd() const override { return window_.cwnd(); }
  uint32_t ssthresh() const override { return window_.ssthresh(); }

 protected:
  void OnMssChanged(uint32_t /*old_mss*/) override { window_.OnMssChanged(mss()); }

 private:
  internal::RenoWindow window_;
};

}  // namespace mptcp::cc

#endif  // MPTCP_CC_NEW_RENO_H_
