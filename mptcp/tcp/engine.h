// The subflow TCP engine: one RFC 9293 connection as a pure state machine. It is fed segments,
// application calls and the time; it never reads a clock. Segments come out of
// PollTransmit(now, buf) (or NextTransmission + Emit, which lets the MPTCP layer shorten a
// segment and add its own options); NextDeadline() says when to call again.
//
// Input processing (RFC 9293 §3.10.7, RFC 5961, RFC 7323) is in engine_input.h, output
// (segmentation, loss recovery per RFC 6675, timers) in engine_output.h; both define members of
// this class and are included at the end of this header.
#ifndef MPTCP_TCP_ENGINE_H_
#define MPTCP_TCP_ENGINE_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "mptcp/address.h"
#include "mptcp/cc/controller.h"
#include "mptcp/cc/factory.h"
#include "mptcp/poll.h"
#include "mptcp/seq.h"
#include "mptcp/tcp/ack_path_delay.h"
#include "mptcp/tcp/engine_types.h"
#include "mptcp/tcp/recv_buffer.h"
#include "mptcp/tcp/retransmit_queue.h"
#include "mptcp/tcp/rtt.h"
#include "mptcp/tcp/send_buffer.h"
#include "mptcp/tcp/tcp_config.h"
#include "mptcp/tcp/tcp_mib.h"
#include "mptcp/tcp/tcp_state.h"
#include "mptcp/tcp/time_wait.h"
#include "mptcp/time.h"
#include "mptcp/wire/tcp.h"

namespace mptcp::tcp {

class TcpEngine {
 public:
  // Option bytes a TCP header can carry (RFC 9293 §3.1).
  static constexpr size_t kMaxOptionSpace = 40;
  static constexpr uint32_t kTimestampOptionLength = 12;  // NOP NOP TS, RFC 7323 Appendix A

  // `tuple` is this side's view (local = us). `iss` is our initial sequence number (see
  // IsnGenerator, RFC 6528); `ts_offset` the random per-connection timestamp offset
  // (RFC 7323 §5.4).
  TcpEngine(const TcpConfig& config, const FourTuple& tuple, SeqNum32 iss, uint32_t ts_offset = 0)
      : TcpEngine(std::make_shared<const TcpConfig>(config), tuple, iss, ts_offset) {}
  // The same with a configuration shared by many engines (the MPTCP layer shares one among a
  // connection's subflows, and an Endpoint one among all its connections), counting into
  // `shared_mib` (the connection's) instead of a MIB of its own when that is given.
  TcpEngine(std::shared_ptr<const TcpConfig> shared_config, const FourTuple& tuple, SeqNum32 iss,
            uint32_t ts_offset = 0, TcpMib* shared_mib = nullptr)
      : TcpEngine(*shared_config, std::move(shared_config), tuple, iss, ts_offset, shared_mib) {}

 private:
  // (`shared_config` by reference: it is moved from only once `config`, its object, is read.)
  TcpEngine(const TcpConfig& config, std::shared_ptr<const TcpConfig>&& shared_config,
            const FourTuple& tuple, SeqNum32 iss, uint32_t ts_offset, TcpMib* shared_mib)
      : config_(std::move(shared_config)),
        own_mib_(shared_mib == nullptr ? std::make_unique<TcpMib>() : nullptr),
        mib_(shared_mib != nullptr ? shared_mib : own_mib_.get()),
        tuple_(tuple),
        iss_(iss),
        ts_offset_(ts_offset),
        send_buffer_(config.send_buffer),
        recv_buffer_(config.recv_buffer, config.max_ooo_ranges),
        rtt_(config.rto_initial, config.rto_min, config.rto_max),
        cc_(cc::MakeController(config.congestion_control, config.mss,
                               config.initial_cwnd_segments)) {
    snd_una_ = snd_nxt_ = iss_;
    buf_seq_ = iss_ + 1;
    rcv_wscale_ = InitialRcvWscale(config);
  }

 public:

  // RFC 7323 §2.3: the smallest shift that lets the window cover the receive buffer (or the
  // larger window the caller will advertise).
  static uint8_t InitialRcvWscale(const TcpConfig& c) {
    uint8_t shift = 0;
    if (!c.window_scaling) return 0;
    const size_t window = std::max(c.recv_buffer, c.max_advertised_window);
    while (shift < wire::kMaxWindowScale && (size_t{0xffff} << shift) < window) ++shift;
    return shift;
  }

  TcpEngine(const TcpEngine&) = delete;
  TcpEngine& operator=(const TcpEngine&) = delete;
  TcpEngine(TcpEngine&&) = default;
  TcpEngine& operator=(TcpEngine&&) = default;

