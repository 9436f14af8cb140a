// MP_FAIL and the infinite mapping (RFC 8684 §3.7): what the connection does when a DSS
// checksum fails, as the receiver that saw it and as the sender told of it. Included by
// connection.h; defines members of Connection.
//
// Receiver. The corrupted bytes are never delivered. While it waits, its DATA_ACK stays at
// the failure but its window opens by what it discarded: a sender whose data-level window
// is full could not otherwise send the data segment that carries its infinite mapping. With other subflows, the one that
// carried them is reset with MP_FAIL in its RST (MP_TCPRST "middlebox interference") and the
// sender resends the data on the others. On a lone subflow that may still fall back, MP_FAIL
// goes out on ACKs with the failed mapping's DSN, everything the subflow carries is discarded
// until the sender's infinite mapping says which subflow byte continues which DSN, and from
// there the subflow is plain TCP. If that DSN is past what was delivered (a sender that does
// not resend the failed bytes, as Linux does: its receiver delivers them), the bytes in
// between are lost: the connection is reset rather than deliver a stream with a hole.
//
// Sender. On MP_FAIL on a lone subflow, no new data is scheduled; once everything handed to
// the subflow is acknowledged (and the peer's DATA_ACK has had a round trip to settle), the
// next subflow byte starts an infinite mapping at the peer's DATA_ACK and the connection is
// plain TCP from there: the data from that point goes again, so a receiver that discarded
// the failed bytes gets them, and one that kept them (Linux) gets no duplicate. MP_FAIL is
// echoed, as Linux expects an answer.
#ifndef MPTCP_CONNECTION_FAIL_H_
#define MPTCP_CONNECTION_FAIL_H_

