// Connection's input path: MP_CAPABLE and MP_JOIN handshakes (RFC 8684 §3.1, §3.2), DSS
// processing (§3.3: DATA_ACK, mappings, DATA_FIN), data-level reassembly, address signals
// (§3.4), MP_PRIO, MP_FAIL, MP_FASTCLOSE and MP_TCPRST, and fallback (§3.7). Included by
// connection.h; not a standalone header.
#ifndef MPTCP_CONNECTION_INPUT_H_
#define MPTCP_CONNECTION_INPUT_H_

#ifndef MPTCP_CONNECTION_H_
#error "include mptcp/connection.h instead"
#endif

namespace mptcp {

// The MPTCP options of one segment, parsed once. A malformed option is counted and ignored
// (RFC 8684 §3: "an implementation MUST ignore" options it cannot parse is the robust reading;
// Linux does the same).
struct Connection::ParsedOptions {
  std::optional<wire::MpCapable> mpc;
  std::optional<wire::MpJoinSyn> join_syn;
  std::optional<wire::MpJoinSynAck> join_synack;
  std::optional<wire::MpJoinAck> join_ack;
  std::optional<wire::Dss> dss;
  std::optional<wire::AddAddr> add_addr;
  std::optional<wire::RemoveAddr> remove_addr;
  std::optional<wire::MpPrio> prio;
  std::optional<wire::MpFail> fail;
  std::optional<wire::MpFastclose> fastclose;
  std::optional<wire::MpTcpRst> tcprst;
  bool any = false;
};

inline Connection::ParsedOptions Connection::ParseOptions(const wire::TcpRepr& seg) {
  ParsedOptions o;
  for (std::span<const uint8_t> bytes : seg.options.mptcp_options()) {
    auto parsed = wire::ParseMptcpOption(bytes);
    if (!parsed.ok()) {
      ++mib_.bad_option;
      continue;
    }
    o.any = true;
    std::visit(
        [&o](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, wire::MpCapable>) o.mpc = v;
          if constexpr (std::is_same_v<T, wire::MpJoinSyn>) o.join_syn = v;
          if constexpr (std::is_same_v<T, wire::MpJoinSynAck>) o.join_synack = v;
          if constexpr (std::is_same_v<T, wire::MpJoinAck>) o.join_ack = v;
          if constexpr (std::is_same_v<T, wire::Dss>) o.dss = v;
          if constexpr (std::is_same_v<T, wire::AddAddr>) o.add_addr = v;
          if constexpr (std::is_same_v<T, wire::RemoveAddr>) o.remove_addr = v;
          if constexpr (std::is_same_v<T, wire::MpPrio>) o.prio = v;
          if constexpr (std::is_same_v<T, wire::MpFail>) o.fail = v;
          if constexpr (std::is_same_v<T, wire::MpFastclose>) o.fastclose = v;
          if constexpr (std::is_same_v<T, wire::MpTcpRst>) o.tcprst = v;
        },
        *parsed);
  }
  return o;
}

// RFC 8684 §3.1: a v1 MP_CAPABLE must use HMAC-SHA256 (H set, the other algorithm bits D-G
// clear) and no extension (B clear); otherwise it is ignored, as Linux's parser does.
inline bool MpCapableFlagsUsable(const wire::MpCapable& m) {
  return (m.flags & 0x1f) == wire::MpCapable::kFlagH && !m.extensibility();
}

inline Disposition Connection::AcceptSyn(Timestamp now, const FourTuple& tuple,
                                         const wire::TcpRepr& syn,
                                         std::optional<SubflowSeed> seed) {
  initial_local_ = tuple.local;
  initial_remote_ = tuple.remote;
  const ParsedOptions o = ParseOptions(syn);
  // RFC 8684 §3.1: a v1 SYN carries MP_CAPABLE with no key (length 4); a higher version is
  // answered with v1. A v0 SYN (RFC 6824, with a key) is not supported: plain TCP, as Linux.
  const bool mp_capable =
      o.mpc && o.mpc->version >= 1 && !o.mpc->sender_key && MpCapableFlagsUsable(*o.mpc);
  if (mp_capable) {
    ++mib_.mp_capable_syn_rx;
    if (o.mpc->checksum_required()) checksum_ = true;
    remote_deny_join_initial_ = o.mpc->version == 1 && o.mpc->no_more_subflows();
  } else {
    EnterFallback(now);  // a plain TCP client: the same API, reported as FellBackToTcp
  }
  Subflow& s = AddSubflow(SubflowKind::kInitial, false, tuple, now, seed);
  s.engine.Listen();
  const auto out = s.engine.OnSegment(now, syn);
  if (!out.accepted()) return Disposition::Dropped("SYN refused", out.drop);
  return Disposition::Accepted();
}

inline Disposition Connection::AcceptCookie(Timestamp now, const FourTuple& tuple,
                                            const wire::TcpRepr& syn, SubflowSeed seed,
                                            std::optional<Timestamp> synack_sent) {
  Disposition d = AcceptSyn(now, tuple, syn, seed);
  if (!d.accepted() || subflows_.empty()) return d;
  subflows_.front()->engine.AssumeSynAckSent(synack_sent);
  return d;
}

