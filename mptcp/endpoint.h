// The endpoint: everything one host's MPTCP stack needs around its connections. It takes IP
// packets in, demultiplexes them by 4-tuple and by MPTCP token (RFC 8684 §2.2, §3.2), creates
// server connections from SYNs on listening ports, answers strays with RSTs (RFC 9293
// §3.10.7.1), keeps tokens unique, puts IP packets out, and lets closed connections go with a
// compact TIME-WAIT record per subflow. Sans-IO like the rest.
//
// Its work per packet and per timer does not grow with the number of connections: a
// connection is looked at again only when something touched it (a packet, a timer, an
// application call, which the connection reports through ConnectionOwner). Those go on a dirty
// list; settling it puts each in the ready queue (it has a segment to send) and in a heap keyed
// by its earliest timer.
#ifndef MPTCP_ENDPOINT_H_
#define MPTCP_ENDPOINT_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "mptcp/address.h"
#include "mptcp/config.h"
#include "mptcp/connection.h"
#include "mptcp/crypto/keys.h"
#include "mptcp/deadline_heap.h"
#include "mptcp/fifo.h"
#include "mptcp/path_manager/path_manager.h"
#include "mptcp/poll.h"
#include "mptcp/random.h"
#include "mptcp/syn_cookie.h"
#include "mptcp/tcp/time_wait.h"
#include "mptcp/time.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"

namespace mptcp {

using ConnectionId = uint64_t;

// SYN cookies (RFC 4987 §3.6), as Linux's net.ipv4.tcp_syncookies 0, 1 and 2.
enum class SynCookieMode : uint8_t {
  kOff,         // every SYN gets a connection (bounded by max_connections)
  kOnOverflow,  // stateless SYN-ACKs once max_half_open handshakes are pending (Linux's default)
  kAlways,      // every SYN is answered statelessly
};

struct EndpointConfig {
  ConnectionConfig connection;
  size_t max_connections = 4096;
  // Accepted connections not yet taken with PollEvent (Linux's listen backlog, somaxconn):
  // SYNs beyond it are dropped, and the client retries.
  size_t accept_backlog = 4096;
  // TIME-WAIT records kept at most (Linux's tcp_max_tw_buckets): beyond it a closing
  // subflow leaves none, as Linux does when its table overflows.
  size_t max_time_wait = 65536;
  // Accept plain TCP clients (no MP_CAPABLE) on listening ports, as Linux does.
  bool accept_plain_tcp = true;
  // RSTs (and TIME-WAIT ACKs) queued for strays at most (more are dropped and counted).
  size_t max_pending_resets = 64;
  // A SYN flood fills the handshakes in progress (server connections that have not seen their
  // third ACK); past max_half_open of them, SYNs are answered with cookies that keep no state,
  // MPTCP v1 included (syn_cookie.h), so legitimate clients still connect.
  SynCookieMode syn_cookies = SynCookieMode::kOnOverflow;
  size_t max_half_open = 1024;
};

// Why OnPacket did not hand a packet to a connection.
enum class PacketVerdict : uint8_t {
  kDelivered,        // handed to a connection (see `disposition`)
  kNewConnection,    // a SYN created a server connection
  kMalformed,        // not a parseable IPv4/IPv6 + TCP packet
  kNotTcp,
  kBadChecksum,
  kNoConnection,     // stray: answered with a RST when appropriate
  kJoinNoToken,      // MP_JOIN for an unknown token: RST (RFC 8684 §3.2)
  kJoinRefused,      // MP_JOIN refused by the connection (limit, state): RST
  kTooManyConnections,
  kBacklogFull,      // a SYN dropped: too many accepted connections not yet polled
  kTimeWait,         // handled by a TIME-WAIT record
  kSynCookie,        // a SYN answered with a cookie SYN-ACK, no state kept
};

struct PacketResult {
  PacketVerdict verdict = PacketVerdict::kDelivered;
  ConnectionId connection = 0;
  Disposition disposition;
};

struct EndpointEvent {
  enum class Type : uint8_t { kAccepted } type = Type::kAccepted;
  ConnectionId id = 0;
};

struct EndpointStats {
  uint64_t packets_in = 0;
  uint64_t packets_out = 0;
  uint64_t malformed = 0;
  uint64_t bad_checksum = 0;
  uint64_t strays = 0;
  uint64_t resets_sent = 0;
  uint64_t resets_dropped = 0;
  uint64_t token_collisions = 0;
  uint64_t join_no_token = 0;      // Linux: MPJoinNoTokenFound
  uint64_t listen_overflows = 0;   // Linux: ListenOverflows
  uint64_t released = 0;           // connections let go (closed, finished, read)
  uint64_t time_wait_acks = 0;     // ACKs sent from TIME-WAIT records
  uint64_t time_wait_overflow = 0; // Linux: TCPTimeWaitOverflow
  uint64_t time_wait_reused = 0;   // records replaced by a new connection on their tuple
  uint64_t syncookies_sent = 0;    // Linux: SyncookiesSent
  uint64_t syncookies_recv = 0;    // Linux: SyncookiesRecv (valid cookies that opened one)
  uint64_t syncookies_failed = 0;  // Linux: SyncookiesFailed (ACKs with a bad cookie or key)
};

class Endpoint final : private ConnectionOwner {
 public:
  Endpoint(const EndpointConfig& config, uint64_t seed)
      : config_(config),
        params_(std::make_shared<const ConnectionParams>(config.connection)),
        rng_(seed),
        cookies_(CookieSecret(rng_)) {}
  Endpoint(const Endpoint&) = delete;  // connections point back at it
  Endpoint& operator=(const Endpoint&) = delete;

