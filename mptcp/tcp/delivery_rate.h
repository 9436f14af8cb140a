// Delivery rate of one subflow: bytes acknowledged (cumulatively or by SACK) per unit of time,
// sampled per ACK and kept as a windowed maximum, after draft-cheng-iccrg-delivery-rate-
// estimation (the estimator Linux's tcp_rate.c and BBR use).
//
// Why: the MPTCP layer bounds what a subflow holds in flight to a multiple of the path's
// bandwidth-delay product (Connection::SubflowInflightLimit). cwnd / SRTT stands for the
// bandwidth only while cwnd is what limits the subflow; once the limit itself holds the subflow
// back, cwnd stops meaning anything and SRTT also counts the queue on the way back (another
// transfer's data ahead of our ACKs). What was delivered per unit of time is the bandwidth
// whatever limits the sender.
//
// Each transmission takes a snapshot of the connection's delivery state (Snapshot()); when the
// segment is delivered the queue hands the snapshot back (OnDelivered()), and at the end of the
// ACK the newest delivered transmission gives the sample (OnAckEnd()): bytes delivered since
// its snapshot over the longer of its send and ACK intervals (the draft's §3.3: neither a burst
// of sends nor a burst of ACKs may make the rate look higher than the path's).
#ifndef MPTCP_TCP_DELIVERY_RATE_H_
#define MPTCP_TCP_DELIVERY_RATE_H_

#include <algorithm>
#include <cstdint>
#include <optional>

#include "mptcp/time.h"

namespace mptcp::tcp {

// The connection's delivery state when a segment was (re)sent.
struct DeliverySnapshot {
  uint64_t delivered = 0;          // bytes delivered before it was sent
  Timestamp delivered_time;        // when the latest of those was delivered
  Timestamp first_sent_time;       // send time of the segment delivered latest by then
};

class DeliveryRate {
 public:
  // The maximum is kept over between one and two of these windows of round trips (BBR keeps
  // its bandwidth maximum over 10): long enough to ride out a round trip or two of ACKs
  // delayed behind other traffic, short enough to follow a path that slows down.
  static constexpr int kWindowRoundTrips = 5;

  // A segment leaves now; `nothing_in_flight` when no other is outstanding (draft §3.2: the
  // idle time before a send is not part of any interval).
  DeliverySnapshot Snapshot(Timestamp now, bool nothing_in_flight) {
    if (nothing_in_flight) first_sent_time_ = delivered_time_ = now;
    return DeliverySnapshot{delivered_, delivered_time_, first_sent_time_};
  }

  // `bytes` of a segment sent at `sent_time` with `snap` are delivered now (acked or SACKed
  // for the first time).
  void OnDelivered(const DeliverySnapshot& snap, Timestamp sent_time, uint32_t bytes,
                   Timestamp now) {
    delivered_ += bytes;
    delivered_time_ = now;
    // draft §3.3: the sample comes from the most recently sent of the segments delivered.
    if (!has_sample_ || snap.delivered > sample_.prior_delivered ||
        (snap.delivered == sample_.prior_delivered && sent_time > sample_.sent_time)) {
      sample_ = PendingSample{snap.delivered, snap.delivered_time, sent_time,
                              sent_time - snap.first_sent_time};
      has_sample_ = true;
      first_sent_time_ = sent_time;
    }
  }

  // The ACK is processed: takes its sample, if any. Intervals shorter than `min_rtt` are
  // discarded (draft §3.3: they come from ACK compression, not the path's rate).
  void OnAckEnd(Timestamp now, Duration min_rtt, Duration srtt) {
    if (!has_sample_) return;
    const PendingSample& s = sample_;
    has_sample_ = false;
    const Duration ack_elapsed = delivered_time_ - s.prior_time;
    const Duration interval = std::max(s.send_elapsed, ack_elapsed);
    if (interval <= Duration::Zero() || interval < min_rtt) return;
    const double rate = static_cast<double>(delivered_ - s.prior_delivered) * 1e9 /
                        static_cast<double>(interval.nanos());
    // A round trip ends when a segment sent after its start is delivered (BBR's rounds).
    const bool round_start = s.prior_delivered >= next_round_delivered_;
    if (round_start) next_round_delivered_ = delivered_;
    const Duration window = std::clamp(srtt * kWindowRoundTrips, kMinWindow, kMaxWindow);
    if (start_ == Timestamp::Never() || now - start_ >= window) {
      previous_max_ = start_ == Timestamp::Never() ? rate : current_max_;
      current_max_ = rate;
      start_ = now;
    } else {
      current_max_ = std::max(current_max_, rate);
    }
    latest_ = rate;
    if (round_start && !full_) CheckFullBandwidth();
  }

  // Whether the bandwidth has stopped growing: it grew by less than a quarter in each of the
  // last three round trips (BBR's full-pipe test, the end of its startup). Until then the
  // subflow is still ramping up and the samples lag what it is about to reach.
  bool full_bandwidth_reached() const { return full_; }

  // Bytes per second: the maximum of the samples of the last one to two windows; nullopt
  // before the first sample.
  std::optional<double> bandwidth() const {
    if (start_ == Timestamp::Never()) return std::nullopt;
    return std::max(current_max_, previous_max_);
  }
  double latest() const { return latest_; }
  uint64_t delivered() const { return delivered_; }

 private:
  static constexpr Duration kMinWindow = Duration::Millis(100);
  static constexpr Duration kMaxWindow = Duration::Seconds(10);

  struct PendingSample {
    uint64_t prior_delivered;
    Timestamp prior_time;
    Timestamp sent_time;
    Duration send_elapsed;
  };

  void CheckFullBandwidth() {
    const double bw = std::max(current_max_, previous_max_);
    if (bw >= full_bw_ * 1.25) {
      full_bw_ = bw;
      full_rounds_ = 0;
      return;
    }
    full_ = ++full_rounds_ >= 3;
  }

  uint64_t delivered_ = 0;
  uint64_t next_round_delivered_ = 0;
  double full_bw_ = 0;
  uint8_t full_rounds_ = 0;
  bool full_ = false;
  bool has_sample_ = false;
  Timestamp delivered_time_;
  Timestamp first_sent_time_;
  PendingSample sample_{};  // valid while has_sample_
  Timestamp start_ = Timestamp::Never();
  double current_max_ = 0;
  double previous_max_ = 0;
  double latest_ = 0;
};

}  // namespace mptcp::tcp

#endif  // MPTCP_TCP_DELIVERY_RATE_H_
