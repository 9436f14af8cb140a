// The window NewReno and the coupled controllers (LIA, OLIA, BALIA) share: slow start, the
// loss and timeout responses and spurious-timeout undo of RFC 5681, which they differ from
// only in congestion avoidance.
#ifndef MPTCP_CC_RENO_WINDOW_H_
#define MPTCP_CC_RENO_WINDOW_H_

#include <algorithm>
#include <cstdint>
#include <optional>

#include "mptcp/cc/controller.h"

namespace mptcp::cc::internal {

// cwnd and ssthresh in bytes, the RFC 3465 byte counter and the state an RTO's undo needs.
// A member of its controller rather than a base class, so that it adds no virtual calls and
// no bytes: NewReno's and CoupledController's layouts (and state_bytes(), which the engine's
// memory accounting reports) are as when each held these fields itself. SMSS is passed in by
// the controller, which owns it.
//
// Recovery itself (RFC 6582 partial/full ACKs, RFC 6675 pipe) runs in the engine, which sends
// while pipe < cwnd, so the window needs none of RFC 6582's artificial inflation: cwnd is set
// to ssthresh on entering recovery (RFC 6675 §5 step 4.2) and stays there until recovery
// ends, RFC 6582 §3.2 step 3's "cwnd = ssthresh" option at the full ACK.
class RenoWindow {
 public:
  RenoWindow(uint32_t mss, uint32_t initial_cwnd_segments)
      : initial_cwnd_segments_(std::max<uint32_t>(initial_cwnd_segments, 1)),
        cwnd_(InitialWindow(initial_cwnd_segments_, mss)) {}

  uint32_t cwnd() const { return cwnd_; }
  uint32_t ssthresh() const { return ssthresh_; }

  // The slow-start part of an ACK. Returns whether the ACK is for congestion avoidance to
  // use; false when it acked nothing, came in recovery (the reduction is being applied),
  // was application-limited (not earned by filling the window: RFC 7661 §4.2 spirit) or
  // grew the window in slow start.
  bool OnAck(const AckEvent& ev, uint32_t mss) {
    if (ev.bytes_acked == 0) return false;
    pristine_ = false;
    if (ev.in_recovery || ev.app_limited) return false;
    if (cwnd_ < ssthresh_) {
      // RFC 5681 §3.1 slow start, RFC 3465 §2.2 byte counting with L = 2*SMSS.
      cwnd_ = SlowStartWindow(cwnd_, ssthresh_, ev.bytes_acked, mss);
      return false;
    }
    return true;
  }

  // RFC 5681 §3.1 congestion avoidance, cwnd += SMSS*SMSS/cwnd per ACK, done by byte
  // counting (RFC 3465 §2.1): one SMSS each time a full cwnd of bytes has been acked.
  void RenoIncrease(uint32_t bytes_acked, uint32_t mss) {
    bytes_acked_ += bytes_acked;
    if (bytes_acked_ >= cwnd_) {
      bytes_acked_ -= cwnd_;
      cwnd_ = ClampWindow(uint64_t{cwnd_} + mss);
      // A stretch ACK earns at most one SMSS (RFC 3465 §2.1); do not bank more than a window.
      bytes_acked_ = std::min<uint64_t>(bytes_acked_, cwnd_);
    }
  }

  // Entering loss recovery with the controller's ssthresh (RFC 5681 §3.1 equation 4 for
  // NewReno); RFC 6675 §5: cwnd = ssthresh.
  void OnCongestionEvent(uint32_t ssthresh) {
    pristine_ = false;
    undo_ = UndoState{cwnd_, ssthresh_};  // replaces an RTO's: only the latest is undone
    ssthresh_ = ssthresh;
    cwnd_ = ssthresh_;
    bytes_acked_ = 0;
  }

  void OnRecoveryExit() { bytes_acked_ = 0; }

  void OnRto(const RtoEvent& ev, uint32_t mss) {
    pristine_ = false;
    if (ev.backoff_count == 0) {
      // RFC 5681 §3.1: ssthresh is set by equation 4 only when the segment has not already
      // been retransmitted by the timer.
      undo_ = UndoState{cwnd_, ssthresh_};
      ssthresh_ = ReducedSsthresh(ev.bytes_in_flight, 1, 2, mss);
    }
    // RFC 5681 §3.1: cwnd = loss window, LW = 1 full-sized segment.
    cwnd_ = mss;
    bytes_acked_ = 0;
  }

  // Undo as Linux does (tcp_undo_cwnd_reduction): back to at least the window before the RTO
  // or congestion event. More aggressive than RFC 4015 §3's response, which is acceptable
  // because the engine reports a reduction as spurious only when an Eifel check proves it.
  void OnSpuriousLoss() {
    if (!undo_) return;
    cwnd_ = std::max(cwnd_, undo_->cwnd);
    ssthresh_ = std::max(ssthresh_, undo_->ssthresh);
    undo_.reset();
  }

  void OnMssChanged(uint32_t mss) {
    // Before any feedback the window is still the initial window, which is defined in
    // segments (RFC 6928 §2); afterwards the byte window stands, but never below 1 SMSS.
    if (pristine_) {
      cwnd_ = InitialWindow(initial_cwnd_segments_, mss);
    } else {
      cwnd_ = std::max(cwnd_, mss);
    }
  }

  // For a congestion-avoidance step of the controller's own (the coupled increase, OLIA's
  // decrease), which replaces RenoIncrease() and so clears its counter.
  void SetCongestionAvoidanceWindow(uint32_t cwnd, uint32_t ssthresh) {
    cwnd_ = cwnd;
    ssthresh_ = ssthresh;
    bytes_acked_ = 0;
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

}  // namespace mptcp::cc::internal

#endif  // MPTCP_CC_RENO_WINDOW_H_