  // --- Opening ---------------------------------------------------------------------------
  // Active open (RFC 9293 §3.10.1): CLOSED -> SYN-SENT; the SYN comes out of PollTransmit.
  void Connect(Timestamp now);
  // Passive open: CLOSED -> LISTEN. The first SYN that arrives is accepted.
  void Listen();
  // SYN cookies (RFC 4987 §3.6): in SYN-RECEIVED, rebuilt from the third ACK of a handshake
  // whose SYN-ACK a stateless server sent; that SYN-ACK counts as sent (at `sent_at`, known
  // from the echoed timestamp, which then times the handshake; unknown: no RTT sample).
  void AssumeSynAckSent(std::optional<Timestamp> sent_at);

  // --- Input -----------------------------------------------------------------------------
  // A parsed segment from the peer (its checksum already verified by the caller).
  SegmentOutcome OnSegment(Timestamp now, const wire::TcpRepr& seg);
  // Raw TCP segment bytes from the peer: checksum verified against the 4-tuple, then parsed.
  SegmentOutcome OnSegmentBytes(Timestamp now, std::span<const uint8_t> segment);

  // --- Application -----------------------------------------------------------------------
  // Queues bytes to send; returns how many fit in the send buffer (0 once closed for sending).
  size_t Write(std::span<const uint8_t> data);
  // Copies out in-order received bytes; returns the count (0: nothing now, or EOF).
  size_t Read(std::span<uint8_t> out);
  // Zero-copy read: view up to `max` readable bytes, then Consume() them.
  RecvBuffer::Pieces PeekReadable(size_t max) const { return recv_buffer_.PeekReadable(max); }
  void Consume(size_t n);
  // Graceful close of our direction (RFC 9293 §3.10.4): a FIN follows the queued data.
  void Close(Timestamp now);
  // Abort (RFC 9293 §3.10.5): a RST if synchronized, then CLOSED at once.
  void Abort();
  // Closes without sending anything: for a half-open passive connection dropped to make room
  // (a SYN queue dropping its oldest request under a flood of spoofed SYNs).
  void Forget();

  // --- Output ----------------------------------------------------------------------------
  // The next segment to send, if any, leaving `option_reserve` bytes of option space (and
  // shrinking the payload accordingly) for the caller's options. Changes nothing.
  //
  // With `gso_max_payload` above one segment's payload, new data that fills a first segment
  // may grow into a GSO super-segment of up to that many bytes (Transmission::segment_size):
  // whole segments within cwnd and the peer's window, exactly what as many calls would send
  // one by one. Whether there is a transmission at all does not depend on it.
  std::optional<Transmission> NextTransmission(Timestamp now, size_t option_reserve = 0,
                                               uint32_t gso_max_payload = 0) const;
  // Writes the planned segment (with `extra_options`, whole kind-30 options, appended) into
  // `buf` and commits its effects. Returns the segment length; 0 if `buf` is too small or
  // the plan is stale. `buf` needs 60 + MSS bytes at most (60 + payload for a super-segment,
  // which is recorded as the segments it will be cut into).
  size_t Emit(Timestamp now, const Transmission& tx, std::span<const uint8_t> extra_options,
              std::span<uint8_t> buf);
  // NextTransmission + Emit without extra options. nullopt when there is nothing to send.
  std::optional<size_t> PollTransmit(Timestamp now, std::span<uint8_t> buf) {
    auto tx = NextTransmission(now);
    if (!tx) return std::nullopt;
    const size_t n = Emit(now, *tx, {}, buf);
    if (n == 0) return std::nullopt;
    return n;
  }
  // Asks for an ACK to be sent now (the MPTCP layer uses it to carry a DATA_ACK or a signal).
  void RequestAck() {
    ack_now_ = true;
    ++plan_counter_;
  }
  // Asks for a pure ACK ahead of any data (for a signal that does not fit beside a data
  // mapping, such as MPTCP's ADD_ADDR).
  void RequestPureAck() {
    pure_ack_now_ = true;
    ++plan_counter_;
  }
  // Asks for a zero-window probe (RFC 9293 §3.8.6.1), which the peer must answer with an ACK;
  // the MPTCP layer uses it when the shared data-level window is closed.
  void RequestProbe() {
    if (IsSynchronized(state_)) probe_pending_ = true;
    ++plan_counter_;
  }
  // A congestion signal without a loss: the MPTCP layer's penalty for a subflow whose
  // slowness holds up the whole connection (Raiciu et al., "How Hard Can It Be?", NSDI 2012).
  // The controller reduces as on a loss; nothing is retransmitted. Ignored during recovery,
  // which has reduced already. The caller rate-limits it (once per RTT).
  void Penalize(Timestamp now) {
    if (in_recovery_ || !IsSynchronized(state_)) return;
    cc_->OnCongestionEvent(cc::LossEvent{now, rtq_.pipe(), 0});
    cc_->OnRecoveryExit(now);
    ++plan_counter_;
  }
  // Counts a segment the caller dropped before handing it over (checksum, parse errors).
  void NoteDrop(DropReason reason) {
    ++mib_->in_segs;
    if (reason == DropReason::kBadChecksum) {
      ++mib_->in_csum_errors;
    } else {
      ++mib_->in_malformed;
    }
  }
  // Queued bytes [seq, seq + len) from the send buffer, without copying (for the MPTCP layer's
  // DSS checksum over a segment about to be emitted).
  SendBuffer::Pieces PeekSendData(SeqNum32 seq, size_t len) const {
    if (seq < buf_seq_) return {};
    return send_buffer_.Peek(static_cast<uint32_t>(seq - buf_seq_), len);
  }