  // Accept MPTCP (and, if configured, plain TCP) connections to `port` on any local address.
  void Listen(uint16_t port) { listening_.insert(port); }
  void StopListening(uint16_t port) { listening_.erase(port); }

  // Opens a client connection over `local` -> `remote`.
  absl::StatusOr<ConnectionId> Connect(Timestamp now, const SocketAddress& local,
                                       const SocketAddress& remote);
  // Adds a subflow to a connection (MP_JOIN) over another pair of addresses.
  absl::StatusOr<SubflowId> OpenSubflow(Timestamp now, ConnectionId id, const SocketAddress& local,
                                        const SocketAddress& remote, bool backup = false);

  // The connection, or null once it has been released. A connection is released when the
  // application has closed it (Close or Abort), it is finished() and nothing is left to read;
  // or by Reap(). Release happens inside OnPacket, PollTransmit, OnTimeout and Reap: a
  // Connection* is valid until the next of those calls.
  Connection* connection(ConnectionId id) {
    auto it = connections_.find(id);
    return it == connections_.end() ? nullptr : &it->second->conn;
  }
  size_t connection_count() const { return connections_.size(); }
  size_t time_wait_count() const { return time_wait_.size(); }
  // In id order (O(n log n): for tools, not for the data path).
  template <typename Fn>
  void ForEachConnection(Fn&& fn) {
    std::vector<ConnectionId> ids;
    ids.reserve(connections_.size());
    for (const auto& [id, slot] : connections_) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (ConnectionId id : ids) {
      if (Connection* c = connection(id)) fn(id, *c);
    }
  }

  // An IP packet from the network.
  PacketResult OnPacket(Timestamp now, std::span<const uint8_t> ip_packet);
  // The next IP packet to send, written at the start of `buf`, and the path it goes on. `buf`
  // needs 40 + 60 + MSS bytes (IPv6 and TCP headers, the largest payload): a smaller one gets
  // BufferTooSmall(needed) and the packet stays queued.
  //
  // The driving loop: when NextDeadline().DueBy(now) (Now() included: a timer may be due
  // behind the ready output), call OnTimeout(now), then drain PollTransmit. After that,
  // NextDeadline() is later than now.
  //   if (ep.NextDeadline().DueBy(now)) ep.OnTimeout(now);
  //   while (auto t = ep.PollTransmit(now, buf)) Send(t->path, buf.first(t->len));
  //
  // GSO: a loop whose device cuts super-segments (a TUN device with IFF_VNET_HDR, a NIC with
  // TSO) passes gso_max_segments > 1 and a buffer of up to 64 KiB; a packet with a nonzero
  // Transmit::segment_size is then one header and up to that many segments' payload, to be
  // cut into segments of segment_size bytes (see Connection::PollTransmit for when).
  TransmitResult PollTransmit(Timestamp now, std::span<uint8_t> buf,
                              size_t gso_max_segments = 1);
  // Now() when PollTransmit has a packet, else the earliest timer of any connection or
  // TIME-WAIT record. O(1) plus the connections touched since the last call.
  PollAt NextDeadline() const;
  // Runs the timers due at `now`, visiting only the connections they belong to.
  void OnTimeout(Timestamp now);
  // Accepted connections, at most accept_backlog of them pending.
  std::optional<EndpointEvent> PollEvent() {
    if (events_.empty()) return std::nullopt;
    EndpointEvent e = events_.front();
    events_.pop_front();
    if (e.type == EndpointEvent::Type::kAccepted) --accepted_pending_;
    return e;
  }
  size_t pending_events() const { return events_.size(); }
  // Releases every connection that is closed and finished, whether or not the application
  // closed it (not needed otherwise: see connection()). Returns how many.
  size_t Reap();

  // An `ip mptcp endpoint`/`limits` change for the whole Endpoint, as Linux applies one to a
  // network namespace: to the configuration of later connections and to every connection whose
  // manager is the in-kernel one (Connection::PathManagerCommand for one connection). Refused,
  // changing nothing, when the Endpoint's manager is not in-kernel or the command does not fit
  // its endpoints. A connection whose own endpoints were changed apart may refuse it: it keeps
  // its state, and the error says how many did.
  absl::Status PathManagerCommand(Timestamp now, const PmCommand& command);

  const EndpointStats& stats() const { return stats_; }
  const EndpointConfig& config() const { return config_; }
  // Bytes of the Endpoint's own tables (for the per-connection footprint).
  size_t TableBytes() const;

