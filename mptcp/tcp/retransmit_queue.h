// The sender's record of every segment sent and not yet cumulatively acknowledged: the SACK
// scoreboard of RFC 6675, loss marking (IsLost, RACK's time-based rules of RFC 8985, NewReno
// partial ACKs, RTO), the "pipe" estimate of bytes in flight, and RTT samples that obey
// Karn's rule. Records follow transmission
// boundaries; a record may be split when a retransmission must be shorter.
#ifndef MPTCP_TCP_RETRANSMIT_QUEUE_H_
#define MPTCP_TCP_RETRANSMIT_QUEUE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "mptcp/fifo.h"
#include "mptcp/seq.h"
#include "mptcp/tcp/delivery_rate.h"
#include "mptcp/time.h"
#include "mptcp/wire/tcp_options.h"

namespace mptcp::tcp {

struct SentSegment {
  SeqNum32 seq;
  uint32_t len = 0;          // sequence space covered, including a FIN
  Timestamp sent_time;       // of the latest transmission
  bool fin = false;
  bool sacked = false;       // selectively acknowledged (RFC 2018)
  bool lost = false;         // deemed lost and not yet retransmitted
  bool retransmitted = false;  // ever retransmitted: no RTT sample from it (Karn, RFC 6298 §3)
  DeliverySnapshot delivery = {};  // the delivery state at the latest transmission

  SeqNum32 end() const { return seq + len; }
  bool in_pipe() const { return !sacked && !lost; }
};

// RACK's state (RFC 8985 §6.1), per subflow, allocated with its first data.
struct RackState {
  Timestamp xmit = Timestamp::Never();  // RACK.xmit_ts; Never() until a delivery
  Timestamp xmit_before_ack = Timestamp::Never();  // RACK.xmit_ts as the last ACK left it
  SeqNum32 end_seq;                     // RACK.end_seq
  Duration rtt = Duration::Zero();      // RACK.rtt
  Duration min_rtt = Duration::Zero();  // RACK.min_RTT: Zero() while unknown
  std::optional<SeqNum32> dsack_round;  // RACK.dsack_round
  uint8_t reo_wnd_mult = 1;             // RACK.reo_wnd_mult
  uint8_t reo_wnd_persist = 0;          // RACK.reo_wnd_persist
  bool reordering_seen = false;         // RACK.reordering_seen
};

struct CumulativeAckResult {
  uint32_t bytes_acked = 0;  // sequence space newly acknowledged
  bool fin_acked = false;
  // From the newest acked record, when none of those acked was ever retransmitted.
  std::optional<Duration> rtt;
  std::optional<Timestamp> newest_acked_sent_time;
};

struct SackResult {
  uint32_t bytes_newly_sacked = 0;
  std::optional<Duration> rtt;
  bool dsack = false;           // a D-SACK block (RFC 2883 §4) reported a duplicate
  int discarded_blocks = 0;     // blocks outside (SND.UNA, SND.MAX]
};

class RetransmitQueue {
 public:
  // RFC 6675 §2: DupThresh.
  static constexpr int kDupThresh = 3;

  bool empty() const { return q_.empty(); }
  size_t size() const { return q_.size(); }
  const SentSegment& operator[](size_t i) const { return q_[i]; }
  // RFC 6675 "pipe": bytes sent and neither acknowledged, SACKed, nor deemed lost.
  uint32_t pipe() const { return pipe_; }
  uint32_t sacked_bytes() const { return sacked_bytes_; }
  uint32_t lost_bytes() const { return lost_bytes_; }
  bool has_lost() const { return lost_bytes_ > 0; }
  // The delivery rate of what this queue sent (acknowledged or SACKed per unit of time).
  const DeliveryRate& delivery_rate() const {
    static const DeliveryRate kNothingSent;
    return rate_ ? *rate_ : kNothingSent;
  }
  // An ACK has been applied (OnCumulativeAck and OnSackBlocks): it yields one rate sample.
  void OnAckEnd(Timestamp now, Duration min_rtt, Duration srtt) {
    if (rack_) rack_->xmit_before_ack = rack_->xmit;
    if (rate_) rate_->OnAckEnd(now, min_rtt, srtt);
  }