inline Disposition Connection::AcceptJoin(Timestamp now, const FourTuple& tuple,
                                          const wire::TcpRepr& syn, const wire::MpJoinSyn& join) {
  ++mib_.mp_join_syn_rx;
  // RFC 8684 §3.2: joins need the keys (both known once fully established) and MPTCP in use;
  // the subflow limit is the local policy Linux calls "subflows".
  if (!mptcp() || !remote_key_ || closed()) {
    ++mib_.mp_join_rejected;
    return Disposition::Dropped("join refused: connection not joinable");
  }
  if (FindSubflow(tuple) != nullptr) return Disposition::Dropped("join on a tuple in use");
  if (!TakesJoinsOn(tuple.local)) {
    ++mib_.mp_join_port_mismatch;
    return Disposition::Dropped("join refused: a port we neither use nor announced");
  }
  // RFC 8684 §3.1: we said (flag C) that the initial address and port take no joins.
  if (config_.deny_join_initial && role_ == Role::kServer && tuple.local == initial_local_) {
    ++mib_.mp_join_rejected;
    return Disposition::Dropped("join refused: flag C (initial address and port)");
  }
  // The path manager's limit (Linux's `subflows`: extra subflows, created or accepted).
  if (!pm_->AllowIncomingJoin(JoinSubflows())) {
    ++mib_.mp_join_rejected;
    return Disposition::Dropped("join refused: path manager limit");
  }
  if (subflows_.size() >= config_.max_subflows) {
    // RFC 7430 §2.2, a flood of SYN+MP_JOIN with a guessed or sniffed token: the joins still
    // in their handshake are a SYN queue, bounded by the subflow limit. Its oldest entry makes
    // room for the new one (silently: the spoofed source gets nothing), so a flood never
    // locks legitimate joins out for the minute half-open joins would otherwise live.
    Subflow* oldest = nullptr;
    for (auto& sp : subflows_) {
      if (sp->kind == SubflowKind::kJoin && !sp->initiator &&
          sp->engine.state() == tcp::TcpState::kSynReceived) {
        oldest = sp.get();
        break;
      }
    }
    if (oldest == nullptr) {
      ++mib_.mp_join_rejected;
      return Disposition::Dropped("join refused: subflow limit");
    }
    ++mib_.mp_join_syn_evicted;
    oldest->engine.Forget();
    SweepSubflows(now);
  }
  Subflow& s = AddSubflow(SubflowKind::kJoin, false, tuple, now);
  s.remote_nonce = join.sender_nonce;
  s.remote_id = join.address_id;
  s.backup_remote = join.backup;
  s.local_nonce = rng_.Next32();
  s.local_id = LocalAddressId(tuple.local.ip);
  s.engine.Listen();
  const auto out = s.engine.OnSegment(now, syn);
  if (!out.accepted()) return Disposition::Dropped("join SYN refused", out.drop);
  return Disposition::Accepted();
}

inline absl::StatusOr<SubflowId> Connection::OpenSubflow(Timestamp now, const FourTuple& tuple,
                                                         bool backup) {
  return OpenSubflow(now, tuple, backup, std::nullopt);
}

inline absl::StatusOr<SubflowId> Connection::OpenSubflow(Timestamp now, const FourTuple& wanted,
                                                         bool backup,
                                                         std::optional<uint8_t> local_id) {
  FourTuple tuple = wanted;
  if (!mptcp()) return absl::FailedPreconditionError("connection fell back to TCP");
  // RFC 8684 §3.2: joins need both keys known to both sides, i.e. a fully established
  // connection (the peer may not have our key before that).
  if (!remote_key_ || !established_ || !fully_established_) {
    return absl::FailedPreconditionError("connection not fully established yet");
  }
  if (closed()) {
    return absl::FailedPreconditionError("connection closing");
  }
  if (subflows_.size() >= config_.max_subflows) {
    return absl::ResourceExhaustedError("subflow limit reached");
  }
  // RFC 8684 §3.1: flag C asks not to open subflows to the peer's initial address.
  if (remote_deny_join_initial_ && tuple.remote == initial_remote_) {
    return absl::FailedPreconditionError("the peer accepts no subflows to its initial address");
  }
  if (tuple.local.port != 0) {
    if (FindSubflow(tuple) != nullptr) return absl::AlreadyExistsError("tuple already in use");
    if (owner_ != nullptr && !owner_->ClaimTuple(owner_cookie_, tuple)) {
      return absl::AlreadyExistsError("4-tuple in use by another connection");
    }
  } else {
    // A source port of our choosing: the next ones after the initial subflow's that are free
    // here and at the owner (bounded search).
    bool found = false;
    for (uint32_t k = 1; k <= 256 && !found; ++k) {
      uint32_t port = (uint32_t{initial_local_.port} + k) & 0xffff;
      if (port == 0) continue;
      tuple.local.port = static_cast<uint16_t>(port);
      found = FindSubflow(tuple) == nullptr &&
              (owner_ == nullptr || owner_->ClaimTuple(owner_cookie_, tuple));
    }
    if (!found) return absl::ResourceExhaustedError("no free source port");
  }
  Subflow& s = AddSubflow(SubflowKind::kJoin, true, tuple, now);
  s.local_nonce = rng_.Next32();
  if (local_id) {
    // RFC 8684 §3.2: the ID the path manager gave this address (an endpoint's).
    s.local_id = *local_id;
    if (*local_id != 0 && LocalAddressId(tuple.local.ip) != *local_id) {
      for (auto& [id, a] : local_ids_) {
        if (a == tuple.local.ip) id = *local_id;
      }
    }
  } else {
    s.local_id = LocalAddressId(tuple.local.ip);
  }
  s.backup_local = backup;
  s.engine.Connect(now);
  ++mib_.mp_join_syn_tx;
  const SubflowId id = s.id;
  AfterApiCall(now);
  return id;
}

inline Disposition Connection::OnSegment(Timestamp now, const FourTuple& path,
                                         std::span<const uint8_t> segment) {
  Subflow* s = FindSubflow(path);
  if (s == nullptr) return Disposition::Dropped("no such subflow");
  // RFC 9293 §3.1: verify the checksum against the pseudo-header of this path.
  if (!wire::VerifyTcpChecksum(path.remote.ip, path.local.ip, segment)) {
    s->engine.NoteDrop(tcp::DropReason::kBadChecksum);
    return Disposition::Dropped("bad TCP checksum", tcp::DropReason::kBadChecksum);
  }
  auto repr = wire::TcpRepr::Parse(segment);
  if (!repr.ok()) {
    s->engine.NoteDrop(tcp::DropReason::kMalformed);
    return Disposition::Dropped("malformed TCP segment", tcp::DropReason::kMalformed);
  }
  Disposition d = OnSubflowSegment(now, *s, *repr);
  SweepSubflows(now);
  RunPathManager(now);
  MaybeStartInfiniteMapping(now);
  PumpFallback(now);
  return d;
}

