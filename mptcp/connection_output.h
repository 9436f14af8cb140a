// Connection's output path: the scheduler handing data to subflows within the shared window
// (RFC 8684 §3.3.4), the MPTCP options each segment carries (MP_CAPABLE, MP_JOIN, DSS with
// DATA_ACK / mapping / DATA_FIN, ADD_ADDR, REMOVE_ADDR, MP_PRIO, MP_TCPRST, MP_FASTCLOSE),
// reinjection (§3.3.6), the close sequence (§3.3.3) and the connection's timers. Included by
// connection.h; not a standalone header.
#ifndef MPTCP_CONNECTION_OUTPUT_H_
#define MPTCP_CONNECTION_OUTPUT_H_

#ifndef MPTCP_CONNECTION_H_
#error "include mptcp/connection.h instead"
#endif

namespace mptcp {

// Option space the engine keeps free on data segments for the largest DSS: DATA_ACK (8) and a
// mapping with 8-octet DSN and checksum: 4 + 8 + 8 + 4 + 2 + 2 = 28 (RFC 8684 §3.3).
inline constexpr size_t kDssReserve = 28;

// The most payload a GSO super-segment carries: an IPv4 packet of 65,535 bytes with a 60-byte
// TCP header (IPv6's payload length leaves 20 bytes more).
inline constexpr uint64_t kMaxGsoPayload = 65535 - 20 - 60;

struct Connection::OutOptions {
  std::array<uint8_t, 40> buf{};
  size_t len = 0;
  int add_addr_index = -1;  // which add_addr_ entry went out
  bool remove_addr = false;
  bool mp_prio = false;
  bool mp_fail = false;
  bool mpc = false;
  // The data-level right edge this segment advertises (committed once it is sent).
  std::optional<Dsn64> window_edge;
  bool data_ack_held = false;

