// RFC 6298 round-trip-time estimator and retransmission timeout (RTO) with exponential backoff,
// in exact integer nanoseconds.
#ifndef MPTCP_TCP_RTT_H_
#define MPTCP_TCP_RTT_H_

#include <algorithm>
#include <cstdint>

#include "mptcp/time.h"

namespace mptcp::tcp {

// Smoothed RTT, RTT variance and RTO of one subflow (RFC 6298 §2).
//
// Karn's rule (RFC 6298 §3) is the engine's job, not this class's: the engine must not feed a
// sample taken from a retransmitted segment unless the timestamp option (RFC 7323 §4)
// disambiguates which transmission the ACK is for. Every sample given to OnSample() is trusted.
// So is RFC 6298 §5.7 (RTO back to 3 s once data flows after a timed-out SYN): the engine can
// start the data phase with a fresh estimator whose initial_rto is 3 s.
//
// The RFC 7323 Appendix G refinement (scaling alpha/beta by the number of samples per window
// when every segment is timed) is not applied: each sample gets the RFC 6298 gains.
class RttEstimator {
 public:
  // RFC 6298 §2.4 asks for a 1 s minimum RTO; Linux uses 200 ms (TCP_RTO_MIN), which is the
  // default here because 1 s stalls short flows badly on modern paths. RFC 6298 §2.5 allows
  // any maximum of at least 60 s; Linux uses 120 s (TCP_RTO_MAX). `clock_granularity` is the
  // G of RFC 6298 §2.2/§2.3: the tick of the clock the caller takes samples with.
  explicit RttEstimator(Duration initial_rto = Duration::Seconds(1),
                        Duration min_rto = Duration::Millis(200),
                        Duration max_rto = Duration::Seconds(120),
                        Duration clock_granularity = Duration::Millis(1))
      : min_rto_(std::max(min_rto, Duration::Zero())),
        max_rto_(std::max(max_rto, min_rto_)),
        granularity_(std::max(clock_granularity, Duration::Zero())),
        base_rto_(Clamp(initial_rto)) {}

  // Feeds one RTT measurement. Negative samples (a caller clock bug) are ignored; samples are
  // capped at kMaxSample so 4*RTTVAR cannot overflow.
  void OnSample(Duration rtt) {
    if (rtt < Duration::Zero()) return;
    rtt = std::min(rtt, kMaxSample);
    latest_ = rtt;
    if (!has_sample_) {
      // RFC 6298 §2.2: first measurement R.
      srtt_ = rtt;
      rttvar_ = rtt / 2;
      min_rtt_ = rtt;
      has_sample_ = true;
    } else {
      // RFC 6298 §2.3: RTTVAR first, using the SRTT from before this sample.
      // alpha = 1/8, beta = 1/4.
      const Duration err = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
      rttvar_ = (rttvar_ * 3 + err) / 4;
      srtt_ = (srtt_ * 7 + rtt) / 8;
      min_rtt_ = std::min(min_rtt_, rtt);
    }
    // RFC 6298 §2.2/§2.3: RTO = SRTT + max(G, K*RTTVAR), K = 4; §2.4/§2.5: clamp.
    base_rto_ = Clamp(srtt_ + std::max(granularity_, rttvar_ * 4));
    // RFC 6298 §5 (note after step 5.7): a new measurement recomputes RTO, collapsing any
    // backoff.
    backoff_count_ = 0;
  }

  // RFC 6298 §5.5: on each expiry of the retransmission timer the RTO doubles, up to max_rto.
  void Backoff() {
    if (backoff_count_ < kMaxBackoffCount) ++backoff_count_;
  }
  // Drops the backoff without a new sample (e.g. when new data is acknowledged by a
  // retransmission, where Karn's rule forbids a sample; Linux does the same).
  void ResetBackoff() { backoff_count_ = 0; }
  // Consecutive expiries since the last sample or reset.
  int backoff_count() const { return backoff_count_; }

  bool has_sample() const { return has_sample_; }
  // SRTT, RTTVAR, minimum and latest sample; all Zero() until the first sample.
  Duration srtt() const { return srtt_; }
  Duration rttvar() const { return rttvar_; }
  // The minimum over the estimator's lifetime (not windowed): simple and sufficient for the
  // loss-based controllers here. A path change that raises the true minimum is not tracked;
  // a delay-based controller wanting a windowed minimum should keep its own filter.
  Duration min_rtt() const { return min_rtt_; }
  Duration latest() const { return latest_; }

  // The RTO to arm the timer with: the RFC 6298 value, doubled per backoff, capped at max_rto.
  Duration rto() const {
    const int shift = std::min(backoff_count_, 62);
    if (base_rto_.nanos() > (max_rto_.nanos() >> shift)) return max_rto_;
    return Duration::Nanos(base_rto_.nanos() << shift);
  }
  // The RTO without backoff.
  Duration base_rto() const { return base_rto_; }
  Duration min_rto() const { return min_rto_; }
  Duration max_rto() const { return max_rto_; }

  // An hour: far above any real RTT and small enough that SRTT*8 and RTTVAR*4 stay in int64.
  static constexpr Duration kMaxSample = Duration::Seconds(3600);

 private:
  static constexpr int kMaxBackoffCount = 1 << 30;

  Duration Clamp(Duration rto) const { return std::clamp(rto, min_rto_, max_rto_); }

  Duration min_rto_;
  Duration max_rto_;
  Duration granularity_;
  Duration base_rto_;
  Duration srtt_ = Duration::Zero();
  Duration rttvar_ = Duration::Zero();
  Duration min_rtt_ = Duration::Zero();
  Duration latest_ = Duration::Zero();
  bool has_sample_ = false;
  int backoff_count_ = 0;
};

}  // namespace mptcp::tcp

#endif  // MPTCP_TCP_RTT_H_
