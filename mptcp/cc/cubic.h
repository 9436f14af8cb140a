// CUBIC congestion control (RFC 9438) on the CongestionController interface, in integer
// arithmetic so that runs are bit-for-bit reproducible on every platform.
#ifndef MPTCP_CC_CUBIC_H_
#define MPTCP_CC_CUBIC_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/numeric/int128.h"
#include "mptcp/cc/controller.h"
#include "mptcp/time.h"

namespace mptcp::cc {

struct CubicOptions {
  bool fast_convergence = true;  // RFC 9438 §4.7 (SHOULD)
  bool reno_friendly = true;     // RFC 9438 §4.3 (SHOULD)
};

namespace internal {

// floor(cbrt(x)); saturates at 2^42 for x >= 2^126 (far above any input CUBIC produces).
inline uint64_t IntegerCubeRoot(absl::uint128 x) {
  const auto cube = [](uint64_t v) { return absl::uint128(v) * v * v; };
  uint64_t lo = 0;
  uint64_t hi = uint64_t{1} << 42;
  if (x >= cube(hi)) return hi;
  while (hi - lo > 1) {  // invariant: lo^3 <= x < hi^3
    const uint64_t mid = lo + (hi - lo) / 2;
    if (cube(mid) <= x) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

}  // namespace internal

// RFC 9438 CUBIC with windows in bytes (RFC 9438 §4.1 allows bytes with SMSS factored in) and
// curve time in microseconds.
//
// Choices the RFC leaves open, or where this departs from its letter:
//  - Slow start is RFC 5681's with RFC 3465 byte counting (RFC 9438 §4.10 allows it). HyStart++
//    (RFC 9406) is not implemented, so the first slow start ends only on loss.
//  - The concave/convex increase (target - cwnd)/cwnd is applied per SMSS acknowledged rather
//    than per ACK (as Linux does, and as reported erratum 9186 proposes), so delayed or stretch
//    ACKs do not slow the curve down.
//  - ssthresh uses FlightSize (RFC 9438 §4.6), like NewReno here.
//  - RTT in W_cubic(t + RTT) is AckEvent::srtt (RFC 9438 §4.2), or the latest sample before
//    SRTT exists.
class Cubic final : public CongestionController {
 public:
  // beta_cubic = 0.7 (RFC 9438 §4.6) and C = 0.4 segments/s^3 (RFC 9438 §5.1), as fractions.
  static constexpr uint32_t kBetaNum = 7;
  static constexpr uint32_t kBetaDen = 10;
  static constexpr uint32_t kCNum = 2;
  static constexpr uint32_t kCDen = 5;

  explicit Cubic(uint32_t mss, uint32_t initial_cwnd_segments = 10, CubicOptions options = {})
      : CongestionController(mss),
        options_(options),
        initial_cwnd_segments_(std::max<uint32_t>(initial_cwnd_segments, 1)) {
    s_.cwnd = internal::InitialWindow(initial_cwnd_segments_, this->mss());
  }

  std::string_view name() const override { return "cubic"; }
  size_t state_bytes() const override { return sizeof(*this); }

  void OnPacketSent(Timestamp now, uint32_t bytes, uint32_t bytes_in_flight) override {
    // Restarting with nothing else in flight: the idle time before it is application-limited
    // and must not count in t (RFC 9438 §5.8).
    if (bytes_in_flight <= bytes) PauseCurveUntil(now);
  }

  void OnAck(const AckEvent& ev) override {
    if (ev.bytes_acked == 0) return;
    pristine_ = false;
    if (ev.app_limited) {
      // RFC 9438 §5.8: no growth when application limited, and (RFC 9438 §4.2) t must not
      // include the application-limited period.
      PauseCurveUntil(ev.now);
      return;
    }
    clock_ = std::max(clock_, ev.now);
    if (ev.in_recovery) return;  // the epoch starts when congestion avoidance resumes
    if (s_.cwnd < s_.ssthresh) {
      // RFC 9438 §4.10 / RFC 5681 §3.1 slow start with RFC 3465 §2.2 ABC (L = 2*SMSS).
      s_.cwnd = internal::SlowStartWindow(s_.cwnd, s_.ssthresh, ev.bytes_acked, mss());
      return;
    }
    if (!s_.epoch_start) StartEpoch(ev.now);
    CongestionAvoidance(ev);
  }

  void OnCongestionEvent(const LossEvent& ev) override {
    pristine_ = false;
    undo_ = s_;  // RFC 9438 §4.9; replaces an RTO's: only the latest reduction is undone
    // RFC 9438 §4.7 fast convergence, before the reduction: a flow whose window falls short of
    // its last W_max releases bandwidth by remembering cwnd * (1 + beta) / 2.
    if (options_.fast_convergence && s_.w_max && s_.cwnd < *s_.w_max) {
      s_.w_max = internal::ClampWindow(uint64_t{s_.cwnd} * (kBetaDen + kBetaNum) /
                                       (2 * kBetaDen));
    } else {
      s_.w_max = s_.cwnd;
    }
    // RFC 9438 §4.6: cwnd_prior = cwnd; ssthresh = max(FlightSize * beta, 2*SMSS);
    // cwnd = max(ssthresh, 2*SMSS).
    s_.cwnd_prior = s_.cwnd;
    s_.ssthresh = internal::ReducedSsthresh(ev.bytes_in_flight, kBetaNum, kBetaDen, mss());
    s_.cwnd = s_.ssthresh;
    s_.epoch_start.reset();
  }

  void OnRecoveryExit(Timestamp now) override { clock_ = std::max(clock_, now); }

  void OnRto(const RtoEvent& ev) override {
    pristine_ = false;
    if (ev.backoff_count == 0) {
      // RFC 9438 §4.8: reduce like Reno (RFC 5681 §3.1, first timeout only) but with beta_cubic.
      undo_ = s_;
      s_.cwnd_prior = s_.cwnd;
      s_.ssthresh = internal::ReducedSsthresh(ev.bytes_in_flight, kBetaNum, kBetaDen, mss());
    }
    // RFC 9438 §4.8: the first congestion avoidance stage after a timeout uses K = 0 and
    // W_max = cwnd at its start; StartEpoch() does that when W_max is unset.
    s_.w_max.reset();
    s_.epoch_start.reset();
    s_.cwnd = mss();  // RFC 5681 §3.1 loss window
  }

  // Restores the state saved at the RTO or congestion event (RFC 9438 §4.9: cwnd, ssthresh,
  // W_max, K, epoch, W_est back to their prior values), never shrinking the window or
  // ssthresh reached since.
  void OnSpuriousLoss(Timestamp /*now*/) override {
    if (!undo_) return;
    const uint32_t cwnd = std::max(s_.cwnd, undo_->cwnd);
    const uint32_t ssthresh = std::max(s_.ssthresh, undo_->ssthresh);
    s_ = *undo_;
    s_.cwnd = cwnd;
    s_.ssthresh = ssthresh;
    undo_.reset();
  }

  uint32_t cwnd() const override { return s_.cwnd; }
  uint32_t ssthresh() const override { return s_.ssthresh; }

  // Introspection for tests and diagnostics.
  std::optional<uint32_t> w_max() const { return s_.w_max; }
  std::optional<uint32_t> cwnd_prior() const { return s_.cwnd_prior; }
  std::optional<Timestamp> epoch_start() const { return s_.epoch_start; }
  Duration k() const { return Duration::Micros(s_.k_us); }  // negative if W_max < cwnd_epoch
  uint32_t w_est() const { return internal::ClampWindow(s_.w_est); }

  // RFC 9438 Figure 1 in bytes: W_cubic(t) = C * (t - K)^3 * SMSS + W_max, for t the time
  // since the current epoch started. Saturates at 0 and kMaxWindow.
  uint32_t WindowAt(Duration t) const {
    const int64_t t_us = std::clamp<int64_t>(t.micros(), 0, kMaxCurveMicros);
    const int64_t d = t_us - s_.k_us;
    const uint64_t mag =
        static_cast<uint64_t>(std::min<int64_t>(d < 0 ? -d : d, kMaxCurveMicros));
    // C * mss * d^3 / 10^18 (microseconds cubed to seconds cubed), in uint128: d^3 <= 10^30.
    const absl::uint128 offset = absl::uint128(mag) * mag * mag * (uint64_t{kCNum} * mss()) /
                                 (absl::uint128(kCDen) * kMicrosCubedPerSecondCubed);
    const absl::uint128 w_max = s_.w_max.value_or(s_.cwnd);
    if (d < 0) return offset >= w_max ? 0 : static_cast<uint32_t>(w_max - offset);
    const absl::uint128 w = w_max + offset;
    return w >= kMaxWindow ? kMaxWindow : static_cast<uint32_t>(w);
  }

 protected:
  void OnMssChanged(uint32_t /*old_mss*/) override {
    // The initial window is defined in segments (RFC 6928 §2); later windows stay in bytes.
    // K depends on SMSS, so the curve restarts from the current window.
    if (pristine_) {
      s_.cwnd = internal::InitialWindow(initial_cwnd_segments_, mss());
    } else {
      s_.cwnd = std::max(s_.cwnd, mss());
    }
    s_.epoch_start.reset();
  }

 private:
  // |t - K| is capped at 10^10 us (~2.8 h): beyond it C * d^3 exceeds any uint32 window, and
  // the cap keeps d^3 * C * SMSS within uint128.
  static constexpr int64_t kMaxCurveMicros = 10'000'000'000;
  // Bounds a caller-supplied RTT so t + RTT cannot overflow.
  static constexpr Duration kMaxRtt = Duration::Seconds(3600);
  static constexpr uint64_t kMicrosCubedPerSecondCubed = 1'000'000'000'000'000'000ULL;

  struct State {
    uint32_t cwnd = 0;
    uint32_t ssthresh = kInitialSsthresh;
    std::optional<uint32_t> w_max;       // unset: no loss yet, or first CA after an RTO
    std::optional<uint32_t> cwnd_prior;  // cwnd when ssthresh was last set
    std::optional<Timestamp> epoch_start;
    int64_t k_us = 0;
    uint64_t w_est = 0;      // Reno-friendly estimate, bytes
    uint64_t est_acc = 0;    // remainder of the W_est increase
    uint64_t cubic_acc = 0;  // remainder of the cubic increase
  };

  // RFC 9438 §4.2: the start of a congestion avoidance stage.
  void StartEpoch(Timestamp now) {
    s_.epoch_start = now;
    const uint32_t cwnd_epoch = s_.cwnd;
    if (!s_.w_max) {
      // RFC 9438 §4.8 (after a timeout) and §4.10 (no loss yet): K = 0, W_max = cwnd_epoch.
      s_.w_max = cwnd_epoch;
      s_.k_us = 0;
    } else {
      // RFC 9438 Figure 2: K = cbrt((W_max - cwnd_epoch) / C), here with windows in bytes and
      // K in microseconds: K_us^3 = |diff| * C_den * 10^18 / (C_num * SMSS). K < 0 when fast
      // convergence put W_max below cwnd_epoch.
      const uint32_t w_max = *s_.w_max;
      const uint64_t diff = w_max > cwnd_epoch ? w_max - cwnd_epoch : cwnd_epoch - w_max;
      const absl::uint128 k_cubed = absl::uint128(diff) * kCDen * kMicrosCubedPerSecondCubed /
                                    (uint64_t{kCNum} * mss());
      const int64_t k = static_cast<int64_t>(internal::IntegerCubeRoot(k_cubed));
      s_.k_us = w_max >= cwnd_epoch ? k : -k;
    }
    if (!s_.cwnd_prior) s_.cwnd_prior = cwnd_epoch;  // RFC 9438 §4.10
    // RFC 9438 §4.3: W_est = cwnd_epoch at the start of congestion avoidance.
    s_.w_est = cwnd_epoch;
    s_.est_acc = 0;
    s_.cubic_acc = 0;
  }

  void CongestionAvoidance(const AckEvent& ev) {
    const uint64_t cwnd = s_.cwnd;
    const Duration t = std::clamp(ev.now - *s_.epoch_start, Duration::Zero(),
                                  Duration::Micros(kMaxCurveMicros));

    // RFC 9438 §4.3 Figure 4 in bytes: W_est += alpha * bytes_acked * SMSS / cwnd, with
    // alpha = 3(1 - beta)/(1 + beta) = 9/17 until W_est reaches cwnd_prior, then 1.
    const bool reno_rate = s_.w_est >= s_.cwnd_prior.value_or(0);
    const uint64_t alpha_num = reno_rate ? 1 : 3 * (kBetaDen - kBetaNum);
    const uint64_t alpha_den = reno_rate ? 1 : kBetaDen + kBetaNum;
    s_.est_acc += alpha_num * ev.bytes_acked * mss();
    const uint64_t est_div = alpha_den * cwnd;
    s_.w_est = std::min<uint64_t>(s_.w_est + s_.est_acc / est_div, kMaxWindow);
    s_.est_acc %= est_div;

    // RFC 9438 §4.3: in the Reno-friendly region (W_cubic(t) < W_est) cwnd follows W_est.
    if (options_.reno_friendly && WindowAt(t) < s_.w_est) {
      s_.cwnd = std::max(s_.cwnd, internal::ClampWindow(s_.w_est));
      s_.cubic_acc = 0;
      return;
    }

    // RFC 9438 §4.2: target = W_cubic(t + RTT), bounded to [cwnd, 1.5 * cwnd].
    const Duration rtt = std::clamp(ev.srtt > Duration::Zero() ? ev.srtt : ev.rtt,
                                    Duration::Zero(), kMaxRtt);
    const uint64_t target =
        std::clamp<uint64_t>(WindowAt(t + rtt), cwnd, cwnd + cwnd / 2);
    // RFC 9438 §4.4/§4.5: cwnd += (target - cwnd) / cwnd per SMSS acknowledged, in bytes:
    // (target - cwnd) * bytes_acked / cwnd, carrying the remainder. No overflow:
    // (target - cwnd) < 2^31 and bytes_acked < 2^32.
    s_.cubic_acc += (target - cwnd) * ev.bytes_acked;
    const uint64_t increase = s_.cubic_acc / cwnd;
    s_.cubic_acc %= cwnd;
    s_.cwnd = internal::ClampWindow(cwnd + increase);
  }

  // Shifts the epoch so the time since the last ACK (or idle start) does not count in t.
  void PauseCurveUntil(Timestamp now) {
    if (s_.epoch_start && now > clock_) *s_.epoch_start = *s_.epoch_start + (now - clock_);
    clock_ = std::max(clock_, now);
  }

  CubicOptions options_;
  uint32_t initial_cwnd_segments_;
  State s_;
  std::optional<State> undo_;
  Timestamp clock_;       // the latest time seen from an event
  bool pristine_ = true;  // no ACK, loss or timeout yet
};

}  // namespace mptcp::cc

#endif  // MPTCP_CC_CUBIC_H_