 private:
  // A connection and what the Endpoint keeps about it. One allocation per connection.
  struct Slot {
    Slot(std::shared_ptr<const ConnectionParams> params, Role role, uint64_t key, uint64_t seed,
         ConnectionId id)
        : conn(std::move(params), role, key, seed), id(id), heap_tiebreak(id) {}
    Connection conn;
    ConnectionId id;
    // Its earliest timer, in timers_ (DeadlineHeap's fields).
    Timestamp heap_key = Timestamp::Never();
    uint32_t heap_pos = kNotInHeap;
    uint64_t heap_tiebreak;
    bool dirty = false;         // on dirty_: to settle
    bool has_output = false;    // as of the last settle
    bool ready_queued = false;  // its id is in ready_
    bool half_open = false;     // a server handshake in progress (counted in half_open_)
  };
  // A segment for a tuple that has no connection: a RST, or a TIME-WAIT record's ACK.
  struct PendingControl {
    FourTuple tuple;  // local first
    wire::TcpRepr seg;
  };
  struct TimeWaitExpiry {
    Timestamp at;
    FourTuple tuple;
  };

  // ConnectionOwner: the cookie is the Slot.
  void OnConnectionChanged(uint64_t cookie) override { MarkDirty(SlotOf(cookie)); }
  bool ClaimTuple(uint64_t cookie, const FourTuple& tuple) override;
  void ReleaseTuple(uint64_t cookie, const FourTuple& tuple) override {
    auto it = by_tuple_.find(tuple);
    if (it != by_tuple_.end() && it->second == SlotOf(cookie)) by_tuple_.erase(it);
  }
  static Slot* SlotOf(uint64_t cookie) { return reinterpret_cast<Slot*>(cookie); }

  uint64_t NewUniqueKey();
  // `fixed_key`: a key the caller made sure is unique (a SYN cookie's).
  Slot* AddConnection(Role role, std::optional<uint64_t> fixed_key = std::nullopt);
  void MarkDirty(Slot* s) const {
    if (s->dirty) return;
    s->dirty = true;
    dirty_.push_back(s);
  }
  // Brings the ready queue and the timer heap up to date for the connections touched since
  // the last call. Changes no connection (NextDeadline is const through it).
  void Settle() const;
  // Lets go of the connections Settle found finished.
  void ReleaseFinished();
  bool Releasable(const Slot& s) const {
    const Connection& c = s.conn;
    return c.app_closed() && c.finished() && c.readable() == 0 && !s.has_output;
  }
  void Release(Slot* s);
  // Claims a tuple for a new subflow or connection: false if a connection uses it. A
  // TIME-WAIT record on it gives way (Linux's tcp_tw_reuse does the same for new
  // connections).
  bool TakeTuple(const FourTuple& tuple);
  void AddTimeWait(const tcp::TcpEngine& e);
  void ExpireTimeWait(Timestamp now);
  void CompactTimeWaitExpiry();
  // `mptcp_reason`: RFC 8684 §3.2 resets of refused joins carry MP_TCPRST.
  void QueueReset(const FourTuple& tuple, const wire::TcpRepr& seg,
                  std::optional<wire::MpTcpRstReason> mptcp_reason = std::nullopt);
  void QueueControl(const FourTuple& tuple, const wire::TcpRepr& seg);
  // Handles a segment for a TIME-WAIT tuple; true when it was consumed.
  static std::array<uint8_t, 32> CookieSecret(Random& rng) {
    std::array<uint8_t, 32> k{};
    for (size_t i = 0; i < k.size(); i += 8) {
      const uint64_t r = rng.Next();
      for (size_t j = 0; j < 8; ++j) k[i + j] = static_cast<uint8_t>(r >> (8 * j));
    }
    return k;
  }
  bool UseSynCookie() const {
    return config_.syn_cookies == SynCookieMode::kAlways ||
           (config_.syn_cookies == SynCookieMode::kOnOverflow &&
            half_open_ >= config_.max_half_open);
  }
  // Answers `syn` with a cookie SYN-ACK (RFC 4987 §3.6), keeping nothing.
  void SendCookieSynAck(Timestamp now, const FourTuple& tuple, const wire::TcpRepr& syn);
  // An ACK for no connection on a listening port: opens the connection its valid cookie
  // stands for (true, `res` set), or false for a stray.
  bool AcceptCookieAck(Timestamp now, const FourTuple& tuple, const wire::TcpRepr& seg,
                       std::span<const uint8_t> seg_bytes, PacketResult& res);
  bool OnTimeWaitSegment(Timestamp now, const FourTuple& tuple, const wire::TcpRepr& seg,
                         PacketResult& res);

