// Test-only driver that feeds a congestion controller round trips of ACKs, as an engine would.
#ifndef MPTCP_TESTING_CC_TEST_UTIL_H_
#define MPTCP_TESTING_CC_TEST_UTIL_H_

#include <algorithm>
#include <cstdint>

#include "mptcp/cc/controller.h"
#include "mptcp/time.h"

namespace mptcp::cc::testing {

struct RoundOptions {
  uint32_t segments_per_ack = 1;
  bool app_limited = false;
  bool in_recovery = false;
};

// A bulk sender on a path with a fixed RTT and no queueing: each round it has a full cwnd in
// flight, and the ACKs for it arrive spread evenly over the next RTT.
class FlowDriver {
 public:
  explicit FlowDriver(CongestionController& cc, Duration rtt = Duration::Millis(100))
      : cc_(cc), rtt_(rtt) {}

  // One RTT: acknowledges the cwnd that was in flight at the start of the round.
  void RunRound(RoundOptions opt) {
    const uint32_t mss = cc_.mss();
    const uint64_t window = std::max<uint64_t>(cc_.cwnd(), mss);
    const uint64_t segments = std::max<uint64_t>(window / mss, 1);
    const uint64_t per_ack = std::max<uint32_t>(opt.segments_per_ack, 1);
    const uint64_t acks = (segments + per_ack - 1) / per_ack;
    const Timestamp start = now_;
    uint64_t in_flight = segments * mss;
    for (uint64_t i = 0; i < acks; ++i) {
      const uint64_t segs = std::min(per_ack, segments - i * per_ack);
      AckEvent ev;
      ev.now = start + rtt_ * static_cast<int64_t>(i + 1) / static_cast<int64_t>(acks);
      ev.bytes_acked = static_cast<uint32_t>(segs * mss);
      ev.bytes_in_flight = static_cast<uint32_t>(std::min<uint64_t>(in_flight, kMaxWindow));
      ev.rtt = rtt_;
      ev.srtt = rtt_;
      ev.min_rtt = rtt_;
      ev.in_recovery = opt.in_recovery;
      ev.app_limited = opt.app_limited;
      cc_.OnAck(ev);
      in_flight -= segs * mss;
    }
    now_ = start + rtt_;
  }
  void RunRound() { RunRound(RoundOptions{}); }
  void RunRounds(int n, RoundOptions opt = {}) {
    for (int i = 0; i < n; ++i) RunRound(opt);
  }

  // A fast-retransmit loss with the whole window in flight, one round of recovery, and exit.
  void LoseAndRecover() {
    cc_.OnCongestionEvent(LossEvent{now_, cc_.cwnd(), cc_.mss()});
    RunRound({.in_recovery = true});
    cc_.OnRecoveryExit(now_);
  }

  void Advance(Duration d) { now_ = now_ + d; }
  Timestamp now() const { return now_; }
  Duration rtt() const { return rtt_; }

 private:
  CongestionController& cc_;
  Duration rtt_;
  Timestamp now_ = Timestamp::FromNanos(int64_t{1'000'000'000} * 1000);
};

}  // namespace mptcp::cc::testing

#endif  // MPTCP_TESTING_CC_TEST_UTIL_H_