  std::span<const uint8_t> bytes() const { return {buf.data(), len}; }
  size_t room() const { return buf.size() - len; }
  template <typename T>
  bool Add(const T& option) {
    auto n = wire::EmitMptcpOption(option, std::span<uint8_t>(buf).subspan(len));
    if (!n.ok()) return false;
    len += *n;
    return true;
  }
};

inline void Connection::AnnounceAddress(Timestamp now, uint8_t address_id,
                                        const SocketAddress& address) {
  for (auto& a : add_addr_) {
    if (!a.echo && a.id == address_id) return;
  }
  local_ids_.emplace_back(address_id, address.ip);
  if (address.port != 0 && address.port != initial_local_.port) {
    announced_ports_.push_back(IdAddress{address_id, address});
  }
  add_addr_.push_back(PendingAddAddr{address_id, address, false, 0, now});
  if (Subflow* s = BestSubflowForSignal(); s != nullptr && mptcp()) s->engine.RequestPureAck();
  AfterApiCall(now);
}

inline void Connection::WithdrawAddress(Timestamp now, uint8_t address_id) {
  Withdraw(now, address_id, /*send_remove_addr=*/true);
}

inline void Connection::Withdraw(Timestamp now, uint8_t address_id, bool send_remove_addr) {
  // Bounded: IDs are 8 bits and one REMOVE_ADDR carries them all; a repeat adds nothing.
  if (send_remove_addr && std::find(remove_addr_.begin(), remove_addr_.end(), address_id) ==
                              remove_addr_.end()) {
    remove_addr_.push_back(address_id);
  }
  for (auto it = add_addr_.begin(); it != add_addr_.end();) {
    it = (!it->echo && it->id == address_id) ? add_addr_.erase(it) : it + 1;
  }
  std::erase_if(announced_ports_, [&](const IdAddress& a) { return a.id == address_id; });
  for (auto& s : subflows_) {
    if (s->local_id == address_id && s->alive() && address_id != 0) {
      ++mib_.rm_subflow;
      s->withdrawn = true;
      ResetSubflow(*s, wire::MpTcpRstReason::kUnspecified);
    }
  }
  if (Subflow* s = BestSubflowForSignal()) s->engine.RequestPureAck();
  AfterApiCall(now);
}

inline bool Connection::SetBackup(Timestamp now, SubflowId id, bool backup) {
  Subflow* s = FindSubflow(id);
  if (s == nullptr || !s->alive()) return false;
  s->backup_local = backup;
  if (mptcp()) {
    s->send_mp_prio = true;
    s->engine.RequestPureAck();
  }
  coupling_.Update(subflows_, mptcp());  // a backup leaves the coupling while a regular lives
  AfterApiCall(now);
  return true;
}

// A subflow that can carry a signal (ADD_ADDR, DATA_FIN, a window update) on an ACK.
inline bool CanCarrySignal(const Subflow& s) {
  return s.fully_established && tcp::IsSynchronized(s.engine.state()) &&
         s.engine.state() != tcp::TcpState::kTimeWait;
}

inline Subflow* Connection::BestSubflowForSignal() {
  // Preference: not stale, then not a backup (RFC 8684 §3.3.8: a backup stays idle, as a
  // cellular radio should, while a regular subflow can carry the ACK), then the lowest RTT.
  const auto rank = [](const Subflow& s) { return (s.stale ? 2 : 0) + (s.backup() ? 1 : 0); };
  Subflow* best = nullptr;
  for (auto& s : subflows_) {
    if (!CanCarrySignal(*s)) continue;
    if (best == nullptr || rank(*s) < rank(*best) ||
        (rank(*s) == rank(*best) && s->engine.rtt().srtt() < best->engine.rtt().srtt())) {
      best = s.get();
    }
  }
  return best;
}

// The DATA_ACK and window segment `tx` advertises (rcv_window.h), set as the subflow's window.
// RFC 8684 §3.3.4: every subflow advertises the connection's window, relative to DATA_ACK.
inline WindowAdvert Connection::PlanWindow(Subflow& s, const tcp::Transmission& tx,
                                          bool data_ack) {
  const bool syn = tx.kind == tcp::TxKind::kSyn || tx.kind == tcp::TxKind::kSynAck;
  WindowAdvert w;
  if (!remote_key_) {
    // Before the peer's key (hence DSNs) is known: the SYN-ACK offers the buffer.
    w.window = std::min<uint64_t>(config_.recv_buffer, 0xffff);
  } else {
    const Dsn64 read_upto = rcv_data_nxt_ - recv_buffer_.readable() - (remote_fin_done_ ? 1 : 0);
    WindowInputs in;
    in.rcv_nxt = rcv_data_nxt_;
    in.edge = std::max(rcv_wnd_edge_, rcv_data_nxt_);
    // After our MP_FAIL, bytes discarded count as read (connection_fail.h).
    const uint64_t discarded = rx_failing() ? fail_->rx_discarded : 0;
    in.buffer_edge = read_upto + discarded + config_.recv_buffer;
    in.hard_edge = read_upto + discarded + recv_buffer_.capacity();
    in.scale = syn ? 0 : s.engine.rcv_wscale();  // RFC 7323 §2.2: a SYN's window is not scaled
    in.max_window = uint64_t{0xffff} << in.scale;
    in.peer_keeps = syn ? 0 : s.engine.WindowPeerKeeps(tx);
    in.final = remote_fin_done_;
    in.no_data_ack = !data_ack;
    w = ChooseWindow(in);
  }
  s.engine.set_advertised_window_override(
      static_cast<uint32_t>(std::min<uint64_t>(w.window, UINT32_MAX)));
  return w;
}

inline bool Connection::CanSchedule() const {
  if (closed() || !established_) return false;
  if (tx_failing()) return false;  // the infinite mapping comes first (connection_fail.h)
  if (mptcp() && !remote_key_) return false;
  return true;
}

inline void Connection::WriteToSubflow(Subflow& s, Dsn64 dsn, uint32_t len) {
  if (dsn < data_una_) return;
  const SeqNum32 ssn = s.engine.write_seq();
  const auto pieces = send_buffer_.Peek(static_cast<size_t>(dsn - data_una_), len);
  size_t written = s.engine.Write(pieces.first);
  if (written == pieces.first.size()) written += s.engine.Write(pieces.second);
  // Without DSS checksums every segment repeats its whole chunk's mapping (BuildOptions), so a
  // chunk's mapping must never change once sent: no extending it with the next chunk.
  if (mptcp()) {
    s.tx.Add(ssn, dsn, static_cast<uint32_t>(written), checksum_ ? kMaxMappingLength : 0);
  }
}

// The scheduler's next decision, without acting on it: the one place that says what data may
// be handed to a subflow now. Schedule() carries decisions out; HasOutput() (hence
// NextDeadline) asks whether there is one. Reinjections come first, then new data within the
// peer's data-level window (RFC 8684 §3.3.4), each chunk to the subflow the scheduler picks
// (with a redundant scheduler, to every subflow in turn); with nothing else to send, an
// opportunistic retransmission may be due.
inline Connection::SchedulePlan Connection::NextChunk() const {
  SchedulePlan plan;
  if (!CanSchedule() || !mptcp()) return plan;
  const Dsn64 data_end = data_una_ + send_buffer_.size();
  SchedulingContext& ctx = plan.context;
  ctx.send_window = data_wnd_end_ > data_una_ ? data_wnd_end_ - data_una_ : 0;
  ctx.window_left = data_wnd_end_ > snd_data_nxt_ ? data_wnd_end_ - snd_data_nxt_ : 0;
  ctx.unsent = data_end > snd_data_nxt_ ? data_end - snd_data_nxt_ : 0;
  ctx.app_limited = WeClosed(state_) || send_buffer_.free_space() > 0;
  for (const DataRange& r : reinject_) {  // the first range not yet acknowledged
    if (r.dsn + r.len <= data_una_) continue;
    ctx.reinjection = true;
    PlanChunk(plan, Chunk::Source::kReinject, std::max(r.dsn, data_una_), r.dsn + r.len);
    return plan;
  }
  // RFC 8684 §3.3.4: nothing beyond DATA_ACK + window.
  const Dsn64 end = std::min(data_end, data_wnd_end_);
  if (scheduler_->redundant()) {
    // Each subflow from where it left off (Subflow::next_dsn), DATA_ACK at least.
    if (PlanChunk(plan, Chunk::Source::kNew, std::nullopt, end)) return plan;
    plan.window_limited = snd_data_nxt_ < data_end && snd_data_nxt_ >= data_wnd_end_;
    return plan;
  }
  const Dsn64 dsn = snd_data_nxt_;
  if (dsn >= data_end) {
    // Everything buffered is in flight. A full send buffer is held up by the oldest data
    // like the peer's window; otherwise the application is slow and a faster subflow
    // idles while the receiver waits for data on a much slower one.
    if (snd_data_nxt_ > data_una_) {
      plan.chunk = PlanOpportunistic(send_buffer_.free_space() != 0);
    }
    return plan;
  }
  if (dsn >= data_wnd_end_) {
    plan.window_limited = true;
    plan.chunk = PlanOpportunistic(false);
    return plan;
  }
  PlanChunk(plan, Chunk::Source::kNew, dsn, end);
  return plan;
}

// Offers the subflows the scheduler may use the data [from, end) (or, with `from` unset, each
// subflow the data from its own next_dsn) and records its pick as plan.chunk. False when it
// picks none.
inline bool Connection::PlanChunk(SchedulePlan& plan, Chunk::Source source,
                                  std::optional<Dsn64> from, Dsn64 end) const {
  std::array<Subflow*, kMaxCandidates> sub{};
  std::array<Dsn64, kMaxCandidates> start{};
  const bool regular_alive = RegularSubflowAlive();
  const size_t reserve = OptionReserve();
  size_t n = 0;
  bool any_room = false;
  for (const auto& sp : subflows_) {
    if (n == plan.candidates.size()) break;
    Subflow& s = *sp;
    if (!SchedulerMayUse(s, regular_alive)) continue;
    const Dsn64 dsn = from ? *from : std::max(s.next_dsn, data_una_);
    const uint64_t avail = end > dsn ? end - dsn : 0;
    const tcp::TcpEngine& e = s.engine;
    const uint32_t room = avail > 0 ? SubflowRoom(s, avail) : 0;
    any_room |= room > 0;
    plan.candidates[n] = SubflowCandidate{.id = s.id,
                                          .srtt = e.rtt().srtt(),
                                          .has_rtt = e.rtt().has_sample(),
                                          .room = room,
                                          .cwnd = e.cwnd(),
                                          .in_flight = e.bytes_in_flight(),
                                          .backup = s.backup(),
                                          .rttvar = e.rtt().rttvar(),
                                          .mss = e.SegmentPayload(reserve),
                                          .queued = static_cast<uint32_t>(e.unsent_bytes()),
                                          .forward_delay = ForwardDelay(s),
                                          .delivery_rate =
                                              e.delivery_rate().bandwidth().value_or(0)};
    sub[n] = &s;
    start[n++] = dsn;
  }
  plan.count = n;
  const std::optional<size_t> pick = scheduler_->Pick(plan.offered(), plan.context);
  if (!pick || *pick >= n || plan.candidates[*pick].room == 0) {
    plan.declined = !pick && any_room;
    return false;
  }
  const SubflowCandidate& c = plan.candidates[*pick];
  const uint64_t avail = end - start[*pick];
  uint64_t len = std::min<uint64_t>({avail, c.room, config_.max_mapping, kMaxMappingLength});
  // Full-sized segments: a segment never spans two mappings (BuildOptions), so a chunk that
  // leaves data behind ends on a segment boundary, else its last segment goes out short. At
  // least one segment (SubflowRoom offers no less unless that ends the data), so it never
  // waits for room it cannot get.
  if (len < avail && c.mss > 0 && len >= c.mss) len -= len % c.mss;
  if (len == 0) return false;
  plan.pick = *pick;
  plan.chunk = Chunk{sub[*pick], nullptr, start[*pick], static_cast<uint32_t>(len), source};
  return true;
}

// Carries out the scheduler's decisions (NextChunk) until it has none.
inline void Connection::Schedule(Timestamp now) {
  if (!CanSchedule()) return;
  if (!mptcp()) {
    PumpFallback(now);
    return;
  }
  for (int guard = 0; guard < 256; ++guard) {
    DropAckedReinjections();
    const SchedulePlan plan = NextChunk();
    if (plan.window_limited) ++mib_.snd_wnd_shared;
    if (!plan.chunk) {
      if (plan.declined) scheduler_->OnWaited(plan.offered(), plan.context);
      return;
    }
    const Chunk& c = *plan.chunk;
    switch (c.source) {
      case Chunk::Source::kNew:
        // RFC 6298 §5.1 in spirit: the data-level timer runs from the first outstanding byte.
        if (snd_data_nxt_ == data_una_) last_data_progress_ = now;
        WriteToSubflow(*c.subflow, c.dsn, c.len);
        // A redundant scheduler hands a subflow data others already had (c.dsn below it).
        snd_data_nxt_ = std::max(snd_data_nxt_, c.dsn + c.len);
        c.subflow->next_dsn = c.dsn + c.len;
        break;
      case Chunk::Source::kReinject: {
        WriteToSubflow(*c.subflow, c.dsn, c.len);
        DataRange& r = reinject_.front();  // NextChunk's range, now at the front
        r.len -= static_cast<uint32_t>(c.dsn + c.len - r.dsn);
        r.dsn = c.dsn + c.len;
        if (r.len == 0) reinject_.pop_front();
        break;
      }
      case Chunk::Source::kOpportunistic:
        or_done_ = true;
        or_dsn_ = data_una_;
        mib_.reinjected_bytes += c.len;
        ++mib_.opportunistic_retrans;
        reinjected_ever_ = true;
        // Penalise the slow subflow: a congestion signal, at most once per its RTT.
        // Only a holder that delivers less than the subflow taking its data over: halving
        // the window of the faster path (a long fat one holding up a window too small for
        // it) would lower the connection's rate, not raise it.
        if (Subflow& h = *c.holder;
            DeliversLess(h, *c.subflow) && (h.last_penalty == Timestamp::Never() ||
                                           now >= h.last_penalty + h.engine.rtt().srtt())) {
          h.last_penalty = now;
          h.engine.Penalize(now);
          ++mib_.penalized;
        }
        WriteToSubflow(*c.subflow, c.dsn, c.len);
        break;
    }
    // An opportunistic retransmission is the connection's own choice, not the scheduler's.
    if (c.source != Chunk::Source::kOpportunistic) {
      scheduler_->OnScheduled(plan.offered(), plan.context, plan.pick, c.len);
    }
  }
}

// Reinjection ranges are trimmed to what DATA_ACK has not covered yet.
inline void Connection::DropAckedReinjections() {
  while (!reinject_.empty()) {
    DataRange& r = reinject_.front();
    if (r.dsn + r.len <= data_una_) {
      reinject_.pop_front();
      continue;
    }
    if (r.dsn < data_una_) {
      r.len -= static_cast<uint32_t>(data_una_ - r.dsn);
      r.dsn = data_una_;
    }
    return;
  }
}

// The shared window is full, and what holds it up is usually the data at DATA_ACK still in
// flight on a slower subflow while a faster one idles. RFC 8684 §3.3.6 lets data go on more
// than one subflow: resend that data on the fastest subflow with room (opportunistic
// retransmission), and penalise the slow one (a congestion signal, at most once per its RTT) so
// that it queues less ahead of the window (Raiciu et al., "How Hard Can It Be? Designing and
// Implementing a Deployable Multipath TCP", NSDI 2012). Once per value of DATA_ACK.
// `app_limited`: nothing holds up the sender but the receiver waits; act only when the holder
// is much slower (twice the RTT), else every slow-path byte would be sent twice.
inline std::optional<Connection::Chunk> Connection::PlanOpportunistic(bool app_limited) const {
  if (or_done_ && or_dsn_ == data_una_) return std::nullopt;
  Subflow* holder = nullptr;
  Dsn64 hol_end = data_una_;
  for (const auto& sp : subflows_) {
    const Subflow& s = *sp;
    for (size_t i = 0; i < s.tx.size() && holder == nullptr; ++i) {
      const TxMapping& m = s.tx[i];
      if (m.dsn > data_una_ || m.dsn_end() <= data_una_) continue;
      // Still unacknowledged on the subflow: in flight (or lost) there, not yet received.
      if (m.ssn + static_cast<uint32_t>(data_una_ - m.dsn) < s.engine.snd_una()) continue;
      holder = sp.get();
      hol_end = m.dsn_end();
    }
    if (holder != nullptr) break;
  }
  if (holder == nullptr) return std::nullopt;
  const bool regular_alive = RegularSubflowAlive();
  Subflow* fast = nullptr;
  uint32_t fast_room = 0;
  for (const auto& sp : subflows_) {
    Subflow& s = *sp;
    if (&s == holder || !SchedulerMayUse(s, regular_alive) || !s.engine.rtt().has_sample()) {
      continue;
    }
    if (s.engine.rtt().srtt() >= holder->engine.rtt().srtt()) continue;
    if (app_limited && s.engine.rtt().srtt() * 2 > holder->engine.rtt().srtt()) continue;
    const uint32_t room = SubflowRoom(s, hol_end - data_una_);
    if (room == 0) continue;
    if (fast == nullptr || s.engine.rtt().srtt() < fast->engine.rtt().srtt()) {
      fast = &s;
      fast_room = room;
    }
  }
  if (fast == nullptr) return std::nullopt;
  const uint32_t len = static_cast<uint32_t>(std::min<uint64_t>(
      {hol_end - data_una_, fast_room, config_.max_mapping, uint64_t{16} * fast->engine.smss()}));
  if (len == 0) return std::nullopt;
  return Chunk{fast, holder, data_una_, len, Chunk::Source::kOpportunistic};
}

// RFC 8684 §3.3.8: backup subflows carry data only when no regular subflow can.
inline bool Connection::RegularSubflowAlive() const {
  for (const auto& s : subflows_) {
    if (s->can_carry_data() && !s->backup()) return true;
  }
  return false;
}

// Stale subflows get no data while another can take it; when every subflow is stale, the
// least bad is still better than sending nothing.
inline bool Connection::SchedulerMayUse(const Subflow& s, bool regular_alive) const {
  if (!s.can_carry_data()) {
    if (!s.stale || !s.fully_established) return false;
    const auto st = s.engine.state();
    if (st != tcp::TcpState::kEstablished && st != tcp::TcpState::kCloseWait) return false;
    for (const auto& o : subflows_) {
      if (o->can_carry_data()) return false;
    }
    return true;
  }
  // Timing out, its data already copied elsewhere: nothing more for it until it gets an ACK
  // (else its cwnd, back to one segment after the RTO, takes the very data reinjected from it).
  if (s.rto_reinjected && OtherDataSubflow(s)) return false;
  return !(s.backup() && regular_alive);
}

// Bytes the scheduler may hand subflow s now: what cwnd allows beyond what is already queued
// on it, within its send buffer; never a sliver below one segment unless that finishes the
// `avail` bytes on offer.
inline uint32_t Connection::SubflowRoom(const Subflow& s, uint64_t avail) const {
  const uint32_t sendable = s.engine.SendableNow();
  const uint32_t queued = static_cast<uint32_t>(s.engine.unsent_bytes());
  uint32_t room = sendable > queued ? sendable - queued : 0;
  room = static_cast<uint32_t>(std::min<size_t>(room, s.engine.send_buffer_free()));
  // What the subflow holds (in flight and unsent) stays within its in-flight limit.
  if (mptcp() && s.engine.send_buffer_free() > 0) {
    const size_t held = s.engine.config().send_buffer - s.engine.send_buffer_free();
    const size_t limit = SubflowInflightLimit(s);
    room = static_cast<uint32_t>(std::min<size_t>(room, limit > held ? limit - held : 0));
  }
  if (room < s.engine.smss() && room < avail) room = 0;
  return room;
}

// A subflow's send buffer holds what it has in flight, so its size caps the subflow's rate at
// buffer / RTT: a fixed size is too little for a long fat path (30 Mbit/s over 100 ms needs
// 375 KB), yet with a larger one loss-based congestion control fills a deep queue and delays
// everything behind it, the other direction's ACKs included. So the limit follows the path:
//
//   limit = max(gain * bandwidth * min_rtt, kMinInflightLimit)
//           + bandwidth * queueing on the way back
//
// The first term is the path's bandwidth-delay product and as much again (gain 2) while the
// subflow ramps up, whose samples lag the rate it is about to reach; a quarter as much again
// (gain 1.25, BBR's probing gain) once its bandwidth has stopped growing (tcp::DeliveryRate's
// full-bandwidth test, BBR's end of startup): that much may queue ahead of the peer. More
// (1.5) let a path whose ACKs come compressed, its rate overestimated, take most of the
// connection's send buffer and starve the other subflows of data. The bandwidth is what the
// subflow delivered per unit of time, which holds whatever limits the sender (cwnd / SRTT does not:
// once this limit holds the subflow back, cwnd means nothing). The second term counts bytes
// delivered already whose ACKs wait in a queue on the way back (tcp::AckPathDelay), behind the
// other direction's data when both directions send on one path: in flight for the sender, yet
// queued nowhere ahead of the peer. Without it each direction's queue starved the other of
// ACKs (the simult_flows BothWays runs, docs/conformance.md). Never above the connection's
// send buffer.
inline size_t Connection::SubflowInflightLimit(const Subflow& s) const {
  const size_t ceiling = std::max(kMinInflightLimit, config_.send_buffer);
  const tcp::DeliveryRate& rate = s.engine.delivery_rate();
  const std::optional<double> bandwidth = rate.bandwidth();  // bytes per second
  if (!bandwidth) return kMinInflightLimit;  // until the first ACK's sample
  const double gain = rate.full_bandwidth_reached() ? 1.25 : 2.0;
  const double min_rtt = s.engine.rtt().min_rtt().seconds();
  const double reverse = QueueingSplit(s).back.seconds();
  const double limit =
      std::max(gain * *bandwidth * min_rtt, static_cast<double>(kMinInflightLimit)) +
      *bandwidth * reverse;
  return static_cast<size_t>(std::min(limit, static_cast<double>(ceiling)));
}

// Whether subflow a delivers less per unit of time than b (unknown counts as less).
inline bool Connection::DeliversLess(const Subflow& a, const Subflow& b) {
  const std::optional<double> ra = a.engine.delivery_rate().bandwidth();
  const std::optional<double> rb = b.engine.delivery_rate().bandwidth();
  return !ra || !rb || *ra < *rb;
}

// SRTT's excess over the minimum RTT, split into the queue on the way back (tcp::AckPathDelay,
// never more than the excess, whatever the peer's clock claims) and the rest, the queue ahead.
inline Connection::Queueing Connection::QueueingSplit(const Subflow& s) {
  const tcp::TcpEngine& e = s.engine;
  const Duration excess = std::max(Duration::Zero(), e.rtt().srtt() - e.rtt().min_rtt());
  const Duration back = std::min(e.ack_path().queueing(), excess);
  return Queueing{.ahead = excess - back, .back = back};
}

// Half the minimum RTT, plus the queue ahead, plus what the subflow holds unsent at its
// delivery rate. Both halves of the minimum are taken equal (nothing here measures one-way
// delay).
inline Duration Connection::ForwardDelay(const Subflow& s) {
  const tcp::TcpEngine& e = s.engine;
  Duration d = e.rtt().min_rtt() / 2 + QueueingSplit(s).ahead;
  if (const std::optional<double> bw = e.delivery_rate().bandwidth(); bw && *bw > 0) {
    d = d + Duration::Nanos(static_cast<int64_t>(e.unsent_bytes() / *bw * 1e9));
  }
  return d;
}

// Plain TCP after fallback: the one subflow takes what its buffer can; the connection keeps
// nothing in flight. Runs whenever data or buffer space appears, so that NextDeadline() need
// only ask the subflow.
inline void Connection::PumpFallback(Timestamp now) {
  if (mptcp() || !CanSchedule()) return;
  const Dsn64 data_end = data_una_ + send_buffer_.size();
  for (auto& s : subflows_) {
    if (!s->alive()) continue;
    while (snd_data_nxt_ < data_end && s->engine.send_buffer_free() > 0) {
      const uint32_t len = static_cast<uint32_t>(
          std::min<uint64_t>(data_end - snd_data_nxt_, s->engine.send_buffer_free()));
      WriteToSubflow(*s, snd_data_nxt_, len);
      snd_data_nxt_ += len;
    }
    OnDataAck(now, snd_data_nxt_, 0);  // the subflow owns those bytes now
    break;
  }
  MaybeQueueDataFin(now);
}

inline void Connection::MaybeQueueDataFin(Timestamp now) {
  if (!WeClosed(state_) || data_fin_dsn_ || !established_) return;
  if (snd_data_nxt_ != data_una_ + send_buffer_.size()) return;  // data still to hand out
  data_fin_dsn_ = snd_data_nxt_;
  if (!mptcp()) {
    for (auto& s : subflows_) s->engine.Close(now);
    return;
  }
  snd_data_nxt_ += 1;  // RFC 8684 §3.3.3: the DATA_FIN takes one data sequence number
  // RFC 8684 §3.3.3: the DATA_FIN goes out in a DSS (alone: length 1, subflow seq 0) and is
  // resent until DATA_ACKed.
  if (Subflow* s = BestSubflowForSignal()) s->engine.RequestPureAck();
  last_data_progress_ = now;
}

// Builds the MPTCP options for a planned segment, shortening its payload to one mapping.
inline size_t Connection::BuildOptions(Timestamp now, Subflow& s, tcp::Transmission& tx,
                                       OutOptions& out) {
  (void)now;
  WindowAdvert window;
  if (mptcp() && tx.kind != tcp::TxKind::kRst) {
    const bool syn = tx.kind == tcp::TxKind::kSyn || tx.kind == tcp::TxKind::kSynAck;
    // Whether a DSS (with DATA_ACK) goes on this segment: see below.
    const bool dss = !syn && remote_key_ &&
                     !(s.kind == SubflowKind::kJoin && s.initiator && s.join_ack_pending) &&
                     !(s.kind == SubflowKind::kInitial && role_ == Role::kClient &&
                       !fully_established_);
    window = PlanWindow(s, tx, dss);
    // A segment without a DSS still sets the window the peer adds to later DATA_ACKs (and, on
    // an MP_CAPABLE third ACK, to its first data-level window, as Linux does).
    if (remote_key_ && !syn) out.window_edge = window.edge();
  }
  switch (tx.kind) {
    case tcp::TxKind::kSyn:
      if (s.kind == SubflowKind::kInitial) {
        if (mptcp()) {
          // RFC 8684 §3.1: version 1, H (HMAC-SHA256), A when we want checksums; no key.
          out.Add(wire::MpCapable{1, static_cast<uint8_t>(wire::MpCapable::kFlagH |
                                                          (config_.checksum ? wire::MpCapable::kFlagA : 0))});
        }
      } else {
        out.Add(wire::MpJoinSyn{s.backup_local, s.local_id, remote_token_, s.local_nonce});
      }
      return out.len;
    case tcp::TxKind::kSynAck:
      if (s.kind == SubflowKind::kInitial) {
        if (mptcp()) {
          wire::MpCapable m{
              1, static_cast<uint8_t>(wire::MpCapable::kFlagH |
                                      (checksum_ ? wire::MpCapable::kFlagA : 0) |
                                      (config_.deny_join_initial ? wire::MpCapable::kFlagC : 0))};
          m.sender_key = local_key_;
          out.Add(m);
        }
      } else {
        // RFC 8684 §3.2: HMAC(Key-B || Key-A, R-B || R-A), leftmost 64 bits; B is us.
        out.Add(wire::MpJoinSynAck{s.backup_local, s.local_id,
                                   crypto::JoinSynAckHmac(local_key_, *remote_key_, s.local_nonce,
                                                          s.remote_nonce),
                                   s.local_nonce});
      }
      return out.len;
    case tcp::TxKind::kRst:
      if (s.fastclose && remote_key_) out.Add(wire::MpFastclose{*remote_key_});
      if (s.rst_reason) out.Add(*s.rst_reason);
      // RFC 8684 §3.7: a subflow reset for a checksum failure says where (MP_FAIL).
      if (s.mp_fail_tx && mptcp()) out.mp_fail = out.Add(wire::MpFail{*s.mp_fail_tx});
      return out.len;
    default:
      break;
  }
  if (!mptcp()) return BuildInfiniteMappingOptions(s, tx, out);
  if (s.kind == SubflowKind::kJoin && s.initiator && s.join_ack_pending) {
    // RFC 8684 §3.2: the third ACK carries HMAC(Key-A || Key-B, R-A || R-B), 160 bits.
    out.Add(wire::MpJoinAck{crypto::JoinAckHmac(local_key_, *remote_key_, s.local_nonce,
                                                s.remote_nonce)});
    tx.payload_len = 0;
    return out.len;
  }
  if (!remote_key_) return 0;

  std::optional<wire::DssMapping> mapping;
  bool data_fin = false;
  if (tx.payload_len > 0) {
    const TxMapping* m = s.tx.Find(tx.seq);
    // The client's first data carries its mapping in MP_CAPABLE (below): one segment.
    const bool mpc_data =
        s.kind == SubflowKind::kInitial && role_ == Role::kClient && !fully_established_;
    if (m == nullptr || mpc_data) {
      if (tx.segment_size != 0) tx.payload_len = std::min(tx.payload_len, tx.segment_size);
    }
    if (m != nullptr) {
      tx.payload_len = std::min<uint32_t>(tx.payload_len, static_cast<uint32_t>(m->ssn_end() - tx.seq));
      if (mpc_data) {
        // These segments map themselves. Each becomes a mapping of its own, so that its
        // retransmission once the connection is fully established repeats exactly the
        // mapping its original carried: no receiver ever sees a second, larger mapping for
        // bytes it may still be reading under the first (RFC 8684 §3.3.1 allows agreeing
        // overlaps, but Linux holds one mapping at a time and takes a different one over
        // the same bytes as DSSNotMatching).
        s.tx.Split(tx.seq);
        s.tx.Split(tx.seq + tx.payload_len);
        m = s.tx.Find(tx.seq);
      }
      wire::DssMapping dm;
      dm.dsn_is_64bit = true;
      if (!checksum_ && !mpc_data) {
        // The whole chunk's mapping on each of its segments (RFC 8684 §3.3.1 lets a mapping
        // cover several segments): the segments the kernel cuts from a GSO super-segment and
        // any later retransmission of one of them then carry the same mapping, which Linux
        // requires while it is still consuming that mapping (a different one resets the
        // subflow: MPTcpExtDSSNotMatching). With DSS checksums, which cover the mapping's
        // data, and in MP_CAPABLE, each segment maps itself.
        dm.dsn = m->dsn;
        dm.subflow_seq = s.RelativeTxSsn(m->ssn);
        dm.data_len = static_cast<uint16_t>(m->len);
      } else {
        dm.dsn = m->dsn + static_cast<uint32_t>(tx.seq - m->ssn);
        dm.subflow_seq = s.RelativeTxSsn(tx.seq);
        dm.data_len = static_cast<uint16_t>(tx.payload_len);
      }
      if (checksum_) {
        const auto pieces = s.engine.PeekSendData(tx.seq, tx.payload_len);
        wire::InternetChecksum sum;
        sum.Add(pieces.first);
        sum.Add(pieces.second);
        dm.checksum = wire::DssChecksumFromPayloadSum(dm.dsn, dm.subflow_seq, dm.data_len, sum);
      }
      mapping = dm;
    }
    if (tx.payload_len <= tx.segment_size) tx.segment_size = 0;  // no longer a super-segment
  } else if (data_fin_dsn_ && !DataFinAcked()) {
    // RFC 8684 §3.3.3: a DATA_FIN without data: length 1, subflow sequence number 0.
    wire::DssMapping dm;
    dm.dsn = *data_fin_dsn_;
    dm.dsn_is_64bit = true;
    dm.subflow_seq = 0;
    dm.data_len = 1;
    if (checksum_) dm.checksum = wire::DssChecksum(dm.dsn, 0, 1, {});
    mapping = dm;
    data_fin = true;
  }

  // RFC 8684 §3.1: until the server shows it has our key (any DSS from it), the client's
  // segments repeat MP_CAPABLE with both keys; its first data carries the data-level length.
  if (s.kind == SubflowKind::kInitial && role_ == Role::kClient && !fully_established_ &&
      (tx.payload_len == 0 || (mapping && mapping->subflow_seq == 1 && !data_fin))) {
    wire::MpCapable m{1, static_cast<uint8_t>(wire::MpCapable::kFlagH |
                                              (checksum_ ? wire::MpCapable::kFlagA : 0))};
    m.sender_key = local_key_;
    m.receiver_key = *remote_key_;
    if (tx.payload_len > 0) {
      m.data_len = mapping->data_len;
      m.checksum = mapping->checksum;
    }
    out.Add(m);
    out.mpc = true;
    return out.len;
  }

  wire::Dss dss;
  dss.data_ack = wire::DataAck{window.data_ack, true};
  out.data_ack_held = window.data_ack < rcv_data_nxt_;
  dss.mapping = mapping;
  dss.data_fin = data_fin;
  // Signals ride on pure ACKs. An ADD_ADDR that does not fit beside the DSS goes alone (as
  // Linux drops the DSS for it); one that cannot fit at all is given up (IPv6 with a port and an
  // HMAC needs 30 bytes, more than is left next to timestamps).
  const size_t space = tx.payload_len > 0 ? kDssReserve : tx.option_space;
  if (tx.payload_len == 0 && tx.kind == tcp::TxKind::kAck) {
    const size_t dss_len = wire::EncodedLength(wire::MptcpOption{dss});
    for (size_t i = 0; i < add_addr_.size();) {
      PendingAddAddr& a = add_addr_[i];
      if (a.next > now) {
        ++i;
        continue;
      }
      wire::AddAddr opt;
      opt.echo = a.echo;
      opt.address_id = a.id;
      opt.address = a.address.ip;
      if (a.address.port != 0) opt.port = a.address.port;
      if (!a.echo) {
        opt.hmac = crypto::AddAddrHmac(local_key_, *remote_key_, a.id, a.address.ip, opt.port);
      }
      const size_t need = wire::EncodedLength(wire::MptcpOption{opt});
      if (need > space) {
        ++mib_.bad_option;
        add_addr_.erase(add_addr_.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
      out.Add(opt);
      out.add_addr_index = static_cast<int>(i);
      if (need + dss_len > space) return out.len;  // alone
      break;
    }
    if (!remove_addr_.empty()) {
      wire::RemoveAddr r;
      for (uint8_t id : remove_addr_) r.Add(id);
      if (out.len + wire::EncodedLength(wire::MptcpOption{r}) + dss_len <= space) {
        out.Add(r);
        out.remove_addr = true;
      }
    }
    if (s.send_mp_prio && out.len + 3 + dss_len <= space) {
      out.Add(wire::MpPrio{s.backup_local});
      out.mp_prio = true;
    }
    // RFC 8684 §3.7: MP_FAIL goes on every ACK until the peer answers (connection_fail.h).
    if (s.mp_fail_tx && out.len + 12 + dss_len <= space) {
      out.mp_fail = out.Add(wire::MpFail{*s.mp_fail_tx});
    }
  }
  out.Add(dss);
  return out.len;
}

inline void Connection::AfterEmit(Timestamp now, Subflow& s, const OutOptions& out) {
  if (out.window_edge) rcv_wnd_edge_ = std::max(rcv_wnd_edge_, *out.window_edge);
  if (out.data_ack_held) ++mib_.rcv_wnd_shared;
  if (out.add_addr_index >= 0) {
    PendingAddAddr& a = add_addr_[static_cast<size_t>(out.add_addr_index)];
    if (a.echo) {
      ++mib_.echo_add_tx;
      add_addr_.erase(add_addr_.begin() + out.add_addr_index);
    } else {
      ++mib_.add_addr_tx;
      // Resent until echoed (RFC 8684 §3.4.1): every add_addr_timeout, at most
      // add_addr_retrans_max times after the first (Linux's ADD_ADDR timer).
      if (++a.sends > config_.add_addr_retrans_max ||
          config_.add_addr_timeout <= Duration::Zero()) {
        add_addr_.erase(add_addr_.begin() + out.add_addr_index);
      } else {
        a.next = now + config_.add_addr_timeout;
      }
    }
  }
  if (out.remove_addr) {
    ++mib_.rm_addr_tx;
    remove_addr_.clear();
  }
  if (out.mp_fail) {
    ++mib_.mp_fail_tx;  // per option sent, as Linux counts MPFailTx
    // Our echo of the peer's MP_FAIL goes once; our own MP_FAIL rides on every ACK until the
    // infinite mapping comes (connection_fail.h).
    if (!rx_failing()) s.mp_fail_tx.reset();
  }
  if (out.mp_prio) {
    s.send_mp_prio = false;
    ++mib_.mp_prio_tx;
  }
  // More signals due: another pure ACK, but only after progress (no ACK storm when a signal
  // cannot go out).
  if (out.add_addr_index >= 0 || out.remove_addr || out.mp_prio) {
    bool more = !remove_addr_.empty();
    for (const auto& a : add_addr_) more |= a.next <= now;
    if (more) {
      if (Subflow* b = BestSubflowForSignal()) b->engine.RequestPureAck();
    }
  }
}

inline TransmitResult Connection::PollTransmit(Timestamp now, std::span<uint8_t> buf,
                                               size_t gso_max_segments) {
  if (!closed()) {
    Schedule(now);
    MaybeQueueDataFin(now);
  }
  const size_t n = subflows_.size();
  const size_t reserve = OptionReserve();
  // Not with DSS checksums (each segment would need its own mapping), nor while the infinite
  // mapping (one segment's option) is still to be sent after a fallback.
  const bool gso = gso_max_segments > 1 && buf.size() > 60 &&
                   (mptcp() ? !checksum_ : fail_ == nullptr || !fail_->tx_infinite);
  for (size_t k = 0; k < n; ++k) {
    Subflow& s = *subflows_[(rr_cursor_ + k) % n];
    uint32_t gso_max_payload = 0;
    if (gso) {
      gso_max_payload = static_cast<uint32_t>(
          std::min<uint64_t>({buf.size() - 60, kMaxGsoPayload,
                              uint64_t{gso_max_segments} * s.engine.SegmentPayload(reserve)}));
    }
    auto tx = s.engine.NextTransmission(now, reserve, gso_max_payload);
    if (!tx) continue;
    OutOptions opts;
    BuildOptions(now, s, *tx, opts);
    // Header and options take at most 60 bytes (RFC 9293 §3.1).
    const size_t needed = 60 + tx->payload_len;
    if (buf.size() < needed) return TransmitResult::BufferTooSmall(needed);
    const size_t len = s.engine.Emit(now, *tx, opts.bytes(), buf);
    if (len == 0) continue;
    AfterEmit(now, s, opts);
    rr_cursor_ = (rr_cursor_ + k + 1) % n;
    Transmit t;
    t.path = s.engine.tuple();
    t.len = len;
    t.segment_size = static_cast<uint16_t>(tx->segment_size);
    t.subflow = s.id;
    if (!s.alive()) SweepSubflows(now);  // its last segment (a RST) went out: forget it
    return TransmitResult::Packet(t);
  }
  return TransmitResult::Idle();
}

inline void Connection::ReinjectFrom(Subflow& s) {
  if (!mptcp()) return;
  s.tx.ForEachUnacked(data_una_, [this](Dsn64 dsn, uint32_t len) {
    reinject_.push_back(DataRange{dsn, len});
    mib_.reinjected_bytes += len;
    reinjected_ever_ = true;
  });
  // Lowest DSN first: the receiver's hole is at the bottom, whichever subflow failed first.
  const auto by_dsn = [](const DataRange& a, const DataRange& b) { return a.dsn < b.dsn; };
  if (!std::is_sorted(reinject_.begin(), reinject_.end(), by_dsn)) {
    std::stable_sort(reinject_.begin(), reinject_.end(), by_dsn);
  }
}

// Another subflow that can carry data now (a backup counts only when no regular one can).
inline bool Connection::OtherDataSubflow(const Subflow& s) const {
  const bool regular_alive = RegularSubflowAlive();
  for (const auto& o : subflows_) {
    if (o.get() != &s && o->can_carry_data() && o->engine.consecutive_rtos() == 0 &&
        (!o->backup() || !regular_alive || s.backup())) {
      return true;
    }
  }
  return false;
}

inline void Connection::SweepSubflows(Timestamp now) {
  for (auto& sp : subflows_) {
    Subflow& s = *sp;
    if (!s.up_reported && s.fully_established && s.alive()) {
      s.up_reported = true;
      PushEvent(Event{.type = EventType::kSubflowUp, .subflow = s.id});
      NotifyPathManager(SubflowPmEvent(PmEvent::Type::kSubflowUp, s));
    }
    if (mptcp() && s.alive()) {
      // The peer closed this subflow while the connection goes on: close our side too.
      if (s.engine.state() == tcp::TcpState::kCloseWait) s.engine.Close(now);
      // RFC 8684 §3.3.6: a subflow that keeps timing out is stale; move its data elsewhere.
      const int rtos = s.engine.consecutive_rtos();
      if (!s.stale && s.fully_established && rtos >= config_.stale_rto_threshold) {
        s.stale = true;
        ++mib_.subflow_stale;
        // Probed so that it carries data soon after its path returns, while another subflow
        // carries the data meanwhile; not once the connection is closed (it only has its FIN
        // left to finish, within close_timeout), and not as the only subflow (it then backs
        // off as single-path TCP does).
        if (!closed() && OtherDataSubflow(s)) {
          s.engine.SetProbeInterval(now, config_.stale_probe_interval);
        }
        ReinjectFrom(s);
      } else if (s.stale && rtos == 0) {
        s.stale = false;
        s.engine.SetProbeInterval(now, Duration::Zero());
        ++mib_.subflow_recover;
      } else if (!s.stale && s.fully_established && rtos > 0 && !s.rto_reinjected &&
                 OtherDataSubflow(s)) {
        // Its first timeout: do not wait for the subflow to be declared stale, copy what it
        // has outstanding onto the others now (as Linux's MPTCP retransmit timer does after
        // one RTO), so that a path that died costs the receiver one RTO, not several. The
        // subflow keeps retransmitting too; whichever copy arrives first is used.
        s.rto_reinjected = true;
        ++mib_.rto_reinject;
        ReinjectFrom(s);
      }
      if (rtos == 0) s.rto_reinjected = false;
    }
    if (!s.alive() && !s.down_reported) {
      s.down_reported = true;
      NotifySubflowDown(s);
      if (s.up_reported) {
        CloseReason r = CloseReason::kNormal;
        switch (s.engine.close_reason()) {
          case tcp::CloseReason::kReset: r = CloseReason::kReset; break;
          case tcp::CloseReason::kRefused: r = CloseReason::kRefused; break;
          case tcp::CloseReason::kTimeout: r = CloseReason::kTimeout; break;
          case tcp::CloseReason::kAborted: r = CloseReason::kAborted; break;
          default: break;
        }
        PushEvent(Event{.type = EventType::kSubflowDown, .subflow = s.id, .reason = r});
      }
      if (!closed()) ReinjectFrom(s);
      s.tx.clear();
      s.rx.clear();
    }
  }
  FinishIfDone(now);  // before forgetting dead subflows: the last one's death closes the connection
  // Forget subflows that are closed and have nothing left to send (a final RST).
  std::erase_if(subflows_, [this](const std::unique_ptr<Subflow>& s) {
    const bool gone = !s->alive() && s->down_reported && !s->engine.HasOutput();
    if (gone && owner_ != nullptr) owner_->ReleaseTuple(owner_cookie_, s->engine.tuple());
    return gone;
  });
  if (rr_cursor_ >= subflows_.size()) rr_cursor_ = 0;
  coupling_.Update(subflows_, mptcp());
  if (!pm_established_told_ && fully_established_ && established_ && mptcp() && !closed()) {
    pm_established_told_ = true;
    NotifyPathManager(PmEvent{.type = PmEvent::Type::kFullyEstablished});
  }
  MaybeQueueDataFin(now);
}

inline void Connection::FinishIfDone(Timestamp now) {
  if (closed()) return;
  size_t alive = 0;
  size_t open = 0;  // neither closed nor in TIME-WAIT
  tcp::CloseReason last = tcp::CloseReason::kNone;
  for (const auto& s : subflows_) {
    if (s->alive()) ++alive;
    if (s->alive() && s->engine.state() != tcp::TcpState::kTimeWait) ++open;
    if (!s->alive()) last = s->engine.close_reason();
  }
  // After fallback: closed once both FINs are through and no subflow is still exchanging them.
  if (!mptcp() && open == 0 && remote_fin_done_ && data_fin_dsn_.has_value()) {
    Advance(now, StateInput::kFinished);
    return;
  }
  if (alive == 0 && !subflows_.empty()) {
    // Every subflow is gone before a clean close.
    CloseReason r = CloseReason::kReset;
    if (last == tcp::CloseReason::kTimeout) r = CloseReason::kTimeout;
    if (last == tcp::CloseReason::kRefused || !established_) r = CloseReason::kRefused;
    if (last == tcp::CloseReason::kTimeout && !established_) r = CloseReason::kTimeout;
    Advance(now, StateInput::kReset, r);
  }
}

// The data-level timer runs while data or a DATA_FIN is unacknowledged, or while data waits
// behind a closed shared window (then it probes).
inline bool Connection::DataTimerNeeded() const {
  if (closed() || !mptcp() || !established_ || !remote_key_) return false;
  // Waiting to answer MP_FAIL, or discarding until the peer's answer: reinjecting now would
  // end the single-path stream the infinite mapping needs.
  if (tx_failing() || rx_failing()) return false;
  if (snd_data_nxt_ > data_una_ || (data_fin_dsn_ && !DataFinAcked())) return true;
  return data_una_ + send_buffer_.size() > snd_data_nxt_ && snd_data_nxt_ >= data_wnd_end_;
}

inline Duration Connection::DataRto() const {
  Duration worst = config_.data_rto_min;
  for (const auto& s : subflows_) {
    if (s->can_carry_data()) worst = std::max(worst, s->engine.rtt().rto() * 2);
  }
  for (int i = 0; i < data_rto_backoff_ && worst < Duration::Seconds(60); ++i) worst = worst * 2;
  return worst;
}

inline size_t Connection::OptionReserve() const {
  return mptcp() || (fail_ != nullptr && fail_->tx_infinite) ? kDssReserve : 0;
}

inline bool Connection::HasOutput() const {
  const size_t reserve = OptionReserve();
  for (const auto& s : subflows_) {
    if (s->engine.HasOutput(reserve)) return true;
  }
  return !closed() && NextChunk().chunk.has_value();
}

inline Timestamp Connection::NextTimer() const {
  Timestamp t = Timestamp::Never();
  for (const auto& s : subflows_) {
    t = Earliest(t, s->engine.NextTimer());
    if (s->join_ack_pending) t = Earliest(t, s->join_ack_timer.deadline());
  }
  if (!subflows_.empty()) t = Earliest(t, close_timer_.deadline());
  // Signals wait for a subflow that can carry them (OnTimeout asks it for an ACK).
  if (remote_key_ && fully_established_ && !closed() && mptcp() && !add_addr_.empty()) {
    bool carrier = false;
    for (const auto& s : subflows_) carrier |= CanCarrySignal(*s);
    if (carrier) {
      for (const auto& a : add_addr_) t = Earliest(t, a.next);
    }
  }
  if (DataTimerNeeded()) t = Earliest(t, last_data_progress_ + DataRto());
  if (!winding_down()) t = Earliest(t, pm_->NextDeadline());
  return Earliest(t, MpFailTimer());
}

inline void Connection::OnTimeout(Timestamp now) {
  if (close_timer_.Expired(now)) {
    // The close timeout: subflows still finishing their FIN exchange are reset.
    close_timer_.Disarm();
    for (auto& s : subflows_) {
      if (s->alive() && s->engine.state() != tcp::TcpState::kTimeWait) {
        ResetSubflow(*s, wire::MpTcpRstReason::kUnspecified);
      } else if (s->alive()) {
        s->engine.Abort();  // TIME-WAIT: forget it quietly
      }
    }
  }
  for (auto& sp : subflows_) {
    Subflow& s = *sp;
    if (s.engine.NextTimer() <= now) s.engine.OnTimeout(now);
    if (s.join_ack_pending && s.join_ack_timer.Expired(now)) {
      // RFC 8684 §3.2: resend the third ACK until the peer acknowledges it.
      if (++s.join_ack_retries > 5) {
        ResetSubflow(s, wire::MpTcpRstReason::kMptcpSpecific);
      } else {
        s.engine.RequestPureAck();
        s.join_ack_timer.Arm(now + std::max(s.engine.rtt().rto(), config_.signal_retransmit) *
                                       (int64_t{1} << s.join_ack_retries));
      }
    }
  }
  bool signal_due = false;
  for (const auto& a : add_addr_) signal_due |= a.next <= now;
  if (signal_due) {
    if (Subflow* s = BestSubflowForSignal()) s->engine.RequestPureAck();
  }
  if (DataTimerNeeded() && now >= last_data_progress_ + DataRto()) {
    // Data-level retransmission (RFC 8684 §3.3.6): DATA_ACK has not moved for a data RTO.
    ++mib_.data_rto;
    // Resend the oldest data, on whichever subflow the scheduler picks: the peer may have
    // dropped it at the data level even though a subflow acknowledged it.
    // Not before a DATA_ACK proved MPTCP end to end on a lone subflow: a peer that fell back
    // silently would take the reinjected bytes as new stream data.
    const Dsn64 sent_data_end = std::min(snd_data_nxt_, data_una_ + send_buffer_.size());
    if (sent_data_end > data_una_ && (data_ack_seen_ || subflows_.size() > 1)) {
      const uint64_t len = std::min<uint64_t>(sent_data_end - data_una_, config_.max_mapping);
      reinject_.push_back(DataRange{data_una_, static_cast<uint32_t>(len)});
      mib_.reinjected_bytes += len;
      reinjected_ever_ = true;
    }
    if (data_fin_dsn_ && !DataFinAcked()) {
      if (Subflow* s = BestSubflowForSignal()) s->engine.RequestPureAck();
    }
    // The shared window may be closed with nothing in flight: probe it.
    if (snd_data_nxt_ >= data_wnd_end_) {
      if (Subflow* s = BestSubflowForSignal()) s->engine.RequestProbe();
    }
    ++data_rto_backoff_;
    last_data_progress_ = now;
  }
  SweepSubflows(now);
  RunPathManager(now);
  OnMpFailTimeout(now);
  PumpFallback(now);
}

}  // namespace mptcp

#endif  // MPTCP_CONNECTION_OUTPUT_H_