// The MP_CAPABLE / MP_JOIN checks on a SYN-ACK. Returns the MP_TCPRST reason when the subflow
// must be reset once TCP has taken the SYN-ACK (a RST then goes out, as Linux sends one).
inline std::optional<wire::MpTcpRstReason> Connection::CheckSynAck(Timestamp now, Subflow& s,
                                                                   const ParsedOptions& o) {
  if (s.kind == SubflowKind::kInitial) {
    // RFC 8684 §3.1: MP_CAPABLE with the server's key (length 12, version 1), else fallback.
    if (mptcp() && o.mpc && o.mpc->version == 1 && o.mpc->sender_key && !o.mpc->receiver_key &&
        MpCapableFlagsUsable(*o.mpc)) {
      remote_key_ = *o.mpc->sender_key;
      remote_token_ = crypto::KeyToken(*remote_key_);
      remote_idsn_ = crypto::KeyIdsn(*remote_key_);
      rcv_data_nxt_ = rcv_wnd_edge_ = remote_idsn_ + 1;
      if (o.mpc->checksum_required()) checksum_ = true;
      remote_deny_join_initial_ = o.mpc->no_more_subflows();
      ++mib_.mp_capable_synack_rx;
    } else if (mptcp()) {
      ++mib_.mp_capable_fallback_synack;
      EnterFallback(now);
    }
    return std::nullopt;
  }
  // RFC 8684 §3.2: the SYN/ACK must carry MP_JOIN whose truncated HMAC is
  // HMAC(Key-B || Key-A, R-B || R-A) from the responder B.
  if (!o.join_synack) return wire::MpTcpRstReason::kMptcpSpecific;
  const uint64_t expected = crypto::JoinSynAckHmac(*remote_key_, local_key_,
                                                   o.join_synack->sender_nonce, s.local_nonce);
  if (o.join_synack->truncated_hmac != expected) {
    ++mib_.mp_join_synack_hmac_failure;
    return wire::MpTcpRstReason::kMptcpSpecific;
  }
  ++mib_.mp_join_synack_rx;
  s.remote_nonce = o.join_synack->sender_nonce;
  s.remote_id = o.join_synack->address_id;
  s.backup_remote = o.join_synack->backup;
  return std::nullopt;
}

inline Disposition Connection::OnSubflowSegment(Timestamp now, Subflow& s,
                                                const wire::TcpRepr& arrived) {
  ParsedOptions o = ParseOptions(arrived);
  const tcp::TcpState before = s.engine.state();
  const bool syn = arrived.has_flag(wire::TcpFlag::kSyn);
  const bool ack = arrived.has_flag(wire::TcpFlag::kAck);
  const bool rst = arrived.has_flag(wire::TcpFlag::kRst);

  // RFC 8684 §3.5: MP_FASTCLOSE carrying our key closes the whole connection at once.
  if (o.fastclose && remote_key_ && o.fastclose->receiver_key == local_key_) {
    ++mib_.mp_fastclose_rx;
    ResetConnection(now, CloseReason::kReset, /*fastclose=*/false);
    return Disposition::Reset("MP_FASTCLOSE");
  }
  if (o.tcprst && rst) {
    ++mib_.mp_rst_rx;
    s.peer_rst_reason = o.tcprst;
  }
  if (o.fail && rst) ++mib_.mp_fail_rx;  // RFC 8684 §3.7: the subflow's data goes elsewhere
  std::optional<wire::MpTcpRstReason> synack_reset;
  if (before == tcp::TcpState::kSynSent && syn && ack && !rst) synack_reset = CheckSynAck(now, s, o);

  // The mapping table is bounded: rather than accept data whose mapping cannot be kept (and
  // lose it silently), drop the segment before TCP acknowledges it; the peer resends it. The
  // same for a 4-octet DSN before the peer's key (hence its IDSN) is known: it cannot be
  // expanded to 64 bits yet (RFC 8684 §3.3.1).
  if (mptcp() && o.dss && o.dss->mapping && !arrived.payload.empty()) {
    if (s.rx.full()) {
      ++mib_.rx_mapping_table_full;
      return Disposition::Dropped("mapping table full");
    }
    if (!remote_key_ && !o.dss->mapping->dsn_is_64bit) {
      return Disposition::Dropped("32-bit mapping before the key exchange completed");
    }
  }
  // RFC 8684 §3.3.5: nothing beyond the right edge we advertised is kept.
  const std::optional<wire::TcpRepr> trimmed = TrimBeyondWindow(s, arrived, o);
  const wire::TcpRepr& seg = trimmed ? *trimmed : arrived;
  if (trimmed && seg.payload.empty()) {
    // None of its data was taken: nor is its mapping (the peer resends both; a mapping far
    // beyond the window may be bogus and would then block the true one).
    if (o.dss) o.dss->mapping.reset();
    if (o.mpc) o.mpc->data_len.reset();
  }
  const tcp::SegmentOutcome out = s.engine.OnSegment(now, seg);
  if (out.reset) return Disposition::Reset("subflow reset by the peer");
  if (!out.accepted()) {
    // A retransmitted segment TCP already holds still carries the sender's newest DATA_ACK;
    // it is cumulative, so taking it is safe, and without it a connection whose reverse path
    // only carries duplicates would stall.
    if (mptcp() && out.drop == tcp::DropReason::kOutOfWindow && ack && o.dss && o.dss->data_ack &&
        s.engine.AckAcceptable(seg.ack)) {
      const Dsn64 data_ack = o.dss->data_ack->is_64bit
                                 ? o.dss->data_ack->value
                                 : ExpandDsn32(static_cast<uint32_t>(o.dss->data_ack->value), data_una_);
      OnDataAck(now, data_ack, uint64_t{seg.window} << s.engine.snd_wscale());
    }
    return Disposition::Dropped("dropped by TCP", out.drop);
  }
  // RFC 8684 §3.7: data acknowledged at the subflow level by segments without any DATA_ACK
  // (and none ever seen) means the path strips the options: the peer fell back; so do we.
  // (Any MPTCP option, such as an ADD_ADDR sent alone, proves the path carries them.)
  if (mptcp() && out.bytes_acked > 0 && !data_ack_seen_ && !o.any &&
      s.kind == SubflowKind::kInitial && FallbackPossible() &&
      before != tcp::TcpState::kSynSent && before != tcp::TcpState::kSynReceived) {
    ++mib_.dss_no_match_tcp;
    EnterFallback(now);
  }
  if (synack_reset) {
    // TCP took the SYN-ACK; now reset the subflow (RST with MP_TCPRST, RFC 8684 §3.2).
    ResetSubflow(s, *synack_reset);
    return Disposition::Reset("join SYN-ACK without a valid MP_JOIN");
  }

  if (before != s.engine.state()) {
    Disposition d = OnHandshakeDone(now, s, before, seg, o);
    if (!d.accepted()) return d;
  }
  // RFC 8684 §3.2: the initiator of a join may send data once its third ACK is acknowledged
  // (the fourth ACK); any acceptable segment from the peer after it proves that.
  if (s.join_ack_pending && !syn && s.engine.state() == tcp::TcpState::kEstablished &&
      before == tcp::TcpState::kEstablished) {
    s.join_ack_pending = false;
    s.join_ack_timer.Disarm();
    s.fully_established = true;
  }

  // RFC 8684 §3.1: a server whose third ACK was lost learns the client's key from the
  // MP_CAPABLE the client repeats on its first data.
  if (mptcp() && role_ == Role::kServer && !remote_key_ && s.kind == SubflowKind::kInitial &&
      tcp::IsSynchronized(s.engine.state()) && o.mpc && o.mpc->sender_key &&
      o.mpc->receiver_key == local_key_) {
    TakeClientKey(now, s, *o.mpc);
  }
  if (fallen_back() && o.dss && o.dss->mapping && o.dss->mapping->data_len > 0 &&
      !seg.payload.empty() && !FallbackConsistent(s, seg, *o.dss->mapping)) {
    // The peer still maps its data, and not as the plain stream we now read: it did not fall
    // back. Reading on would deliver wrong bytes; give up instead (RFC 8684 §3.7).
    ResetConnection(now, CloseReason::kProtocolError, /*fastclose=*/false);
    return Disposition::Reset("mapping contradicts the fallback");
  }
  if (mptcp()) {
    if (o.dss) {
      OnDss(now, s, seg, *o.dss);
    } else if (o.mpc && o.mpc->data_len && s.kind == SubflowKind::kInitial && role_ == Role::kServer &&
               remote_key_ && o.mpc->receiver_key == local_key_) {
      // RFC 8684 §3.1: the client's first data repeats MP_CAPABLE with its data-level length,
      // which maps subflow byte 1 to DSN IDSN + 1.
      AddRxMapping(now, s, remote_idsn_ + 1, 1, *o.mpc->data_len, false, o.mpc->checksum);
    } else if (!seg.payload.empty() && !fully_established_ && FallbackPossible() &&
               !o.any) {
      // RFC 8684 §3.7: data without any MPTCP option before the connection is known to work
      // end to end: the path strips options; continue as TCP.
      ++mib_.dss_no_match_tcp;
      EnterFallback(now);
    }
    if (mptcp()) OnSignals(now, s, o);
  }
  DrainSubflow(now, s);
  return Disposition::Accepted();
}

