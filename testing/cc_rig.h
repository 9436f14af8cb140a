// Test-only rig that drives congestion controllers without a network: the subflows of one
// connection, coupled as the MPTCP connection couples them (in the style of cloudflare/quiche's
// test sender), or a single caller-owned controller fed round trips of ACKs as an engine would.
#ifndef MPTCP_TESTING_CC_RIG_H_
#define MPTCP_TESTING_CC_RIG_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "mptcp/cc/controller.h"
#include "mptcp/cc/factory.h"
#include "mptcp/time.h"

namespace mptcp::cc::testing {

// How the ACKs of RunFor()/RunRounds() (and of a hand-made Ack()) are reported.
struct RoundOptions {
  uint32_t segments_per_ack = 1;  // delayed or stretch ACKs: this many segments per ACK
  bool app_limited = false;
  bool in_recovery = false;
};

// One subflow's fixed path.
struct RigPath {
  Duration rtt = Duration::Millis(100);
  uint32_t mss = 1000;
  uint32_t initial_cwnd_segments = 10;
  // RunFor() loses one segment (a congestion event) after every this many segments acked on
  // this path: a deterministic loss rate of 1/loss_every. 0: never.
  uint64_t loss_every = 0;
};

// N subflows' controllers, each on a path with a fixed RTT and MSS and no queueing, and the
// CouplingGroup over them. As the connection does, members of the group get
// set_coupling(this) and the others set_coupling(nullptr); path(i) is the i-th member's
// View() with its srtt (Zero() while the subflow has no RTT sample, see set_rtt_known()).
//
// Two ways to drive it, not to be mixed within one test step:
//  - by hand: Send(), Ack(), Lose(), Rto(), Advance(), to check single ACKs and losses;
//  - RunFor()/RunRounds(): bulk transfer on every sending subflow. Each subflow has a full
//    cwnd in flight per round and its ACKs arrive evenly over the next RTT; ACKs of all
//    subflows are delivered in time order (ties by subflow index), so the coupled controllers
//    see each other's windows change as they would. A round starts when the subflow's
//    previous one ends within the run, else at the start of the next RunFor(): so between
//    runs nothing is in flight, and whatever a test does to a controller between them (a loss,
//    a timeout, idle time with Advance()) shapes the next round, as it would in an engine.
class CcRig final : public CouplingGroup {
 public:
  CcRig(CcAlgorithm algorithm, std::vector<RigPath> paths) {
    subflows_.reserve(paths.size());
    for (const RigPath& p : paths) {
      Subflow s;
      s.path = p;
      s.owned = MakeController(algorithm, p.mss, p.initial_cwnd_segments);
      s.cc = s.owned.get();
      subflows_.push_back(std::move(s));
    }
    std::vector<size_t> all(subflows_.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    SetMembers(all);
  }
  // One subflow (index 0) on `path` driving a caller-owned controller, which must outlive the
  // rig; path.mss and path.initial_cwnd_segments are the controller's own. The rig's group is
  // empty and the controller's coupling is left as the caller set it.
  explicit CcRig(CongestionController& cc, RigPath path = {}) {
    Subflow s;
    s.path = path;
    s.cc = &cc;
    subflows_.push_back(std::move(s));
  }
  CcRig(const CcRig&) = delete;
  CcRig& operator=(const CcRig&) = delete;

  // CouplingGroup.
  size_t size() const override { return members_.size(); }
  PathView path(size_t i) const override {
    if (i >= members_.size()) return PathView{};
    const Subflow& s = subflows_[members_[i]];
    return s.cc->View(s.rtt_known ? s.path.rtt : Duration::Zero());
  }

  // Which subflows take part in the coupling (models backup or stale subflows, which the
  // connection leaves out). Takes effect before the next event, as in the connection.
  void SetMembers(const std::vector<size_t>& members) {
    members_.clear();
    for (size_t i : members) {
      if (i < subflows_.size()) members_.push_back(i);
    }
    for (size_t i = 0; i < subflows_.size(); ++i) {
      const bool member = std::find(members_.begin(), members_.end(), i) != members_.end();
      subflows_[i].cc->set_coupling(member ? this : nullptr);
    }
  }
  const std::vector<size_t>& members() const { return members_; }

  // A subflow without an RTT sample yet: its ACKs carry rtt = srtt = 0 and its view srtt 0.
  void set_rtt_known(size_t i, bool known) { subflows_[i].rtt_known = known; }
  // Whether RunFor() sends on the subflow (an idle backup sends nothing).
  void set_sending(size_t i, bool sending) {
    subflows_[i].sending = sending;
    CancelRound(i);
  }

  size_t subflows() const { return subflows_.size(); }
  CongestionController& cc(size_t i) { return *subflows_[i].cc; }
  const CongestionController& cc(size_t i) const { return *subflows_[i].cc; }
  uint32_t cwnd(size_t i) const { return subflows_[i].cc->cwnd(); }
  uint32_t in_flight(size_t i) const { return subflows_[i].in_flight; }
  uint64_t bytes_acked(size_t i) const { return subflows_[i].total_acked; }
  uint64_t losses(size_t i) const { return subflows_[i].losses; }
  Timestamp now() const { return now_; }

  // --- By hand. ---

  // `bytes` more in flight on subflow i (OnPacketSent).
  void Send(size_t i, uint32_t bytes) {
    Subflow& s = subflows_[i];
    s.in_flight = static_cast<uint32_t>(std::min<uint64_t>(uint64_t{s.in_flight} + bytes,
                                                           kMaxWindow));
    s.cc->OnPacketSent(now_, bytes, s.in_flight);
  }

  // An ACK newly acknowledging `bytes` on subflow i, with bytes_in_flight before it and the
  // path's RTT as sample and srtt (none while !rtt_known).
  void Ack(size_t i, uint32_t bytes, RoundOptions opt = {}) {
    Subflow& s = subflows_[i];
    AckEvent ev;
    ev.now = now_;
    ev.bytes_acked = bytes;
    ev.bytes_in_flight = s.in_flight;
    if (s.rtt_known) {
      ev.rtt = s.path.rtt;
      ev.srtt = s.path.rtt;
      ev.min_rtt = s.path.rtt;
    }
    ev.in_recovery = opt.in_recovery || s.in_recovery;
    ev.app_limited = opt.app_limited;
    s.in_flight -= std::min(bytes, s.in_flight);
    s.total_acked += bytes;
    s.backoffs = 0;
    s.cc->OnAck(ev);
  }

  // A fast-retransmit loss on subflow i with its current flight (or a full cwnd if nothing is
  // marked in flight), and recovery ending at once: what is in flight is written off and the
  // next RunFor() round starts afresh.
  void Lose(size_t i) {
    EnterRecovery(i);
    subflows_[i].cc->OnRecoveryExit(now_);
  }

  // As Lose(), but recovery lasts one RTT of subflow i (every sending subflow runs; only
  // subflow i's ACKs are marked in recovery) before it ends.
  void LoseAndRecover(size_t i) {
    Subflow& s = subflows_[i];
    EnterRecovery(i);
    s.in_recovery = true;
    RunFor(s.path.rtt);
    s.in_recovery = false;
    s.cc->OnRecoveryExit(now_);
  }

  // Puts subflow i in congestion avoidance with cwnd = ssthresh = `cwnd` bytes (>= 2 MSS), by
  // a loss of twice that flight taken while the subflow is uncoupled: exact for the algorithms
  // that halve (NewReno, and LIA, OLIA, BALIA uncoupled), not for CUBIC.
  void SetCongestionAvoidance(size_t i, uint32_t cwnd) {
    Subflow& s = subflows_[i];
    const CouplingGroup* group = s.cc->coupling();
    s.cc->set_coupling(nullptr);
    s.cc->OnCongestionEvent(
        LossEvent{now_, static_cast<uint32_t>(std::min<uint64_t>(uint64_t{2} * cwnd,
                                                                 kMaxWindow)),
                  s.cc->mss()});
    s.cc->OnRecoveryExit(now_);
    s.cc->set_coupling(group);
    CancelRound(i);
  }

  // The retransmission timer of subflow i expires (backoff count as the engine keeps it).
  void Rto(size_t i) {
    Subflow& s = subflows_[i];
    s.cc->OnRto(RtoEvent{now_, s.in_flight, s.backoffs});
    ++s.backoffs;
    CancelRound(i);
  }

  void Advance(Duration d) { now_ = now_ + d; }

  // --- Bulk transfer. ---

  // Every sending subflow runs rounds until `d` from now; an ACK due later stays pending for
  // the next call.
  void RunFor(Duration d, RoundOptions opt = {}) {
    const Timestamp end = now_ + d;
    for (;;) {
      size_t next = subflows_.size();
      for (size_t i = 0; i < subflows_.size(); ++i) {
        Subflow& s = subflows_[i];
        if (!s.sending) continue;
        if (s.acks_left == 0) {
          // A round starting now could deliver nothing before `end`: leave it to the next run.
          if (now_ >= end) continue;
          StartRound(i, opt.segments_per_ack);
        }
        if (next == subflows_.size() || s.next_ack < subflows_[next].next_ack) next = i;
      }
      if (next == subflows_.size() || subflows_[next].next_ack > end) break;
      Subflow& s = subflows_[next];
      now_ = s.next_ack;
      const uint64_t segs = std::min<uint64_t>(s.per_ack, s.segments_left);
      --s.acks_left;
      s.segments_left -= segs;
      s.next_ack = s.round_start + s.path.rtt * static_cast<int64_t>(s.acks - s.acks_left + 1) /
                                       static_cast<int64_t>(s.acks);
      Ack(next, static_cast<uint32_t>(segs * s.cc->mss()), opt);
      if (s.path.loss_every > 0) {
        s.since_loss += segs;
        if (s.since_loss >= s.path.loss_every) {
          s.since_loss = 0;
          Lose(next);
        }
      }
    }
    now_ = end;
  }

  // RunFor() n RTTs of the subflow with the longest RTT.
  void RunRounds(int n, RoundOptions opt = {}) {
    Duration longest = Duration::Zero();
    for (const Subflow& s : subflows_) longest = std::max(longest, s.path.rtt);
    RunFor(longest * n, opt);
  }

 private:
  struct Subflow {
    RigPath path;
    std::unique_ptr<CongestionController> owned;  // null for a caller-owned controller
    CongestionController* cc = nullptr;
    bool rtt_known = true;
    bool in_recovery = false;  // LoseAndRecover()'s recovery round
    bool sending = true;
    uint32_t in_flight = 0;
    int backoffs = 0;
    uint64_t total_acked = 0;
    uint64_t losses = 0;
    uint64_t since_loss = 0;
    // The current RunFor() round.
    Timestamp round_start;
    Timestamp next_ack;
    uint64_t acks = 0;
    uint64_t acks_left = 0;
    uint64_t per_ack = 1;
    uint64_t segments_left = 0;
  };

  void StartRound(size_t i, uint32_t segments_per_ack) {
    Subflow& s = subflows_[i];
    const uint32_t mss = s.cc->mss();
    const uint64_t segments = std::max<uint64_t>(s.cc->cwnd() / mss, 1);
    for (uint64_t k = 0; k < segments; ++k) Send(i, mss);
    s.round_start = now_;
    s.per_ack = std::max<uint32_t>(segments_per_ack, 1);
    s.acks = (segments + s.per_ack - 1) / s.per_ack;
    s.acks_left = s.acks;
    s.segments_left = segments;
    s.next_ack = now_ + s.path.rtt / static_cast<int64_t>(s.acks);
  }

  void EnterRecovery(size_t i) {
    Subflow& s = subflows_[i];
    const uint32_t flight = s.in_flight > 0 ? s.in_flight : s.cc->cwnd();
    s.cc->OnCongestionEvent(LossEvent{now_, flight, s.cc->mss()});
    ++s.losses;
    CancelRound(i);
  }

  void CancelRound(size_t i) {
    Subflow& s = subflows_[i];
    s.in_flight = 0;
    s.acks_left = 0;
    s.segments_left = 0;
  }

  std::vector<Subflow> subflows_;
  std::vector<size_t> members_;
  Timestamp now_ = Timestamp::FromNanos(int64_t{1'000'000'000} * 1000);
};

}  // namespace mptcp::cc::testing

#endif  // MPTCP_TESTING_CC_RIG_H_