  // --- Time ------------------------------------------------------------------------------
  // When to call again: Now() when PollTransmit has a segment (the same NextTransmission
  // decision), else the earliest timer (NextTimer), Never() when idle.
  PollAt NextDeadline() const {
    return HasOutput() ? PollAt::Now() : PollAt::FromDeadline(NextTimer());
  }
  bool HasOutput(size_t option_reserve = 0) const {
    return NextTransmission(last_now_, option_reserve).has_value();
  }
  // The earliest armed timer (RTO, RACK's reordering timer, delayed ACK, persist, TIME-WAIT);
  // Never() when none is.
  Timestamp NextTimer() const {
    return Earliest(rto_timer_.deadline(), rack_timer_.deadline(), delack_timer_.deadline(),
                    persist_timer_.deadline(), time_wait_timer_.deadline());
  }
  // Runs the timers due at `now`. Does nothing when nothing is due.
  void OnTimeout(Timestamp now);

  // --- Events and state ------------------------------------------------------------------
  std::optional<TcpEvent> PollEvent();
  // The compact state a TIME-WAIT subflow leaves behind when its owner forgets the engine.
  TimeWaitRecord time_wait_record() const {
    TimeWaitRecord r;
    r.snd_nxt = snd_nxt_;
    r.rcv_nxt = rcv_nxt_;
    r.ts_offset = ts_offset_;
    r.ts_recent = ts_recent_;
    r.expiry = time_wait_timer_.deadline();
    r.window = WindowField(false);
    r.timestamps = ts_ok_;
    return r;
  }

  TcpState state() const { return state_; }
  CloseReason close_reason() const { return close_reason_; }
  const FourTuple& tuple() const { return tuple_; }
  // Its counters (the connection's, shared with its other subflows, when it was given them).
  const TcpMib& mib() const { return *mib_; }
  // This engine's own segment counts (OutSegs and RetransSegs), shared MIB or not.
  uint64_t segments_out() const { return segments_out_; }
  uint64_t segments_retransmitted() const { return segments_retransmitted_; }
  // Payload bytes acknowledged by the peer and received in order (Linux's tcpi_bytes_acked
  // and tcpi_bytes_received, without the SYN and FIN).
  uint64_t bytes_acked() const { return bytes_acked_; }
  uint64_t bytes_received() const { return bytes_received_; }
  const TcpConfig& config() const { return *config_; }
  const RttEstimator& rtt() const { return rtt_; }
  const AckPathDelay& ack_path() const {
    static const AckPathDelay kNoSample;
    return ack_path_ ? *ack_path_ : kNoSample;
  }
  // What the subflow delivers per unit of time (the retransmission queue's estimate).
  const DeliveryRate& delivery_rate() const { return rtq_.delivery_rate(); }
  const cc::CongestionController& congestion_controller() const { return *cc_; }
  // (The MPTCP connection points a coupled controller at its coupling group through this.)
  cc::CongestionController& mutable_congestion_controller() { return *cc_; }
  // Replaces the controller (an embedder's own algorithm; the configured one is built from
  // TcpConfig::congestion_control).
  void SetCongestionController(std::unique_ptr<cc::CongestionController> c) {
    c->set_mss(smss());
    cc_ = std::move(c);
  }