  void OnSent(SeqNum32 seq, uint32_t len, bool fin, Timestamp now) {
    SentSegment s{seq, len, now, fin};
    // Allocated with the first data: an idle connection's subflows carry none of it.
    if (!rate_) {
      rate_ = std::make_unique<DeliveryRate>();
      rack_ = std::make_unique<RackState>();
    }
    s.delivery = rate_->Snapshot(now, q_.empty());
    q_.push_back(s);
    pipe_ += len;
  }

  // Index of the first record deemed lost, if any.
  std::optional<size_t> FirstLost() const {
    if (lost_bytes_ == 0) return std::nullopt;
    for (size_t i = 0; i < q_.size(); ++i) {
      if (q_[i].lost) return i;
    }
    return std::nullopt;
  }

  // Splits record i so that it covers `first_len` and a new record covers the rest.
  void Split(size_t i, uint32_t first_len) {
    SentSegment& s = q_[i];
    if (first_len == 0 || first_len >= s.len) return;
    SentSegment tail = s;
    tail.seq = s.seq + first_len;
    tail.len = s.len - first_len;
    s.len = first_len;
    s.fin = false;
    q_.insert(i + 1, tail);
  }

  // Record i (deemed lost) is being sent again.
  void OnRetransmitted(size_t i, Timestamp now) {
    SentSegment& s = q_[i];
    if (s.lost) {
      s.lost = false;
      lost_bytes_ -= s.len;
      pipe_ += s.len;
    }
    s.retransmitted = true;
    s.sent_time = now;
    s.delivery = rate_->Snapshot(now, false);
  }

  // Removes everything below `ack` (RFC 9293 §3.10.7.4: SND.UNA < SEG.ACK =< SND.NXT already
  // checked by the caller). A record straddling `ack` is trimmed.
  CumulativeAckResult OnCumulativeAck(SeqNum32 ack, Timestamp now) {
    CumulativeAckResult r;
    bool retransmission_acked = false;
    while (!q_.empty() && q_.front().seq < ack) {
      SentSegment& s = q_.front();
      retransmission_acked |= s.retransmitted;
      if (s.end() <= ack) {
        r.bytes_acked += s.len;
        r.fin_acked |= s.fin;
        // A SACKed record was delivered (and timed) when its SACK came: timing it again now
        // would measure the wait for the hole below it (Linux's tcp_clean_rtx_queue likewise).
        if (!s.sacked) {
          NoteRtt(s, now, r.rtt, r.newest_acked_sent_time);
          NoteDelivered(s, now);
          rate_->OnDelivered(s.delivery, s.sent_time, s.len, now);
        }
        Forget(s, s.len);
        q_.pop_front();
      } else {
        // Partially acknowledged (the peer or a middlebox resegmented).
        const uint32_t n = static_cast<uint32_t>(ack - s.seq);
        if (!s.sacked) rate_->OnDelivered(s.delivery, s.sent_time, n, now);
        Forget(s, n);
        s.seq = ack;
        s.len -= n;
        r.bytes_acked += n;
        break;
      }
    }
    // Karn's rule (RFC 6298 §3) for the whole ACK, as Linux's tcp_clean_rtx_queue applies it
    // (FLAG_RETRANS_DATA_ACKED): an ACK that covers a retransmission was held back by the hole
    // that retransmission filled, so the originals after it, sent long before, would time the
    // wait for the loss's recovery (a 200 ms "RTT" on a 20 ms path after a timeout). The
    // timestamp echo, of the hole-filling copy (RFC 7323 §4.3), times it instead.
    if (retransmission_acked) r.rtt.reset();
    return r;
  }

