// Queueing delay on the path from the peer to us (the path our ACKs come back on), measured
// from the peer's timestamps as one-way delay variation (LEDBAT, RFC 6817 §3.4.2, measures
// the other direction the same way).
//
// Why: a subflow's RTT grows both with its own data queued ahead of the peer and with the
// peer's traffic queued ahead of the ACKs coming back (two bulk transfers in opposite
// directions on one path). Only the first is ours to limit; bytes whose ACKs wait in the
// reverse queue are delivered already. The MPTCP layer's in-flight limit
// (Connection::SubflowInflightLimit) adds this delay's worth of bytes.
//
// A segment's TSval is the peer's clock when it sent the segment (RFC 7323 §3.2), so
// `now - TSval * tick` is the one-way delay plus an unknown constant offset; its excess over
// the windowed minimum is the reverse path's queueing. That needs the peer's tick: RFC 7323
// §5.4 allows 1 ms to 1 s. Modern Linux, the BSDs, macOS and this library tick in
// milliseconds, and Linux can tick in microseconds (its `tcp_usec_ts` route feature). The
// tick is measured against our clock over at least kCalibration and recognised as 1 ms or
// 1 us; any other clock (old Linux at HZ=250, say) gives no estimate, and the caller then
// behaves as if the reverse path had no queue.
#ifndef MPTCP_TCP_ACK_PATH_DELAY_H_
#define MPTCP_TCP_ACK_PATH_DELAY_H_

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "mptcp/time.h"

namespace mptcp::tcp {

class AckPathDelay {
 public:
  // How long the peer's clock is watched before its tick is trusted.
  static constexpr Duration kCalibration = Duration::Millis(100);
  // The minimum is kept over between one and two of these (two half windows, as Linux keeps
  // its min RTT over 10 s for BBR): long enough to see an empty queue now and then, short
  // enough to follow a path change or clock drift of a few hundred ppm.
  static constexpr Duration kMinWindow = Duration::Seconds(10);

  // One segment from the peer, with its TSval, received at `now`.
  void OnSegment(Timestamp now, uint32_t tsval) {
    if (first_ == Timestamp::Never()) {
      first_ = now;
      last_tsval_ = tsval;
    }
    // Unwrap the 32-bit clock relative to the first sample; a TSval older than the newest
    // seen (reordering) still measures, it is only not allowed to move the unwrap back.
    const int32_t step = static_cast<int32_t>(tsval - last_tsval_);
    const int64_t ticks = ticks_ + step;
    if (step > 0) {
      ticks_ = ticks;
      last_tsval_ = tsval;
    }
    if (unknown_clock_) return;
    if (ticks > kMaxTicks || ticks < -kMaxTicks) {
      // A clock far faster than any tick here (or a peer stepping it by 2^31 a segment): no
      // estimate, and no arithmetic that could overflow.
      unknown_clock_ = true;
      has_estimate_ = false;
      return;
    }
    const Duration since_first = now - first_;
    const bool calibrating = tick_ < 0;
    if (calibrating) {
      // Until the tick is known the minimum is kept for every candidate from the first
      // segment on, so that the queue built up while the tick was measured counts as queue.
      for (size_t i = 0; i < kTicks.size(); ++i) {
        mins_[i].Update(now, OneWayDelay(since_first, ticks, kTicks[i]));
      }
      if (since_first < kCalibration || ticks <= 0) return;
      tick_ = TickFor(since_first, ticks);
      if (tick_ < 0) {
        // Queueing that grew or shrank during the span skews the ratio; a longer span
        // dilutes it. Past kGiveUp the clock is not one we know.
        unknown_clock_ = since_first >= kGiveUp;
        return;
      }
    }
    WindowedMin& m = mins_[tick_];
    const int64_t delay = OneWayDelay(since_first, ticks, kTicks[tick_]);
    if (!calibrating) m.Update(now, delay);  // (a calibrating segment updated every candidate)
    latest_ = Duration::Nanos(delay - m.min());
    // Smoothed with SRTT's gain (RFC 6298 §2.3), so that one late ACK does not move it.
    smoothed_ = has_estimate_ ? (smoothed_ * 7 + latest_) / 8 : latest_;
    has_estimate_ = true;
  }