// RFC 8684 §3.3.5: data beyond the right edge we advertised (rcv_wnd_edge_) is cut off before
// TCP takes the segment, so the peer's subflow resends it, rather than TCP acknowledging bytes
// the data level then cannot keep. Returns the trimmed segment, or nullopt to take `seg` whole.
// Only bytes whose mapping is known (on this segment or an earlier one) are judged.
inline std::optional<wire::TcpRepr> Connection::TrimBeyondWindow(const Subflow& s,
                                                                 const wire::TcpRepr& seg,
                                                                 const ParsedOptions& o) {
  if (!mptcp() || !remote_key_ || seg.payload.empty() || seg.has_flag(wire::TcpFlag::kSyn)) {
    return std::nullopt;
  }
  // After our MP_FAIL everything is taken and discarded: the peer's infinite mapping comes on
  // a data segment, which a closed data-level window must not hold back.
  if (rx_failing()) return std::nullopt;
  SeqNum32 m_ssn;
  Dsn64 m_dsn;
  uint32_t m_len;
  if (o.dss && o.dss->mapping && o.dss->mapping->data_len > 0) {
    const wire::DssMapping& dm = *o.dss->mapping;
    m_ssn = s.AbsoluteRxSsn(dm.subflow_seq);
    m_dsn = dm.dsn_is_64bit ? dm.dsn : ExpandDsn32(static_cast<uint32_t>(dm.dsn), rcv_data_nxt_);
    m_len = dm.data_len - (o.dss->data_fin ? 1u : 0u);
  } else if (o.mpc && o.mpc->data_len && s.kind == SubflowKind::kInitial) {
    m_ssn = s.AbsoluteRxSsn(1);  // RFC 8684 §3.1: the first data byte is DSN IDSN + 1
    m_dsn = remote_idsn_ + 1;
    m_len = *o.mpc->data_len;
  } else if (const RxMapping* m = s.rx.Find(seg.seq)) {
    m_ssn = m->ssn;
    m_dsn = m->dsn;
    m_len = m->len;
  } else {
    return std::nullopt;
  }
  if (!SeqInRange(seg.seq, m_ssn, m_ssn + m_len)) return std::nullopt;
  const uint32_t into = static_cast<uint32_t>(seg.seq - m_ssn);
  const Dsn64 first = m_dsn + into;
  const size_t mapped = std::min<size_t>(seg.payload.size(), m_len - into);
  if (first + mapped <= rcv_wnd_edge_) return std::nullopt;
  const size_t keep = first < rcv_wnd_edge_ ? static_cast<size_t>(rcv_wnd_edge_ - first) : 0;
  mib_.rcv_window_trim += seg.payload.size() - keep;
  wire::TcpRepr t = seg;
  t.payload = seg.payload.first(keep);
  t.flags &= static_cast<uint8_t>(~wire::TcpFlag::kFin);
  return t;
}