  // Applies SACK blocks (RFC 2018 §4). A record is SACKed only when a block covers it
  // entirely. `snd_una`/`snd_max` bound the valid range; a block at or below SND.UNA, or inside
  // an earlier block's range, is a D-SACK (RFC 2883 §4).
  SackResult OnSackBlocks(std::span<const wire::SackBlock> blocks, SeqNum32 snd_una,
                          SeqNum32 snd_max, Timestamp now) {
    SackResult r;
    for (size_t b = 0; b < blocks.size(); ++b) {
      const wire::SackBlock& blk = blocks[b];
      if (!(blk.left < blk.right)) {
        ++r.discarded_blocks;
        continue;
      }
      // RFC 2883 §4: the first block is a D-SACK when it lies below the cumulative ACK or
      // inside the second block.
      if (b == 0 && (blk.left < snd_una ||
                     (blocks.size() > 1 && blocks[1].left <= blk.left &&
                      blk.right <= blocks[1].right))) {
        r.dsack = true;
        continue;
      }
      if (blk.right > snd_max || blk.left < snd_una) {
        ++r.discarded_blocks;
        continue;
      }
      std::optional<Timestamp> unused;
      // Records are in sequence order: find the first that could be covered.
      for (SentSegment& s : q_) {
        if (s.end() <= blk.left) continue;
        if (s.seq >= blk.right) break;
        if (s.sacked || s.seq < blk.left || s.end() > blk.right) continue;
        s.sacked = true;
        if (s.lost) {
          s.lost = false;
          lost_bytes_ -= s.len;
        } else {
          pipe_ -= s.len;
        }
        sacked_bytes_ += s.len;
        r.bytes_newly_sacked += s.len;
        NoteRtt(s, now, r.rtt, unused);
        NoteDelivered(s, now);
        rate_->OnDelivered(s.delivery, s.sent_time, s.len, now);
      }
    }
    return r;
  }

  // RFC 6675 §4 IsLost(): a record is lost when DupThresh discontiguous SACKed records, or more
  // than (DupThresh - 1) * SMSS SACKed bytes, lie above it. Returns bytes newly marked lost.
  // RFC 6675 §2 allows a DupThresh adapted to the path's reordering (the engine's).
  uint32_t DetectLossesFromSack(uint32_t smss, int dupthresh = kDupThresh) {
    if (sacked_bytes_ == 0) return 0;
    uint32_t newly = 0;
    int sacked_above = 0;
    uint64_t sacked_bytes_above = 0;
    for (size_t i = q_.size(); i-- > 0;) {
      SentSegment& s = q_[i];
      if (s.sacked) {
        ++sacked_above;
        sacked_bytes_above += s.len;
        continue;
      }
      if (sacked_above >= dupthresh ||
          sacked_bytes_above > uint64_t(dupthresh - 1) * smss) {
        if (!s.lost && !s.retransmitted) {
          MarkLost(s);
          newly += s.len;
        }
      }
    }
    return newly;
  }

  // RFC 8985 §6.2 (RACK), for retransmissions, which RFC 6675's IsLost never marks again: a
  // retransmission is lost once a segment sent more than `reo_wnd` after it has been delivered
  // (the network carried a later segment, so the retransmission is not merely late). Without
  // this, a lost retransmission waits for the RTO. Returns the records newly marked lost.
  uint32_t DetectLostRetransmissions(Duration reo_wnd) {
    if (!rack_ || rack_->xmit.IsNever()) return 0;
    uint32_t newly = 0;
    for (SentSegment& s : q_) {
      if (!s.retransmitted || s.sacked || s.lost) continue;
      if (rack_->xmit > s.sent_time + reo_wnd) {
        MarkLost(s);
        ++newly;
      }
    }
    return newly;
  }

