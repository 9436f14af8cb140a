// The MPTCP connection (RFC 8684's "meta" level): owns a set of subflows, cuts the
// application's byte stream into data-sequence mappings handed to subflows by a scheduler,
// reorders what arrives on any subflow by data sequence number, runs one receive window across
// all subflows, closes with DATA_FIN, reinjects data from failed subflows, and falls back to
// plain TCP when the path strips MPTCP. Sans-IO: segments in (OnSegment), segments out
// (PollTransmit), time passed in, no callbacks.
//
// Input processing lives in connection_input.h and output (scheduling, options, timers) in
// connection_output.h; both define members of this class and are included at the end.
#ifndef MPTCP_CONNECTION_H_
#define MPTCP_CONNECTION_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "mptcp/address.h"
#include "mptcp/config.h"
#include "mptcp/crypto/keys.h"
#include "mptcp/dsn_map.h"
#include "mptcp/event.h"
#include "mptcp/fifo.h"
#include "mptcp/mib.h"
#include "mptcp/random.h"
#include "mptcp/rcv_window.h"
#include "mptcp/scheduler/factory.h"
#include "mptcp/seq.h"
#include "mptcp/subflow.h"
#include "mptcp/tcp/isn.h"
#include "mptcp/tcp/recv_buffer.h"
#include "mptcp/tcp/send_buffer.h"
#include "mptcp/time.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"

namespace mptcp {

enum class Role : uint8_t { kClient, kServer };

// What became of one incoming segment.
enum class Verdict : uint8_t {
  kAccepted,  // processed (which may still mean the TCP engine ignored a duplicate)
  kDropped,   // discarded; `reason` says why
  kReset,     // the subflow (or the connection) was reset because of it
};

struct Disposition {
  Verdict verdict = Verdict::kAccepted;
  std::string_view reason;  // static text for drops and resets
  tcp::DropReason tcp_drop = tcp::DropReason::kNone;

  static Disposition Accepted() { return {}; }
  static Disposition Dropped(std::string_view why, tcp::DropReason r = tcp::DropReason::kNone) {
    return {Verdict::kDropped, why, r};
  }
  static Disposition Reset(std::string_view why) { return {Verdict::kReset, why}; }
  bool accepted() const { return verdict == Verdict::kAccepted; }
};

// One segment from PollTransmit: `len` bytes of TCP segment in the caller's buffer, to be sent
// on `path` (local address first).
struct Transmit {
  FourTuple path;
  size_t len = 0;
  SubflowId subflow = 0;
};

// A snapshot of one subflow for tools and tests.
struct SubflowInfo {
  SubflowId id;
  FourTuple tuple;
  tcp::TcpState state;
  bool fully_established;
  bool backup;
  bool stale;
  uint8_t local_id, remote_id;
  Duration srtt;
  uint32_t cwnd;
  uint32_t in_flight;
  uint64_t bytes_sent_segments;  // OutSegs
  uint64_t retransmits;
};

class Connection {
 public:
  // `local_key` is this side's 64-bit key (the Endpoint keeps its token unique); `seed`
  // drives nonces and ISN secrets, so the same seed gives the same bytes.
  Connection(const ConnectionConfig& config, Role role, uint64_t local_key, uint64_t seed);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // --- Opening -----------------------------------------------------------------------------
  // Client: opens the initial subflow with an MP_CAPABLE SYN (RFC 8684 §3.1).
  SubflowId Connect(Timestamp now, const FourTuple& tuple);
  // Server: the peer's initial SYN (with MP_CAPABLE, or without: then plain TCP).
  Disposition AcceptSyn(Timestamp now, const FourTuple& tuple, const wire::TcpRepr& syn);
  // Server side of MP_JOIN: a SYN whose token matched this connection (RFC 8684 §3.2).
  Disposition AcceptJoin(Timestamp now, const FourTuple& tuple, const wire::TcpRepr& syn,
                         const wire::MpJoinSyn& join);
  // Opens another subflow with MP_JOIN. Fails before the connection is fully established,
  // after fallback, at the subflow limit, or on a tuple already in use.
  absl::StatusOr<SubflowId> OpenSubflow(Timestamp now, const FourTuple& tuple,
                                        bool backup = false);

