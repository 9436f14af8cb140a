// The endpoint: everything one host's MPTCP stack needs around its connections. It takes IP
// packets in, demultiplexes them by 4-tuple and by MPTCP token (RFC 8684 §2.2, §3.2), creates
// server connections from MP_CAPABLE SYNs on listening ports, answers strays with RSTs
// (RFC 9293 §3.10.7.1), keeps tokens unique, and puts IP packets out. Sans-IO like the rest.
#ifndef MPTCP_ENDPOINT_H_
#define MPTCP_ENDPOINT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "mptcp/address.h"
#include "mptcp/config.h"
#include "mptcp/connection.h"
#include "mptcp/crypto/keys.h"
#include "mptcp/fifo.h"
#include "mptcp/random.h"
#include "mptcp/time.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"

namespace mptcp {

using ConnectionId = uint64_t;

struct EndpointConfig {
  ConnectionConfig connection;
  size_t max_connections = 4096;
  // Accept plain TCP clients (no MP_CAPABLE) on listening ports, as Linux does.
  bool accept_plain_tcp = true;
  // RSTs queued for strays at most (more are dropped and counted): bounded memory.
  size_t max_pending_resets = 64;
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
  uint64_t join_no_token = 0;  // Linux: MPJoinNoTokenFound
};

class Endpoint {
 public:
  Endpoint(const EndpointConfig& config, uint64_t seed) : config_(config), rng_(seed) {}

  // Accept MPTCP (and, if configured, plain TCP) connections to `port` on any local address.
  void Listen(uint16_t port) { listening_.insert(port); }
  void StopListening(uint16_t port) { listening_.erase(port); }

  // Opens a client connection over `local` -> `remote`.
  absl::StatusOr<ConnectionId> Connect(Timestamp now, const SocketAddress& local,
                                       const SocketAddress& remote);
  // Adds a subflow to a connection (MP_JOIN) over another pair of addresses.
  absl::StatusOr<SubflowId> OpenSubflow(Timestamp now, ConnectionId id, const SocketAddress& local,
                                        const SocketAddress& remote, bool backup = false);

  Connection* connection(ConnectionId id) {
    auto it = connections_.find(id);
    return it == connections_.end() ? nullptr : it->second.get();
  }
  size_t connection_count() const { return connections_.size(); }
  template <typename Fn>
  void ForEachConnection(Fn&& fn) {
    for (auto& [id, c] : connections_) fn(id, *c);
  }

  // An IP packet from the network.
  PacketResult OnPacket(Timestamp now, std::span<const uint8_t> ip_packet);
  // The next IP packet to send, written at the start of `buf` (which should hold 40 + 60 +
  // MSS bytes); its length, or nullopt when there is nothing to send now.
  //
  // The driving loop: after any input, drain PollTransmit; when NextDeadline() <= now (it
  // returns Timestamp::Zero() when a packet is ready), call OnTimeout(now) then drain again.
  // OnTimeout does nothing when nothing is due, and after it and the drain NextDeadline() is
  // later than now.
  std::optional<size_t> PollTransmit(Timestamp now, std::span<uint8_t> buf);

  Timestamp NextDeadline() const;
  void OnTimeout(Timestamp now);
  std::optional<EndpointEvent> PollEvent() {
    if (events_.empty()) return std::nullopt;
    EndpointEvent e = events_.front();
    events_.pop_front();
    return e;
  }
  // Forgets connections that are closed and have no subflow left.
  size_t Reap();

  const EndpointStats& stats() const { return stats_; }
  const EndpointConfig& config() const { return config_; }

 private:
  struct PendingReset {
    FourTuple tuple;  // local first
    wire::TcpRepr rst;
  };

