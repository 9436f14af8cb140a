// A test harness: a client and a server Endpoint joined by several paths, each a pair of
// one-way links with seeded loss, delay, reordering and rate, on a virtual clock. The client
// opens the connection on path 0 and joins the others; each side writes a seeded byte stream,
// checks every byte it reads, then closes. Scheduled actions (black-holing a path, injecting a
// RST, a packet filter acting as a middlebox) exercise failures; per-path counters and an event
// log show what happened. Same seed, same run.
#ifndef MPTCP_MULTIPATH_PIPE_H_
#define MPTCP_MULTIPATH_PIPE_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mptcp/endpoint.h"
#include "mptcp/random.h"
#include "mptcp/tcp/engine_pipe.h"
#include "mptcp/wire/checksum.h"

namespace mptcp::testing {

using tcp::testing::PipeLinkConfig;

struct PathSpec {
  IpAddress client_ip;
  IpAddress server_ip;
  PipeLinkConfig up;    // client -> server
  PipeLinkConfig down;  // server -> client
  bool backup = false;
};

// A middlebox on a path: may rewrite the IP packet in place or drop it (return false).
using PacketFilter = std::function<bool(std::vector<uint8_t>& packet, bool upstream)>;

struct MultipathPipeConfig {
  EndpointConfig client;
  EndpointConfig server;
  std::vector<PathSpec> paths;
  uint16_t client_port = 40000;
  uint16_t server_port = 80;
  size_t client_bytes = 0;
  size_t server_bytes = 0;
  bool join_all = true;   // open a subflow on every path once established
  // The server application does not read before this time (a peer that stops reading).
  Timestamp server_reads_from = Timestamp::Zero();
  bool close_when_done = true;
  // Keep running at least this long (for tests that inspect an idle connection).
  Duration run_at_least = Duration::Zero();
  // A test that aborts or resets on purpose: a close other than kNormal does not fail the run,
  // which ends once both connections are closed and no packet is in flight.
  bool allow_abnormal_close = false;
  uint64_t seed = 1;
  Duration deadline = Duration::Seconds(3600);
  uint64_t max_steps = 100'000'000;
};

// What one path carried (after loss, black-holing and filters): [0] client -> server,
// [1] server -> client.
struct PathCounters {
  uint64_t packets[2] = {};
  uint64_t payload_bytes[2] = {};  // TCP payload octets
  uint64_t payload_total() const { return payload_bytes[0] + payload_bytes[1]; }
};

// A connection event as the harness's application saw it (Readable and Writable, the
// level-triggered hints, are not logged).
struct LoggedEvent {
  Timestamp at;
  bool client = true;
  Event event;
};

// A connection as the harness last saw it: the Endpoint lets a connection go once it is
// closed, finished and read, so results are read from here rather than from the Connection.
struct ConnectionSnapshot {
  bool seen = false;
  bool closed = false;
  CloseReason close_reason = CloseReason::kNone;
  bool fallen_back = false;
  bool checksum_enabled = false;
};

struct MultipathPipeResult {
  bool ok = false;
  std::string error;
  Duration elapsed;
  uint64_t packets = 0;
  uint64_t dropped = 0;
  size_t client_read = 0, server_read = 0;
  Duration longest_client_stall, longest_server_stall;  // longest gap between reads
  MptcpMib client_mib, server_mib;
  ConnectionSnapshot client_final, server_final;
  tcp::TcpMib client_tcp, server_tcp;
  bool fell_back = false;
  size_t max_client_buffer_bytes = 0, max_server_buffer_bytes = 0;
  std::vector<PathCounters> paths;
  std::vector<LoggedEvent> events;
  // When each application saw the end of the peer's stream (Never() if it did not).
  Timestamp client_eof_at = Timestamp::Never(), server_eof_at = Timestamp::Never();
};

class MultipathPipe {
 public:
  explicit MultipathPipe(const MultipathPipeConfig& cfg)
      : cfg_(cfg),
        rng_(cfg.seed ^ 0x5bd1e995),
        client_(cfg.client, cfg.seed * 2 + 1),
        server_(cfg.server, cfg.seed * 2 + 2),
        filters_(cfg.paths.size()),
        blackholed_(cfg.paths.size(), false),
        path_counters_(cfg.paths.size()),
        path_free_(cfg.paths.size() * 2, Timestamp::Zero()) {}