  // --- Input -------------------------------------------------------------------------------
  // A TCP segment received on `path` (local address first); checksum verified here.
  Disposition OnSegment(Timestamp now, const FourTuple& path, std::span<const uint8_t> segment);

  // --- Application ---------------------------------------------------------------------------
  size_t Write(std::span<const uint8_t> data);
  size_t Read(std::span<uint8_t> out);
  size_t readable() const { return recv_buffer_.readable(); }
  // Most bytes the receive buffer holds: config().recv_buffer, plus up to two units of the
  // window scale so that rounded windows need not hold DATA_ACK back (rcv_window.h).
  size_t receive_capacity() const { return recv_buffer_.capacity(); }
  size_t write_space() const {
    return data_fin_queued_ || closed_ ? 0 : send_buffer_.free_space();
  }
  // True once every byte before the peer's DATA_FIN has been read.
  bool eof() const { return remote_fin_done_ && recv_buffer_.readable() == 0; }
  // Graceful close: a DATA_FIN follows the queued data (RFC 8684 §3.3.3).
  void Close(Timestamp now);
  // Abort: MP_FASTCLOSE with a RST on every subflow (RFC 8684 §3.5).
  void Abort(Timestamp now);

  // --- Signals -------------------------------------------------------------------------------
  // ADD_ADDR (RFC 8684 §3.4.1), resent until echoed. Port 0 means "the connection's port".
  void AnnounceAddress(uint8_t address_id, const SocketAddress& address);
  // REMOVE_ADDR (RFC 8684 §3.4.2); subflows using the address are closed.
  void WithdrawAddress(uint8_t address_id);
  // MP_PRIO (RFC 8684 §3.3.8): ask the peer to treat `id` as a backup (or regular) subflow.
  bool SetBackup(SubflowId id, bool backup);

  // --- Output --------------------------------------------------------------------------------
  std::optional<Transmit> PollTransmit(Timestamp now, std::span<uint8_t> buf);

  // --- Time and events -----------------------------------------------------------------------
  Timestamp NextDeadline() const;
  void OnTimeout(Timestamp now);
  std::optional<Event> PollEvent();

  // --- State ---------------------------------------------------------------------------------
  Role role() const { return role_; }
  bool established() const { return established_; }
  // Both sides know both keys (RFC 8684 §3.1): subflows may join.
  bool fully_established() const { return fully_established_; }
  bool fallen_back() const { return fallen_back_; }
  bool closed() const { return closed_; }
  // Closed, and no subflow still has a FIN exchange to finish: each is gone or in TIME-WAIT
  // (RFC 9293 §3.6). An application that exits before this leaves the peer resending FINs to
  // nobody; one that waits (bounded) closes as a kernel socket does.
  bool finished() const {
    if (!closed_) return false;
    for (const auto& s : subflows_) {
      if (s->alive() && s->engine.state() != tcp::TcpState::kTimeWait) return false;
    }
    return true;
  }
  CloseReason close_reason() const { return close_reason_; }
  bool checksum_enabled() const { return checksum_; }
  uint64_t local_key() const { return local_key_; }
  std::optional<uint64_t> remote_key() const { return remote_key_; }
  uint32_t local_token() const { return local_token_; }
  uint32_t remote_token() const { return remote_token_; }
  uint64_t local_idsn() const { return local_idsn_; }
  Dsn64 data_una() const { return data_una_; }
  Dsn64 snd_data_nxt() const { return snd_data_nxt_; }
  Dsn64 rcv_data_nxt() const { return rcv_data_nxt_; }
  Dsn64 data_wnd_end() const { return data_wnd_end_; }
  size_t send_buffered() const { return send_buffer_.size(); }
  const MptcpMib& mib() const { return mib_; }
  const ConnectionConfig& config() const { return config_; }
  size_t subflow_count() const { return subflows_.size(); }
  std::vector<SubflowInfo> Subflows() const;
  Subflow* FindSubflow(SubflowId id);
  Subflow* FindSubflow(const FourTuple& path);
  // Sum of the subflows' TCP counters.
  tcp::TcpMib SubflowMib() const;
  // Bytes of state held besides the data buffers' contents (for the footprint figure).
  size_t StateBytes() const;
  // Bytes currently held by the connection's and subflows' buffers.
  size_t BufferBytes() const;