  // RACK's loss detection (RFC 8985 §6.2 step 5) for records sent once: a record sent before
  // the most recently sent delivered one is lost once RACK.rtt plus the reordering window has
  // passed since its sending. Lost retransmissions are DetectLostRetransmissions's. Returns the
  // bytes newly marked lost and, when a record is not lost yet only for want of time, how long
  // until it would be (the reordering timer, §6.3); Zero() when none waits.
  struct RackResult {
    uint32_t newly_lost = 0;
    Duration wait = Duration::Zero();
  };
  RackResult DetectLossesRack(Timestamp now, Duration reo_wnd) {
    RackResult r;
    if (!rack_ || rack_->xmit.IsNever()) return r;
    for (SentSegment& s : q_) {
      // Records are in sequence order, and a record sent once after the RACK segment lies
      // above it: nothing further up was sent before it.
      if (s.seq >= rack_->end_seq) break;
      if (s.sacked || s.lost || s.retransmitted) continue;
      const Duration remaining = (s.sent_time + rack_->rtt + reo_wnd) - now;
      if (remaining <= Duration::Zero()) {
        MarkLost(s);
        r.newly_lost += s.len;
      } else {
        r.wait = std::max(r.wait, remaining);
      }
    }
    return r;
  }

  // RFC 6582 / RFC 5681 §3.2 without SACK: the first unacknowledged record is presumed lost
  // (fast retransmit, or a partial ACK during recovery).
  uint32_t MarkFirstLost() {
    if (q_.empty() || q_.front().sacked || q_.front().lost) return 0;
    MarkLost(q_.front());
    return q_.front().len;
  }

  // RFC 6675 §5.1 / RFC 5681 §3.1 after an RTO: everything not SACKed is resent.
  uint32_t MarkAllLost() {
    uint32_t newly = 0;
    for (SentSegment& s : q_) {
      if (s.sacked || s.lost) continue;
      MarkLost(s);
      newly += s.len;
    }
    return newly;
  }

  // Whether any record outstanding has been sent more than once (linear: for the rare RTO).
  bool AnyRetransmitted() const {
    for (const SentSegment& s : q_) {
      if (s.retransmitted) return true;
    }
    return false;
  }

  // RFC 4015 §3 (the Eifel response): a timeout proved spurious marked lost segments that are
  // in flight after all. Those not resent yet count in the pipe again; SACK loss detection,
  // which runs next, marks any that really were lost.
  uint32_t UnmarkLost() {
    uint32_t undone = 0;
    for (SentSegment& s : q_) {
      if (!s.lost) continue;
      s.lost = false;
      lost_bytes_ -= s.len;
      pipe_ += s.len;
      undone += s.len;
    }
    return undone;
  }

  // RFC 2018 §8: after a timeout the receiver may have reneged; forget SACK marks so that
  // everything outstanding counts again.
  void ClearSacks() {
    for (SentSegment& s : q_) {
      if (!s.sacked) continue;
      s.sacked = false;
      sacked_bytes_ -= s.len;
      pipe_ += s.len;
    }
  }

  size_t allocated_bytes() const {
    return q_.allocated_bytes() + (rate_ ? sizeof(DeliveryRate) + sizeof(RackState) : 0);
  }
  // Frees the memory of an empty queue.
  void ShrinkIfEmpty() { q_.ShrinkIfEmpty(); }