  Endpoint& client() { return client_; }
  Endpoint& server() { return server_; }
  Connection* client_conn() { return client_.connection(client_id_); }
  Connection* server_conn() { return server_id_ ? server_.connection(server_id_) : nullptr; }
  ConnectionId client_id() const { return client_id_; }
  Timestamp now() const { return now_; }
  // What each path has carried so far.
  const std::vector<PathCounters>& path_counters() const { return path_counters_; }
  // Connection events so far (see LoggedEvent).
  const std::vector<LoggedEvent>& events() const { return events_; }

  void SetFilter(size_t path, PacketFilter f) { filters_[path] = std::move(f); }
  void SetBlackholed(size_t path, bool on) { blackholed_[path] = on; }
  // Called with every event either application polls (Readable and Writable included), before
  // the harness acts on it; e.g. to open a subflow to an announced address.
  void SetEventHook(std::function<void(MultipathPipe&, bool client, const Event&)> hook) {
    event_hook_ = std::move(hook);
  }
  // Runs `fn` once when the simulated clock reaches `at`.
  void At(Timestamp at, std::function<void(MultipathPipe&)> fn) {
    actions_.push_back({at, std::move(fn)});
    std::sort(actions_.begin(), actions_.end(),
              [](const Action& a, const Action& b) { return a.at < b.at; });
  }
  // Delivers a RST to the client on `path`'s subflow at exactly its RCV.NXT, as a peer
  // answering a challenge would.
  bool InjectResetToClient(size_t path) {
    Connection* c = client_conn();
    if (c == nullptr) return false;
    const FourTuple t = ClientTuple(path);
    const std::optional<SubflowInfo> s = c->subflow(t);
    if (!s) return false;
    wire::TcpRepr rst;
    rst.src_port = t.remote.port;
    rst.dst_port = t.local.port;
    rst.seq = s->rcv_nxt;
    rst.flags = wire::TcpFlag::kRst;
    std::vector<uint8_t> pkt(20 + 40 + 20);
    auto n = rst.Emit(std::span<uint8_t>(pkt).subspan(40), t.remote.ip, t.local.ip);
    if (!n.ok()) return false;
    wire::IpRepr ip;
    ip.src = t.remote.ip;
    ip.dst = t.local.ip;
    ip.payload_len = static_cast<uint16_t>(*n);
    const size_t hdr = ip.HeaderLength();
    std::memmove(pkt.data() + hdr, pkt.data() + 40, *n);
    if (!ip.Emit(std::span<uint8_t>(pkt).first(hdr)).ok()) return false;
    pkt.resize(hdr + *n);
    client_.OnPacket(now_, pkt);
    return true;
  }

  FourTuple ClientTuple(size_t path) const {
    return FourTuple{{cfg_.paths[path].client_ip, cfg_.client_port},
                     {cfg_.paths[path].server_ip, cfg_.server_port}};
  }