  SeqNum32 iss() const { return iss_; }
  SeqNum32 irs() const { return irs_; }
  SeqNum32 snd_una() const { return snd_una_; }
  SeqNum32 snd_nxt() const { return snd_nxt_; }
  SeqNum32 rcv_nxt() const { return rcv_nxt_; }
  uint32_t snd_wnd() const { return snd_wnd_; }
  // Sequence number of the next byte Write() would queue, i.e. after all queued data.
  SeqNum32 write_seq() const { return buf_seq_ + static_cast<uint32_t>(send_buffer_.size()); }
  // Sequence number of the first byte Read() would return (the peer's FIN, once received,
  // occupies the sequence number after the data).
  SeqNum32 read_seq() const {
    return rcv_nxt_ - static_cast<uint32_t>(recv_buffer_.readable()) - (fin_received_ ? 1u : 0u);
  }
  size_t send_buffer_free() const { return CanSend(state_) && !fin_queued_ ? send_buffer_.free_space() : 0; }
  size_t send_buffer_used() const { return send_buffer_.size(); }
  size_t unsent_bytes() const {
    const size_t sent = static_cast<size_t>(SeqMin(snd_nxt_, write_seq()) - buf_seq_);
    return send_buffer_.size() - std::min(sent, send_buffer_.size());
  }
  size_t readable() const { return recv_buffer_.readable(); }
  bool peer_fin_received() const { return fin_received_; }
  // True once Read() has drained everything before the peer's FIN.
  bool eof() const { return fin_received_ && recv_buffer_.readable() == 0; }
  uint32_t bytes_in_flight() const { return rtq_.pipe(); }
  uint32_t cwnd() const { return cc_->cwnd(); }
  bool in_recovery() const { return in_recovery_; }
  // RFC 5961 §5.2: an ACK value in [SND.UNA - MAX.SND.WND, SND.NXT].
  bool AckAcceptable(SeqNum32 ack) const {
    return IsSynchronized(state_) && !(ack > snd_nxt_) && !(ack < snd_una_ - max_snd_wnd_);
  }
  // Retransmission timeouts since data was last acknowledged (a failing path shows here).
  int consecutive_rtos() const { return consecutive_rtos_; }
  // RFC 6675's DupThresh as this subflow has learnt it: 3, raised to the degree of reordering
  // seen (in segments, up to TcpConfig::max_reordering), as Linux's tp->reordering.
  int dupthresh() const { return dupthresh_; }
  // Probe a path that may come back at least every `interval` (zero: off), as MPTCP does for a
  // stale subflow (RFC 8684 §3.3.6) so that it carries data again soon after its path
  // returns, not one backed-off RTO later. The retransmission timer then fires no later than
  // `interval` after it is armed; an expiry before the backed-off RTO is due resends from
  // SND.UNA without backing off or counting towards max_retransmits, so a dead path is given
  // up at the same time as without probing.
  void SetProbeInterval(Timestamp now, Duration interval) {
    probe_interval_ = interval;
    if (interval > Duration::Zero() && rto_timer_.armed() &&
        rto_timer_.deadline() > now + interval) {
      rto_timer_.Arm(now + interval);
    }
  }
  Duration probe_interval() const { return probe_interval_; }
  // The MSS we announce: the configured one on IPv4, 20 bytes less on IPv6 (tcp_config.h).
  uint16_t OwnMss() const {
    return tuple_.local.ip.is_v4() ? config_->mss
                                   : static_cast<uint16_t>(std::max<int>(config_->mss - 20, 88));
  }
  // Payload bytes per full segment (peer MSS less the timestamp option), RFC 6691.
  uint32_t smss() const { return snd_mss_ - (ts_ok_ ? kTimestampOptionLength : 0); }
  // How many segments `bytes` received in order count as for the delayed-ACK rule: a
  // coalesced (GRO) segment counts as the full-sized ones it was made of, as Linux's
  // "more than one full frame" test does, so it is ACKed at once.
  int SegmentsIn(uint32_t bytes) const {
    const uint32_t mss = std::max<uint32_t>(smss(), 1);
    return bytes > mss ? static_cast<int>(std::min<uint32_t>(bytes / mss, 1024)) : 1;
  }
  bool sack_enabled() const { return sack_ok_; }
  bool timestamps_enabled() const { return ts_ok_; }
  uint8_t snd_wscale() const { return snd_wscale_; }
  uint8_t rcv_wscale() const { return rcv_wscale_; }
  // Bytes of engine state (the object, the retransmission records and the controller),
  // besides the data buffers; and the bytes the buffers hold allocated.
  size_t StateBytes() const {
    return sizeof(*this) + rtq_.allocated_bytes() + cc_->state_bytes() +
           (ack_path_ ? sizeof(AckPathDelay) : 0);
  }
  size_t BufferBytes() const {
    return send_buffer_.allocated_bytes() + recv_buffer_.allocated_bytes();
  }
  // Bytes cwnd and the peer's window would let us send now (what a scheduler may hand over).
  uint32_t SendableNow() const;
  // Payload of a full-sized segment with `option_reserve` bytes of options kept free (the
  // unit a scheduler cuts chunks in, so that segments go out full).
  uint32_t SegmentPayload(size_t option_reserve) const { return MaxPayload(option_reserve); }