 private:
  struct ParsedOptions;  // connection_input.h
  struct OutOptions;     // connection_output.h
  struct DataRange {
    Dsn64 dsn;
    uint32_t len;
  };
  struct PendingAddAddr {
    uint8_t id;
    SocketAddress address;
    bool echo;       // we echo the peer's announcement
    int sends = 0;   // announcements are resent until echoed
    Timestamp next;  // next (re)send time
  };
  struct RemoteAddr {  // an address the peer announced
    uint8_t id;
    SocketAddress address;
  };

  // input (connection_input.h)
  Disposition OnSubflowSegment(Timestamp now, Subflow& s, const wire::TcpRepr& arrived);
  ParsedOptions ParseOptions(const wire::TcpRepr& seg);
  std::optional<wire::MpTcpRstReason> CheckSynAck(Timestamp now, Subflow& s,
                                                 const ParsedOptions& o);
  Disposition OnHandshakeDone(Timestamp now, Subflow& s, tcp::TcpState before,
                              const wire::TcpRepr& seg, const ParsedOptions& o);
  void TakeClientKey(Timestamp now, Subflow& s, const wire::MpCapable& mpc);
  void OnInitialSubflowUp(Timestamp now, Subflow& s);
  void OnDss(Timestamp now, Subflow& s, const wire::TcpRepr& seg, const wire::Dss& dss);
  void OnDataAck(Timestamp now, Dsn64 ack, uint64_t window);
  void AddRxMapping(Subflow& s, Dsn64 dsn, uint32_t rel_ssn, uint16_t wire_len, bool data_fin,
                    std::optional<uint16_t> checksum);
  void OnSignals(Timestamp now, Subflow& s, const ParsedOptions& o);
  void DrainSubflow(Timestamp now, Subflow& s);
  bool DeliverMapped(Subflow& s, const RxMapping& m);
  std::optional<wire::TcpRepr> TrimBeyondWindow(const Subflow& s, const wire::TcpRepr& seg,
                                                const ParsedOptions& o);
  void Deliver(Dsn64 dsn, const RecvBuffer::Pieces& data);
  void CheckRemoteDataFin();
  void EnterFallback(Timestamp now);
  bool FallbackConsistent(const Subflow& s, const wire::TcpRepr& seg,
                          const wire::DssMapping& m) const;
  void ResetSubflow(Subflow& s, wire::MpTcpRstReason reason);
  void ResetConnection(CloseReason reason, bool fastclose);

  // output (connection_output.h)
  void Schedule(Timestamp now);
  void PumpFallback(Timestamp now);
  bool CanSchedule() const;
  uint32_t SubflowRoom(const Subflow& s, uint64_t avail) const;
  size_t SubflowInflightLimit(const Subflow& s) const;
  bool RegularSubflowAlive() const;
  // Subflows that carry (or carried) data; joins still in their handshake do not count.
  size_t DataSubflows() const {
    size_t n = 0;
    for (const auto& s : subflows_) n += s->fully_established && s->alive() ? 1 : 0;
    return n;
  }
  // RFC 8684 §3.7: the infinite-mapping fallback is only possible while the data stream and
  // the one subflow's byte stream are the same (one data subflow, nothing reinjected).
  bool FallbackPossible() const { return DataSubflows() <= 1 && !reinjected_ever_; }
  bool SchedulerMayUse(const Subflow& s, bool regular_alive) const;
  void WriteToSubflow(Subflow& s, Dsn64 dsn, uint32_t len);
  WindowAdvert PlanWindow(Subflow& s, const tcp::Transmission& tx, bool data_ack);
  // The receive buffer holds this much beyond config_.recv_buffer, so that a window rounded up
  // to the scale's unit (rcv_window.h) rarely has to hold DATA_ACK back.
  static size_t RecvSlack(const ConnectionConfig& c) {
    tcp::TcpConfig t = c.subflow;
    t.max_advertised_window = std::max(t.max_advertised_window, c.recv_buffer);
    return size_t{2} << tcp::TcpEngine::InitialRcvWscale(t);
  }
  void MaybeQueueDataFin();
  size_t BuildOptions(Timestamp now, Subflow& s, tcp::Transmission& tx, OutOptions& out);
  void AfterEmit(Timestamp now, Subflow& s, const OutOptions& out);
  void SweepSubflows(Timestamp now);
  void ReinjectFrom(Subflow& s);
  bool OtherDataSubflow(const Subflow& s) const;
  bool OpportunisticRetransmit(Timestamp now, bool app_limited = false);
  Duration DataRto() const;
  bool DataTimerNeeded() const;
  Subflow* BestSubflowForSignal();
  void FinishIfDone();