  MultipathPipeResult Run() {
    MultipathPipeResult res;
    server_.Listen(cfg_.server_port);
    auto id = client_.Connect(now_, ClientTuple(0).local, ClientTuple(0).remote);
    if (!id.ok()) return Fail(res, std::string(id.status().message()));
    client_id_ = *id;
    const Timestamp deadline = Timestamp::Zero() + cfg_.deadline;
    Side* sides = sides_seen_;
    sides[0].dir = 0;
    sides[1].dir = 1;
    uint64_t steps_at_this_time = 0;
    for (uint64_t step = 0;; ++step) {
      if (step > cfg_.max_steps) return Fail(res, "step limit");
      while (!actions_.empty() && actions_.front().at <= now_) {
        auto fn = std::move(actions_.front().fn);
        actions_.erase(actions_.begin());
        fn(*this);
      }
      while (auto e = server_.PollEvent()) {
        if (server_id_ == 0) server_id_ = e->id;
      }
      if (!PumpApp(sides[0], client_conn(), cfg_.client_bytes, cfg_.server_bytes, res) ||
          !PumpApp(sides[1], server_conn(), cfg_.server_bytes, cfg_.client_bytes, res)) {
        return res;
      }
      Transmit(client_, true, res);
      Transmit(server_, false, res);
      if (Done(sides)) break;
      Timestamp next =
          PollAt::Earliest(client_.NextDeadline(), server_.NextDeadline()).WakeAt(now_);
      if (!queue_.empty()) next = Earliest(next, queue_.top().at);
      if (!actions_.empty()) next = Earliest(next, actions_.front().at);
      if (next < now_) next = now_;
      if (next.IsNever() && now_ < Timestamp::Zero() + cfg_.run_at_least) {
        next = Timestamp::Zero() + cfg_.run_at_least;  // idle on purpose
      }
      if (next.IsNever()) return Fail(res, "stalled: nothing scheduled");
      // An endpoint that keeps asking to run now without doing anything would spin forever.
      steps_at_this_time = next == now_ ? steps_at_this_time + 1 : 0;
      if (steps_at_this_time > kLivelockSteps) {
        return Fail(res, absl::StrFormat("livelock: NextDeadline() is now for %u steps but "
                                         "nothing happens (client deadline %s, server %s)",
                                         kLivelockSteps, DeadlineText(client_),
                                         DeadlineText(server_)));
      }
      now_ = next;
      if (now_ > deadline) return Fail(res, "simulated deadline passed");
      while (!queue_.empty() && queue_.top().at <= now_) {
        InFlight p = queue_.top();
        queue_.pop();
        (p.to_server ? server_ : client_).OnPacket(now_, p.bytes);
      }
      for (Endpoint* e : {&client_, &server_}) {
        if (e->NextDeadline().DueBy(now_)) e->OnTimeout(now_);
      }
      Sample(res);
    }
    res.ok = true;
    res.elapsed = now_ - Timestamp::Zero();
    res.client_read = sides[0].read;
    res.server_read = sides[1].read;
    res.longest_client_stall = sides[0].longest_stall;
    res.longest_server_stall = sides[1].longest_stall;
    res.client_eof_at = sides[0].eof_at;
    res.server_eof_at = sides[1].eof_at;
    Collect(res);
    return res;
  }

 private:
  struct Side {
    int dir = 0;
    size_t written = 0;
    size_t read = 0;
    bool closed = false;
    bool joined = false;
    Timestamp last_read;
    Duration longest_stall;
    bool eof = false;
    Timestamp eof_at = Timestamp::Never();
    // The Endpoint releases a connection once it is closed, finished and read: what the
    // harness saw of it last (counters taken from Closed on).
    ConnectionSnapshot last;
    MptcpMib mib;
    tcp::TcpMib tcp_mib;
  };
  struct InFlight {
    Timestamp at;
    uint64_t order;
    bool to_server;
    std::vector<uint8_t> bytes;
    bool operator<(const InFlight& o) const {
      return at != o.at ? at > o.at : order > o.order;
    }
  };
  struct Action {
    Timestamp at;
    std::function<void(MultipathPipe&)> fn;
  };
  static constexpr uint64_t kLivelockSteps = 100'000;

  std::string DeadlineText(const Endpoint& e) const {
    const PollAt d = e.NextDeadline();
    if (d.kind() != PollAt::Kind::kAt) return d.now() ? "now" : "never";
    return absl::StrFormat("%+.6fs", (d.at() - now_).seconds());
  }