  uint64_t NewUniqueKey();
  ConnectionId AddConnection(std::unique_ptr<Connection> c);
  void Register(const FourTuple& tuple, ConnectionId id) { by_tuple_[tuple] = id; }
  // `mptcp_reason`: RFC 8684 §3.2 resets of refused joins carry MP_TCPRST.
  void QueueReset(const FourTuple& tuple, const wire::TcpRepr& seg,
                  std::optional<wire::MpTcpRstReason> mptcp_reason = std::nullopt);
  void SyncTuples(ConnectionId id, Connection& c);

  EndpointConfig config_;
  Random rng_;
  absl::flat_hash_set<uint16_t> listening_;
  // Ordered by id so that iteration (and hence output) is deterministic.
  absl::btree_map<ConnectionId, std::unique_ptr<Connection>> connections_;
  absl::flat_hash_map<FourTuple, ConnectionId> by_tuple_;
  absl::flat_hash_map<uint32_t, ConnectionId> by_token_;
  ConnectionId next_id_ = 1;
  ConnectionId rr_next_ = 0;  // round-robin position for PollTransmit
  Fifo<PendingReset> resets_;
  Fifo<EndpointEvent> events_;
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

inline ConnectionId Endpoint::AddConnection(std::unique_ptr<Connection> c) {
  const ConnectionId id = next_id_++;
  by_token_[c->local_token()] = id;
  connections_.emplace(id, std::move(c));
  return id;
}

inline void Endpoint::SyncTuples(ConnectionId id, Connection& c) {
  for (const SubflowInfo& s : c.Subflows()) by_tuple_.try_emplace(s.tuple, id);
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
  if (by_tuple_.contains(tuple)) return absl::AlreadyExistsError("4-tuple in use");
  auto c = std::make_unique<Connection>(config_.connection, Role::kClient, NewUniqueKey(),
                                        rng_.Next());
  c->Connect(now, tuple);
  const ConnectionId id = AddConnection(std::move(c));
  Register(tuple, id);
  return id;
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
  const FourTuple tuple{local, remote};
  if (by_tuple_.contains(tuple)) return absl::AlreadyExistsError("4-tuple in use");
  auto sid = c->OpenSubflow(now, tuple, backup);
  if (sid.ok()) Register(tuple, id);
  return sid;
}

inline void Endpoint::QueueReset(const FourTuple& tuple, const wire::TcpRepr& seg,
                                 std::optional<wire::MpTcpRstReason> mptcp_reason) {
  // RFC 9293 §3.10.7.1: never answer a RST; else <SEQ=SEG.ACK><CTL=RST> or
  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
  if (seg.has_flag(wire::TcpFlag::kRst)) return;
  if (resets_.size() >= config_.max_pending_resets) {
    ++stats_.resets_dropped;
    return;
  }
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
  resets_.push_back(PendingReset{tuple, r});
}

inline PacketResult Endpoint::OnPacket(Timestamp now, std::span<const uint8_t> ip_packet) {
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
    Connection* c = connection(it->second);
    if (c != nullptr && c->FindSubflow(tuple) != nullptr) {
      res.connection = it->second;
      res.disposition = c->OnSegment(now, tuple, seg_bytes);
      SyncTuples(it->second, *c);
      return res;
    }
    by_tuple_.erase(it);  // the subflow is gone
  }
  // No connection: a SYN may open one; anything else is a stray.
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
      Connection* c = t == by_token_.end() ? nullptr : connection(t->second);
      if (c == nullptr) {
        ++stats_.join_no_token;
        QueueReset(tuple, *seg, wire::MpTcpRstReason::kMptcpSpecific);
        res.verdict = PacketVerdict::kJoinNoToken;
        return res;
      }
      res.connection = t->second;
      res.disposition = c->AcceptJoin(now, tuple, *seg, *join);
      if (!res.disposition.accepted()) {
        QueueReset(tuple, *seg, wire::MpTcpRstReason::kMptcpSpecific);
        res.verdict = PacketVerdict::kJoinRefused;
        return res;
      }
      Register(tuple, t->second);
      return res;
    }
    if (listening_.contains(tuple.local.port) && (mp_capable || config_.accept_plain_tcp)) {
      if (connections_.size() >= config_.max_connections) {
        QueueReset(tuple, *seg);
        res.verdict = PacketVerdict::kTooManyConnections;
        return res;
      }
      auto c = std::make_unique<Connection>(config_.connection, Role::kServer, NewUniqueKey(),
                                            rng_.Next());
      res.disposition = c->AcceptSyn(now, tuple, *seg);
      const ConnectionId id = AddConnection(std::move(c));
      Register(tuple, id);
      res.connection = id;
      res.verdict = PacketVerdict::kNewConnection;
      events_.push_back(EndpointEvent{EndpointEvent::Type::kAccepted, id});
      return res;
    }
  }
  ++stats_.strays;
  QueueReset(tuple, *seg);
  res.verdict = PacketVerdict::kNoConnection;
  return res;
}