  // MPTCP hooks. With an external send window the peer's advertised window does not gate new
  // data (the connection layer enforces the data-level window, RFC 8684 §3.3.4); with an
  // advertised-window override, that value (in bytes, a multiple of 2^rcv_wscale()) is
  // advertised instead of the buffer's.
  void set_external_send_window(bool on) { external_send_window_ = on; }
  void set_advertised_window_override(std::optional<uint32_t> bytes) {
    has_adv_override_ = bytes.has_value();
    adv_override_bytes_ = bytes.value_or(0);
  }
  // The window (bytes) the peer keeps if `tx` goes out now, when `tx` is not newer than the last
  // segment the peer took a window from; 0 when it is newer (its window will be taken). A peer
  // takes a segment's window when SEG.SEQ or SEG.ACK moved past the last such segment's (RFC
  // 9293 §3.10.7.4's SND.WL1/SND.WL2), or a larger window at the same SEQ and ACK (Linux's
  // tcp_may_update_window ignores a smaller one there, which RFC 9293 would take).
  // The window (bytes) the peer holds from us: the one it took last (0 before any).
  uint32_t window_peer_holds() const { return peer_wnd_valid_ ? peer_wnd_.window : 0; }
  uint32_t WindowPeerKeeps(const Transmission& tx) const {
    if (!peer_wnd_valid_ || tx.seq > peer_wnd_.seq || rcv_nxt_ > peer_wnd_.ack) return 0;
    return peer_wnd_.window;
  }

 private:
  friend class TcpEngineTestPeer;

  // --- input helpers (engine_input.h) ---
  SegmentOutcome OnSegmentListen(Timestamp now, const wire::TcpRepr& seg);
  SegmentOutcome OnSegmentSynSent(Timestamp now, const wire::TcpRepr& seg);
  SegmentOutcome OnSegmentSynchronized(Timestamp now, const wire::TcpRepr& seg);
  bool SequenceAcceptable(SeqNum32 seq, size_t seg_len) const;
  void NegotiateOptions(const wire::TcpRepr& syn);
  void ReturnToListen();
  void ProcessAck(Timestamp now, const wire::TcpRepr& seg, SegmentOutcome& out);
  void ProcessText(Timestamp now, const wire::TcpRepr& seg, SeqNum32 seq,
                   std::span<const uint8_t> payload, SegmentOutcome& out);
  void ProcessFin(Timestamp now, SegmentOutcome& out);
  void UpdateTsRecent(const wire::TcpRepr& seg);
  uint32_t ReceiveWindow() const;
  bool RateLimitedAck(Timestamp now);
  void SendChallengeAck(Timestamp now);
  void ScheduleAck(Timestamp now, bool immediately);
  void EnterEstablished(Timestamp now, SegmentOutcome& out);
  void EnterTimeWait(Timestamp now);
  void EnterClosed(CloseReason reason);
  void QueueResetReply(const wire::TcpRepr& seg);
  void SetState(TcpState s, SegmentOutcome* out = nullptr);
  void PushEvent(TcpEventType t, CloseReason r = CloseReason::kNone);

  // --- output helpers (engine_output.h) ---
  std::optional<Transmission> PlanData(size_t option_reserve, uint32_t gso_max_payload) const;
  uint32_t MaxPayload(size_t option_reserve) const;
  size_t SackOptionLength(size_t space) const;
  void FillSackBlocks(wire::TcpOptions& opts, size_t space) const;
  uint16_t WindowField(bool syn) const;
  uint32_t TsVal(Timestamp now) const;
  void NoteAckSent(SeqNum32 seq, uint32_t advertised);
  void OnRetransmissionTimeout(Timestamp now);
  void UpdatePersistTimer(Timestamp now);
  Duration PersistInterval() const;
  bool DataSent() const { return snd_nxt_ > buf_seq_; }
  SeqNum32 data_end() const { return write_seq(); }

  std::shared_ptr<const TcpConfig> config_;
  std::unique_ptr<TcpMib> own_mib_;  // when no shared MIB was given
  TcpMib* mib_;
  FourTuple tuple_;

  // Send sequence space (RFC 9293 §3.3.1).
  SeqNum32 iss_;
  SeqNum32 snd_una_;
  SeqNum32 snd_nxt_;          // highest sequence number sent + 1 (never rewound)
  SeqNum32 buf_seq_;          // sequence number of send_buffer_ byte 0
  uint32_t snd_wnd_ = 0;      // peer's window in bytes (scaled)
  uint32_t max_snd_wnd_ = 0;  // RFC 5961 §5.2 MAX.SND.WND
  SeqNum32 snd_wl1_, snd_wl2_;
  uint32_t snd_mss_ = 536;
  int syn_retransmits_ = 0;
  Timestamp syn_sent_time_;