  bool PumpApp(Side& s, Connection* c, size_t to_send, size_t to_receive,
               MultipathPipeResult& res) {
    if (c == nullptr) return true;
    s.last = ConnectionSnapshot{true, c->closed(), c->close_reason(), c->fallen_back(),
                                c->checksum_enabled()};
    if (c->closed()) {
      s.mib = c->mib();
      s.tcp_mib = c->SubflowMib();
    }
    while (auto e = c->PollEvent()) {
      if (e->type != EventType::kReadable && e->type != EventType::kWritable) {
        events_.push_back(LoggedEvent{now_, s.dir == 0, *e});
      }
      if (event_hook_) event_hook_(*this, s.dir == 0, *e);
    }
    if (c->closed() && c->close_reason() != CloseReason::kNormal && !cfg_.allow_abnormal_close) {
      Fail(res, absl::StrFormat("%s connection closed: %s", s.dir == 0 ? "client" : "server",
                                std::string(CloseReasonName(c->close_reason()))));
      return false;
    }
    if (!c->established()) return true;
    if (s.dir == 0 && cfg_.join_all && !s.joined && c->fully_established() && !c->fallen_back()) {
      s.joined = true;
      for (size_t p = 1; p < cfg_.paths.size(); ++p) {
        const FourTuple t = ClientTuple(p);
        (void)client_.OpenSubflow(now_, client_id_, t.local, t.remote, cfg_.paths[p].backup);
      }
    }
    // Read and verify.
    uint8_t buf[32768];
    uint8_t want[32768];
    const bool may_read = s.dir == 0 || now_ >= cfg_.server_reads_from;
    while (size_t n = may_read ? c->Read(now_, buf) : 0) {
      tcp::testing::EnginePipe::FillStream(cfg_.seed, 1 - s.dir, s.read, std::span<uint8_t>(want, n));
      if (std::memcmp(buf, want, n) != 0) {
        size_t i = 0;
        while (buf[i] == want[i]) ++i;
        Fail(res, absl::StrFormat("%s read byte %u wrong", s.dir == 0 ? "client" : "server",
                                  s.read + i));
        return false;
      }
      if (s.read > 0 || n > 0) {
        if (s.read > 0) s.longest_stall = std::max(s.longest_stall, now_ - s.last_read);
        s.last_read = now_;
      }
      s.read += n;
      if (s.read > to_receive) {
        Fail(res, "read more than was sent");
        return false;
      }
    }
    if (c->eof() && !s.eof) {
      s.eof = true;
      s.eof_at = now_;
    }
    // Write.
    while (s.written < to_send && c->write_space() > 0) {
      const size_t n = std::min({sizeof(buf), to_send - s.written, c->write_space()});
      tcp::testing::EnginePipe::FillStream(cfg_.seed, s.dir, s.written, std::span<uint8_t>(buf, n));
      const size_t w = c->Write(now_, std::span<const uint8_t>(buf, n));
      s.written += w;
      if (w == 0) break;
    }
    if (s.written == to_send && !s.closed && cfg_.close_when_done) {
      c->Close(now_);
      s.closed = true;
    }
    return true;
  }

  // Finds the path (and direction) of a packet by its addresses.
  int PathOf(const std::vector<uint8_t>& pkt, bool* upstream) const {
    auto ip = wire::ParseIpPacket(pkt);
    if (!ip.ok()) return -1;
    for (size_t p = 0; p < cfg_.paths.size(); ++p) {
      if (ip->ip.src == cfg_.paths[p].client_ip && ip->ip.dst == cfg_.paths[p].server_ip) {
        *upstream = true;
        return static_cast<int>(p);
      }
      if (ip->ip.src == cfg_.paths[p].server_ip && ip->ip.dst == cfg_.paths[p].client_ip) {
        *upstream = false;
        return static_cast<int>(p);
      }
    }
    return -1;
  }

  void Transmit(Endpoint& e, bool from_client, MultipathPipeResult& res) {
    uint8_t buf[2048];
    for (int guard = 0; guard < 1'000'000; ++guard) {
      const TransmitResult t = e.PollTransmit(now_, buf);
      if (!t) break;
      ++res.packets;
      std::vector<uint8_t> pkt(buf, buf + t->len);
      bool up = false;
      const int p = PathOf(pkt, &up);
      if (p < 0 || up != from_client) {
        ++res.dropped;
        continue;
      }
      const PipeLinkConfig& link = up ? cfg_.paths[p].up : cfg_.paths[p].down;
      if (blackholed_[p] || rng_.Bernoulli(link.loss)) {
        ++res.dropped;
        continue;
      }
      if (filters_[p] && !filters_[p](pkt, up)) {
        ++res.dropped;
        continue;
      }
      PathCounters& counters = path_counters_[static_cast<size_t>(p)];
      ++counters.packets[up ? 0 : 1];
      counters.payload_bytes[up ? 0 : 1] += TcpPayloadLength(pkt);
      Timestamp& free = path_free_[2 * p + (up ? 0 : 1)];
      Timestamp depart = now_;
      if (link.rate_bps > 0) {
        depart = std::max(now_, free) +
                 Duration::Nanos(static_cast<int64_t>(pkt.size() * 8 * 1'000'000'000ULL /
                                                      link.rate_bps));
        free = depart;
      }
      Timestamp at = depart + link.delay;
      if (rng_.Bernoulli(link.reorder)) at = at + link.reorder_extra;
      queue_.push(InFlight{at, order_++, up, std::move(pkt)});
    }
  }

