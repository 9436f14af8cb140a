// TcpEngine's input path: "SEGMENT ARRIVES" of RFC 9293 §3.10.7, hardened by RFC 5961 (blind
// RST, SYN and data injection), with PAWS and TS.Recent of RFC 7323 and SACK processing of
// RFC 2018 / RFC 6675. Included by engine.h; not a standalone header.
#ifndef MPTCP_TCP_ENGINE_INPUT_H_
#define MPTCP_TCP_ENGINE_INPUT_H_

#ifndef MPTCP_TCP_ENGINE_H_
#error "include mptcp/tcp/engine.h instead"
#endif

namespace mptcp::tcp {

inline SegmentOutcome TcpEngine::OnSegmentBytes(Timestamp now, std::span<const uint8_t> segment) {
  last_now_ = now;
  // RFC 9293 §3.1: a segment with a bad checksum is discarded.
  if (!wire::VerifyTcpChecksum(tuple_.remote.ip, tuple_.local.ip, segment)) {
    ++mib_->in_csum_errors;
    return SegmentOutcome{DropReason::kBadChecksum};
  }
  auto repr = wire::TcpRepr::Parse(segment);
  if (!repr.ok()) {
    ++mib_->in_malformed;
    return SegmentOutcome{DropReason::kMalformed};
  }
  return OnSegment(now, *repr);
}

inline SegmentOutcome TcpEngine::OnSegment(Timestamp now, const wire::TcpRepr& seg) {
  last_now_ = now;
  ++mib_->in_segs;
  if (seg.src_port != tuple_.remote.port || seg.dst_port != tuple_.local.port) {
    ++mib_->in_malformed;
    return SegmentOutcome{DropReason::kWrongPorts};
  }
  ++plan_counter_;
  SegmentOutcome out;
  switch (state_) {
    case TcpState::kClosed:
      // RFC 9293 §3.10.7.1: anything but a RST gets a RST.
      ++mib_->drop_closed;
      QueueResetReply(seg);
      out.drop = DropReason::kClosed;
      break;
    case TcpState::kListen:
      out = OnSegmentListen(now, seg);
      break;
    case TcpState::kSynSent:
      out = OnSegmentSynSent(now, seg);
      break;
    default:
      out = OnSegmentSynchronized(now, seg);
      break;
  }
  UpdatePersistTimer(now);
  return out;
}

// RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST> if the segment had an ACK, else
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Never in reply to a RST.
inline void TcpEngine::QueueResetReply(const wire::TcpRepr& seg) {
  if (seg.has_flag(wire::TcpFlag::kRst)) return;
  rst_pending_ = true;
  if (seg.has_flag(wire::TcpFlag::kAck)) {
    rst_seq_ = seg.ack;
    rst_with_ack_ = false;
  } else {
    rst_seq_ = SeqNum32(0);
    rst_ack_ = seg.seq + static_cast<uint32_t>(seg.SeqLength());
    rst_with_ack_ = true;
  }
}

// RFC 9293 §3.10.7.2.
inline SegmentOutcome TcpEngine::OnSegmentListen(Timestamp now, const wire::TcpRepr& seg) {
  SegmentOutcome out;
  if (seg.has_flag(wire::TcpFlag::kRst)) {
    ++mib_->drop_listen;
    out.drop = DropReason::kListenNotSyn;
    return out;
  }
  if (seg.has_flag(wire::TcpFlag::kAck)) {
    ++mib_->drop_listen;
    QueueResetReply(seg);
    out.drop = DropReason::kListenNotSyn;
    return out;
  }
  if (!seg.has_flag(wire::TcpFlag::kSyn)) {
    ++mib_->drop_listen;
    out.drop = DropReason::kListenNotSyn;
    return out;
  }
  irs_ = seg.seq;
  rcv_nxt_ = seg.seq + 1;
  rcv_adv_ = rcv_nxt_;
  NegotiateOptions(seg);
  // RFC 7323 §2.2: the window in a SYN is never scaled.
  snd_wnd_ = seg.window;
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = seg.seq;
  snd_wl2_ = seg.ack;
  ++mib_->passive_opens;
  // Data carried on the SYN is not accepted (no TCP Fast Open); the peer resends it.
  SetState(TcpState::kSynReceived, &out);
  syn_pending_ = true;
  (void)now;
  return out;
}

// RFC 9293 §3.10.7.3, with RFC 5961 §3.2 for the RST check.
inline SegmentOutcome TcpEngine::OnSegmentSynSent(Timestamp now, const wire::TcpRepr& seg) {
  SegmentOutcome out;
  const bool has_ack = seg.has_flag(wire::TcpFlag::kAck);
  if (has_ack && (seg.ack <= iss_ || seg.ack > snd_nxt_)) {
    QueueResetReply(seg);
    out.drop = DropReason::kSynSentBadAck;
    ++mib_->drop_bad_ack;
    return out;
  }
  if (seg.has_flag(wire::TcpFlag::kRst)) {
    if (has_ack) {
      ++mib_->attempt_fails;
      out.reset = true;
      EnterClosed(CloseReason::kRefused);
      out.state_changed = true;
      return out;
    }
    out.drop = DropReason::kSynSentNoSyn;
    return out;
  }
  if (!seg.has_flag(wire::TcpFlag::kSyn)) {
    out.drop = DropReason::kSynSentNoSyn;
    return out;
  }
  irs_ = seg.seq;
  rcv_nxt_ = seg.seq + 1;
  rcv_adv_ = rcv_nxt_;
  NegotiateOptions(seg);
  snd_wnd_ = seg.window;  // RFC 7323 §2.2: unscaled in a SYN
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = seg.seq;
  snd_wl2_ = seg.ack;
  if (has_ack) {
    snd_una_ = seg.ack;
    if (!syn_retransmitted_) rtt_.OnSample(now - syn_sent_time_);  // Karn's rule
    rtt_.ResetBackoff();
    rto_timer_.Disarm();
    EnterEstablished(now, out);
    ack_now_ = true;  // the third segment of the handshake
    if (!seg.payload.empty() || seg.has_flag(wire::TcpFlag::kFin)) {
      ProcessText(now, seg, seg.seq + 1, seg.payload, out);
    }
    return out;
  }
  // Simultaneous open: SYN-RECEIVED, send <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
  SetState(TcpState::kSynReceived, &out);
  syn_pending_ = true;
  return out;
}

// Forgets the half-open connection (nothing was exchanged but the SYNs): LISTEN again, with
// the same ISS and counters.
inline void TcpEngine::ReturnToListen() {
  state_ = TcpState::kListen;
  ++plan_counter_;
  irs_ = rcv_nxt_ = rcv_adv_ = SeqNum32(0);
  snd_una_ = snd_nxt_ = iss_;
  buf_seq_ = iss_ + 1;
  snd_wnd_ = max_snd_wnd_ = 0;
  peer_wnd_valid_ = false;
  snd_mss_ = tuple_.local.ip.is_v4() ? config_->default_peer_mss : config_->default_peer_mss_v6;
  snd_wscale_ = 0;
  rcv_wscale_ = InitialRcvWscale(*config_);
  ws_ok_ = sack_ok_ = ts_ok_ = false;
  syn_pending_ = syn_retransmitted_ = false;
  syn_retransmits_ = 0;
  ack_now_ = pure_ack_now_ = false;
  rto_timer_.Disarm();
  delack_timer_.Disarm();
  rtt_ = RttEstimator(config_->rto_initial, config_->rto_min, config_->rto_max);
}

inline void TcpEngine::NegotiateOptions(const wire::TcpRepr& syn) {
  const wire::TcpOptions& o = syn.options;
  // RFC 9293 §3.7.1: 536 when the peer sends no MSS; never above what we can send, and not
  // below Linux's floor of 88 so that a hostile MSS cannot make us send 1-byte segments.
  const uint16_t peer_mss = o.mss.value_or(tuple_.local.ip.is_v4() ? config_->default_peer_mss
                                                                   : config_->default_peer_mss_v6);
  snd_mss_ = std::max<uint32_t>(88, std::min<uint32_t>(peer_mss, OwnMss()));
  // RFC 7323 §2.2: scaling only when both sides sent the option.
  ws_ok_ = config_->window_scaling && o.window_scale.has_value();
  if (ws_ok_) {
    snd_wscale_ = wire::ClampWindowScale(*o.window_scale);
  } else {
    snd_wscale_ = 0;
    rcv_wscale_ = 0;
  }
  sack_ok_ = config_->sack && o.sack_permitted;
  ts_ok_ = config_->timestamps && o.timestamps.has_value();
  if (ts_ok_) ts_recent_ = o.timestamps->tsval;
  cc_->set_mss(smss());
}

inline void TcpEngine::EnterEstablished(Timestamp now, SegmentOutcome& out) {
  SetState(TcpState::kEstablished, &out);
  syn_pending_ = false;
  consecutive_rtos_ = 0;
  PushEvent(TcpEventType::kConnected);
  cc_->set_mss(smss());
  if (fin_queued_) SetState(TcpState::kFinWait1, &out);  // Close() called in SYN-RECEIVED
  (void)now;
}

// RFC 9293 §3.10.7.4, first check: the acceptability test on SEG.SEQ and SEG.LEN.
inline bool TcpEngine::SequenceAcceptable(SeqNum32 seq, size_t seg_len) const {
  uint32_t wnd = ReceiveWindow();
  // MPTCP: the advertised (shared) window can shrink under data the peer sent while it was
  // larger, since data arriving on other subflows fills it (RFC 8684 §3.3.4). Dropping that
  // data here would make the peer's subflow see a loss that never happened; take what this
  // subflow's own buffer can hold, and let the connection enforce its window.
  if (has_adv_override_) {
    wnd = std::max<uint32_t>(wnd, static_cast<uint32_t>(std::min<size_t>(
                                      recv_buffer_.window(), UINT32_MAX)));
  }
  if (seg_len == 0) {
    if (wnd == 0) return seq == rcv_nxt_;
    return SeqInRange(seq, rcv_nxt_, rcv_nxt_ + wnd);
  }
  if (wnd == 0) return false;
  const SeqNum32 last = seq + static_cast<uint32_t>(seg_len - 1);
  return SeqInRange(seq, rcv_nxt_, rcv_nxt_ + wnd) || SeqInRange(last, rcv_nxt_, rcv_nxt_ + wnd);
}

// The window we advertise (and accept into). The right edge never moves left (RFC 9293
// §3.8.6.2.2: "shrinking the window" is strongly discouraged), and it moves right only in steps
// of at least min(buffer / 2, MSS), the receiver side of silly-window-syndrome avoidance.
inline uint32_t TcpEngine::ReceiveWindow() const {
  const uint64_t cap = uint64_t{0xffff} << rcv_wscale_;
  // MPTCP (RFC 8684 §3.3.4): the connection's shared window, relative to its DATA_ACK, is
  // what the peer sees; it may shrink from this subflow's point of view as data arrives on
  // others, so the edge rules below do not apply to it.
  if (has_adv_override_) {
    return static_cast<uint32_t>(std::min<uint64_t>(adv_override_bytes_, cap));
  }
  const uint64_t advertised = rcv_adv_ > rcv_nxt_ ? static_cast<uint32_t>(rcv_adv_ - rcv_nxt_) : 0;
  uint64_t wnd = recv_buffer_.window();
  const uint64_t threshold = std::min<uint64_t>(config_->recv_buffer / 2, config_->mss);
  if (wnd < advertised + threshold) wnd = advertised;
  return static_cast<uint32_t>(std::min<uint64_t>(wnd, cap));
}

// RFC 5961 §7: challenge ACKs (and ACKs for out-of-window pure ACKs, as Linux's
// tcp_oow_rate_limited does) are rate-limited per connection.
inline bool TcpEngine::RateLimitedAck(Timestamp now) {
  if (now - challenge_window_start_ >= config_->challenge_ack_interval) {
    challenge_window_start_ = now;
    challenge_acks_in_window_ = 0;
  }
  if (challenge_acks_in_window_ >= config_->challenge_ack_limit) return false;
  ++challenge_acks_in_window_;
  ack_now_ = true;
  return true;
}

inline void TcpEngine::SendChallengeAck(Timestamp now) {
  if (RateLimitedAck(now)) {
    ++mib_->challenge_acks;
  } else {
    ++mib_->challenge_acks_skipped;
  }
}

inline SegmentOutcome TcpEngine::OnSegmentSynchronized(Timestamp now, const wire::TcpRepr& seg) {
  SegmentOutcome out;
  const bool rst = seg.has_flag(wire::TcpFlag::kRst);
  const bool syn = seg.has_flag(wire::TcpFlag::kSyn);

  // A retransmitted SYN in SYN-RECEIVED means our SYN-ACK was lost: send it again at once
  // (as Linux does) rather than wait for our own retransmission timer.
  if (state_ == TcpState::kSynReceived && syn && !seg.has_flag(wire::TcpFlag::kAck) && !rst &&
      seg.seq == irs_) {
    syn_pending_ = true;
    out.drop = DropReason::kOutOfWindow;
    return out;
  }

  // Simultaneous open (RFC 9293 §3.5 figure 8): the peer's SYN-ACK acknowledges our SYN while
  // we are in SYN-RECEIVED. Its SEQ is IRS, so the window test would refuse it; like Linux we
  // accept it as the handshake's ACK and reply with an ACK for a peer that refused ours.
  if (state_ == TcpState::kSynReceived && !passive_ && syn && !rst &&
      seg.has_flag(wire::TcpFlag::kAck) && seg.seq == irs_ && seg.ack == snd_nxt_) {
    snd_una_ = seg.ack;
    rto_timer_.Disarm();
    snd_wnd_ = seg.window;  // RFC 7323 §2.2: a SYN's window is unscaled
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    EnterEstablished(now, out);
    ack_now_ = true;
    return out;
  }

  // RFC 7323 §5.3 PAWS: a timestamp older than TS.Recent marks an old duplicate.
  if (ts_ok_ && !rst && seg.options.timestamps &&
      static_cast<int32_t>(seg.options.timestamps->tsval - ts_recent_) < 0) {
    ++mib_->paws_estab_rejected;
    NoteDuplicate(seg.seq, seg.payload.size());
    ack_now_ = true;
    out.drop = DropReason::kPaws;
    return out;
  }

  // First: sequence number check.
  SeqNum32 seq = seg.seq;
  std::span<const uint8_t> payload = seg.payload;
  bool fin = seg.has_flag(wire::TcpFlag::kFin);
  bool text_refused_zero_window = false;
  if (!SequenceAcceptable(seq, seg.SeqLength())) {
    const bool zero_window_allowance =
        ReceiveWindow() == 0 && seq == rcv_nxt_ && !syn;  // RFC 9293: still take ACK and RST
    if (!zero_window_allowance) {
      if (rst) {
        ++mib_->rst_out_of_window;
        out.drop = DropReason::kRstOutOfWindow;
        return out;
      }
      ++mib_->drop_out_of_window;
      if (state_ == TcpState::kTimeWait && fin) EnterTimeWait(now);  // retransmitted FIN
      if (syn) {
        // RFC 5961 §4.2: a SYN, whatever its sequence number, gets a challenge ACK.
        ++mib_->syn_challenge;
        SendChallengeAck(now);
        out.drop = DropReason::kSynChallenged;
        return out;
      }
      // Duplicates carrying data or a FIN are always answered (the sender needs the ACK);
      // pure ACKs only within the rate limit.
      if (!payload.empty() || fin) {
        NoteDuplicate(seq, payload.size());
        ack_now_ = true;
      } else {
        RateLimitedAck(now);
      }
      out.drop = DropReason::kOutOfWindow;
      return out;
    }
    text_refused_zero_window = !payload.empty();
  }

  // Second: RST (RFC 5961 §3.2: only exactly at RCV.NXT; elsewhere in the window, challenge).
  if (rst) {
    if (seq != rcv_nxt_) {
      SendChallengeAck(now);
      out.drop = DropReason::kRstChallenged;
      return out;
    }
    out.reset = true;
    out.state_changed = true;
    if (state_ == TcpState::kSynReceived && passive_) {
      // RFC 9293 §3.10.7.4: a passively opened connection returns to LISTEN.
      ReturnToListen();
      return out;
    }
    if (state_ == TcpState::kSynReceived) {
      ++mib_->attempt_fails;
      EnterClosed(CloseReason::kRefused);
    } else {
      if (state_ == TcpState::kEstablished || state_ == TcpState::kCloseWait) ++mib_->estab_resets;
      EnterClosed(CloseReason::kReset);
    }
    return out;
  }

  // Fourth: SYN in a synchronized state (RFC 5961 §4.2): challenge ACK, drop.
  if (syn) {
    ++mib_->syn_challenge;
    SendChallengeAck(now);
    out.drop = DropReason::kSynChallenged;
    return out;
  }

  UpdateTsRecent(seg);

  // Fifth: the ACK field.
  if (!seg.has_flag(wire::TcpFlag::kAck)) {
    ++mib_->drop_no_ack;
    out.drop = DropReason::kNoAck;
    return out;
  }
  if (state_ == TcpState::kSynReceived) {
    if (!(snd_una_ < seg.ack && seg.ack <= snd_nxt_)) {
      QueueResetReply(seg);
      ++mib_->drop_bad_ack;
      out.drop = DropReason::kSynReceivedBadAck;
      return out;
    }
    snd_una_ = seg.ack;
    if (!syn_retransmitted_) rtt_.OnSample(now - syn_sent_time_);
    rtt_.ResetBackoff();
    rto_timer_.Disarm();
    // RFC 9293: "set SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ, SND.WL2 <- SEG.ACK".
    snd_wnd_ = uint32_t{seg.window} << snd_wscale_;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    EnterEstablished(now, out);
  } else {
    // RFC 5961 §5.2: acceptable only in [SND.UNA - MAX.SND.WND, SND.NXT].
    if (seg.ack > snd_nxt_ || seg.ack < snd_una_ - max_snd_wnd_) {
      SendChallengeAck(now);
      ++mib_->drop_bad_ack;
      out.drop = DropReason::kBadAck;
      return out;
    }
    if (ts_ok_ && seg.options.timestamps && (ack_path_ || !rtq_.empty())) {
      // Allocated once data is in flight: an idle connection's subflows carry none of it.
      if (!ack_path_) ack_path_ = std::make_unique<AckPathDelay>();
      ack_path_->OnSegment(now, seg.options.timestamps->tsval);
    }
    ProcessAck(now, seg, out);
    if (state_ == TcpState::kClosed) return out;
  }

  // Sixth (URG) is not supported: urgent data is delivered inline (RFC 6093 §4).
  // Seventh: segment text.
  if (text_refused_zero_window) {
    ++mib_->zero_window_drop;
    ack_now_ = true;
    out.drop = DropReason::kZeroWindow;
    return out;
  }
  if (seq < rcv_nxt_) {
    // Trim the part already received.
    const uint32_t skip = static_cast<uint32_t>(rcv_nxt_ - seq);
    NoteDuplicate(seq, payload.size());
    if (skip >= payload.size()) {
      const uint32_t past = skip - static_cast<uint32_t>(payload.size());
      payload = {};
      if (past > 0) fin = false;  // the FIN, too, was already received
    } else {
      payload = payload.subspan(skip);
    }
    seq = rcv_nxt_;
  }
  if (!payload.empty()) {
    if (CanReceiveData(state_)) {
      ProcessText(now, seg, seq, payload, out);
      if (!out.accepted()) return out;
    }
    // RFC 9293: text after the peer's FIN "should not occur": ignored.
  }

  // Eighth: FIN, when it is the next thing in sequence.
  if (fin) {
    const SeqNum32 fin_seq = seq + static_cast<uint32_t>(payload.size());
    if (fin_seq == rcv_nxt_ && !fin_received_) {
      ProcessFin(now, out);
    } else if (fin_seq > rcv_nxt_ && CanReceiveData(state_)) {
      ooo_fin_seq_ = fin_seq;  // processed when the hole before it fills
      has_ooo_fin_ = true;
      ack_now_ = true;
    } else if (fin_received_) {
      ack_now_ = true;
    }
  }
  return out;
}

inline void TcpEngine::UpdateTsRecent(const wire::TcpRepr& seg) {
  // RFC 7323 §4.3: TS.Recent follows segments that reach the left window edge.
  if (ts_ok_ && seg.options.timestamps && seg.seq <= last_ack_sent_ &&
      static_cast<int32_t>(seg.options.timestamps->tsval - ts_recent_) >= 0) {
    ts_recent_ = seg.options.timestamps->tsval;
  }
}

inline void TcpEngine::ProcessAck(Timestamp now, const wire::TcpRepr& seg, SegmentOutcome& out) {
  const SeqNum32 ack = seg.ack;
  const uint32_t flight_before = rtq_.pipe();
  const uint32_t new_wnd = uint32_t{seg.window} << snd_wscale_;
  const bool window_update = new_wnd != snd_wnd_;
  std::optional<Duration> rtt_sample;
  rtq_.SetMinRtt(rtt_.min_rtt());

  if (ack > snd_una_) {
    // RFC 3522 §3.2: the first ACK of new data after a timeout or fast retransmit echoes a
    // timestamp older than the retransmission's when the original, merely delayed, arrived.
    const bool original_arrived = eifel_tsval_ && in_recovery_ && seg.options.timestamps &&
                                  seg.options.timestamps->tsecr != 0 &&
                                  static_cast<int32_t>(seg.options.timestamps->tsecr -
                                                       *eifel_tsval_) < 0;
    const bool spurious_rto = original_arrived && rto_recovery_;
    eifel_tsval_.reset();
    const SeqNum32 prior_una = snd_una_;
    // How far the late segment was overtaken: up to the highest SACKed (Linux's fack).
    const std::optional<SeqNum32> prior_fack =
        original_arrived ? rtq_.HighestSacked() : std::nullopt;
    const int prior_dupacks = dupacks_;
    const auto acked = rtq_.OnCumulativeAck(ack, now);
    // Linux's tcp_try_undo_partial: with retransmissions still unresolved the episode may hold
    // a real loss as well, and nothing is undone.
    const bool spurious_fast_retransmit =
        original_arrived && !rto_recovery_ && !rtq_.AnyRetransmitted();
    out.bytes_acked = static_cast<uint32_t>(ack - snd_una_);
    // Release acknowledged bytes from the send buffer (the FIN has no byte there).
    const SeqNum32 data_acked_to = SeqMin(ack, data_end());
    if (data_acked_to > buf_seq_) {
      const uint32_t n = static_cast<uint32_t>(data_acked_to - buf_seq_);
      send_buffer_.Consume(n);
      buf_seq_ += n;
      bytes_acked_ += n;
    }
    snd_una_ = ack;
    rtt_sample = acked.rtt;
    if (!rtt_sample && ts_ok_ && seg.options.timestamps && seg.options.timestamps->tsecr != 0) {
      // RFC 7323 §4.1: a retransmitted segment's ACK still times the echoed transmission.
      const uint32_t echoed_ms = seg.options.timestamps->tsecr - ts_offset_;
      const uint32_t now_ms = static_cast<uint32_t>(now.nanos() / 1'000'000);
      const int32_t ms = static_cast<int32_t>(now_ms - echoed_ms);
      if (ms >= 0) rtt_sample = Duration::Millis(ms);
    }
    consecutive_rtos_ = 0;
    rtt_.ResetBackoff();
    dupacks_ = 0;
    if (write_blocked_ && send_buffer_.free_space() > 0) {
      write_blocked_ = false;
      PushEvent(TcpEventType::kWritable);
    }
    if (spurious_rto) {
      // RFC 4015 §3: undo the timeout's reduction and its go-back-N (what it marked lost and
      // has not resent yet is in flight), and carry on with new data. The echoed timestamp
      // timed the original above, so the RTO already follows the longer path delay.
      ++mib_->spurious_rtos;
      cc_->OnSpuriousLoss(now);
      rtq_.UnmarkLost();
      in_recovery_ = false;
      rto_recovery_ = false;
      retransmit_now_ = false;
    } else if (spurious_fast_retransmit) {
      // The segment fast retransmit resent was late, not lost: undo the reduction, unmark what
      // was deemed lost (SACK loss detection below re-marks any real loss against the new
      // DupThresh), and learn how far it was overtaken (Linux's tcp_try_undo_partial and
      // tcp_try_undo_recovery with tcp_check_sack_reordering(prior SND.UNA)).
      ++(ack >= recovery_point_ ? mib_->full_undo : mib_->partial_undo);
      NoteReordering(prior_fack && prior_una < *prior_fack
                         ? static_cast<uint32_t>(*prior_fack - prior_una)
                         : static_cast<uint32_t>(prior_dupacks) * smss());
      cc_->OnSpuriousLoss(now);
      rtq_.UnmarkLost();
      in_recovery_ = false;
      retransmit_now_ = false;
    } else if (in_recovery_ && ack >= recovery_point_) {
      // RFC 6675 §5 / RFC 6582: recovery ends when RecoveryPoint is acknowledged.
      in_recovery_ = false;
      if (!rto_recovery_) cc_->OnRecoveryExit(now);
      rto_recovery_ = false;
      rtq_.OnRecoveryExit();  // RACK's widened reordering window wears off
    } else if (in_recovery_ && !sack_ok_ && !rto_recovery_) {
      rtq_.MarkFirstLost();  // RFC 6582 §3.2 step 5: a partial ACK retransmits the next hole
      retransmit_now_ = true;
    }
  }
  // RFC 5681 §2 duplicate ACK: no data, no FIN, nothing new acknowledged (and, without SACK,
  // the same window).
  const bool maybe_dupack = ack == snd_una_ && seg.payload.empty() && !rtq_.empty() &&
                            !seg.has_flag(wire::TcpFlag::kFin) && out.bytes_acked == 0;

  if (sack_ok_ && seg.options.num_sack_blocks > 0) {
    const auto s = rtq_.OnSackBlocks(seg.options.sacks(), snd_una_, snd_nxt_, now);
    out.bytes_sacked = s.bytes_newly_sacked;
    if (s.dsack) ++mib_->dsack_recv;
    rtq_.OnAckForReorderingWindow(s.dsack, snd_una_, snd_nxt_);
    mib_->sack_discard += static_cast<uint64_t>(s.discarded_blocks);
    if (!rtt_sample) rtt_sample = s.rtt;
  }
  // With SACK, RFC 6675 §2 counts only an ACK that SACKs new data as a duplicate: a pure ACK
  // sent for another reason (an MPTCP DATA_ACK or signal, RFC 8684 §3.3.2) says nothing about
  // a hole and must not trigger fast retransmit.
  if (maybe_dupack && (sack_ok_ ? out.bytes_sacked > 0 : !window_update)) ++dupacks_;
  if (rtt_sample) rtt_.OnSample(*rtt_sample);
  rtq_.OnAckEnd(now, rtt_.min_rtt(), rtt_.srtt());
  if (out.bytes_acked > 0) {
    // RFC 6298 §5.2-5.3: stop the timer when all is acknowledged, else restart it.
    if (rtq_.empty()) {
      rto_timer_.Disarm();
    } else {
      ArmRtoTimer(now);
    }
  }

  // Loss detection (RFC 6675 §5 and RACK, RFC 8985 §6, with SACK; RFC 6582 without).
  if (sack_ok_) {
    rtq_.DetectLossesFromSack(smss(), dupthresh_);
    DetectLossesRack(now);
    // Retransmissions exist only in recovery. RFC 8985 §6.2: RACK's reordering window, a
    // quarter of the minimum RTT.
    if (in_recovery_) mib_->lost_retransmit += rtq_.DetectLostRetransmissions(rtt_.min_rtt() / 4);
  }
  if (!in_recovery_ && dupacks_ >= dupthresh_) rtq_.MarkFirstLost();
  MaybeEnterFastRecovery(now, flight_before);

  if (out.bytes_acked > 0 || out.bytes_sacked > 0) {
    cc::AckEvent ev;
    ev.now = now;
    ev.bytes_acked = out.bytes_acked + out.bytes_sacked;
    ev.bytes_in_flight = flight_before;
    ev.rtt = rtt_sample.value_or(Duration::Zero());
    ev.srtt = rtt_.srtt();
    ev.min_rtt = rtt_.min_rtt();
    ev.in_recovery = in_recovery_ && !rto_recovery_;
    // Application-limited (RFC 7661): nothing queued, and cwnd had room for at least one more
    // full segment that was not used. Less than a segment of room is cwnd-limited: a subflow
    // whose cwnd is one MSS, with one segment (MSS less the DSS option's room) in flight, must
    // still grow; counted as application-limited it stayed at one segment for seconds after an
    // RTO (found by the link-failure simulations with a smaller in-flight limit).
    ev.app_limited = unsent_bytes() == 0 && flight_before + smss() <= cc_->cwnd();
    cc_->OnAck(ev);
  }

  // RFC 9293 §3.10.7.4: update the send window from the freshest segment.
  if (snd_wl1_ < seg.seq || (snd_wl1_ == seg.seq && snd_wl2_ <= ack)) {
    snd_wnd_ = new_wnd;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = ack;
  }

  // Our FIN acknowledged?
  const bool fin_acked = fin_sent_ && snd_una_ == snd_nxt_;
  switch (state_) {
    case TcpState::kFinWait1:
      if (fin_acked) SetState(TcpState::kFinWait2, &out);
      break;
    case TcpState::kClosing:
      if (fin_acked) EnterTimeWait(now);
      break;
    case TcpState::kLastAck:
      if (fin_acked) {
        EnterClosed(CloseReason::kNormal);
        out.state_changed = true;
      }
      break;
    default:
      break;
  }
}

inline void TcpEngine::MaybeEnterFastRecovery(Timestamp now, uint32_t flight_before) {
  if (in_recovery_ || !rtq_.has_lost()) return;
  in_recovery_ = true;
  rto_recovery_ = false;
  recovery_point_ = snd_nxt_;
  retransmit_now_ = true;
  ++mib_->fast_retrans;
  ++(sack_ok_ ? mib_->sack_recovery : mib_->reno_recovery);
  cc_->OnCongestionEvent(cc::LossEvent{now, flight_before, rtq_.lost_bytes()});
  // RFC 3522 §3.2 for the fast retransmit about to go out: only when no copy sent before
  // is outstanding, whose echo could be mistaken for the original's.
  if (ts_ok_ && !rtq_.AnyRetransmitted()) eifel_tsval_ = TsVal(now);
}

inline void TcpEngine::ProcessText(Timestamp now, const wire::TcpRepr& seg, SeqNum32 seq,
                                   std::span<const uint8_t> payload, SegmentOutcome& out) {
  (void)seg;
  if (payload.empty()) return;
  const size_t offset = static_cast<uint32_t>(seq - rcv_nxt_);
  const bool had_holes = recv_buffer_.ooo_bytes() > 0;
  const auto w = recv_buffer_.Write(offset, payload);
  if (w.rejected_too_many_ranges) {
    ++mib_->ofo_drop;
    ack_now_ = true;
    out.drop = DropReason::kOutOfOrderLimit;
    return;
  }
  if (w.accepted < payload.size()) ++mib_->rcvq_drop;  // clipped at the buffer's end
  if (offset > 0) {
    // RFC 5681 §4.2: an out-of-order segment is ACKed at once (a duplicate ACK with SACK).
    ++mib_->ofo_queue;
    for (size_t i = std::min<size_t>(recent_ooo_count_, recent_ooo_.size() - 1); i > 0; --i) {
      recent_ooo_[i] = recent_ooo_[i - 1];
    }
    recent_ooo_[0] = seq;
    recent_ooo_count_ = static_cast<uint8_t>(
        std::min<size_t>(recent_ooo_count_ + 1, recent_ooo_.size()));
    ack_now_ = true;
  }
  if (w.advanced > 0) {
    rcv_nxt_ += static_cast<uint32_t>(w.advanced);
    bytes_received_ += w.advanced;
    out.bytes_delivered = static_cast<uint32_t>(w.advanced);
    PushEvent(TcpEventType::kReadable);
    if (had_holes) {
      ack_now_ = true;  // RFC 5681 §4.2: a segment that fills a gap is ACKed at once
    } else if ((unacked_segments_ += SegmentsIn(static_cast<uint32_t>(w.advanced))) >=
               config_->delayed_ack_segments) {
      ack_now_ = true;
    } else if (!delack_timer_.armed()) {
      delack_timer_.Arm(now + config_->delayed_ack_timeout);
    }
    if (has_ooo_fin_ && ooo_fin_seq_ == rcv_nxt_) {
      has_ooo_fin_ = false;
      ProcessFin(now, out);
    }
  }
}

// RFC 9293 §3.10.7.4, eighth step.
inline void TcpEngine::ProcessFin(Timestamp now, SegmentOutcome& out) {
  rcv_nxt_ += 1;
  fin_received_ = true;
  out.fin_received = true;
  ack_now_ = true;
  PushEvent(TcpEventType::kPeerFin);
  const bool fin_acked = fin_sent_ && snd_una_ == snd_nxt_;
  switch (state_) {
    case TcpState::kSynReceived:
    case TcpState::kEstablished:
      SetState(TcpState::kCloseWait, &out);
      break;
    case TcpState::kFinWait1:
      if (fin_acked) {
        EnterTimeWait(now);
      } else {
        SetState(TcpState::kClosing, &out);
      }
      out.state_changed = true;
      break;
    case TcpState::kFinWait2:
      EnterTimeWait(now);
      out.state_changed = true;
      break;
    default:
      break;
  }
}

}  // namespace mptcp::tcp

#endif  // MPTCP_TCP_ENGINE_INPUT_H_
