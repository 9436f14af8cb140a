// The congestion-control interface a subflow's TCP engine drives, and the view a coupled
// (multipath) controller gets of its sibling subflows.
#ifndef MPTCP_CC_CONTROLLER_H_
#define MPTCP_CC_CONTROLLER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string_view>

#include "mptcp/time.h"

namespace mptcp::cc {

// Algorithms MakeController() (mptcp/cc/factory.h) can build. NewReno and CUBIC are
// uncoupled: each subflow on its own, as single-path TCP. LIA (RFC 6356), OLIA and BALIA are
// coupled: a subflow's increase depends on its siblings (CouplingGroup below), so that a
// multipath connection takes no more than one TCP flow at a shared bottleneck.
enum class CcAlgorithm : uint8_t { kNewReno, kCubic, kLia, kOlia, kBalia };

constexpr std::string_view CcAlgorithmName(CcAlgorithm a) {
  switch (a) {
    case CcAlgorithm::kNewReno: return "newreno";
    case CcAlgorithm::kCubic: return "cubic";
    case CcAlgorithm::kLia: return "lia";
    case CcAlgorithm::kOlia: return "olia";
    case CcAlgorithm::kBalia: return "balia";
  }
  return "unknown";
}

// The names CcAlgorithmFromName() accepts, for error messages and --help.
inline constexpr std::string_view kCcAlgorithmNames = "newreno, cubic, lia, olia, balia";

constexpr std::optional<CcAlgorithm> CcAlgorithmFromName(std::string_view name) {
  for (CcAlgorithm a : {CcAlgorithm::kNewReno, CcAlgorithm::kCubic, CcAlgorithm::kLia,
                        CcAlgorithm::kOlia, CcAlgorithm::kBalia}) {
    if (CcAlgorithmName(a) == name) return a;
  }
  return std::nullopt;
}

// Whether the algorithm couples the subflows of a connection (and so needs MPTCP).
constexpr bool IsCoupled(CcAlgorithm a) {
  return a == CcAlgorithm::kLia || a == CcAlgorithm::kOlia || a == CcAlgorithm::kBalia;
}

// The uncoupled algorithm a coupled one reduces to on a single path (RFC 6356 §3: LIA with
// one subflow is NewReno; OLIA and BALIA are built on the same AIMD), used once a connection
// falls back to plain TCP.
constexpr CcAlgorithm UncoupledBase(CcAlgorithm a) {
  return IsCoupled(a) ? CcAlgorithm::kNewReno : a;
}

// Windows are bytes in uint32; every controller saturates at kMaxWindow instead of wrapping.
inline constexpr uint32_t kMaxWindow = std::numeric_limits<uint32_t>::max();
// RFC 5681 §3.1: the initial ssthresh "SHOULD be set arbitrarily high".
inline constexpr uint32_t kInitialSsthresh = kMaxWindow;
// RFC 9293 §3.2: the MSS option is 16 bits. Controllers clamp SMSS to [1, kMaxMss], which also
// bounds their intermediate products.
inline constexpr uint32_t kMaxMss = 0xffff;

// An ACK that newly acknowledges data, cumulatively or selectively. The engine does not report
// ACKs that acknowledge nothing new (pure duplicates, window updates).
struct AckEvent {
  Timestamp now;
  uint32_t bytes_acked = 0;      // newly acked bytes (cumulative + newly SACKed)
  uint32_t bytes_in_flight = 0;  // before this ACK was applied
  Duration rtt = Duration::Zero();  // latest RTT sample, Zero() if this ACK gave none
  Duration srtt = Duration::Zero();
  Duration min_rtt = Duration::Zero();
  // The engine is in loss recovery (RFC 6675); controllers do not grow cwnd then, since the
  // reduction of OnCongestionEvent() is still being applied.
  bool in_recovery = false;
  // The sender was not using its window (nothing more to send, or receive-window limited).
  // cwnd must not grow on ACKs it did not earn (RFC 7661 §4.2 spirit; RFC 9438 §5.8).
  bool app_limited = false;
};

// Entering loss recovery on a fast-retransmit-style loss detection.
struct LossEvent {
  Timestamp now;
  uint32_t bytes_in_flight = 0;  // FlightSize of RFC 5681 §3.1 when the loss was detected
  uint32_t bytes_lost = 0;
};

// The retransmission timer expired.
struct RtoEvent {
  Timestamp now;
  uint32_t bytes_in_flight = 0;  // FlightSize before the timeout
  // Backoffs already applied before this expiry (RttEstimator::backoff_count() read before
  // calling Backoff()). RFC 5681 §3.1 reduces ssthresh only on the first timeout of a segment
  // (0 here); a repeated timeout would otherwise see FlightSize = 1 segment and floor it.
  int backoff_count = 0;
};

class CongestionController;

// What a coupled controller may read of one subflow of its connection (itself included). Made
// only by CongestionController::View(), so every field a coupled algorithm reads of a sibling
// is filled the same way whoever implements the CouplingGroup.
struct PathView {
  uint32_t cwnd = 0;
  uint32_t ssthresh = 0;
  Duration srtt = Duration::Zero();  // Zero(): no RTT sample yet (coupled formulas skip it)
  uint32_t mss = 0;
  bool in_slow_start = false;
  // The controller the view was made from, so that a controller can find itself among its
  // group's paths. nullptr in hand-made views.
  const CongestionController* controller = nullptr;
  // OLIA's loss intervals (Khalili et al., ToN 2013; draft-khalili-mptcp-congestion-
  // control-05): bytes acknowledged since the last loss (l_2r) and between the last two
  // losses (l_1r). Zero for controllers that do not track them.
  uint64_t bytes_since_loss = 0;
  uint64_t bytes_between_losses = 0;
};

// The subflows whose windows are coupled, implemented by the MPTCP connection. Paths are read
// fresh on each call, so subflows may come and go between calls.
class CouplingGroup {
 public:
  virtual ~CouplingGroup() = default;
  virtual size_t size() const = 0;
  // Precondition: i < size().
  virtual PathView path(size_t i) const = 0;
};

// A CouplingGroup over caller-owned PathViews, for tests and simple embedders.
class SpanCouplingGroup final : public CouplingGroup {
 public:
  explicit SpanCouplingGroup(std::span<const PathView> paths) : paths_(paths) {}
  size_t size() const override { return paths_.size(); }
  // Out of range yields an empty view rather than an out-of-bounds read.
  PathView path(size_t i) const override { return i < paths_.size() ? paths_[i] : PathView{}; }