  bool Done(const Side* sides) {
    if (now_ < Timestamp::Zero() + cfg_.run_at_least) return false;
    Connection* c = client_conn();
    Connection* s = server_conn();
    // A connection seen and now gone was released: closed, finished and read to the end.
    if ((c == nullptr && !sides[0].last.seen) || (s == nullptr && !sides[1].last.seen)) {
      return false;
    }
    const auto closed = [](Connection* x, const Side& side) {
      return x == nullptr || (x->closed() && side.last.closed);
    };
    const auto abnormal = [](const Side& side) {
      return side.last.closed && side.last.close_reason != CloseReason::kNormal;
    };
    if (cfg_.allow_abnormal_close && closed(c, sides[0]) && closed(s, sides[1]) &&
        (abnormal(sides[0]) || abnormal(sides[1]))) {
      return queue_.empty();
    }
    if (sides[0].read != cfg_.server_bytes || sides[1].read != cfg_.client_bytes) return false;
    if (!cfg_.close_when_done) return true;
    if (!(closed(c, sides[0]) && closed(s, sides[1]) && sides[0].eof && sides[1].eof)) {
      return false;
    }
    // Closed comes once both DATA_FINs are acknowledged; wait for the subflows' own FIN
    // exchanges too (TIME-WAIT counts as finished).
    for (Connection* conn : {c, s}) {
      if (conn != nullptr && !conn->finished()) return false;
    }
    return true;
  }

  void Sample(MultipathPipeResult& res) {
    if (Connection* c = client_conn()) {
      res.max_client_buffer_bytes = std::max(res.max_client_buffer_bytes, c->BufferBytes());
      res.fell_back |= c->fallen_back();
    }
    if (Connection* s = server_conn()) {
      res.max_server_buffer_bytes = std::max(res.max_server_buffer_bytes, s->BufferBytes());
    }
  }

  static size_t TcpPayloadLength(const std::vector<uint8_t>& pkt) {
    auto ip = wire::ParseIpPacket(pkt);
    if (!ip.ok()) return 0;
    auto tcp = wire::TcpHeaderView::Check(ip->payload);
    return tcp.ok() ? tcp->payload().size() : 0;
  }

  void Collect(MultipathPipeResult& res) {
    res.paths = path_counters_;
    res.events = events_;
    res.client_final = sides_seen_[0].last;
    res.server_final = sides_seen_[1].last;
    if (Connection* c = client_conn()) {
      res.client_mib = c->mib();
      res.client_tcp = c->SubflowMib();
      res.fell_back |= c->fallen_back();
    } else {
      res.client_mib = sides_seen_[0].mib;
      res.client_tcp = sides_seen_[0].tcp_mib;
      res.fell_back |= sides_seen_[0].last.fallen_back;
    }
    if (Connection* s = server_conn()) {
      res.server_mib = s->mib();
      res.server_tcp = s->SubflowMib();
    } else {
      res.server_mib = sides_seen_[1].mib;
      res.server_tcp = sides_seen_[1].tcp_mib;
    }
  }

  MultipathPipeResult& Fail(MultipathPipeResult& res, const std::string& why) {
    res.ok = false;
    res.error = absl::StrFormat("seed %u at %.3fs: %s", cfg_.seed,
                                (now_ - Timestamp::Zero()).seconds(), why);
    Collect(res);
    return res;
  }