// A subflow's TCP state changed on this segment: finish the MPTCP side of the handshake.
inline Disposition Connection::OnHandshakeDone(Timestamp now, Subflow& s, tcp::TcpState before,
                                               const wire::TcpRepr& seg,
                                               const ParsedOptions& o) {
  const tcp::TcpState st = s.engine.state();
  const bool now_established = st == tcp::TcpState::kEstablished ||
                               st == tcp::TcpState::kCloseWait ||
                               st == tcp::TcpState::kFinWait1;
  const bool was_handshaking =
      before == tcp::TcpState::kSynSent || before == tcp::TcpState::kSynReceived;
  if (!was_handshaking || !now_established) return Disposition::Accepted();

  if (s.kind == SubflowKind::kJoin) {
    if (s.initiator) {
      // Our third ACK carries MP_JOIN with the full HMAC; resend it until acknowledged.
      s.join_ack_pending = true;
      s.join_ack_timer.Arm(now + std::max(s.engine.rtt().rto(), config_.signal_retransmit));
      return Disposition::Accepted();
    }
    // RFC 8684 §3.2: the third ACK's HMAC is HMAC(Key-A || Key-B, R-A || R-B).
    const auto expected = crypto::JoinAckHmac(*remote_key_, local_key_, s.remote_nonce,
                                              s.local_nonce);
    if (!o.join_ack || o.join_ack->hmac != expected) {
      ++mib_.mp_join_ack_hmac_failure;
      ResetSubflow(s, wire::MpTcpRstReason::kMptcpSpecific);
      return Disposition::Reset("join third ACK HMAC mismatch");
    }
    ++mib_.mp_join_ack_rx;
    s.fully_established = true;
    s.engine.RequestAck();  // the fourth ACK, which lets the initiator send data
    return Disposition::Accepted();
  }

  // The initial subflow.
  (void)seg;
  if (role_ == Role::kServer && mptcp()) {
    // RFC 8684 §3.1: the third ACK (or the first data) echoes both keys.
    if (o.mpc && o.mpc->sender_key && o.mpc->receiver_key == local_key_) {
      TakeClientKey(now, s, *o.mpc);
    } else if (!o.any) {
      ++mib_.mp_capable_fallback_ack;
      EnterFallback(now);
    }
    // (MPTCP options without the key: the third ACK was lost and a later segment came
    // first; the MP_CAPABLE on the client's first data brings the key.)
    if (mptcp()) return Disposition::Accepted();
  }
  OnInitialSubflowUp(now, s);
  return Disposition::Accepted();
}

inline void Connection::TakeClientKey(Timestamp now, Subflow& s, const wire::MpCapable& mpc) {
  remote_key_ = *mpc.sender_key;
  remote_token_ = crypto::KeyToken(*remote_key_);
  remote_idsn_ = crypto::KeyIdsn(*remote_key_);
  rcv_data_nxt_ = remote_idsn_ + 1;
  // The client may send as far as its window from our SYN-ACK reaches (Linux sets its
  // data-level window end from the subflow's send window when the connection is established).
  rcv_wnd_edge_ = rcv_data_nxt_ + s.engine.window_peer_holds();
  fully_established_ = true;
  ++mib_.mp_capable_ack_rx;
  OnInitialSubflowUp(now, s);
  // Tell the client at once that we have its key (a DSS makes it fully established, RFC 8684
  // §3.1), so it may open subflows even before either side sends data.
  s.engine.RequestAck();
}

inline void Connection::OnInitialSubflowUp(Timestamp now, Subflow& s) {
  s.fully_established = true;
  data_wnd_end_ = std::max(data_wnd_end_, data_una_ + s.engine.snd_wnd());
  last_data_progress_ = now;
  MarkEstablished(now);
}

inline void Connection::OnDss(Timestamp now, Subflow& s, const wire::TcpRepr& seg,
                              const wire::Dss& dss) {
  // RFC 8684 §3.1: the client is fully established once any DSS arrives from the server.
  if (role_ == Role::kClient && !fully_established_ && remote_key_) fully_established_ = true;
  if (s.kind == SubflowKind::kInitial && !s.fully_established) s.fully_established = true;
  if (dss.data_ack) {
    data_ack_seen_ = true;
    // RFC 8684 §3.3.1: a 4-octet DATA_ACK is the low half of the 64-bit value.
    const Dsn64 ack = dss.data_ack->is_64bit ? dss.data_ack->value
                                             : ExpandDsn32(static_cast<uint32_t>(dss.data_ack->value), data_una_);
    // RFC 8684 §3.3.4: the window is relative to DATA_ACK, scaled by this subflow's factor.
    OnDataAck(now, ack, uint64_t{seg.window} << s.engine.snd_wscale());
  }
  if (dss.mapping) {
    const wire::DssMapping& m = *dss.mapping;
    if (!remote_key_ && !m.dsn_is_64bit) return;  // cannot expand yet (segment was dropped)
    const Dsn64 dsn = m.dsn_is_64bit ? m.dsn : ExpandDsn32(static_cast<uint32_t>(m.dsn), rcv_data_nxt_);
    if (m.data_len == 0) {
      // RFC 8684 §3.3.1 / §3.7: an infinite mapping: the peer fell back.
      ++mib_.infinite_map_rx;
      if (rx_failing()) {
        // The answer to our MP_FAIL: the stream resumes at this subflow byte
        // (DrainAfterMpFail).
        fail_->rx_infinite = InfiniteMapping{s.AbsoluteRxSsn(m.subflow_seq), dsn};
        return;
      }
      if (FallbackPossible()) EnterFallback(now);
      return;
    }
    AddRxMapping(now, s, dsn, m.subflow_seq, m.data_len, dss.data_fin, m.checksum);
  }
}