inline std::optional<size_t> Endpoint::PollTransmit(Timestamp now, std::span<uint8_t> buf) {
  constexpr size_t kV4 = 20, kV6 = 40;
  if (buf.size() < kV6 + 60) return std::nullopt;
  auto finish = [&](const FourTuple& path, size_t tcp_len) -> std::optional<size_t> {
    // The segment sits after a 20-byte gap; IPv6 needs 20 bytes more in front.
    const size_t hdr = path.local.ip.is_v4() ? kV4 : kV6;
    if (hdr == kV6) std::memmove(buf.data() + kV6, buf.data() + kV4, tcp_len);
    wire::IpRepr ip;
    ip.src = path.local.ip;
    ip.dst = path.remote.ip;
    ip.protocol = 6;
    ip.payload_len = static_cast<uint16_t>(tcp_len);
    auto n = ip.Emit(buf.first(hdr));
    if (!n.ok()) return std::nullopt;
    ++stats_.packets_out;
    return hdr + tcp_len;
  };
  const std::span<uint8_t> tcp_buf = buf.subspan(kV4, buf.size() - kV6);
  while (!resets_.empty()) {
    PendingReset r = resets_.front();
    resets_.pop_front();
    auto n = r.rst.Emit(tcp_buf, r.tuple.local.ip, r.tuple.remote.ip);
    if (!n.ok()) continue;
    ++stats_.resets_sent;
    return finish(r.tuple, *n);
  }
  if (connections_.empty()) return std::nullopt;
  // Round-robin over connections, starting after the last one that sent.
  auto start = connections_.upper_bound(rr_next_);
  for (size_t k = 0; k < connections_.size(); ++k) {
    if (start == connections_.end()) start = connections_.begin();
    auto& [id, c] = *start;
    if (auto t = c->PollTransmit(now, tcp_buf)) {
      rr_next_ = id;
      SyncTuples(id, *c);
      return finish(t->path, t->len);
    }
    ++start;
  }
  return std::nullopt;
}

inline Timestamp Endpoint::NextDeadline() const {
  if (!resets_.empty()) return Timestamp::Zero();
  Timestamp t = Timestamp::Never();
  for (const auto& [id, c] : connections_) {
    t = Earliest(t, c->NextDeadline());
    if (t == Timestamp::Zero()) break;
  }
  return t;
}

inline void Endpoint::OnTimeout(Timestamp now) {
  for (auto& [id, c] : connections_) {
    if (c->NextDeadline() <= now) c->OnTimeout(now);
  }
}

inline size_t Endpoint::Reap() {
  size_t n = 0;
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& c = *it->second;
    if (c.closed() && c.subflow_count() == 0) {
      by_token_.erase(c.local_token());
      it = connections_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  if (n > 0) {
    absl::erase_if(by_tuple_, [this](const auto& kv) { return !connections_.contains(kv.second); });
  }
  return n;
}

}  // namespace mptcp

#endif  // MPTCP_ENDPOINT_H_