  // Receive sequence space.
  SeqNum32 irs_;
  SeqNum32 rcv_nxt_;
  SeqNum32 rcv_adv_;           // right edge of the window we last advertised
  SeqNum32 ooo_fin_seq_;       // a FIN that arrived beyond a hole (if has_ooo_fin_)
  std::array<SeqNum32, 4> recent_ooo_{};  // RFC 2018 §4: most recent out-of-order arrivals

  // Negotiated options.
  uint32_t ts_offset_ = 0;
  uint32_t ts_recent_ = 0;
  SeqNum32 last_ack_sent_;

  // Buffers and recovery.
  SendBuffer send_buffer_;
  RecvBuffer recv_buffer_;
  RetransmitQueue rtq_;
  RttEstimator rtt_;
  std::unique_ptr<AckPathDelay> ack_path_;  // once data has been in flight
  std::unique_ptr<cc::CongestionController> cc_;
  int dupacks_ = 0;
  int dupthresh_ = RetransmitQueue::kDupThresh;
  // A segment was overtaken by `bytes` (Linux's tcp_check_sack_reordering): DupThresh rises
  // to cover it, in whole segments. Only on proof (the echoed timestamp), not on SACK order
  // alone as Linux's tcp_sacktag_one also guesses: a receiver reports three or four blocks, so
  // with many holes a block can be reported long after the data above it and look overtaken
  // when it was not. Linux can afford the guess (RACK decides loss by time there); raised
  // from it, this threshold left real losses in the simulator's drop-tail queues to the RTO.
  void NoteReordering(uint32_t bytes) {
    if (bytes == 0) return;
    ++mib_->ts_reorder;
    rtq_.NoteReordering();
    const uint32_t mss = smss();
    if (mss == 0 || bytes <= uint64_t(dupthresh_) * mss) return;
    dupthresh_ = static_cast<int>(
        std::min<uint64_t>((uint64_t{bytes} + mss - 1) / mss, uint64_t(config_->max_reordering)));
  }
  // RACK's reordering window (RFC 8985 §6.2 step 4; RetransmitQueue::ReorderingWindow).
  Duration RackReorderingWindow() const {
    return rtq_.ReorderingWindow(in_recovery_, uint64_t{uint32_t(dupthresh_)} * smss(),
                                 rtt_.min_rtt(), rtt_.srtt());
  }
  // RFC 8985 §6.2 step 5 and §6.3: marks what RACK deems lost, and arms the reordering timer
  // for what it may deem lost later.
  void DetectLossesRack(Timestamp now) {
    const auto r = rtq_.DetectLossesRack(now, RackReorderingWindow());
    if (r.wait > Duration::Zero()) {
      rack_timer_.Arm(now + r.wait);
    } else {
      rack_timer_.Disarm();
    }
  }
  void OnRackTimeout(Timestamp now);
  // Fast recovery (RFC 6675 §5) once loss detection has marked a segment lost outside of one.
  void MaybeEnterFastRecovery(Timestamp now, uint32_t flight_before);
  SeqNum32 recovery_point_;
  int consecutive_rtos_ = 0;
  Duration probe_interval_ = Duration::Zero();
  Timestamp rto_due_ = Timestamp::Never();  // when the backed-off RTO falls due
  void ArmRtoTimer(Timestamp now) {
    rto_due_ = now + rtt_.rto();
    rto_timer_.Arm(probe_interval_ > Duration::Zero() ? std::min(rto_due_, now + probe_interval_)
                                                      : rto_due_);
  }

  // ACK state.
  int unacked_segments_ = 0;
  SeqNum32 rst_seq_;
  SeqNum32 rst_ack_;
  int challenge_acks_in_window_ = 0;
  Timestamp challenge_window_start_;

  // Timers.
  Timer rto_timer_;
  Timer rack_timer_;  // RFC 8985 §6.3: the reordering timer
  Timer delack_timer_;
  Timer persist_timer_;
  Timer time_wait_timer_;
  int persist_backoff_ = 0;

  // MPTCP hooks.
  uint32_t adv_override_bytes_ = 0;  // the advertised-window override (if has_adv_override_)
  // The newest segment whose window the peer takes (see WindowPeerKeeps): its SEQ, its ACK and
  // the window it carried, in bytes (if peer_wnd_valid_).
  struct PeerWindowView {
    SeqNum32 seq, ack;
    uint32_t window = 0;
  } peer_wnd_;