inline void Connection::AddRxMapping(Timestamp now, Subflow& s, Dsn64 dsn, uint32_t rel_ssn, uint16_t wire_len,
                                     bool data_fin, std::optional<uint16_t> checksum) {
  // RFC 8684 §3.3.3: a DATA_FIN takes one octet of the data-level length; a DATA_FIN alone
  // has length 1 and subflow sequence number 0.
  const uint32_t data_len = wire_len - (data_fin ? 1u : 0u);
  // After our MP_FAIL the peer's mappings only describe bytes we discard (connection_fail.h
  // walks them to learn where its stream stands); its DATA_FIN comes again as a FIN.
  if (data_fin && !rx_failing()) {
    const Dsn64 fin_dsn = dsn + data_len;
    if (!remote_data_fin_dsn_ || *remote_data_fin_dsn_ != fin_dsn) remote_data_fin_dsn_ = fin_dsn;
  }
  if (data_len == 0) {
    CheckRemoteDataFin(now);
    return;
  }
  RxMapping m;
  m.ssn = s.AbsoluteRxSsn(rel_ssn);
  m.dsn = dsn;
  m.len = data_len;
  m.checksum = checksum_ ? checksum : std::nullopt;
  m.data_fin = data_fin;
  m.wire_len = wire_len;
  m.relative_ssn = rel_ssn;
  // Mappings for data already delivered are of no use (a retransmission's repeat).
  if (m.ssn_end() <= s.engine.read_seq() && !data_fin) return;
  switch (s.rx.Add(m)) {
    case RxMappings::AddResult::kAdded:
    case RxMappings::AddResult::kDuplicate:
      break;
    case RxMappings::AddResult::kConflict:
      ++mib_.dss_not_matching;
      break;
    case RxMappings::AddResult::kFull:
      ++mib_.rx_mapping_table_full;
      break;
  }
}

inline void Connection::OnDataAck(Timestamp now, Dsn64 ack, uint64_t window) {
  // snd_data_nxt_ counts the DATA_FIN once it is queued.
  if (ack > snd_data_nxt_) return;  // acknowledges data never sent: ignore (RFC 8684 §3.3.2)
  // RFC 8684 §3.3.4: the edge is DATA_ACK + window, whichever is newer; an older DATA_ACK may
  // still carry a newer edge (a receiver holding DATA_ACK back to keep its window, see
  // rcv_window.h). The edge only moves right.
  data_wnd_end_ = std::max(data_wnd_end_, ack + window);
  if (ack <= data_una_) return;
  const Dsn64 data_end = data_una_ + send_buffer_.size();
  const uint64_t n = std::min(ack, data_end) - data_una_;
  send_buffer_.Consume(n);
  data_una_ = ack;
  if (data_fin_dsn_ && ack > *data_fin_dsn_) Advance(now, StateInput::kDataFinAcked);
  last_data_progress_ = now;
  data_rto_backoff_ = 0;
  for (auto& s : subflows_) s->tx.Prune(s->engine.snd_una(), data_una_);
  if (write_blocked_ && send_buffer_.free_space() > 0) {
    write_blocked_ = false;
    PushEvent(Event{.type = EventType::kWritable});
  }
}

inline void Connection::OnSignals(Timestamp now, Subflow& s, const ParsedOptions& o) {
  if (o.add_addr && remote_key_) {
    const wire::AddAddr& a = *o.add_addr;
    if (a.echo) {
      ++mib_.echo_add;
      // The peer confirms our announcement: stop resending it.
      for (auto it = add_addr_.begin(); it != add_addr_.end(); ++it) {
        if (!it->echo && it->id == a.address_id) {
          add_addr_.erase(it);
          break;
        }
      }
    } else {
      // RFC 8684 §3.4.1: HMAC(Key-A || Key-B, Address ID || Address || Port), A the sender.
      const uint64_t expected =
          crypto::AddAddrHmac(*remote_key_, local_key_, a.address_id, a.address, a.port);
      if (!a.hmac || *a.hmac != expected) {
        ++mib_.add_addr_hmac_failure;
      } else {
        ++mib_.add_addr;
        if (role_ == Role::kClient && !fully_established_) fully_established_ = true;
        const SocketAddress addr{a.address, a.port.value_or(0)};
        // RFC 8684 §3.4.1: an ADD_ADDR is resent until echoed, so the same announcement may
        // arrive twice (our echo was lost, or crossed the resend). Echo every copy, but tell
        // the application once: a second event would open a second subflow to the address.
        // An ID announced again with a different address replaces the old one.
        auto known = std::find_if(remote_addrs_.begin(), remote_addrs_.end(),
                                  [&](const IdAddress& r) { return r.id == a.address_id; });
        if (known != remote_addrs_.end() && known->address == addr) {
          ++mib_.dup_add_addr;
        } else {
          if (known != remote_addrs_.end()) {
            known->address = addr;
          } else {
            remote_addrs_.push_back(IdAddress{a.address_id, addr});  // IDs are 8 bits: bounded
          }
          PushEvent(Event{.type = EventType::kAddressAnnounced,
                          .address_id = a.address_id,
                          .address = addr});
          NotifyPathManager(PmEvent{.type = PmEvent::Type::kAddressAnnounced,
                                    .address_id = a.address_id,
                                    .address = addr});
        }
        const bool echo_pending = std::any_of(
            add_addr_.begin(), add_addr_.end(),
            [&](const PendingAddAddr& p) { return p.echo && p.id == a.address_id; });
        if (!echo_pending) add_addr_.push_back(PendingAddAddr{a.address_id, addr, true, 0, now});
      }
    }
  }
  if (o.remove_addr) {
    for (uint8_t id : o.remove_addr->address_ids()) {
      // Only IDs we know of (announced, or used by a subflow) are news; an unknown ID changes
      // nothing and is not counted. Linux counts RmAddr per removed ID.
      bool known = std::erase_if(remote_addrs_, [id](const IdAddress& r) { return r.id == id; }) > 0;
      for (const auto& sub : subflows_) known |= sub->remote_id == id && sub->alive();
      if (!known) continue;
      ++mib_.rm_addr;
      PushEvent(Event{.type = EventType::kAddressRemoved, .address_id = id});
      NotifyPathManager(PmEvent{.type = PmEvent::Type::kAddressRemoved, .address_id = id});
      // RFC 8684 §3.4.2: subflows using the removed address are closed (the last one stays:
      // the connection needs a subflow to go on).
      for (auto& sub : subflows_) {
        if (sub->remote_id == id && sub->alive() &&
            !(sub->kind == SubflowKind::kInitial && id == 0 && subflows_.size() == 1)) {
          sub->withdrawn = true;
          ResetSubflow(*sub, wire::MpTcpRstReason::kUnspecified);
        }
      }
    }
  }
  if (o.prio) {
    // RFC 8684 §3.3.8: the peer asks us to use this subflow as a backup (or not).
    ++mib_.mp_prio_rx;
    s.backup_remote = o.prio->backup;
  }
  // RFC 8684 §3.7: the peer saw a checksum failure at o.fail->dsn.
  if (o.fail) OnMpFail(now, s, o.fail->dsn);
}