  void PushEvent(Event e);
  void MarkEstablished();
  SubflowId NextSubflowId() { return next_subflow_id_++; }
  uint8_t LocalAddressId(const IpAddress& ip);
  Subflow& AddSubflow(SubflowKind kind, bool initiator, const FourTuple& tuple, Timestamp now);

  ConnectionConfig config_;
  Role role_;
  Random rng_;
  tcp::IsnGenerator isn_;
  std::unique_ptr<Scheduler> scheduler_;

  // Keys and derived values (RFC 8684 §3.1).
  uint64_t local_key_;
  uint32_t local_token_;
  uint64_t local_idsn_;
  std::optional<uint64_t> remote_key_;
  uint32_t remote_token_ = 0;
  uint64_t remote_idsn_ = 0;

  bool mptcp_ = true;             // MPTCP options are in use (false after fallback)
  bool fallen_back_ = false;
  bool checksum_ = false;         // DSS checksums negotiated
  bool established_ = false;      // Established reported
  bool fully_established_ = false;  // both keys known to both sides (RFC 8684 §3.1)
  bool reinjected_ever_ = false;  // fallback is impossible once data took two paths
  bool data_ack_seen_ = false;    // a DATA_ACK arrived: MPTCP works end to end
  // Where the last mapped data delivered ended (subflow sequence and DSN): unmapped data may
  // continue the stream linearly only from exactly there (RFC 8684 §3.7 infinite mapping).
  bool rx_mapped_ever_ = false;
  bool or_done_ = false;  // or_dsn_ (below) is set
  SeqNum32 fallback_base_ssn_;  // the fallback point: this subflow byte is ...
  Dsn64 fallback_base_dsn_ = 0;  // ... this data sequence number
  SeqNum32 rx_mapped_end_ssn_;
  Dsn64 rx_mapped_end_dsn_ = 0;
  bool remote_deny_join_initial_ = false;  // the peer's MP_CAPABLE flag C
  bool closed_ = false;
  CloseReason close_reason_ = CloseReason::kNone;

  std::vector<std::unique_ptr<Subflow>> subflows_;
  SubflowId next_subflow_id_ = 1;
  size_t rr_cursor_ = 0;
  SocketAddress initial_local_;  // address ID 0 (RFC 8684 §3.2)
  std::vector<std::pair<uint8_t, IpAddress>> local_ids_;
  uint8_t next_local_id_ = 1;

  // Sending (RFC 8684 §3.3). send_buffer_ byte 0 carries DSN data_una_.
  SendBuffer send_buffer_;
  Dsn64 data_una_ = 0;
  Dsn64 snd_data_nxt_ = 0;   // next DSN never handed to a subflow
  Dsn64 data_wnd_end_ = 0;   // RFC 8684 §3.3.4: peer's DATA_ACK + window, never moved left
  Fifo<DataRange> reinject_;
  bool data_fin_queued_ = false;
  std::optional<Dsn64> data_fin_dsn_;  // our DATA_FIN's DSN once all data is handed out
  bool data_fin_acked_ = false;
  bool write_blocked_ = false;
  Timestamp last_data_progress_;
  int data_rto_backoff_ = 0;
  // Opportunistic retransmission: done for the data at or_dsn_ (once per DATA_ACK value).
  Dsn64 or_dsn_ = 0;
  Timer data_rto_timer_;
  Timer close_timer_;  // after a clean close, resets subflows that have not finished