  EndpointConfig config_;
  std::shared_ptr<const ConnectionParams> params_;  // shared by every connection
  Random rng_;
  SynCookies cookies_;
  mutable size_t half_open_ = 0;  // slots with half_open (Settle clears them)
  absl::flat_hash_set<uint16_t> listening_;
  absl::flat_hash_map<ConnectionId, std::unique_ptr<Slot>> connections_;
  absl::flat_hash_map<FourTuple, Slot*> by_tuple_;
  absl::flat_hash_map<uint32_t, ConnectionId> by_token_;
  ConnectionId next_id_ = 1;
  // Settling state: touched connections, those with a segment to send (in turn), their
  // timers. Mutable so that the const NextDeadline can settle first; settling changes no
  // connection, only these indexes.
  mutable std::vector<Slot*> dirty_;
  mutable Fifo<ConnectionId> ready_;
  mutable size_t ready_count_ = 0;  // slots with has_output
  mutable DeadlineHeap<Slot> timers_;
  mutable std::vector<ConnectionId> to_release_;
  std::vector<Slot*> due_;  // scratch for OnTimeout
  // TIME-WAIT records of released connections, and their expiry order.
  absl::flat_hash_map<FourTuple, tcp::TimeWaitRecord> time_wait_;
  Fifo<TimeWaitExpiry> time_wait_expiry_;
  Fifo<PendingControl> control_;
  Fifo<EndpointEvent> events_;
  size_t accepted_pending_ = 0;
  EndpointStats stats_;
};

// --- implementation ---------------------------------------------------------------------------

inline uint64_t Endpoint::NewUniqueKey() {
  // RFC 8684 §3.1: tokens identify connections, so a key whose token is taken is redrawn.
  for (;;) {
    const uint64_t key = rng_.Next();
    if (!by_token_.contains(crypto::KeyToken(key))) return key;
    ++stats_.token_collisions;
  }
}

inline absl::Status Endpoint::PathManagerCommand(Timestamp now, const PmCommand& command) {
  PathManagerConfig pm = config_.connection.path_manager;
  if (pm.kind != PathManagerKind::kInKernel) {
    return absl::FailedPreconditionError(
        absl::StrCat("the endpoint's path manager is ", std::string(PathManagerKindName(pm.kind)),
                     ": only in-kernel has endpoints and limits"));
  }
  PmCommand c = command;  // with the ID a new endpoint gets, the same for every connection
  if (auto applied = ApplyPmCommand(c, pm.endpoints, pm.limits); !applied.ok()) {
    return applied.status();
  }
  config_.connection.path_manager = std::move(pm);
  params_ = std::make_shared<const ConnectionParams>(config_.connection);
  size_t refused = 0;
  absl::Status first;
  // In id order, not the table's: the same inputs give the same outputs.
  ForEachConnection([&](ConnectionId, Connection& conn) {
    if (conn.path_manager().kind() != PathManagerKind::kInKernel) return;
    if (absl::Status st = conn.PathManagerCommand(now, c); !st.ok()) {
      if (refused++ == 0) first = st;
    }
  });
  if (refused == 0) return absl::OkStatus();
  return absl::Status(first.code(), absl::StrCat(refused, " connection(s) refused the command: ",
                                                 first.message()));
}

inline Endpoint::Slot* Endpoint::AddConnection(Role role, std::optional<uint64_t> fixed_key) {
  const ConnectionId id = next_id_++;
  const uint64_t key = fixed_key ? *fixed_key : NewUniqueKey();
  auto slot = std::make_unique<Slot>(params_, role, key, rng_.Next(), id);
  Slot* s = slot.get();
  s->conn.SetOwner(this, reinterpret_cast<uint64_t>(s));
  by_token_[s->conn.local_token()] = id;
  connections_.emplace(id, std::move(slot));
  return s;
}

inline bool Endpoint::TakeTuple(const FourTuple& tuple) {
  if (by_tuple_.contains(tuple)) return false;
  if (time_wait_.erase(tuple) > 0) {
    ++stats_.time_wait_reused;
    CompactTimeWaitExpiry();
  }
  return true;
}

inline void Endpoint::CompactTimeWaitExpiry() {
  // Records that went early (reused, reset) leave their entry behind; keep those at most as
  // many as the live ones, so that the queue stays bounded however fast tuples are reused.
  if (time_wait_expiry_.size() <= 2 * time_wait_.size() + 64) return;
  Fifo<TimeWaitExpiry> kept;
  for (const TimeWaitExpiry& e : time_wait_expiry_) {
    if (time_wait_.contains(e.tuple)) kept.push_back(e);
  }
  time_wait_expiry_ = std::move(kept);
}

inline bool Endpoint::ClaimTuple(uint64_t cookie, const FourTuple& tuple) {
  if (!TakeTuple(tuple)) return false;
  by_tuple_[tuple] = SlotOf(cookie);
  return true;
}

inline absl::StatusOr<ConnectionId> Endpoint::Connect(Timestamp now, const SocketAddress& local,
                                                      const SocketAddress& remote) {
  if (local.ip.family() != remote.ip.family()) {
    return absl::InvalidArgumentError("local and remote address families differ");
  }
  if (connections_.size() >= config_.max_connections) {
    return absl::ResourceExhaustedError("connection limit reached");
  }
  const FourTuple tuple{local, remote};
  if (!TakeTuple(tuple)) return absl::AlreadyExistsError("4-tuple in use");
  Slot* s = AddConnection(Role::kClient);
  by_tuple_[tuple] = s;
  s->conn.Connect(now, tuple);
  MarkDirty(s);
  return s->id;
}

inline absl::StatusOr<SubflowId> Endpoint::OpenSubflow(Timestamp now, ConnectionId id,
                                                       const SocketAddress& local,
                                                       const SocketAddress& remote,
                                                       bool backup) {
  Connection* c = connection(id);
  if (c == nullptr) return absl::NotFoundError("no such connection");
  if (local.ip.family() != remote.ip.family()) {
    return absl::InvalidArgumentError("local and remote address families differ");
  }
  // The connection claims the tuple through ClaimTuple and reports the change.
  return c->OpenSubflow(now, FourTuple{local, remote}, backup);
}

inline void Endpoint::QueueControl(const FourTuple& tuple, const wire::TcpRepr& seg) {
  if (control_.size() >= config_.max_pending_resets) {
    ++stats_.resets_dropped;
    return;
  }
  control_.push_back(PendingControl{tuple, seg});
}

inline void Endpoint::QueueReset(const FourTuple& tuple, const wire::TcpRepr& seg,
                                 std::optional<wire::MpTcpRstReason> mptcp_reason) {
  // RFC 9293 §3.10.7.1: never answer a RST; else <SEQ=SEG.ACK><CTL=RST> or
  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
  if (seg.has_flag(wire::TcpFlag::kRst)) return;
  wire::TcpRepr r;
  r.src_port = tuple.local.port;
  r.dst_port = tuple.remote.port;
  if (seg.has_flag(wire::TcpFlag::kAck)) {
    r.seq = seg.ack;
    r.flags = wire::TcpFlag::kRst;
  } else {
    r.seq = SeqNum32(0);
    r.ack = seg.seq + static_cast<uint32_t>(seg.SeqLength());
    r.flags = wire::TcpFlag::kRst | wire::TcpFlag::kAck;
  }
  if (mptcp_reason) {
    uint8_t opt[4];
    const wire::MpTcpRst rst{0, static_cast<uint8_t>(*mptcp_reason)};
    if (auto n = wire::EmitMptcpOption(rst, opt); n.ok()) {
      r.options.AddMptcpOption(std::span<const uint8_t>(opt, *n));
    }
  }
  QueueControl(tuple, r);
}

inline void Endpoint::AddTimeWait(const tcp::TcpEngine& e) {
  const FourTuple& tuple = e.tuple();
  if (time_wait_.size() >= config_.max_time_wait && !time_wait_.contains(tuple)) {
    ++stats_.time_wait_overflow;
    return;
  }
  const tcp::TimeWaitRecord r = e.time_wait_record();
  time_wait_[tuple] = r;
  time_wait_expiry_.push_back(TimeWaitExpiry{r.expiry, tuple});
}

inline void Endpoint::ExpireTimeWait(Timestamp now) {
  while (!time_wait_expiry_.empty() && time_wait_expiry_.front().at <= now) {
    const TimeWaitExpiry e = time_wait_expiry_.front();
    time_wait_expiry_.pop_front();
    auto it = time_wait_.find(e.tuple);
    if (it == time_wait_.end()) continue;  // forgotten, or reused
    if (it->second.expiry > now) {
      // Restarted by a retransmitted FIN: wait again (entries stay in expiry order, since
      // every wait is the same 2 MSL).
      time_wait_expiry_.push_back(TimeWaitExpiry{it->second.expiry, e.tuple});
      continue;
    }
    time_wait_.erase(it);
  }
}

inline bool Endpoint::OnTimeWaitSegment(Timestamp now, const FourTuple& tuple,
                                        const wire::TcpRepr& seg, PacketResult& res) {
  auto it = time_wait_.find(tuple);
  if (it == time_wait_.end()) return false;
  using Action = tcp::TimeWaitRecord::Action;
  switch (it->second.OnSegment(now, seg, config_.connection.subflow.time_wait)) {
    case Action::kIgnore:
      break;
    case Action::kAck:
      ++stats_.time_wait_acks;
      QueueControl(tuple, it->second.Ack(now, tuple.local.port, tuple.remote.port));
      break;
    case Action::kForget:
      time_wait_.erase(it);
      CompactTimeWaitExpiry();
      break;
    case Action::kReuse:
      ++stats_.time_wait_reused;
      time_wait_.erase(it);
      CompactTimeWaitExpiry();
      return false;  // the SYN opens a new connection
  }
  res.verdict = PacketVerdict::kTimeWait;
  return true;
}

inline PacketResult Endpoint::OnPacket(Timestamp now, std::span<const uint8_t> ip_packet) {
  Settle();
  ReleaseFinished();
  ++stats_.packets_in;
  PacketResult res;
  auto ip = wire::ParseIpPacket(ip_packet);
  if (!ip.ok()) {
    ++stats_.malformed;
    res.verdict = PacketVerdict::kMalformed;
    return res;
  }
  if (ip->ip.protocol != 6) {
    res.verdict = PacketVerdict::kNotTcp;
    return res;
  }
  const std::span<const uint8_t> seg_bytes = ip->payload;
  auto view = wire::TcpHeaderView::Check(seg_bytes);
  if (!view.ok()) {
    ++stats_.malformed;
    res.verdict = PacketVerdict::kMalformed;
    return res;
  }
  const FourTuple tuple{{ip->ip.dst, view->dst_port()}, {ip->ip.src, view->src_port()}};
  if (auto it = by_tuple_.find(tuple); it != by_tuple_.end()) {
    Slot* s = it->second;
    res.connection = s->id;
    res.disposition = s->conn.OnSegment(now, tuple, seg_bytes);
    MarkDirty(s);
    return res;
  }
  // No connection: a TIME-WAIT record, a SYN opening one, or a stray.
  if (!wire::VerifyTcpChecksum(ip->ip.src, ip->ip.dst, seg_bytes)) {
    ++stats_.bad_checksum;
    res.verdict = PacketVerdict::kBadChecksum;
    return res;
  }
  auto seg = wire::TcpRepr::Parse(seg_bytes);
  if (!seg.ok()) {
    ++stats_.malformed;
    res.verdict = PacketVerdict::kMalformed;
    return res;
  }
  if (OnTimeWaitSegment(now, tuple, *seg, res)) return res;
  const bool syn_only =
      seg->has_flag(wire::TcpFlag::kSyn) && !seg->has_flag(wire::TcpFlag::kAck) &&
      !seg->has_flag(wire::TcpFlag::kRst);
  if (syn_only) {
    std::optional<wire::MpJoinSyn> join;
    bool mp_capable = false;
    for (std::span<const uint8_t> o : seg->options.mptcp_options()) {
      auto p = wire::ParseMptcpOption(o);
      if (!p.ok()) continue;
      if (auto* j = std::get_if<wire::MpJoinSyn>(&*p)) join = *j;
      if (std::holds_alternative<wire::MpCapable>(*p)) mp_capable = true;
    }
    if (join) {
      // RFC 8684 §3.2: the token names the connection; unknown tokens get a RST.
      auto t = by_token_.find(join->receiver_token);
      auto c = t == by_token_.end() ? connections_.end() : connections_.find(t->second);
      if (c == connections_.end()) {
        ++stats_.join_no_token;
        QueueReset(tuple, *seg, wire::MpTcpRstReason::kMptcpSpecific);
        res.verdict = PacketVerdict::kJoinNoToken;
        return res;
      }
      Slot* s = c->second.get();
      res.connection = s->id;
      res.disposition = s->conn.AcceptJoin(now, tuple, *seg, *join);
      MarkDirty(s);
      if (!res.disposition.accepted()) {
        QueueReset(tuple, *seg, wire::MpTcpRstReason::kMptcpSpecific);
        res.verdict = PacketVerdict::kJoinRefused;
        return res;
      }
      by_tuple_[tuple] = s;
      return res;
    }
    if (listening_.contains(tuple.local.port) && (mp_capable || config_.accept_plain_tcp)) {
      if (connections_.size() >= config_.max_connections) {
        QueueReset(tuple, *seg);
        res.verdict = PacketVerdict::kTooManyConnections;
        return res;
      }
      if (accepted_pending_ >= config_.accept_backlog) {
        // Linux drops the SYN when the accept queue is full; the client retries.
        ++stats_.listen_overflows;
        res.verdict = PacketVerdict::kBacklogFull;
        return res;
      }
      if (UseSynCookie()) {
        SendCookieSynAck(now, tuple, *seg);
        res.verdict = PacketVerdict::kSynCookie;
        return res;
      }
      Slot* s = AddConnection(Role::kServer);
      res.disposition = s->conn.AcceptSyn(now, tuple, *seg);
      s->half_open = true;
      ++half_open_;
      by_tuple_[tuple] = s;
      MarkDirty(s);
      res.connection = s->id;
      res.verdict = PacketVerdict::kNewConnection;
      events_.push_back(EndpointEvent{EndpointEvent::Type::kAccepted, s->id});
      ++accepted_pending_;
      return res;
    }
  }
  if (!syn_only && config_.syn_cookies != SynCookieMode::kOff &&
      listening_.contains(tuple.local.port) && seg->has_flag(wire::TcpFlag::kAck) &&
      !seg->has_flag(wire::TcpFlag::kSyn) && !seg->has_flag(wire::TcpFlag::kRst) &&
      AcceptCookieAck(now, tuple, *seg, seg_bytes, res)) {
    return res;
  }
  ++stats_.strays;
  QueueReset(tuple, *seg);
  res.verdict = PacketVerdict::kNoConnection;
  return res;
}

inline void Endpoint::SendCookieSynAck(Timestamp now, const FourTuple& tuple,
                                       const wire::TcpRepr& syn) {
  SynCookieFields f;
  f.mss = syn.options.mss.value_or(536);  // RFC 9293 §3.7.1: 536 when the SYN has none
  f.window_scale = syn.options.window_scale;
  f.sack_permitted = syn.options.sack_permitted;
  const uint32_t cookie = cookies_.Make(now, tuple, syn.seq.value(), f);
  const uint64_t key = cookies_.Key(tuple, cookie);
  if (by_token_.contains(crypto::KeyToken(key))) {
    ++stats_.token_collisions;  // the client's next SYN (a new ISN) gets another key
    return;
  }
  if (control_.size() >= config_.max_pending_resets) {
    ++stats_.resets_dropped;
    return;
  }
  // The SYN-ACK a connection would send, from a connection that lives only to write it: the
  // same options and window as the stateful path, with the cookie as ISN.
  Connection tmp(params_, Role::kServer, key, 0);
  const SubflowSeed seed{SeqNum32(cookie), cookies_.TsOffset(tuple)};
  if (!tmp.AcceptSyn(now, tuple, syn, seed).accepted()) return;
  std::array<uint8_t, 128> buf{};
  const TransmitResult t = tmp.PollTransmit(now, buf);
  if (!t) return;
  auto synack = wire::TcpRepr::Parse(std::span<const uint8_t>(buf.data(), t->len));
  if (!synack.ok()) return;
  control_.push_back(PendingControl{tuple, *synack});
  ++stats_.syncookies_sent;
}

inline bool Endpoint::AcceptCookieAck(Timestamp now, const FourTuple& tuple,
                                      const wire::TcpRepr& seg,
                                      std::span<const uint8_t> seg_bytes, PacketResult& res) {
  const uint32_t client_isn = seg.seq.value() - 1;
  const uint32_t cookie = seg.ack.value() - 1;
  const std::optional<SynCookieFields> f = cookies_.Check(now, tuple, client_isn, cookie);
  if (!f) {
    ++stats_.syncookies_failed;
    return false;
  }
  std::optional<wire::MpCapable> mpc;
  for (std::span<const uint8_t> o : seg.options.mptcp_options()) {
    auto p = wire::ParseMptcpOption(o);
    if (p.ok() && std::holds_alternative<wire::MpCapable>(*p)) mpc = std::get<wire::MpCapable>(*p);
  }
  if (mpc) {
    // RFC 8684 §3.1: the third ACK echoes both keys; ours must be the one the cookie derives.
    if (!mpc->sender_key || !mpc->receiver_key ||
        *mpc->receiver_key != cookies_.Key(tuple, cookie)) {
      ++stats_.syncookies_failed;
      return false;
    }
  } else if (!config_.accept_plain_tcp) {
    return false;
  }
  if (connections_.size() >= config_.max_connections) {
    QueueReset(tuple, seg);
    res.verdict = PacketVerdict::kTooManyConnections;
    return true;
  }
  if (accepted_pending_ >= config_.accept_backlog) {
    ++stats_.listen_overflows;  // as Linux: the ACK is dropped, the client resends
    res.verdict = PacketVerdict::kBacklogFull;
    return true;
  }
  const uint64_t key = cookies_.Key(tuple, cookie);
  if (by_token_.contains(crypto::KeyToken(key))) {
    ++stats_.syncookies_failed;
    return false;
  }
  // The SYN, as far as the handshake needs it, rebuilt from the cookie and the ACK.
  wire::TcpRepr syn;
  syn.src_port = tuple.remote.port;
  syn.dst_port = tuple.local.port;
  syn.seq = SeqNum32(client_isn);
  syn.flags = wire::TcpFlag::kSyn;
  syn.window = seg.window;
  syn.options.mss = f->mss;
  syn.options.window_scale = f->window_scale;
  syn.options.sack_permitted = f->sack_permitted;
  std::optional<Timestamp> synack_sent;
  const uint32_t ts_offset = cookies_.TsOffset(tuple);
  if (seg.options.timestamps) {
    syn.options.timestamps = wire::TcpTimestamps{seg.options.timestamps->tsval, 0};
    // RFC 7323 §4.1: the echoed TSval says when the SYN-ACK left.
    const uint32_t now_ms = static_cast<uint32_t>(now.nanos() / 1'000'000);
    const uint32_t age_ms = now_ms - (seg.options.timestamps->tsecr - ts_offset);
    if (age_ms <= 120'000) synack_sent = now - Duration::Millis(age_ms);
  }
  if (mpc) {
    wire::MpCapable m;
    m.version = 1;
    m.flags = mpc->flags;
    std::array<uint8_t, 8> b{};
    auto n = wire::EmitMptcpOption(m, b);
    if (!n.ok() || !syn.options.AddMptcpOption(std::span<const uint8_t>(b.data(), *n))) {
      return false;
    }
  }
  Slot* s = AddConnection(Role::kServer, key);
  res.disposition =
      s->conn.AcceptCookie(now, tuple, syn, SubflowSeed{SeqNum32(cookie), ts_offset}, synack_sent);
  by_tuple_[tuple] = s;
  if (res.disposition.accepted()) res.disposition = s->conn.OnSegment(now, tuple, seg_bytes);
  MarkDirty(s);
  res.connection = s->id;
  res.verdict = PacketVerdict::kNewConnection;
  events_.push_back(EndpointEvent{EndpointEvent::Type::kAccepted, s->id});
  ++accepted_pending_;
  ++stats_.syncookies_recv;
  return true;
}

inline void Endpoint::Settle() const {
  for (Slot* s : dirty_) {
    s->dirty = false;
    if (s->half_open && (s->conn.established() || s->conn.closed())) {
      s->half_open = false;
      --half_open_;
    }
    const bool out = s->conn.HasOutput();
    if (out != s->has_output) {
      s->has_output = out;
      if (out) {
        ++ready_count_;
      } else {
        --ready_count_;
      }
    }
    if (out && !s->ready_queued) {
      s->ready_queued = true;
      ready_.push_back(s->id);
    }
    timers_.Set(s, s->conn.NextTimer());
    if (Releasable(*s)) to_release_.push_back(s->id);
  }
  dirty_.clear();
}

inline void Endpoint::ReleaseFinished() {
  for (ConnectionId id : to_release_) {
    auto it = connections_.find(id);
    if (it != connections_.end() && !it->second->dirty && Releasable(*it->second)) {
      Release(it->second.get());
    }
  }
  to_release_.clear();
}

inline void Endpoint::Release(Slot* s) {
  timers_.Remove(s);
  if (s->half_open) --half_open_;
  if (s->has_output) --ready_count_;
  const Connection& c = s->conn;
  c.ForEachTimeWait([this](const tcp::TcpEngine& e) { AddTimeWait(e); });
  c.ForEachTuple([this, s](const FourTuple& t) {
    auto it = by_tuple_.find(t);
    if (it != by_tuple_.end() && it->second == s) by_tuple_.erase(it);
  });
  if (auto t = by_token_.find(c.local_token()); t != by_token_.end() && t->second == s->id) {
    by_token_.erase(t);
  }
  ++stats_.released;
  connections_.erase(s->id);  // a stale id left in ready_ is skipped
}

inline TransmitResult Endpoint::PollTransmit(Timestamp now, std::span<uint8_t> buf,
                                             size_t gso_max_segments) {
  constexpr size_t kV4 = 20, kV6 = 40;
  Settle();
  ReleaseFinished();
  if (buf.size() < kV6 + 60) return TransmitResult::BufferTooSmall(kV6 + 60);
  auto finish = [&](const FourTuple& path, size_t tcp_len, SubflowId subflow,
                    uint16_t segment_size) {
    // The segment sits after a 20-byte gap; IPv6 needs 20 bytes more in front.
    const size_t hdr = path.local.ip.is_v4() ? kV4 : kV6;
    if (hdr == kV6) std::memmove(buf.data() + kV6, buf.data() + kV4, tcp_len);
    wire::IpRepr ip;
    ip.src = path.local.ip;
    ip.dst = path.remote.ip;
    ip.protocol = 6;
    ip.payload_len = static_cast<uint16_t>(tcp_len);
    (void)ip.Emit(buf.first(hdr));  // cannot fail: the buffer holds the header
    ++stats_.packets_out;
    Transmit t;
    t.path = path;
    t.len = hdr + tcp_len;
    t.segment_size = segment_size;
    t.subflow = subflow;
    return TransmitResult::Packet(t);
  };
  const std::span<uint8_t> tcp_buf = buf.subspan(kV4, buf.size() - kV6);
  while (!control_.empty()) {
    PendingControl r = control_.front();
    control_.pop_front();
    auto n = r.seg.Emit(tcp_buf, r.tuple.local.ip, r.tuple.remote.ip);
    if (!n.ok()) continue;
    if (r.seg.has_flag(wire::TcpFlag::kRst)) ++stats_.resets_sent;
    return finish(r.tuple, *n, 0, 0);
  }
  // In turn: a connection that sends goes to the back of the queue (when settled again).
  while (!ready_.empty()) {
    const ConnectionId id = ready_.front();
    auto it = connections_.find(id);
    if (it == connections_.end()) {
      ready_.pop_front();  // released
      continue;
    }
    Slot* s = it->second.get();
    if (!s->has_output) {
      ready_.pop_front();
      s->ready_queued = false;
      continue;
    }
    const TransmitResult r = s->conn.PollTransmit(now, tcp_buf, gso_max_segments);
    if (r.status() == TransmitResult::Status::kBufferTooSmall) {
      return TransmitResult::BufferTooSmall(r.needed() + kV6);
    }
    ready_.pop_front();
    s->ready_queued = false;
    MarkDirty(s);
    if (r) return finish(r->path, r->len, r->subflow, r->segment_size);
  }
  return TransmitResult::Idle();
}

inline PollAt Endpoint::NextDeadline() const {
  Settle();
  if (!control_.empty() || ready_count_ > 0) return PollAt::Now();
  Timestamp t = timers_.top_key();
  if (!time_wait_expiry_.empty()) t = Earliest(t, time_wait_expiry_.front().at);
  return PollAt::FromDeadline(t);
}

inline void Endpoint::OnTimeout(Timestamp now) {
  Settle();
  ReleaseFinished();
  while (!timers_.empty() && timers_.top_key() <= now) {
    Slot* s = timers_.top();
    timers_.Remove(s);
    due_.push_back(s);
  }
  for (Slot* s : due_) {
    s->conn.OnTimeout(now);
    MarkDirty(s);
  }
  due_.clear();
  ExpireTimeWait(now);
  Settle();
}

inline size_t Endpoint::Reap() {
  Settle();
  ReleaseFinished();
  std::vector<Slot*> done;
  for (auto& [id, s] : connections_) {
    if (s->conn.closed() && s->conn.finished() && !s->has_output) done.push_back(s.get());
  }
  for (Slot* s : done) Release(s);
  return done.size();
}

inline size_t Endpoint::TableBytes() const {
  // Hash tables hold their slots inline: capacity times the entry size, plus a control byte
  // each (absl's Swiss tables).
  auto table = [](const auto& m) {
    using Entry = typename std::decay_t<decltype(m)>::slot_type;
    return m.capacity() * (sizeof(Entry) + 1);
  };
  return table(connections_) + table(by_tuple_) + table(by_token_) + table(time_wait_) +
         connections_.size() * sizeof(Slot) - connections_.size() * sizeof(Connection) +
         timers_.allocated_bytes() + dirty_.capacity() * sizeof(Slot*) +
         ready_.allocated_bytes() + to_release_.capacity() * sizeof(ConnectionId) +
         time_wait_expiry_.allocated_bytes() + control_.allocated_bytes() +
         events_.allocated_bytes();
}

}  // namespace mptcp

#endif  // MPTCP_ENDPOINT_H_
