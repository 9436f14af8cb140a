// NewReno congestion control (RFC 5681, RFC 6582) on the CongestionController interface.
#ifndef MPTCP_CC_NEW_RENO_H_
#define MPTCP_CC_NEW_RENO_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mptcp/cc/controller.h"
#include "mptcp/time.h"

namespace mptcp::cc {

// AIMD(1, 0.5) in bytes.
//
// Loss recovery itself (RFC 6582's partial/full ACK handling, or RFC 6675's pipe) runs in the
// engine, which sends while pipe < cwnd. With pipe-based accounting the window needs none of
// RFC 6582's artificial inflation (+3*SMSS, +SMSS per duplicate ACK) and deflation: cwnd is
// simply set to ssthresh on entering recovery (RFC 6675 §5 step 4.2) and stays there until
// recovery ends, which is RFC 6582 §3.2 step 3's "cwnd = ssthresh" option at the full ACK.
class NewReno final : public CongestionController {
 public:
  explicit NewReno(uint32_t mss, uint32_t initial_cwnd_segments = 10)
      : CongestionController(mss),
        initial_cwnd_segments_(std::max<uint32_t>(initial_cwnd_segments, 1)),
        cwnd_(internal::InitialWindow(initial_cwnd_segments_, this->mss())) {}

  std::string_view name() const override { return "newreno"; }
  size_t state_bytes() const override { return sizeof(*this); }

  void OnAck(const AckEvent& ev) override {
    if (ev.bytes_acked == 0) return;
    pristine_ = false;
    // No growth during recovery (the reduction is being applied) or on ACKs the sender did
    // not earn by filling its window (RFC 7661 §4.2 spirit).
    if (ev.in_recovery || ev.app_limited) return;
    if (cwnd_ < ssthresh_) {
      // RFC 5681 §3.1 slow start, RFC 3465 §2.2 byte counting with L = 2*SMSS.
      cwnd_ = internal::SlowStartWindow(cwnd_, ssthresh_, ev.bytes_acked, mss());
      return;
    }
    // RFC 5681 §3.1 congestion avoidance, cwnd += SMSS*SMSS/cwnd per ACK, done by byte
    // counting (RFC 3465 §2.1): one SMSS each time a full cwnd of bytes has been acked.
    bytes_acked_ += ev.bytes_acked;
    if (bytes_acked_ >= cwnd_) {
      bytes_acked_ -= cwnd_;
      cwnd_ = internal::ClampWindow(uint64_t{cwnd_} + mss());
      // A stretch ACK earns at most one SMSS (RFC 3465 §2.1); do not bank more than a window.
      bytes_acked_ = std::min<uint64_t>(bytes_acked_, cwnd_);
    }
  }

  void OnCongestionEvent(const LossEvent& ev) override {
    pristine_ = false;
    undo_.reset();  // a real loss after an RTO makes that RTO's undo moot
    // RFC 5681 §3.1 equation 4: ssthresh = max(FlightSize/2, 2*SMSS); RFC 6675 §5: cwnd =
    // ssthresh.
    ssthresh_ = internal::ReducedSsthresh(ev.bytes_in_flight, 1, 2, mss());
    cwnd_ = ssthresh_;
    bytes_acked_ = 0;
  }

  void OnRecoveryExit(Timestamp /*now*/) override { bytes_acked_ = 0; }

  void OnRto(const RtoEvent& ev) override {
    pristine_ = false;
    if (ev.backoff_count == 0) {
      // RFC 5681 §3.1: ssthresh is set by equation 4 only when the segment has not already
      // been retransmitted by the timer.
      undo_ = UndoState{cwnd_, ssthresh_};
      ssthresh_ = internal::ReducedSsthresh(ev.bytes_in_flight, 1, 2, mss());
    }
    // RFC 5681 §3.1: cwnd = loss window, LW = 1 full-sized segment.
    cwnd_ = mss();
    bytes_acked_ = 0;
  }

  // Undo as Linux does (tcp_undo_cwnd_reduction): back to at least the pre-RTO window. More
  // aggressive than RFC 4015 §3's response, which is acceptable because the engine only
  // reports an RTO as spurious when an Eifel/F-RTO check proves it.
  void OnSpuriousRto(Timestamp /*now*/) override {
    if (!undo_) return;
    cwnd_ = std::max(cwnd_, undo_->cwnd);
    ssthresh_ = std::max(ssthresh_, undo_->ssthresh);
    undo_.reset();
  }

  uint32_t cwnd() const override { return cwnd_; }
  uint32_t ssthresh() const override { return ssthresh_; }

 protected:
  void OnMssChanged(uint32_t /*old_mss*/) override {
    // Before any feedback the window is still the initial window, which is defined in
    // segments (RFC 6928 §2); afterwards the byte window stands, but never below 1 SMSS.
    if (pristine_) {
      cwnd_ = internal::InitialWindow(initial_cwnd_segments_, mss());
    } else {
      cwnd_ = std::max(cwnd_, mss());
    }
  }

 private:
  struct UndoState {
    uint32_t cwnd;
    uint32_t ssthresh;
  };

  uint32_t initial_cwnd_segments_;
  uint32_t cwnd_;
  uint32_t ssthresh_ = kInitialSsthresh;
  uint64_t bytes_acked_ = 0;  // RFC 3465 bytes_acked, congestion avoidance only
  bool pristine_ = true;      // no ACK, loss or timeout yet
  std::optional<UndoState> undo_;
};

}  // namespace mptcp::cc

#endif  // MPTCP_CC_NEW_RENO_H_