  // Receiving.
  RecvBuffer recv_buffer_;
  Dsn64 rcv_data_nxt_ = 0;
  // RFC 8684 §3.3.5: the highest right edge (DATA_ACK + window) advertised; never moves left.
  // Data beyond it is trimmed before TCP takes it.
  Dsn64 rcv_wnd_edge_ = 0;
  std::optional<Dsn64> remote_data_fin_dsn_;
  bool remote_fin_done_ = false;
  // Some subflow holds in-order bytes the receive buffer had no room for (a peer that sent
  // beyond the window): drained again as the application reads.
  bool rx_held_ = false;

  // Signals.
  std::vector<PendingAddAddr> add_addr_;
  std::vector<RemoteAddr> remote_addrs_;
  std::vector<uint8_t> remove_addr_;

  Fifo<Event> events_;
  bool readable_pending_ = false;
  bool writable_pending_ = false;
  Timestamp last_now_;
  MptcpMib mib_;
};

// --- small members ---------------------------------------------------------------------------

inline Connection::Connection(const ConnectionConfig& config, Role role, uint64_t local_key,
                              uint64_t seed)
    : config_(config),
      role_(role),
      rng_(seed),
      isn_(rng_),
      scheduler_(MakeScheduler(config.scheduler)),
      local_key_(local_key),
      local_token_(crypto::KeyToken(local_key)),
      local_idsn_(crypto::KeyIdsn(local_key)),
      checksum_(config.checksum),
      send_buffer_(config.send_buffer),
      recv_buffer_(config.recv_buffer + RecvSlack(config), config.max_ooo_ranges) {
  // RFC 8684 §3.3: the SYN occupies the first octet of the data sequence space, so data
  // starts at IDSN + 1.
  data_una_ = snd_data_nxt_ = data_wnd_end_ = local_idsn_ + 1;
}

inline void Connection::PushEvent(Event e) {
  // Readable and Writable are level-triggered hints: one pending of each is enough.
  if (e.type == EventType::kReadable) {
    if (readable_pending_) return;
    readable_pending_ = true;
  } else if (e.type == EventType::kWritable) {
    if (writable_pending_) return;
    writable_pending_ = true;
  }
  events_.push_back(e);
}

inline std::optional<Event> Connection::PollEvent() {
  if (events_.empty()) return std::nullopt;
  Event e = events_.front();
  events_.pop_front();
  if (e.type == EventType::kReadable) readable_pending_ = false;
  if (e.type == EventType::kWritable) writable_pending_ = false;
  return e;
}

inline void Connection::MarkEstablished() {
  if (established_) return;
  established_ = true;
  PushEvent(Event{.type = EventType::kEstablished});
}

inline Subflow* Connection::FindSubflow(SubflowId id) {
  for (auto& s : subflows_) {
    if (s->id == id) return s.get();
  }
  return nullptr;
}

inline Subflow* Connection::FindSubflow(const FourTuple& path) {
  for (auto& s : subflows_) {
    if (s->engine.tuple() == path) return s.get();
  }
  return nullptr;
}

inline uint8_t Connection::LocalAddressId(const IpAddress& ip) {
  // RFC 8684 §3.2: the addresses of the initial subflow have ID 0.
  if (ip == initial_local_.ip) return 0;
  for (const auto& [id, a] : local_ids_) {
    if (a == ip) return id;
  }
  const uint8_t id = next_local_id_++;
  local_ids_.emplace_back(id, ip);
  return id;
}

inline Subflow& Connection::AddSubflow(SubflowKind kind, bool initiator, const FourTuple& tuple,
                                       Timestamp now) {
  tcp::TcpConfig cfg = config_.subflow;
  // RFC 8684 §3.3.4: every subflow advertises the connection's window; scale to cover it.
  cfg.max_advertised_window = std::max(cfg.max_advertised_window, config_.recv_buffer);
  // Room for SubflowInflightLimit() to grow into; memory is taken only as data is in flight.
  if (mptcp_) cfg.send_buffer = std::max(cfg.send_buffer, config_.send_buffer);
  // A peer may send the whole shared window on one subflow, ahead of a hole in that subflow's
  // own sequence space (Linux schedules by the data-level window alone): the subflow must hold
  // it, else it drops data the peer was entitled to send. Memory is taken only as data waits.
  cfg.recv_buffer = std::max(cfg.recv_buffer, recv_buffer_.capacity());
  auto s = std::make_unique<Subflow>(NextSubflowId(), kind, initiator, cfg, tuple,
                                     isn_.Generate(now, tuple), rng_.Next32());
  if (mptcp_) {
    // RFC 8684 §3.3.4: the data-level window governs sending; the connection advertises it.
    s->engine.set_external_send_window(true);
  }
  subflows_.push_back(std::move(s));
  return *subflows_.back();
}

inline SubflowId Connection::Connect(Timestamp now, const FourTuple& tuple) {
  last_now_ = now;
  initial_local_ = tuple.local;
  Subflow& s = AddSubflow(SubflowKind::kInitial, true, tuple, now);
  s.engine.Connect(now);
  ++mib_.mp_capable_syn_tx;
  return s.id;
}

inline size_t Connection::Write(std::span<const uint8_t> data) {
  if (closed_ || data_fin_queued_) return 0;
  const size_t n = send_buffer_.Append(data);
  if (n < data.size()) write_blocked_ = true;
  PumpFallback(last_now_);
  return n;
}

inline size_t Connection::Read(std::span<uint8_t> out) {
  const size_t before = recv_buffer_.window();
  const size_t n = recv_buffer_.Read(out);
  if (n == 0) return 0;
  if (fallen_back_) {
    return n;
  }
  if (rx_held_) {
    rx_held_ = false;
    for (auto& s : subflows_) DrainSubflow(last_now_, *s);
  }
  // The shared window opened: announce it (receiver SWS avoidance, RFC 9293 §3.8.6.2.2,
  // applied to the data-level window) when it grew by a segment or from zero. The window
  // itself is chosen as each segment goes out (PlanWindow).
  const size_t threshold = std::min<size_t>(config_.recv_buffer / 2, config_.subflow.mss);
  if (before == 0 || recv_buffer_.window() >= before + threshold) {
    if (Subflow* s = BestSubflowForSignal()) s->engine.RequestAck();
  }
  return n;
}

inline void Connection::Close(Timestamp now) {
  last_now_ = now;
  if (closed_ || data_fin_queued_) return;
  data_fin_queued_ = true;
  PumpFallback(now);
}

inline std::vector<SubflowInfo> Connection::Subflows() const {
  std::vector<SubflowInfo> v;
  for (const auto& s : subflows_) {
    v.push_back(SubflowInfo{s->id, s->engine.tuple(), s->engine.state(), s->fully_established,
                            s->backup(), s->stale, s->local_id, s->remote_id,
                            s->engine.rtt().srtt(), s->engine.cwnd(),
                            s->engine.bytes_in_flight(), s->engine.mib().out_segs,
                            s->engine.mib().retrans_segs});
  }
  return v;
}

inline tcp::TcpMib Connection::SubflowMib() const {
  tcp::TcpMib m;
  for (const auto& s : subflows_) m += s->engine.mib();
  return m;
}

inline size_t Connection::StateBytes() const {
  size_t n = sizeof(*this);
  n += subflows_.capacity() * sizeof(subflows_[0]);
  for (const auto& s : subflows_) {
    n += sizeof(Subflow) + s->tx.allocated_bytes() + s->rx.allocated_bytes();
    n += s->engine.StateBytes() - sizeof(tcp::TcpEngine);
  }
  n += local_ids_.capacity() * sizeof(local_ids_[0]);
  n += add_addr_.capacity() * sizeof(PendingAddAddr) + remove_addr_.capacity() +
       remote_addrs_.capacity() * sizeof(RemoteAddr);
  n += reinject_.allocated_bytes() + events_.allocated_bytes();
  return n;
}

inline size_t Connection::BufferBytes() const {
  size_t n = send_buffer_.allocated_bytes() + recv_buffer_.allocated_bytes();
  for (const auto& s : subflows_) n += s->engine.BufferBytes();
  return n;
}

}  // namespace mptcp

#include "mptcp/connection_input.h"   // IWYU pragma: export
#include "mptcp/connection_output.h"  // IWYU pragma: export

#endif  // MPTCP_CONNECTION_H_