  // RACK.reordering_seen (RFC 8985 §6.2 step 3): a segment sent once was delivered after one
  // sent later.
  bool reordering_seen() const { return rack_ && rack_->reordering_seen; }
  // Reordering proven otherwise (the engine's timestamp check of a fast retransmit).
  void NoteReordering() {
    if (rack_) rack_->reordering_seen = true;
  }
  // The path's minimum RTT, before an ACK is applied (RACK's test of a retransmission).
  void SetMinRtt(Duration min_rtt) {
    if (rack_) rack_->min_rtt = min_rtt;
  }
  // RACK's reordering window (RFC 8985 §6.2 step 4): a quarter of the minimum RTT times
  // RACK.reo_wnd_mult, at most SRTT; zero while no reordering is seen and either in recovery
  // or with DupThresh's worth SACKed (RACK then acts as fast as RFC 6675 would).
  Duration ReorderingWindow(bool in_recovery, uint64_t dupthresh_bytes, Duration min_rtt,
                            Duration srtt) const {
    if (!rack_) return Duration::Zero();
    if (!rack_->reordering_seen && (in_recovery || sacked_bytes_ >= dupthresh_bytes)) {
      return Duration::Zero();
    }
    return std::min(min_rtt / 4 * rack_->reo_wnd_mult, srtt);
  }
  // §6.2 step 4: a D-SACK (a retransmission was spurious) widens the window by a step, at
  // most once per round trip; the widening lasts 16 recoveries.
  void OnAckForReorderingWindow(bool dsack, SeqNum32 snd_una, SeqNum32 snd_nxt) {
    if (!rack_) return;
    if (rack_->dsack_round && snd_una >= *rack_->dsack_round) rack_->dsack_round.reset();
    if (dsack && !rack_->dsack_round) {
      rack_->dsack_round = snd_nxt;
      if (rack_->reo_wnd_mult < kMaxReoWndMult) ++rack_->reo_wnd_mult;
      rack_->reo_wnd_persist = 16;
    }
  }
  void OnRecoveryExit() {
    if (rack_ && rack_->reo_wnd_persist > 0 && --rack_->reo_wnd_persist == 0) {
      rack_->reo_wnd_mult = 1;
    }
  }
  static constexpr uint8_t kMaxReoWndMult = 64;  // SRTT caps the window long before

  // Highest sequence number SACKed, if any.
  std::optional<SeqNum32> HighestSacked() const {
    for (size_t i = q_.size(); i-- > 0;) {
      if (q_[i].sacked) return q_[i].end();
    }
    return std::nullopt;
  }

 private:
  void MarkLost(SentSegment& s) {
    s.lost = true;
    pipe_ -= s.len;
    lost_bytes_ += s.len;
  }
  // Removes `n` bytes of record s from the counters.
  void Forget(const SentSegment& s, uint32_t n) {
    if (s.sacked) sacked_bytes_ -= n;
    else if (s.lost) lost_bytes_ -= n;
    else pipe_ -= n;
  }
  // RACK.xmit_ts, RACK.end_seq and RACK.rtt (RFC 8985 §6.2 steps 1-2): the most recently sent
  // of the delivered segments, and its RTT. A retransmitted one counts only when delivered at
  // least a minimum RTT after its latest sending (§6.2 step 2, as Linux's tcp_rack_advance):
  // sooner, the ACK was for an earlier copy.
  void NoteDelivered(const SentSegment& s, Timestamp now) {
    RackState& r = *rack_;  // allocated with the first record
    if (s.retransmitted && (r.min_rtt <= Duration::Zero() || now - s.sent_time < r.min_rtt)) {
      return;
    }
    // §6.2 step 3: delivered after a segment sent later was, by an earlier ACK: reordering.
    // (Within one ACK, blocks come in the receiver's order, not the sending order.)
    if (!s.retransmitted && !r.xmit_before_ack.IsNever() && s.sent_time < r.xmit_before_ack) {
      r.reordering_seen = true;
    }
    if (r.xmit.IsNever() || s.sent_time > r.xmit ||
        (s.sent_time == r.xmit && s.end() > r.end_seq)) {
      r.xmit = s.sent_time;
      r.end_seq = s.end();
      r.rtt = now - s.sent_time;
    }
  }
  static void NoteRtt(const SentSegment& s, Timestamp now, std::optional<Duration>& rtt,
                      std::optional<Timestamp>& newest) {
    if (s.retransmitted) return;  // Karn's rule (RFC 6298 §3)
    if (!newest || s.sent_time > *newest) {
      newest = s.sent_time;
      rtt = now - s.sent_time;
    }
  }

  Fifo<SentSegment> q_;
  std::unique_ptr<DeliveryRate> rate_;  // from the first segment sent
  std::unique_ptr<RackState> rack_;     // with rate_
  uint32_t pipe_ = 0;
  uint32_t sacked_bytes_ = 0;
  uint32_t lost_bytes_ = 0;
};

}  // namespace mptcp::tcp

#endif  // MPTCP_TCP_RETRANSMIT_QUEUE_H_