namespace mptcp {

// The failed mapping `m` on subflow `s`: its bytes are never delivered.
inline void Connection::OnChecksumFailure(Timestamp now, Subflow& s, const RxMapping& m) {
  ++mib_.data_csum_err;
  s.mp_fail_tx = m.dsn;
  if (s.kind == SubflowKind::kInitial && FallbackPossible()) {
    // RFC 8684 §3.7: a lone subflow falls back with an infinite mapping rather than reset.
    Fail().rx_dsn = m.dsn;
    fail_->rx_discarded = 0;
    fail_->rx_deadline = now + MpFailTimeout();
    s.engine.RequestPureAck();
    DrainAfterMpFail(now, s);
    return;
  }
  if (DataSubflows() <= 1) {
    // The only subflow, and the stream can no longer be read as plain TCP (data took two
    // paths, or this is a join): nothing can resend the data but a new connection.
    ResetConnection(now, CloseReason::kProtocolError, /*fastclose=*/true);
    return;
  }
  // RFC 8684 §3.7: with other subflows, reset this one (MP_FAIL rides on the RST); the
  // sender resends its data on the others.
  ResetSubflow(s, wire::MpTcpRstReason::kMiddleboxInterference);
}

// The peer's MP_FAIL for data we sent (RFC 8684 §3.7).
inline void Connection::OnMpFail(Timestamp now, Subflow& s, Dsn64 dsn) {
  ++mib_.mp_fail_rx;
  if (rx_failing()) return;  // the peer's answer to our own MP_FAIL (Linux echoes one)
  if (tx_failing() || !s.alive()) return;  // already answering, or the RST that carried it
  if (s.kind == SubflowKind::kInitial && FallbackPossible()) {
    Fail().tx_pending = true;
    fail_->tx_settle = Timestamp::Never();
    s.mp_fail_tx = dsn;  // the echo
    s.engine.RequestPureAck();
    MaybeStartInfiniteMapping(now);
    return;
  }
  ResetSubflow(s, wire::MpTcpRstReason::kMiddleboxInterference);
}

// Sender: once nothing mapped is outstanding on the subflow, falls back with an infinite
// mapping from the peer's DATA_ACK. The DATA_ACK gets one round trip to catch up with the
// subflow's ACKs (a receiver may send them before moving the data up).
inline Subflow* Connection::InfiniteMappingSubflow() const {
  if (!tx_failing() || closed()) return nullptr;
  for (const auto& sp : subflows_) {
    if (sp->kind != SubflowKind::kInitial || !sp->alive()) continue;
    // Mapped bytes still in flight: not yet.
    return sp->engine.snd_una() == sp->engine.write_seq() ? sp.get() : nullptr;
  }
  return nullptr;
}

inline void Connection::MaybeStartInfiniteMapping(Timestamp now) {
  Subflow* s = InfiniteMappingSubflow();
  if (s == nullptr) {
    // Not drained (or nothing to answer): the round trip to settle starts once it is.
    if (fail_ != nullptr) fail_->tx_settle = Timestamp::Never();
    return;
  }
  const Dsn64 handed = std::min(snd_data_nxt_, data_una_ + send_buffer_.size());
  if (data_una_ < handed) {
    if (fail_->tx_settle == Timestamp::Never()) {
      fail_->tx_settle = now + std::max(s->engine.rtt().srtt(), Duration::Millis(10));
    }
    if (now < fail_->tx_settle) return;
  }
  // RFC 8684 §3.7: the infinite mapping (data-level length 0) maps subflow byte ssn to DSN
  // data_una_ and every later byte linearly; from here on the subflow is plain TCP.
  fail_->tx_pending = false;
  fail_->tx_infinite = InfiniteMapping{s->engine.write_seq(), data_una_};
  ++mib_.infinite_map_tx;
  EnterFallback(now);
  snd_data_nxt_ = data_una_;  // resend from the peer's DATA_ACK (EnterFallback kept the FIN)
  data_fin_dsn_.reset();
  reinject_.clear();
  PumpFallback(now);
}

// Receiver: consumes what the subflow holds until the infinite mapping's start, then falls
// back there. The peer's mappings still describe the bytes before it (the failed one and those
// sent after it): they are walked to learn where its stream stands. A peer may also fall back
// without sending the infinite mapping option at all (Linux 6.18 does: after answering our
// MP_FAIL its data simply carries no DSS); on a lone subflow its bytes continue its data
// stream linearly, so unmapped data right after its last mapping is taken as an infinite
// mapping there.
inline void Connection::DrainAfterMpFail(Timestamp now, Subflow& s) {
  for (int guard = 0; guard < 1024 && rx_failing(); ++guard) {
    MpFailState& f = *fail_;
    const SeqNum32 r = s.engine.read_seq();
    if (f.rx_infinite && r == f.rx_infinite->ssn) {
      if (f.rx_infinite->dsn > rcv_data_nxt_) {
        // The peer resumes past what we delivered: it will not resend the failed bytes.
        ++mib_.infinite_map_gap;
        GiveUpAfterMpFail(now);
        return;
      }
      if (f.rx_infinite->dsn < rcv_data_nxt_) {
        // It resends bytes we already have: skip them.
        const uint64_t dup = rcv_data_nxt_ - f.rx_infinite->dsn;
        const size_t n = static_cast<size_t>(std::min<uint64_t>(dup, s.engine.readable()));
        if (n == 0) break;
        s.engine.Consume(n);
        f.rx_infinite->ssn = f.rx_infinite->ssn + static_cast<uint32_t>(n);
        f.rx_infinite->dsn += n;
        continue;
      }
      // Subflow byte r is DSN rcv_data_nxt_: the stream is whole again, as plain TCP.
      f.rx_dsn.reset();
      f.rx_infinite.reset();
      f.rx_resume.reset();
      s.mp_fail_tx.reset();
      s.rx.clear();
      EnterFallback(now);
      DrainSubflow(now, s);
      return;
    }
    if (f.rx_infinite && r > f.rx_infinite->ssn) {
      // Our read position passed the mapping's start: those bytes were discarded.
      GiveUpAfterMpFail(now);
      return;
    }
    const size_t avail = s.engine.readable();
    if (avail == 0) break;
    // Up to the infinite mapping's start at most (when it is known).
    const size_t limit =
        f.rx_infinite ? std::min<size_t>(avail, static_cast<size_t>(f.rx_infinite->ssn - r)) : avail;
    if (const RxMapping* m = s.rx.Find(r)) {
      // Mapped bytes from before the peer fell back: discarded, its stream position noted.
      const size_t n = std::min<size_t>(limit, static_cast<size_t>(m->ssn_end() - r));
      s.engine.Consume(n);
      f.rx_discarded += n;
      f.rx_resume = InfiniteMapping{r + static_cast<uint32_t>(n),
                                        m->dsn + static_cast<uint32_t>(r - m->ssn) + n};
      continue;
    }
    if (f.rx_infinite) {
      // Unmapped bytes before the announced start (cannot be placed): discarded.
      s.engine.Consume(limit);
      f.rx_discarded += limit;
      continue;
    }
    if (f.rx_resume && f.rx_resume->ssn == r) {
      // Unmapped data right where the peer's mappings ended: it fell back without the
      // option; its stream continues linearly from there.
      ++mib_.infinite_map_rx;
      f.rx_infinite = f.rx_resume;
      continue;
    }
    // Unmapped data we cannot place in the peer's stream.
    GiveUpAfterMpFail(now);
    return;
  }
  s.rx.PruneBefore(s.engine.read_seq());
}

// The stream cannot be made whole: reset rather than deliver it with a hole.
inline void Connection::GiveUpAfterMpFail(Timestamp now) {
  if (fail_ != nullptr) {
    fail_->rx_dsn.reset();
    fail_->rx_infinite.reset();
    fail_->rx_resume.reset();
  }
  ResetConnection(now, CloseReason::kProtocolError, /*fastclose=*/false);
}

// How long a receiver that sent MP_FAIL waits for the infinite mapping before giving up
// (Linux waits TCP_RTO_MAX, 120 s; a peer that does not answer within a few RTOs will not).
inline Duration Connection::MpFailTimeout() const {
  Duration rto = config_.data_rto_min;
  for (const auto& s : subflows_) rto = std::max(rto, s->engine.rtt().rto());
  return std::clamp(rto * 8, Duration::Seconds(2), Duration::Seconds(120));
}

inline void Connection::OnMpFailTimeout(Timestamp now) {
  if (rx_failing() && now >= fail_->rx_deadline) {
    ++mib_.mp_fail_timeout;
    GiveUpAfterMpFail(now);
  }
  MaybeStartInfiniteMapping(now);
}

// The next time MP_FAIL handling must run without input (a Never() when none).
inline Timestamp Connection::MpFailTimer() const {
  Timestamp t = Timestamp::Never();
  if (rx_failing()) t = fail_->rx_deadline;
  // The same decision as MaybeStartInfiniteMapping's: its settle time counts only while the
  // subflow is drained (else new input will ask again).
  if (InfiniteMappingSubflow() != nullptr) t = Earliest(t, fail_->tx_settle);
  return t;
}

// The options of a segment of the fallen-back subflow that carries the infinite mapping's
// first byte (and of its retransmissions): a DSS with DSN, subflow sequence number and
// length 0 (20 bytes with the checksum field; a DATA_ACK or the MP_FAIL echo, which went on
// an ACK before, would not fit beside timestamps). Nothing once that byte is acknowledged.
inline size_t Connection::BuildInfiniteMappingOptions(Subflow& s, const tcp::Transmission& tx,
                                                      OutOptions& out) {
  if (fail_ == nullptr || !fail_->tx_infinite || s.kind != SubflowKind::kInitial) return 0;
  if (!(s.engine.snd_una() <= fail_->tx_infinite->ssn)) {
    fail_->tx_infinite.reset();  // acknowledged: the peer has it
    s.mp_fail_tx.reset();
    return 0;
  }
  if (tx.kind == tcp::TxKind::kRst || tx.kind == tcp::TxKind::kSyn ||
      tx.kind == tcp::TxKind::kSynAck || tx.payload_len == 0 || tx.seq != fail_->tx_infinite->ssn) {
    return 0;
  }
  wire::Dss dss;
  wire::DssMapping m;
  m.dsn = fail_->tx_infinite->dsn;
  m.dsn_is_64bit = true;
  m.subflow_seq = s.RelativeTxSsn(tx.seq);
  m.data_len = 0;
  if (checksum_) m.checksum = 0;
  dss.mapping = m;
  out.Add(dss);
  return out.len;
}

}  // namespace mptcp

#endif  // MPTCP_CONNECTION_FAIL_H_