  // One-byte state, packed together.
  TcpState state_ = TcpState::kClosed;
  CloseReason close_reason_ = CloseReason::kNone;
  bool passive_ = false;  // opened from LISTEN (RFC 9293: RST in SYN-RECEIVED returns there)
  uint8_t snd_wscale_ = 0;
  uint8_t rcv_wscale_ = 0;
  bool fin_queued_ = false;   // Close() called: FIN follows the data
  bool fin_sent_ = false;
  bool syn_pending_ = false;  // SYN or SYN-ACK to (re)send
  bool syn_retransmitted_ = false;
  bool fin_received_ = false;
  bool has_ooo_fin_ = false;
  uint8_t recent_ooo_count_ = 0;
  // RFC 2883 §4: the duplicate to report in the next ACK's first SACK block.
  std::optional<wire::SackBlock> dsack_;
  // Data received again below RCV.NXT: the part already received is reported as a D-SACK (a
  // sender uses it to undo a spurious retransmission, RFC 3708, and RACK to widen its
  // reordering window, RFC 8985 §6.2). Duplicates above RCV.NXT are not reported.
  void NoteDuplicate(SeqNum32 seq, size_t len) {
    if (!sack_ok_ || len == 0 || !(seq < rcv_nxt_)) return;
    const SeqNum32 end = SeqMin(seq + static_cast<uint32_t>(len), rcv_nxt_);
    dsack_ = wire::SackBlock{seq, end};
    ++mib_->dsack_old_sent;
  }
  bool ws_ok_ = false;
  bool sack_ok_ = false;
  bool ts_ok_ = false;
  bool in_recovery_ = false;
  bool rto_recovery_ = false;  // the recovery episode began with an RTO, not fast retransmit
  // RFC 3522 §3.2 (Eifel detection): the timestamp value a retransmission after the episode's
  // first RTO, or its fast retransmit, carries at the least, until the first ACK of new data
  // decides whether the loss was spurious (that ACK echoes an earlier transmission).
  std::optional<uint32_t> eifel_tsval_;
  // RFC 6675 §5 step 4.3 / RFC 6582 §3.2 step 5: this retransmission goes out regardless of
  // cwnd (the first on entering recovery, and after each NewReno partial ACK).
  bool retransmit_now_ = false;
  bool write_blocked_ = false;  // Write() saw a full buffer: report Writable later
  bool ack_now_ = false;
  bool pure_ack_now_ = false;
  bool rst_pending_ = false;
  bool rst_with_ack_ = false;
  bool probe_pending_ = false;
  bool external_send_window_ = false;
  bool has_adv_override_ = false;
  bool peer_wnd_valid_ = false;
  // Events, as a bitmask polled in a fixed order.
  uint8_t pending_events_ = 0;
  CloseReason pending_close_reason_ = CloseReason::kNone;