// Moves the subflow's in-order bytes to the connection through its mappings.
inline void Connection::DrainSubflow(Timestamp now, Subflow& s) {
  if (!mptcp()) {
    // Plain TCP after fallback: the subflow stream is the data stream.
    while (s.engine.readable() > 0 && recv_buffer_.window() > 0) {
      const auto pieces = s.engine.PeekReadable(recv_buffer_.window());
      Deliver(rcv_data_nxt_, pieces);
      s.engine.Consume(pieces.size());
    }
    if (s.engine.eof() && !remote_fin_done_) {
      remote_fin_done_ = true;
      PushEvent(Event{.type = EventType::kReadable});
      Advance(now, StateInput::kPeerDataFin);
    }
    return;
  }
  if (!remote_key_) return;
  if (rx_failing()) {
    DrainAfterMpFail(now, s);
    return;
  }
  for (int guard = 0; guard < 1024 && s.engine.readable() > 0; ++guard) {
    const SeqNum32 r = s.engine.read_seq();
    const RxMapping* m = s.rx.Find(r);
    if (m == nullptr) {
      // In-order data that no mapping covers (RFC 8684 §3.3.1 requires one). On the only
      // subflow, before any mapped data arrived, the path strips options: take it as the
      // infinite mapping of a fallback (§3.7). Later it is a protocol error, never data.
      const bool continues = !rx_mapped_ever_ || (r == rx_mapped_end_ssn_ &&
                                                   rx_mapped_end_dsn_ == rcv_data_nxt_);
      if (FallbackPossible() && continues) {
        ++mib_.dss_no_match_tcp;
        EnterFallback(now);
        DrainSubflow(now, s);
      } else {
        ++mib_.dss_no_match_tcp;
        ResetSubflow(s, wire::MpTcpRstReason::kMptcpSpecific);
      }
      return;
    }
    if (!DeliverMapped(now, s, *m)) break;
  }
  s.rx.PruneBefore(s.engine.read_seq());
  CheckRemoteDataFin(now);
}

// Delivers what the subflow has of mapping m from its read position. False when it must wait
// (the whole mapping is needed to verify its checksum).
inline bool Connection::DeliverMapped(Timestamp now, Subflow& s, const RxMapping& m) {
  const SeqNum32 r = s.engine.read_seq();
  const uint32_t offset = static_cast<uint32_t>(r - m.ssn);
  size_t avail = std::min<size_t>(s.engine.readable(), m.len - offset);
  // Bytes the receive buffer has no room for stay in the subflow (which acknowledged them)
  // until the application reads: never dropped. Only a peer sending beyond our window (and
  // past TrimBeyondWindow, e.g. with a mapping that came late) gets here.
  const Dsn64 dsn = m.dsn + offset;
  const Dsn64 room_end = rcv_data_nxt_ + recv_buffer_.window();
  const size_t need = m.checksum ? m.len - offset : avail;  // a checksummed mapping goes whole
  if (dsn + need > room_end) {
    const size_t fits = dsn < room_end ? static_cast<size_t>(room_end - dsn) : 0;
    rx_held_ = true;
    if (fits == 0 || m.checksum) return false;
    avail = std::min(avail, fits);
  }
  if (m.checksum) {
    // RFC 8684 §3.3.1: the checksum covers the whole mapping; deliver only once it verifies.
    if (offset != 0 || s.engine.readable() < m.len) return false;
    const auto pieces = s.engine.PeekReadable(m.len);
    wire::InternetChecksum sum;
    sum.Add(pieces.first);
    sum.Add(pieces.second);
    if (!wire::VerifyDssChecksumFromPayloadSum(m.dsn, m.relative_ssn, m.wire_len, sum,
                                               *m.checksum)) {
      // RFC 8684 §3.7: the corrupted bytes are never delivered (connection_fail.h).
      OnChecksumFailure(now, s, m);
      return false;
    }
  }
  const auto pieces = s.engine.PeekReadable(avail);
  Deliver(m.dsn + offset, pieces);
  s.engine.Consume(avail);
  rx_mapped_ever_ = true;
  rx_mapped_end_ssn_ = r + static_cast<uint32_t>(avail);
  rx_mapped_end_dsn_ = m.dsn + offset + avail;
  return true;
}

