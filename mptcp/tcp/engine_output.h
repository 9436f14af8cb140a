// TcpEngine's output path and timers: what to send next (handshake, RFC 6675 retransmissions,
// new data under cwnd and the peer's window with sender SWS avoidance, FIN, zero-window probes,
// ACKs), serialization with options, and the RTO (RFC 6298), delayed-ACK, persist and
// TIME-WAIT timers. Included by engine.h; not a standalone header.
#ifndef MPTCP_TCP_ENGINE_OUTPUT_H_
#define MPTCP_TCP_ENGINE_OUTPUT_H_

#ifndef MPTCP_TCP_ENGINE_H_
#error "include mptcp/tcp/engine.h instead"
#endif

#include <cstring>

namespace mptcp::tcp {

inline uint32_t TcpEngine::TsVal(Timestamp now) const {
  // A 1 ms clock (RFC 7323 §5.4 allows 1 ms to 1 s per tick) plus the random offset.
  return static_cast<uint32_t>(now.nanos() / 1'000'000) + ts_offset_;
}

// SACK blocks we would report, given `space` option bytes (each block 8 bytes plus NOP NOP
// kind length = 4).
inline size_t TcpEngine::SackOptionLength(size_t space) const {
  const size_t blocks = recv_buffer_.ooo_ranges().range_count() + (dsack_ ? 1 : 0);
  if (!sack_ok_ || blocks == 0 || space < 12) return 0;
  const size_t fit = std::min<size_t>((space - 4) / 8, wire::kMaxSackBlocks);
  const size_t n = std::min(fit, blocks);
  return n == 0 ? 0 : 4 + 8 * n;
}

// RFC 2018 §4: the first block holds the most recently received out-of-order segment; the
// others repeat recent blocks, then the rest from the highest down. RFC 2883 §4: a D-SACK
// block, for a duplicate just received, goes before them all.
inline void TcpEngine::FillSackBlocks(wire::TcpOptions& opts, size_t space) const {
  const size_t len = SackOptionLength(space);
  if (len == 0) return;
  const size_t want = (len - 4) / 8;
  if (dsack_) opts.AddSackBlock(*dsack_);
  const auto ranges = recv_buffer_.ooo_ranges().ranges();
  auto add_range = [&](const Assembler::Range& r) {
    const wire::SackBlock b{rcv_nxt_ + static_cast<uint32_t>(r.start),
                            rcv_nxt_ + static_cast<uint32_t>(r.end)};
    for (const auto& existing : opts.sacks()) {
      if (existing == b) return;
    }
    if (opts.num_sack_blocks < want) opts.AddSackBlock(b);
  };
  for (size_t i = 0; i < recent_ooo_count_ && opts.num_sack_blocks < want; ++i) {
    const SeqNum32 s = recent_ooo_[i];
    if (s < rcv_nxt_) continue;
    const size_t off = static_cast<uint32_t>(s - rcv_nxt_);
    for (const auto& r : ranges) {
      if (r.start <= off && off < r.end) {
        add_range(r);
        break;
      }
    }
  }
  for (size_t i = ranges.size(); i-- > 0 && opts.num_sack_blocks < want;) add_range(ranges[i]);
}

inline uint16_t TcpEngine::WindowField(bool syn) const {
  // (An override is a multiple of the scale's unit, chosen by the caller: exact here.)
  const uint32_t wnd = ReceiveWindow();
  if (syn) return static_cast<uint16_t>(std::min<uint32_t>(wnd, 0xffff));  // RFC 7323 §2.2
  return static_cast<uint16_t>(std::min<uint32_t>(wnd >> rcv_wscale_, 0xffff));
}

// Payload that fits one segment after our options and the caller's reservation (RFC 6691:
// the MSS counts data only, so options come out of it).
inline uint32_t TcpEngine::MaxPayload(size_t option_reserve) const {
  const size_t ts = ts_ok_ ? kTimestampOptionLength : 0;
  const size_t reserve = (option_reserve + 3) & ~size_t{3};
  const size_t fixed = std::min(kMaxOptionSpace, ts + reserve);
  const size_t sack = SackOptionLength(kMaxOptionSpace - fixed);
  const size_t opts = fixed + sack;
  return opts >= snd_mss_ ? 1 : snd_mss_ - static_cast<uint32_t>(opts);
}

inline uint32_t TcpEngine::SendableNow() const {
  if (!IsSynchronized(state_) && state_ != TcpState::kSynReceived) return 0;
  const uint32_t pipe = rtq_.pipe();
  const uint32_t cwnd = cc_->cwnd();
  uint32_t room = cwnd > pipe ? cwnd - pipe : 0;
  if (!external_send_window_) {
    const SeqNum32 edge = snd_una_ + snd_wnd_;
    const uint32_t wroom = edge > snd_nxt_ ? static_cast<uint32_t>(edge - snd_nxt_) : 0;
    room = std::min(room, wroom);
  }
  return room;
}

inline std::optional<Transmission> TcpEngine::PlanData(size_t option_reserve,
                                                       uint32_t gso_max_payload) const {
  const size_t unsent = unsent_bytes();
  if (unsent == 0) return std::nullopt;
  const uint32_t maxp = MaxPayload(option_reserve);
  uint32_t len = static_cast<uint32_t>(std::min<size_t>(unsent, maxp));
  const bool nothing_in_flight = rtq_.empty();
  if (!external_send_window_) {
    const SeqNum32 edge = snd_una_ + snd_wnd_;
    const uint32_t room = edge > snd_nxt_ ? static_cast<uint32_t>(edge - snd_nxt_) : 0;
    if (room == 0) return std::nullopt;  // the persist timer probes
    if (room < len) {
      // RFC 9293 §3.8.6.2.1 sender SWS avoidance: a partial segment only if it is at least
      // half the largest window seen, or nothing is in flight (else we could wait forever).
      if (room < max_snd_wnd_ / 2 && !nothing_in_flight) return std::nullopt;
      len = room;
    }
  }
  const uint32_t pipe = rtq_.pipe();
  const uint32_t cwnd = cc_->cwnd();
  if (!nothing_in_flight && (pipe >= cwnd || cwnd - pipe < len)) return std::nullopt;
  // RFC 9293 §3.7.4 Nagle: hold a small segment while data is unacknowledged.
  if (config_->nagle && len < maxp && !nothing_in_flight) return std::nullopt;
  Transmission tx;
  tx.kind = TxKind::kNewData;
  tx.seq = snd_nxt_;
  tx.payload_len = len;
  if (gso_max_payload > maxp && len == maxp && unsent > maxp) {
    // GSO: the segments that would follow this one at once, as one super-segment. Each cut
    // segment repeats the header's options; for MPTCP that is the one DSS mapping covering
    // them all, which RFC 8684 §3.3.1 allows (and Linux sends with TSO).
    uint64_t total = std::min<uint64_t>(unsent, gso_max_payload);
    if (!external_send_window_) {
      const SeqNum32 edge = snd_una_ + snd_wnd_;
      total = std::min<uint64_t>(total, static_cast<uint32_t>(edge - snd_nxt_));
    }
    total = std::min<uint64_t>(total, std::max(cwnd > pipe ? cwnd - pipe : 0, maxp));
    // Whole segments, but for a last short one that ends the data (unless Nagle holds it).
    const bool short_tail_ok = total == unsent && !(config_->nagle && !nothing_in_flight);
    if (!short_tail_ok) total -= total % maxp;
    if (total > maxp) {
      tx.payload_len = static_cast<uint32_t>(total);
      tx.segment_size = maxp;
    }
  }
  tx.fin = fin_queued_ && tx.payload_len == unsent;
  return tx;
}

inline std::optional<Transmission> TcpEngine::NextTransmission(Timestamp now,
                                                               size_t option_reserve,
                                                               uint32_t gso_max_payload) const {
  (void)now;
  std::optional<Transmission> tx;
  const size_t ts = ts_ok_ ? kTimestampOptionLength : 0;
  if (rst_pending_) {
    tx = Transmission{TxKind::kRst, rst_seq_};
  } else if (state_ == TcpState::kSynSent || state_ == TcpState::kSynReceived) {
    if (syn_pending_) {
      tx = Transmission{state_ == TcpState::kSynSent ? TxKind::kSyn : TxKind::kSynAck, iss_};
    } else if (ack_now_ && state_ == TcpState::kSynReceived) {
      tx = Transmission{TxKind::kAck, snd_nxt_};
    }
  } else if (state_ == TcpState::kTimeWait) {
    if (ack_now_) tx = Transmission{TxKind::kAck, snd_nxt_};
  } else if (IsSynchronized(state_)) {
    if (pure_ack_now_) tx = Transmission{TxKind::kAck, snd_nxt_};
    // 1. RFC 6675 NextSeg() rule 1: the first segment deemed lost, within cwnd.
    if (auto i = tx ? std::nullopt : rtq_.FirstLost()) {
      const SentSegment& rec = rtq_[*i];
      const uint32_t data_len = rec.len - (rec.fin ? 1 : 0);
      const uint32_t pipe = rtq_.pipe();
      const uint32_t cwnd = cc_->cwnd();
      const uint32_t maxp = MaxPayload(option_reserve);
      const uint32_t len = std::min(data_len, maxp);
      // Beyond a shrunken window only the first record is resent (as Linux does).
      const bool in_window = external_send_window_ || *i == 0 ||
                             rec.seq < snd_una_ + std::max<uint32_t>(snd_wnd_, 1);
      if (in_window && (retransmit_now_ || pipe == 0 ||
                        (cwnd > pipe && cwnd - pipe >= std::max<uint32_t>(len, 1)))) {
        tx = Transmission{TxKind::kRetransmit, rec.seq, len, rec.fin && len == data_len, *i};
      }
    }
    // 2. New data, then 3. a bare FIN, 4. a window probe, 5. an ACK.
    if (!tx) tx = PlanData(option_reserve, gso_max_payload);
    // (FIN-WAIT-1, LAST-ACK, or CLOSING when the peer's FIN overtook ours.)
    if (!tx && fin_queued_ && !fin_sent_ && unsent_bytes() == 0) {
      tx = Transmission{TxKind::kFin, snd_nxt_, 0, true};
    }
    if (!tx && probe_pending_) tx = Transmission{TxKind::kProbe, snd_una_ - 1};
    if (!tx && ack_now_) tx = Transmission{TxKind::kAck, snd_nxt_};
  }
  if (!tx) return std::nullopt;
  const bool syn = tx->kind == TxKind::kSyn || tx->kind == TxKind::kSynAck;
  size_t used = 0;
  if (syn) {
    used = 20;  // MSS 4 + SACK-permitted/TS 12 + NOP WS 4, the most a SYN carries
  } else if (tx->kind != TxKind::kRst) {
    const size_t fixed = std::min(kMaxOptionSpace, ts + ((option_reserve + 3) & ~size_t{3}));
    used = ts + SackOptionLength(kMaxOptionSpace - fixed);
  }
  tx->option_space = kMaxOptionSpace - std::min(kMaxOptionSpace, used);
  tx->plan_id = plan_counter_;
  return tx;
}

inline size_t TcpEngine::Emit(Timestamp now, const Transmission& tx,
                              std::span<const uint8_t> extra_options, std::span<uint8_t> buf) {
  last_now_ = now;
  if (tx.plan_id != plan_counter_) return 0;  // the engine changed since the plan was made
  wire::TcpRepr repr;
  repr.src_port = tuple_.local.port;
  repr.dst_port = tuple_.remote.port;
  repr.seq = tx.seq;
  wire::TcpOptions& o = repr.options;
  const bool syn = tx.kind == TxKind::kSyn || tx.kind == TxKind::kSynAck;
  uint32_t payload_len = 0;
  bool fin = false;

  switch (tx.kind) {
    case TxKind::kRst:
      repr.flags = wire::TcpFlag::kRst;
      if (rst_with_ack_) {
        repr.flags |= wire::TcpFlag::kAck;
        repr.ack = rst_ack_;
      }
      break;
    case TxKind::kSyn:
    case TxKind::kSynAck: {
      repr.flags = wire::TcpFlag::kSyn;
      o.mss = OwnMss();
      const bool active = tx.kind == TxKind::kSyn;
      // A SYN offers what the config enables; a SYN-ACK only what the peer offered.
      if (active ? config_->window_scaling : ws_ok_) {
        o.window_scale = rcv_wscale_;
      }
      if (active ? config_->sack : sack_ok_) o.sack_permitted = true;
      if (active ? config_->timestamps : ts_ok_) {
        o.timestamps = wire::TcpTimestamps{TsVal(now), active ? 0u : ts_recent_};
      }
      if (!active) {
        repr.flags |= wire::TcpFlag::kAck;
        repr.ack = rcv_nxt_;
      }
      repr.window = WindowField(true);
      break;
    }
    default: {
      repr.flags = wire::TcpFlag::kAck;
      repr.ack = rcv_nxt_;
      repr.window = WindowField(false);
      if (ts_ok_) o.timestamps = wire::TcpTimestamps{TsVal(now), ts_recent_};
      if (tx.kind == TxKind::kNewData) {
        payload_len = std::min<uint32_t>(tx.payload_len, static_cast<uint32_t>(unsent_bytes()));
        if (payload_len == 0) return 0;
        fin = fin_queued_ && payload_len == unsent_bytes();
      } else if (tx.kind == TxKind::kRetransmit) {
        if (tx.record >= rtq_.size() || !rtq_[tx.record].lost) return 0;
        const SentSegment& rec = rtq_[tx.record];
        const uint32_t data_len = rec.len - (rec.fin ? 1 : 0);
        payload_len = std::min(tx.payload_len, data_len);
        fin = rec.fin && payload_len == data_len;
      } else if (tx.kind == TxKind::kFin) {
        fin = true;
      }
      if (fin) repr.flags |= wire::TcpFlag::kFin;
      // PSH on the segment that reaches the end of the queued data, as Linux does per write.
      if (payload_len > 0 && tx.seq + payload_len == data_end()) repr.flags |= wire::TcpFlag::kPsh;
      break;
    }
  }

  // The caller's options first (they must fit), then SACK blocks in what is left.
  for (std::span<const uint8_t> opt : wire::MptcpOptionRange{extra_options}) {
    if (!o.AddMptcpOption(opt)) return 0;
  }
  if (!syn && tx.kind != TxKind::kRst) {
    const size_t used = o.EncodedLength();
    if (used <= kMaxOptionSpace) FillSackBlocks(o, kMaxOptionSpace - used);
  }

  // Header and options, then the payload copied straight from the send buffer.
  const size_t header_len = repr.HeaderLength();
  if (header_len > 20 + kMaxOptionSpace || buf.size() < header_len + payload_len) return 0;
  auto written = repr.Emit(buf);
  if (!written.ok()) return 0;
  if (payload_len > 0) {
    const size_t offset = static_cast<uint32_t>(tx.seq - buf_seq_);
    send_buffer_.CopyOut(offset, buf.subspan(header_len, payload_len));
  }
  const size_t total = header_len + payload_len;
  wire::FillTcpChecksum(tuple_.local.ip, tuple_.remote.ip, buf.first(total));

  // Commit.
  ++mib_->out_segs;
  ++segments_out_;
  ++plan_counter_;
  switch (tx.kind) {
    case TxKind::kRst:
      rst_pending_ = false;
      ++mib_->out_rsts;
      return total;
    case TxKind::kSyn:
    case TxKind::kSynAck:
      if (snd_nxt_ != iss_) {
        syn_retransmitted_ = true;
        ++mib_->syn_retrans;
      }
      snd_nxt_ = iss_ + 1;
      syn_pending_ = false;
      syn_sent_time_ = now;
      ArmRtoTimer(now);
      break;
    case TxKind::kNewData: {
      // A super-segment is recorded as the segments it is cut into, so that SACK, loss
      // detection and retransmission see exactly what went on the wire.
      const uint32_t step = tx.segment_size != 0 ? tx.segment_size : payload_len;
      for (uint32_t off = 0; off < payload_len; off += step) {
        const uint32_t n = std::min(step, payload_len - off);
        const bool last_fin = fin && off + n == payload_len;
        rtq_.OnSent(tx.seq + off, n + (last_fin ? 1 : 0), last_fin, now);
        cc_->OnPacketSent(now, n, rtq_.pipe());
        if (off > 0) {
          ++mib_->out_segs;
          ++segments_out_;
        }
      }
      snd_nxt_ = tx.seq + payload_len + (fin ? 1 : 0);
      if (fin) fin_sent_ = true;
      if (!rto_timer_.armed()) ArmRtoTimer(now);
      break;
    }
    case TxKind::kRetransmit: {
      const SentSegment& rec = rtq_[tx.record];
      if (payload_len + (fin ? 1u : 0u) < rec.len) rtq_.Split(tx.record, payload_len);
      rtq_.OnRetransmitted(tx.record, now);
      retransmit_now_ = false;
      ++mib_->retrans_segs;
      ++segments_retransmitted_;
      if (!rto_timer_.armed()) ArmRtoTimer(now);
      break;
    }
    case TxKind::kFin:
      rtq_.OnSent(tx.seq, 1, true, now);
      snd_nxt_ = tx.seq + 1;
      fin_sent_ = true;
      if (!rto_timer_.armed()) ArmRtoTimer(now);
      break;
    case TxKind::kProbe:
      probe_pending_ = false;
      ++mib_->win_probe;
      break;
    case TxKind::kAck:
      break;
  }
  // Every segment but a SYN or RST carries the current ACK.
  if (repr.has_flag(wire::TcpFlag::kAck)) {
    if (tx.kind == TxKind::kAck) pure_ack_now_ = false;
    NoteAckSent(repr.seq, syn ? repr.window : uint32_t{repr.window} << rcv_wscale_);
  }
  UpdatePersistTimer(now);
  return total;
}

// What sending an ACK of rcv_nxt_ with window `advertised` (bytes) from `seq` changes.
inline void TcpEngine::NoteAckSent(SeqNum32 seq, uint32_t advertised) {
  ack_now_ = false;
  dsack_.reset();  // reported once (RFC 2883 §4: in the first ACK after the duplicate)
  unacked_segments_ = 0;
  delack_timer_.Disarm();
  last_ack_sent_ = rcv_nxt_;
  if (rcv_nxt_ + advertised > rcv_adv_) rcv_adv_ = rcv_nxt_ + advertised;
  // What the peer's window now is (see WindowPeerKeeps).
  const bool newer = !peer_wnd_valid_ || seq > peer_wnd_.seq || rcv_nxt_ > peer_wnd_.ack;
  const bool larger = seq == peer_wnd_.seq && rcv_nxt_ == peer_wnd_.ack &&
                      (advertised > peer_wnd_.window || advertised == 0);
  if (newer || larger) {
    peer_wnd_ = PeerWindowView{seq, rcv_nxt_, advertised};
    peer_wnd_valid_ = true;
  }
}

// Persist timer (RFC 9293 §3.8.6.1): armed while data waits behind a zero window with nothing
// in flight to elicit a window update.
inline void TcpEngine::UpdatePersistTimer(Timestamp now) {
  const bool needed = !external_send_window_ && IsSynchronized(state_) && snd_wnd_ == 0 &&
                      rtq_.empty() && unsent_bytes() > 0;
  if (!needed) {
    persist_timer_.Disarm();
    persist_backoff_ = 0;
    return;
  }
  if (!persist_timer_.armed()) persist_timer_.Arm(now + PersistInterval());
}

inline Duration TcpEngine::PersistInterval() const {
  Duration d = rtt_.rto();
  for (int i = 0; i < persist_backoff_ && d < config_->rto_max; ++i) d = d * 2;
  return std::min(d, config_->rto_max);
}

inline void TcpEngine::OnTimeout(Timestamp now) {
  last_now_ = now;
  if (time_wait_timer_.Expired(now)) {
    time_wait_timer_.Disarm();
    EnterClosed(CloseReason::kNormal);  // RFC 9293 §3.10.8: TIME-WAIT timeout
    return;
  }
  if (delack_timer_.Expired(now)) {
    delack_timer_.Disarm();
    ack_now_ = true;
    ++mib_->delayed_acks;
    ++plan_counter_;
  }
  if (persist_timer_.Expired(now)) {
    probe_pending_ = true;
    ++persist_backoff_;
    persist_timer_.Arm(now + PersistInterval());
    ++plan_counter_;
  }
  if (rack_timer_.Expired(now)) OnRackTimeout(now);
  if (rto_timer_.Expired(now)) OnRetransmissionTimeout(now);
}

// RFC 8985 §6.3: the reordering timer ran out; what it waited for is lost now.
inline void TcpEngine::OnRackTimeout(Timestamp now) {
  rack_timer_.Disarm();
  ++plan_counter_;
  const uint32_t flight_before = rtq_.pipe();
  DetectLossesRack(now);
  MaybeEnterFastRecovery(now, flight_before);
}

inline void TcpEngine::OnRetransmissionTimeout(Timestamp now) {
  rto_timer_.Disarm();
  ++plan_counter_;
  if (state_ == TcpState::kSynSent || state_ == TcpState::kSynReceived) {
    if (++syn_retransmits_ > config_->max_syn_retransmits) {
      ++mib_->attempt_fails;
      EnterClosed(CloseReason::kTimeout);
      return;
    }
    ++mib_->timeouts;
    rtt_.Backoff();  // RFC 6298 §5.5
    syn_pending_ = true;
    return;
  }
  if (rtq_.empty()) return;
  if (probe_interval_ > Duration::Zero() && now < rto_due_) {
    // A probe (SetProbeInterval): resend from SND.UNA; the backoff and the count wait for the
    // RTO proper.
    ++mib_->probes;
    rtq_.MarkAllLost();
    retransmit_now_ = false;
    rto_timer_.Arm(std::min(rto_due_, now + probe_interval_));
    return;
  }
  // RFC 9293 §3.8.3 R2: give up after too many retransmissions of the same data.
  if (++consecutive_rtos_ > config_->max_retransmits) {
    ++mib_->abort_on_timeout;
    EnterClosed(CloseReason::kTimeout);
    return;
  }
  ++mib_->timeouts;
  // Linux's tcp_enter_loss: a timeout with DupThresh's worth of SACKed segments outstanding
  // and no recovery under way means the learnt DupThresh held back a real loss.
  if (!in_recovery_ && rtq_.sacked_bytes() >= uint64_t{RetransmitQueue::kDupThresh} * smss()) {
    dupthresh_ = RetransmitQueue::kDupThresh;
  }
  // RFC 3522 §3.2: the first timeout of an episode arms the check; after a backoff, the first
  // retransmission's stamp still decides. Only when this timeout sends the first copy again:
  // after a fast retransmit or a probe, an echo older than now may be that earlier copy's (and
  // the fast retransmit's own check ends here).
  if (!rto_recovery_) {
    if (ts_ok_ && !rtq_.AnyRetransmitted()) {
      eifel_tsval_ = TsVal(now);
    } else {
      eifel_tsval_.reset();
    }
  }
  // RFC 5681 §3.1 / RFC 6298 §5.4-5.6: collapse cwnd, resend from SND.UNA, back off.
  cc_->OnRto(cc::RtoEvent{now, rtq_.pipe(), rtt_.backoff_count()});
  rtq_.MarkAllLost();
  rack_timer_.Disarm();  // nothing left for it to decide
  retransmit_now_ = false;
  in_recovery_ = true;  // no fast recovery until everything sent so far is acknowledged
  rto_recovery_ = true;
  recovery_point_ = snd_nxt_;
  dupacks_ = 0;
  rtt_.Backoff();
  ArmRtoTimer(now);
}

}  // namespace mptcp::tcp

#endif  // MPTCP_TCP_ENGINE_OUTPUT_H_