 private:
  std::span<const PathView> paths_;
};

// One subflow's congestion controller. The engine calls the hooks; the controller only keeps
// cwnd/ssthresh. Loss detection, recovery (RFC 6675 pipe), Karn's rule and undo detection are
// the engine's. Time comes only from the events: a controller never reads a clock.
//
// Engine contract:
//  - OnAck() for every ACK with bytes_acked > 0;
//  - OnCongestionEvent() once per window of data, on entering loss recovery;
//  - OnRecoveryExit() when the recovery point is acknowledged;
//  - OnRto() on every expiry of the retransmission timer;
//  - the engine sends only while bytes in flight (pipe) < cwnd().
class CongestionController {
 public:
  explicit CongestionController(uint32_t mss) : mss_(std::clamp<uint32_t>(mss, 1, kMaxMss)) {}
  virtual ~CongestionController() = default;
  CongestionController(const CongestionController&) = delete;
  CongestionController& operator=(const CongestionController&) = delete;

  virtual std::string_view name() const = 0;
  // Bytes of this controller object (for memory accounting).
  virtual size_t state_bytes() const = 0;

  // A data segment of `bytes` was sent; `bytes_in_flight` includes it (pipe after sending).
  virtual void OnPacketSent(Timestamp /*now*/, uint32_t /*bytes*/,
                            uint32_t /*bytes_in_flight*/) {}
  virtual void OnAck(const AckEvent& ev) = 0;
  // Entering loss recovery: once per window of data (the engine guarantees this).
  virtual void OnCongestionEvent(const LossEvent& ev) = 0;
  virtual void OnRecoveryExit(Timestamp /*now*/) {}
  // RFC 5681 §3.1: cwnd = loss window (1 MSS), ssthresh reduced on the first timeout.
  virtual void OnRto(const RtoEvent& ev) = 0;
  // The last RTO, or the congestion event that began the last recovery, was spurious (RFC 3522
  // Eifel detection: the original segment arrived after all): undo its reduction (RFC 9438
  // §4.9; Linux's tcp_undo_cwnd_reduction).
  virtual void OnSpuriousLoss(Timestamp /*now*/) {}