// Places bytes with data sequence number `dsn` into the connection's reassembly buffer.
inline void Connection::Deliver(Dsn64 dsn, const RecvBuffer::Pieces& data) {
  bool duplicate = false;  // Linux's DuplicateData counts deliveries holding old data
  bool advanced = false;
  bool out_of_order = false;
  for (std::span<const uint8_t> piece : {data.first, data.second}) {
    if (piece.empty()) continue;
    const Dsn64 end = dsn + piece.size();
    if (end <= rcv_data_nxt_) {  // all old: a reinjected or retransmitted copy
      duplicate = true;
      dsn = end;
      continue;
    }
    if (dsn < rcv_data_nxt_) {
      const size_t skip = static_cast<size_t>(rcv_data_nxt_ - dsn);
      duplicate = true;
      piece = piece.subspan(skip);
      dsn = rcv_data_nxt_;
    }
    // Offsets are relative to RCV.NXT at the data level, which moves with each write.
    const uint64_t offset = dsn - rcv_data_nxt_;
    if (offset >= recv_buffer_.capacity()) {
      mib_.rcv_window_drop += piece.size();  // beyond the window we advertised
      dsn = end;
      continue;
    }
    const auto w = recv_buffer_.Write(static_cast<size_t>(offset), piece);
    if (w.rejected_too_many_ranges) mib_.rcv_window_drop += piece.size();
    else if (w.accepted < piece.size()) mib_.rcv_window_drop += piece.size() - w.accepted;
    out_of_order |= offset > 0;
    rcv_data_nxt_ += w.advanced;
    advanced |= w.advanced > 0;
    dsn = end;
  }
  if (out_of_order) ++mib_.ofo_queue;
  if (duplicate) ++mib_.duplicate_data;
  if (advanced) PushEvent(Event{.type = EventType::kReadable});
}

inline void Connection::CheckRemoteDataFin(Timestamp now) {
  if (remote_fin_done_ || !remote_data_fin_dsn_ || rcv_data_nxt_ != *remote_data_fin_dsn_) return;
  // RFC 8684 §3.3.3: the DATA_FIN occupies one octet of data sequence space.
  rcv_data_nxt_ += 1;
  remote_fin_done_ = true;
  PushEvent(Event{.type = EventType::kReadable});
  if (Subflow* s = BestSubflowForSignal()) s->engine.RequestAck();  // DATA_ACK it
  Advance(now, StateInput::kPeerDataFin);
}

// After our fallback, a DSS mapping may still arrive (sent before the peer fell back too); it
// must agree with reading the subflow as the plain stream.
inline bool Connection::FallbackConsistent(const Subflow& s, const wire::TcpRepr& seg,
                                           const wire::DssMapping& m) const {
  if (!remote_key_) return true;
  const SeqNum32 ssn = s.AbsoluteRxSsn(m.subflow_seq);
  if (ssn < fallback_base_ssn_) return true;  // data from before the fallback point
  const Dsn64 dsn = m.dsn_is_64bit ? m.dsn
                                   : ExpandDsn32(static_cast<uint32_t>(m.dsn), rcv_data_nxt_);
  (void)seg;
  return dsn == fallback_base_dsn_ + static_cast<uint32_t>(ssn - fallback_base_ssn_);
}

inline void Connection::EnterFallback(Timestamp now) {
  if (fallen_back()) return;
  mode_ = ConnectionMode::kFallback;
  PushEvent(Event{.type = EventType::kFellBackToTcp});
  // Joins still in their handshake cannot live on without MPTCP.
  for (auto& s : subflows_) {
    if (s->kind == SubflowKind::kJoin && s->alive()) s->engine.Abort();
  }
  for (auto& s : subflows_) {
    s->engine.set_external_send_window(false);
    s->engine.set_advertised_window_override(std::nullopt);
    s->fully_established = true;
    s->rx.clear();
    if (s->kind == SubflowKind::kInitial) {
      // From here the subflow's bytes are the data stream: byte read_seq is DSN rcv_data_nxt_.
      fallback_base_ssn_ = s->engine.read_seq();
      fallback_base_dsn_ = rcv_data_nxt_;
    }
  }
  // A DATA_FIN queued but not acknowledged becomes the subflow's FIN.
  if (data_fin_dsn_ && !DataFinAcked()) {
    snd_data_nxt_ = *data_fin_dsn_;
    data_fin_dsn_.reset();
  }
  // Data already handed to the subflow continues the same byte stream; what the connection
  // still holds goes out as plain TCP. (During a handshake, Established follows it.)
  if (established_) return;
  for (auto& s : subflows_) {
    if (tcp::IsSynchronized(s->engine.state())) MarkEstablished(now);
  }
}

// Resets one subflow (RST with MP_TCPRST, RFC 8684 §3.6); the connection carries on.
inline void Connection::ResetSubflow(Subflow& s, wire::MpTcpRstReason reason) {
  if (!s.alive()) return;
  s.rst_reason = wire::MpTcpRst{0, static_cast<uint8_t>(reason)};
  ++mib_.mp_rst_tx;
  s.engine.Abort();
}

inline void Connection::ResetConnection(Timestamp now, CloseReason reason, bool fastclose) {
  for (auto& s : subflows_) {
    if (!s->alive()) continue;
    s->fastclose = fastclose && remote_key_.has_value();
    if (s->fastclose) ++mib_.mp_fastclose_tx;
    s->engine.Abort();
  }
  Advance(now, StateInput::kReset, reason);
}

inline void Connection::Advance(Timestamp now, StateInput in, CloseReason reason) {
  const ConnectionState next = NextState(state_, in);
  if (next == state_) return;
  state_ = next;
  if (next != ConnectionState::kClosed) return;
  close_reason_ = reason;
  if (in != StateInput::kReset && mptcp()) {
    // RFC 8684 §3.3.3: with both DATA_FINs acknowledged the connection is closed. The
    // subflows go on their own: a FIN each, or a RST for those that cannot finish one (stale,
    // half open); whatever is still open after the close timeout is reset (Linux:
    // net.mptcp.close_timeout).
    for (auto& s : subflows_) {
      if (!s->alive()) continue;
      if (s->stale || !tcp::IsSynchronized(s->engine.state())) {
        ResetSubflow(*s, wire::MpTcpRstReason::kUnspecified);
        continue;
      }
      s->engine.Close(now);
    }
    close_timer_.Arm(now + config_.close_timeout);
  }
  PushEvent(Event{.type = EventType::kClosed, .subflow = 0, .reason = reason});
}

inline void Connection::Abort(Timestamp now) {
  app_closed_ = true;
  ResetConnection(now, CloseReason::kAborted, mptcp());
  AfterApiCall(now);
}

}  // namespace mptcp

#endif  // MPTCP_CONNECTION_INPUT_H_