  // The reverse path's queueing delay (smoothed), or zero when it cannot be known yet or for
  // this peer.
  Duration queueing() const { return has_estimate_ ? smoothed_ : Duration::Zero(); }
  Duration latest() const { return latest_; }
  bool has_estimate() const { return has_estimate_; }
  // The peer's tick, once measured and recognised.
  std::optional<Duration> tick() const {
    return tick_ >= 0 ? std::optional<Duration>(kTicks[tick_]) : std::nullopt;
  }
  // The peer's clock was measured and is neither 1 ms nor 1 us per tick.
  bool unknown_clock() const { return unknown_clock_; }

 private:
  static constexpr Duration kGiveUp = Duration::Seconds(10);
  // 2^43 ticks: 101 days of a microsecond clock; times a millisecond in nanoseconds, still
  // below 2^63.
  static constexpr int64_t kMaxTicks = int64_t{1} << 43;
  // One-way delays are kept within +-2^61 ns so that differences of two fit in 64 bits.
  static constexpr int64_t kMaxDelayNanos = int64_t{1} << 61;

  // Our clock minus the peer's (as `tick`), both since the first segment, in nanoseconds.
  static int64_t OneWayDelay(Duration since_first, int64_t ticks, Duration tick) {
    const int64_t v = since_first.nanos() - ticks * tick.nanos();
    return std::clamp(v, -kMaxDelayNanos, kMaxDelayNanos);
  }
  // The clocks recognised: a thousand times apart, and the nearest others in use (4 ms,
  // 10 ms) four times from the first, so a match within 25 % is unambiguous; once matched
  // the tick is exact and the estimate does not drift.
  static constexpr std::array<Duration, 2> kTicks = {Duration::Millis(1), Duration::Micros(1)};

  // The index in kTicks of the tick within 25 % of the measured one, or -1.
  static int8_t TickFor(Duration span, int64_t ticks) {
    const double per_tick = static_cast<double>(span.nanos()) / static_cast<double>(ticks);
    for (size_t i = 0; i < kTicks.size(); ++i) {
      const double k = static_cast<double>(kTicks[i].nanos());
      if (per_tick > k * 0.75 && per_tick < k * 1.25) return static_cast<int8_t>(i);
    }
    return -1;
  }

  // The minimum of a value over the last kMinWindow / 2 to kMinWindow: two half windows.
  struct WindowedMin {
    Timestamp start = Timestamp::Never();
    int64_t current = 0;
    int64_t previous = 0;

    void Update(Timestamp now, int64_t v) {
      if (start == Timestamp::Never()) {
        start = now;
        current = previous = v;
      } else if (now - start >= kMinWindow / 2) {
        previous = current;
        current = v;
        start = now;
      } else {
        current = std::min(current, v);
      }
    }
    int64_t min() const { return std::min(current, previous); }
  };

  // (Ordered by size: every subflow carries one, and an idle connection's state is bounded.)
  Timestamp first_ = Timestamp::Never();  // when the first segment came
  int64_t ticks_ = 0;                     // peer ticks from the first segment to the newest
  std::array<WindowedMin, kTicks.size()> mins_;
  Duration latest_ = Duration::Zero();
  Duration smoothed_ = Duration::Zero();
  uint32_t last_tsval_ = 0;
  int8_t tick_ = -1;  // index into kTicks once recognised
  bool unknown_clock_ = false;
  bool has_estimate_ = false;
};

}  // namespace mptcp::tcp

#endif  // MPTCP_TCP_ACK_PATH_DELAY_H_