  virtual uint32_t cwnd() const = 0;  // bytes, never below 1 MSS
  virtual uint32_t ssthresh() const = 0;
  virtual bool InSlowStart() const { return cwnd() < ssthresh(); }
  virtual std::optional<uint64_t> pacing_rate_bytes_per_sec() const { return std::nullopt; }

  // SMSS of RFC 5681 §2: the largest payload this subflow sends. Set by the engine once the
  // handshake fixes it; a controller may rescale its window (see OnMssChanged()).
  void set_mss(uint32_t mss) {
    const uint32_t old = mss_;
    mss_ = std::clamp<uint32_t>(mss, 1, kMaxMss);
    if (mss_ != old) OnMssChanged(old);
  }
  uint32_t mss() const { return mss_; }

  // nullptr = uncoupled. The group must outlive its use here (or be reset to nullptr).
  void set_coupling(const CouplingGroup* g) { coupling_ = g; }
  const CouplingGroup* coupling() const { return coupling_; }

  // This subflow as its siblings see it; srtt comes from the engine's RTT estimator (Zero()
  // before the first sample). The only way to make a PathView of a controller.
  PathView View(Duration srtt) const {
    PathView v{cwnd(), ssthresh(), srtt, mss_, InSlowStart()};
    v.controller = this;
    FillView(v);
    return v;
  }

 protected:
  virtual void OnMssChanged(uint32_t /*old_mss*/) {}
  // Adds the algorithm-specific fields of View() (OLIA's loss intervals).
  virtual void FillView(PathView& /*view*/) const {}

 private:
  uint32_t mss_;
  const CouplingGroup* coupling_ = nullptr;
};

// Shared window arithmetic for implementations. All saturate; none can wrap.
namespace internal {

constexpr uint32_t ClampWindow(uint64_t bytes) {
  return static_cast<uint32_t>(std::min<uint64_t>(bytes, kMaxWindow));
}

// RFC 5681 §3.1 slow start with RFC 3465 §2.2 Appropriate Byte Counting, L = 2*SMSS: cwnd
// grows by the bytes acked, at most 2*SMSS per ACK, and not past ssthresh.
constexpr uint32_t SlowStartWindow(uint32_t cwnd, uint32_t ssthresh, uint32_t bytes_acked,
                                   uint32_t mss) {
  const uint64_t grown =
      uint64_t{cwnd} + std::min<uint64_t>(bytes_acked, uint64_t{2} * mss);
  return ClampWindow(std::max<uint64_t>(cwnd, std::min<uint64_t>(grown, ssthresh)));
}

// ssthresh after a congestion event: max(FlightSize * num / den, 2*SMSS) (RFC 5681 §3.1
// equation 4 with num/den = 1/2; RFC 9438 §4.6 with num/den = 7/10).
constexpr uint32_t ReducedSsthresh(uint32_t flight, uint32_t num, uint32_t den, uint32_t mss) {
  return ClampWindow(std::max<uint64_t>(uint64_t{flight} * num / den, uint64_t{2} * mss));
}

// RFC 6928 §2 initial window, `segments` SMSS-sized segments (Linux's rule: 10 * SMSS even for
// SMSS > 1460, where RFC 6928's min(10*MSS, max(2*MSS, 14600)) would cap at 14600 bytes).
constexpr uint32_t InitialWindow(uint32_t segments, uint32_t mss) {
  return ClampWindow(uint64_t{std::max<uint32_t>(segments, 1)} * mss);
}

}  // namespace internal
}  // namespace mptcp::cc

#endif  // MPTCP_CC_CONTROLLER_H_