  MultipathPipeConfig cfg_;
  Random rng_;
  Endpoint client_;
  Endpoint server_;
  ConnectionId client_id_ = 0;
  ConnectionId server_id_ = 0;
  std::vector<PacketFilter> filters_;
  std::vector<bool> blackholed_;
  std::vector<PathCounters> path_counters_;
  std::vector<LoggedEvent> events_;
  std::function<void(MultipathPipe&, bool, const Event&)> event_hook_;
  std::vector<Timestamp> path_free_;
  std::vector<Action> actions_;
  Timestamp now_ = Timestamp::Zero();
  Side sides_seen_[2];  // the two applications: [0] client, [1] server
  std::priority_queue<InFlight> queue_;
  uint64_t order_ = 0;
};

// Two (or more) disjoint paths on the documentation ranges: client 192.0.2.(1+i), server
// 198.51.100.(1+i).
inline std::vector<PathSpec> DocumentationPaths(size_t n, const PipeLinkConfig& link) {
  std::vector<PathSpec> v;
  for (size_t i = 0; i < n; ++i) {
    PathSpec p;
    p.client_ip = IpAddress::V4(192, 0, 2, static_cast<uint8_t>(1 + i));
    p.server_ip = IpAddress::V4(198, 51, 100, static_cast<uint8_t>(1 + i));
    p.up = link;
    p.down = link;
    v.push_back(p);
  }
  return v;
}

// --- Middleboxes, for PacketFilter ------------------------------------------------------------

// The TCP segment inside one of the harness's IP packets, writable in place.
struct MutableSegment {
  IpAddress src, dst;
  std::span<uint8_t> bytes;  // TCP header and payload
  size_t header_length = 0;
  uint8_t flags = 0;
  bool has_flag(uint8_t f) const { return (flags & f) != 0; }
  std::span<uint8_t> payload() const { return bytes.subspan(header_length); }
  void FixChecksum() const { wire::FillTcpChecksum(src, dst, bytes); }
};

inline std::optional<MutableSegment> SegmentOf(std::vector<uint8_t>& pkt) {
  auto ip = wire::ParseIpPacket(pkt);
  if (!ip.ok() || ip->ip.protocol != wire::kIpProtoTcp) return std::nullopt;
  auto tcp = wire::TcpHeaderView::Check(ip->payload);
  if (!tcp.ok()) return std::nullopt;
  const size_t offset = static_cast<size_t>(ip->payload.data() - pkt.data());
  return MutableSegment{ip->ip.src, ip->ip.dst,
                        std::span<uint8_t>(pkt.data() + offset, ip->payload.size()),
                        tcp->header_length(), tcp->flags()};
}

// Overwrites every MPTCP option (kind 30) with NOPs and fixes the TCP checksum, as a middlebox
// that strips unknown options would (the case RFC 8684 §3.7 falls back for). Returns whether
// anything was stripped.
inline bool StripMptcpOptions(std::vector<uint8_t>& pkt) {
  auto seg = SegmentOf(pkt);
  if (!seg) return false;
  bool stripped = false;
  size_t i = wire::kTcpMinHeaderLength;
  while (i < seg->header_length) {
    const uint8_t kind = seg->bytes[i];
    if (kind == 0) break;  // end of option list
    if (kind == 1 || i + 1 >= seg->header_length) {
      ++i;
      continue;
    }
    const size_t len = seg->bytes[i + 1];
    if (len < 2 || i + len > seg->header_length) break;
    if (kind == 30) {
      std::fill_n(seg->bytes.begin() + static_cast<ptrdiff_t>(i), len, uint8_t{1});
      stripped = true;
    }
    i += len;
  }
  if (stripped) seg->FixChecksum();
  return stripped;
}

// Flips every bit of payload byte `index` and fixes the TCP checksum, as a middlebox that
// rewrites content would: only the DSS checksum (RFC 8684 §3.3.1) can notice. False when the
// segment has no such byte.
inline bool CorruptPayloadByte(std::vector<uint8_t>& pkt, size_t index) {
  auto seg = SegmentOf(pkt);
  if (!seg || index >= seg->payload().size()) return false;
  seg->payload()[index] ^= 0xff;
  seg->FixChecksum();
  return true;
}

}  // namespace mptcp::testing

#endif  // MPTCP_MULTIPATH_PIPE_H_