  Timestamp last_now_;         // the latest time any call was given (for Write's timers)
  uint64_t plan_counter_ = 0;  // bumped on every state change that invalidates a plan
  uint64_t segments_out_ = 0;
  uint64_t bytes_acked_ = 0;
  uint64_t bytes_received_ = 0;
  uint64_t segments_retransmitted_ = 0;
};

// --- small members ---------------------------------------------------------------------------

inline void TcpEngine::SetState(TcpState s, SegmentOutcome* out) {
  if (s == state_) return;
  state_ = s;
  ++plan_counter_;
  if (out) out->state_changed = true;
}

inline void TcpEngine::PushEvent(TcpEventType t, CloseReason r) {
  pending_events_ |= static_cast<uint8_t>(1u << static_cast<int>(t));
  if (t == TcpEventType::kClosed) pending_close_reason_ = r;
}

inline std::optional<TcpEvent> TcpEngine::PollEvent() {
  for (int i = 0; i <= static_cast<int>(TcpEventType::kClosed); ++i) {
    const uint8_t bit = static_cast<uint8_t>(1u << i);
    if (pending_events_ & bit) {
      pending_events_ &= static_cast<uint8_t>(~bit);
      const auto type = static_cast<TcpEventType>(i);
      return TcpEvent{type, type == TcpEventType::kClosed ? pending_close_reason_
                                                          : CloseReason::kNone};
    }
  }
  return std::nullopt;
}

inline void TcpEngine::Connect(Timestamp now) {
  if (state_ != TcpState::kClosed) return;
  SetState(TcpState::kSynSent);
  syn_pending_ = true;
  ++mib_->active_opens;
  (void)now;
}

inline void TcpEngine::Listen() {
  if (state_ != TcpState::kClosed) return;
  passive_ = true;
  SetState(TcpState::kListen);
}

inline void TcpEngine::AssumeSynAckSent(std::optional<Timestamp> sent_at) {
  if (state_ != TcpState::kSynReceived || snd_nxt_ != iss_) return;
  snd_nxt_ = iss_ + 1;
  syn_pending_ = false;
  syn_sent_time_ = sent_at.value_or(Timestamp::Zero());
  syn_retransmitted_ = !sent_at.has_value();  // Karn: no sample from an unknown send time
  // The SYN-ACK advertised the window a stateful one would have (WindowField(true)).
  NoteAckSent(iss_, WindowField(true));
}

inline size_t TcpEngine::Write(std::span<const uint8_t> data) {
  if (!CanSend(state_) || fin_queued_) return 0;
  const size_t n = send_buffer_.Append(data);
  if (n < data.size()) write_blocked_ = true;
  if (n > 0) {
    ++plan_counter_;
    UpdatePersistTimer(last_now_);
  }
  return n;
}

inline size_t TcpEngine::Read(std::span<uint8_t> out) {
  const size_t n = std::min(out.size(), recv_buffer_.readable());
  if (n == 0) return 0;
  const auto pieces = recv_buffer_.PeekReadable(n);
  pieces.CopyTo(out);
  Consume(n);
  return n;
}

inline void TcpEngine::Consume(size_t n) {
  n = std::min(n, recv_buffer_.readable());
  if (n == 0) return;
  const uint32_t before = ReceiveWindow();
  recv_buffer_.Consume(n);
  ++plan_counter_;
  // Announce a window that reading opened (ReceiveWindow() applies SWS avoidance).
  if (IsSynchronized(state_) && !fin_received_ && ReceiveWindow() > before) ack_now_ = true;
}

inline void TcpEngine::Close(Timestamp now) {
  (void)now;
  switch (state_) {
    case TcpState::kClosed:
      return;
    case TcpState::kListen:
    case TcpState::kSynSent:
      // RFC 9293 §3.10.4: no connection yet, delete the TCB.
      EnterClosed(CloseReason::kNormal);
      return;
    case TcpState::kSynReceived:
    case TcpState::kEstablished:
      fin_queued_ = true;
      // RFC 9293 §3.10.4: "In any case, enter FIN-WAIT-1 state." From SYN-RECEIVED the FIN
      // waits until the handshake completes.
      if (state_ == TcpState::kEstablished) SetState(TcpState::kFinWait1);
      ++plan_counter_;
      return;
    case TcpState::kCloseWait:
      fin_queued_ = true;
      SetState(TcpState::kLastAck);
      return;
    default:
      return;  // already closing
  }
}

inline void TcpEngine::Forget() {
  if (state_ == TcpState::kClosed) return;
  EnterClosed(CloseReason::kAborted);
}

inline void TcpEngine::Abort() {
  if (state_ == TcpState::kClosed) return;
  // RFC 9293 §3.10.5: in SYN-RECEIVED and the synchronized states send <SEQ=SND.NXT><CTL=RST>.
  if (state_ != TcpState::kListen && state_ != TcpState::kSynSent &&
      state_ != TcpState::kTimeWait) {
    rst_pending_ = true;
    rst_seq_ = snd_nxt_;
    rst_with_ack_ = false;
    if (send_buffer_.size() > 0 || recv_buffer_.readable() > 0) ++mib_->abort_on_close;
  }
  EnterClosed(CloseReason::kAborted);
}

inline void TcpEngine::EnterClosed(CloseReason reason) {
  if (state_ == TcpState::kClosed && close_reason_ != CloseReason::kNone) return;
  SetState(TcpState::kClosed);
  close_reason_ = reason;
  rto_timer_.Disarm();
  rack_timer_.Disarm();
  delack_timer_.Disarm();
  persist_timer_.Disarm();
  time_wait_timer_.Disarm();
  ack_now_ = false;
  probe_pending_ = false;
  syn_pending_ = false;
  PushEvent(TcpEventType::kClosed, reason);
}

inline void TcpEngine::EnterTimeWait(Timestamp now) {
  SetState(TcpState::kTimeWait);
  rto_timer_.Disarm();
  rack_timer_.Disarm();
  persist_timer_.Disarm();
  // RFC 9293 §3.10.7.4: start (or restart) the 2 MSL timer.
  time_wait_timer_.Arm(now + config_->time_wait);
}

}  // namespace mptcp::tcp

#include "mptcp/tcp/engine_input.h"   // IWYU pragma: export
#include "mptcp/tcp/engine_output.h"  // IWYU pragma: export

#endif  // MPTCP_TCP_ENGINE_H_
