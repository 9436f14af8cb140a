// The whole-endpoint fuzz property: a client and a server Endpoint joined in memory, the fuzz
// input scripting the network (deliver, drop, duplicate, reorder, mutate header bytes, inject
// crafted packets) and the applications (write, read, close, abort, join, announce). Whatever
// the script, nothing crashes, memory and every queue (the event queues included) stay within
// the configured bounds, NextDeadline() and PollTransmit() agree (Now() exactly when a packet
// comes out; later than now once due timers ran and the output is drained), and (unless the
// script forges header bytes, which TCP itself cannot detect) every byte an application reads
// is the byte the other side wrote.
#ifndef FUZZ_ENDPOINT_CHECKS_H_
#define FUZZ_ENDPOINT_CHECKS_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "io/stream_pattern.h"
#include "mptcp/endpoint.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/gso.h"
#include "mptcp/wire/ip.h"

namespace mptcp::fuzz {

#define MPTCP_ENDPOINT_CHECK(cond)                                                   \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "endpoint fuzz check failed (%s:%d): %s\n", __FILE__,    \
                   __LINE__, #cond);                                                \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

// Reads the script; past the end it yields zeros.
class Script {
 public:
  explicit Script(std::span<const uint8_t> data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  uint8_t Byte() { return pos_ < data_.size() ? data_[pos_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(Byte() << 8 | Byte()); }
  std::span<const uint8_t> Bytes(size_t n) {
    n = std::min(n, data_.size() - std::min(pos_, data_.size()));
    auto s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

inline EndpointConfig FuzzEndpointConfig(bool checksum, bool syn_cookies = false) {
  EndpointConfig c;
  // The server answers every SYN statelessly (RFC 4987 §3.6) and rebuilds the connection
  // from the third ACK, so the cookie paths meet the same checks.
  if (syn_cookies) c.syn_cookies = SynCookieMode::kAlways;
  c.connection.send_buffer = 64 * 1024;
  c.connection.recv_buffer = 64 * 1024;
  c.connection.subflow.send_buffer = 32 * 1024;
  c.connection.subflow.recv_buffer = 64 * 1024;
  c.connection.subflow.rto_min = Duration::Millis(50);
  c.connection.max_subflows = 4;
  c.connection.checksum = checksum;
  c.max_connections = 8;
  return c;
}

// Lifecycle events (Established, FellBackToTcp, Closed) and the Readable/Writable hints come
// once each beyond the configured bound.
inline size_t EventQueueBound(const ConnectionConfig& c) { return c.max_events + 5; }

inline size_t BufferBound(const ConnectionConfig& c) {
  return c.send_buffer + c.recv_buffer +
         c.max_subflows * (c.subflow.send_buffer + c.subflow.recv_buffer);
}

// Runs one script. Returns normally; a violated property aborts.
inline void CheckEndpointScript(std::span<const uint8_t> data) {
  Script in(data);
  const uint8_t mode = in.Byte();
  const bool forge = (mode & 1) != 0;  // may mutate header bytes / inject packets
  const EndpointConfig cfg = FuzzEndpointConfig((mode & 2) != 0, (mode & 4) != 0);
  // Bit 3: the endpoints may send GSO super-segments, which the network cuts as Linux does
  // (wire::ForEachGsoSegment) before they join the queue.
  const size_t gso_segments = (mode & 8) != 0 ? 44 : 1;
  const uint64_t seed = in.Byte();
  Endpoint client(cfg, seed * 2 + 1), server(cfg, seed * 2 + 2);
  server.Listen(80);
  const SocketAddress c0{IpAddress::V4(192, 0, 2, 1), 40000};
  const SocketAddress s0{IpAddress::V4(198, 51, 100, 1), 80};
  const SocketAddress c1{IpAddress::V4(192, 0, 2, 2), 40000};
  const SocketAddress s1{IpAddress::V4(198, 51, 100, 2), 80};
  Timestamp now = Timestamp::Zero();
  auto cid = client.Connect(now, c0, s0);
  MPTCP_ENDPOINT_CHECK(cid.ok());

  // The network: a bounded FIFO of packets in buffers reused across steps and inputs (an
  // allocation per packet cost a tenth of the run time under ASan).
  struct Wire {
    uint8_t bytes[2048];
    uint16_t len;
    bool to_server;
    std::span<const uint8_t> view() const { return {bytes, len}; }
  };
  constexpr size_t kMaxWire = 512;
  static std::vector<Wire> pool(kMaxWire);  // set up once per process, not per input
  size_t head = 0, count = 0;  // net = pool[head .. head+count) mod kMaxWire
  auto net_front = [&]() -> Wire& { return pool[head]; };
  auto net_pop = [&]() { head = (head + 1) % kMaxWire; --count; };
  auto net_push = [&]() -> Wire* {
    if (count == kMaxWire) return nullptr;
    return &pool[(head + count++) % kMaxWire];
  };
  size_t written[2] = {0, 0}, read[2] = {0, 0};
  bool closed_write[2] = {false, false};
  uint8_t appbuf[4096];
  uint8_t want[4096];

  // The server's connection, found again only when the one we knew is gone.
  std::optional<ConnectionId> server_id;
  auto server_conn = [&]() -> Connection* {
    if (server_id) {
      if (Connection* c = server.connection(*server_id)) return c;
      server_id.reset();
    }
    server.ForEachConnection([&](ConnectionId id, Connection&) {
      if (!server_id) server_id = id;
    });
    return server_id ? server.connection(*server_id) : nullptr;
  };
  static std::vector<uint8_t> super(65536 + 64);
  // One PollTransmit, checked against what NextDeadline said just before.
  auto poll_one = [&](Endpoint& e, bool to_server) {
    const bool said_now = e.NextDeadline().now();
    if (gso_segments > 1) {
      const TransmitResult t = e.PollTransmit(now, super, gso_segments);
      MPTCP_ENDPOINT_CHECK(t.status() != TransmitResult::Status::kBufferTooSmall);
      MPTCP_ENDPOINT_CHECK(said_now == static_cast<bool>(t));
      if (!t) return false;
      MPTCP_ENDPOINT_CHECK(t->len <= super.size());
      uint8_t scratch[sizeof(Wire::bytes)];
      auto cut = wire::ForEachGsoSegment(
          std::span<const uint8_t>(super.data(), t->len), t->segment_size, scratch,
          [&](std::span<const uint8_t> seg) {
            MPTCP_ENDPOINT_CHECK(seg.size() <= sizeof(Wire::bytes));
            if (Wire* w = net_push()) {
              std::memcpy(w->bytes, seg.data(), seg.size());
              w->len = static_cast<uint16_t>(seg.size());
              w->to_server = to_server;
            }
          });
      MPTCP_ENDPOINT_CHECK(cut.ok());
      return true;
    }
    Wire* w = net_push();
    uint8_t scratch[sizeof(Wire::bytes)];
    std::span<uint8_t> out = w != nullptr ? std::span<uint8_t>(w->bytes) : scratch;
    const TransmitResult t = e.PollTransmit(now, out);
    MPTCP_ENDPOINT_CHECK(t.status() != TransmitResult::Status::kBufferTooSmall);
    MPTCP_ENDPOINT_CHECK(said_now == static_cast<bool>(t));
    if (!t) {
      if (w != nullptr) --count;
      return false;
    }
    MPTCP_ENDPOINT_CHECK(t->len <= out.size());
    if (w != nullptr) {
      w->len = static_cast<uint16_t>(t->len);
      w->to_server = to_server;
    }
    return true;
  };
  auto pump_out = [&](Endpoint& e, bool to_server) {
    for (int i = 0; i < 256 && poll_one(e, to_server); ++i) {
    }
  };
  auto app_read = [&](Connection* c, int side) {
    if (c == nullptr) return;
    for (int i = 0; i < 64; ++i) {
      const size_t n = c->Read(now, appbuf);
      if (n == 0) break;
      if (!forge) {
        io::StreamPattern(seed, 1 - side).Fill(read[side], std::span<uint8_t>(want, n));
        MPTCP_ENDPOINT_CHECK(std::memcmp(appbuf, want, n) == 0);
        MPTCP_ENDPOINT_CHECK(read[side] + n <= written[1 - side]);
      }
      read[side] += n;
    }
  };
  auto app_write = [&](Connection* c, int side, size_t n) {
    if (c == nullptr || closed_write[side]) return;
    n = std::min(n, sizeof(appbuf));
    io::StreamPattern(seed, side).Fill(written[side], std::span<uint8_t>(appbuf, n));
    written[side] += c->Write(now, std::span<const uint8_t>(appbuf, n));
  };

  for (int step = 0; step < 2000 && !in.done(); ++step) {
    Connection* cc = client.connection(*cid);
    Connection* sc = server_conn();
    const uint8_t op = in.Byte();
    switch (op % 16) {
      case 0: case 1: case 2: case 3: case 4:  // deliver the oldest packet
        if (count > 0) {
          Wire& w = net_front();
          net_pop();  // its buffer is reused only by a later push
          (w.to_server ? server : client).OnPacket(now, w.view());
        }
        break;
      case 5:  // drop it
        if (count > 0) net_pop();
        break;
      case 6:  // duplicate it
        if (count > 0 && count < kMaxWire) {
          Wire& front = net_front();
          Wire* copy = net_push();
          std::memcpy(copy->bytes, front.bytes, front.len);
          copy->len = front.len;
          copy->to_server = front.to_server;
        }
        break;
      case 7:  // reorder: move it to the back
        if (count > 0) {
          Wire& front = net_front();
          net_pop();
          Wire* back = net_push();  // the slot just freed when the FIFO was full
          if (back != &front) {
            std::memcpy(back->bytes, front.bytes, front.len);
            back->len = front.len;
            back->to_server = front.to_server;
          }
        }
        break;
      case 8:  // advance time (up to ~6.5 s), then run due timers
        now = now + Duration::Micros(int64_t{in.U16()} * 100);
        for (Endpoint* e : {&client, &server}) {
          const PollAt d = e->NextDeadline();
          if (d.DueBy(now)) e->OnTimeout(now);
        }
        break;
      case 9:
        app_write(cc, 0, in.U16() % 4096);
        break;
      case 10:
        app_write(sc, 1, in.U16() % 4096);
        break;
      case 11:
        app_read(cc, 0);
        app_read(sc, 1);
        break;
      case 12: {  // applications: close, abort, join, announce, priority
        const uint8_t what = in.Byte() % 8;
        if (what == 0 && cc) { cc->Close(now); closed_write[0] = true; }
        if (what == 1 && sc) { sc->Close(now); closed_write[1] = true; }
        if (what == 2 && cc && in.Byte() % 4 == 0) cc->Abort(now);
        if (what == 3) (void)client.OpenSubflow(now, *cid, c1, s1, in.Byte() & 1);
        if (what == 4 && sc) sc->AnnounceAddress(now, 1, s1);
        if (what == 5 && cc) cc->SetBackup(now, 1 + in.Byte() % 2, in.Byte() & 1);
        if (what == 6 && sc) sc->WithdrawAddress(now, 1);
        if (what == 7) { client.Reap(); server.Reap(); }
        break;
      }
      case 13:  // forge: mutate a header byte of the oldest packet, keeping checksums valid
        if (forge && count > 0) {
          const std::span<uint8_t> p(net_front().bytes, net_front().len);
          auto ip = wire::ParseIpPacket(p);
          if (ip.ok()) {
            const size_t ip_hdr = p.size() - ip->payload.size();
            auto view = wire::TcpHeaderView::Check(ip->payload);
            const size_t tcp_hdr = view.ok() ? view->header_length() : ip->payload.size();
            if (tcp_hdr > 0) {
              const size_t at = ip_hdr + in.Byte() % tcp_hdr;
              p[at] ^= static_cast<uint8_t>(1u << (in.Byte() % 8));
              wire::FillTcpChecksum(ip->ip.src, ip->ip.dst,
                                    std::span<uint8_t>(p.data() + ip_hdr, p.size() - ip_hdr));
            }
          }
        }
        break;
      case 14:  // forge: inject raw bytes as an IP packet to either side
        if (forge) {
          std::vector<uint8_t> raw;
          const auto b = in.Bytes(in.Byte());
          raw.assign(b.begin(), b.end());
          (in.Byte() & 1 ? server : client).OnPacket(now, raw);
        }
        break;
      default:  // transmit
        pump_out(client, true);
        pump_out(server, false);
        break;
    }
    // Bounded memory, always (the step may have reaped a connection: look them up again).
    cc = client.connection(*cid);
    sc = server_conn();
    if (cc) MPTCP_ENDPOINT_CHECK(cc->BufferBytes() <= BufferBound(cfg.connection));
    if (sc) MPTCP_ENDPOINT_CHECK(sc->BufferBytes() <= BufferBound(cfg.connection));
    MPTCP_ENDPOINT_CHECK(client.connection_count() <= cfg.max_connections);
    MPTCP_ENDPOINT_CHECK(server.connection_count() <= cfg.max_connections);
    // Bounded event queues, whether or not the applications poll them.
    for (Connection* c : {cc, sc}) {
      if (c) MPTCP_ENDPOINT_CHECK(c->pending_events() <= EventQueueBound(cfg.connection));
    }
    MPTCP_ENDPOINT_CHECK(server.pending_events() <= cfg.accept_backlog);
    // No livelock: once due timers have run and the output is drained, the next deadline is
    // in the future (an event loop sleeping on it makes progress).
    for (Endpoint* e : {&client, &server}) {
      const PollAt d = e->NextDeadline();
      if (d.DueBy(now)) e->OnTimeout(now);
      int sent = 0;
      while (sent < 1024 && poll_one(*e, e == &client)) ++sent;
      MPTCP_ENDPOINT_CHECK(sent < 1024);
      const PollAt after = e->NextDeadline();
      MPTCP_ENDPOINT_CHECK(after.never() || (!after.now() && after.at() > now));
    }
  }
  app_read(client.connection(*cid), 0);
  app_read(server_conn(), 1);
}

}  // namespace mptcp::fuzz

#endif  // FUZZ_ENDPOINT_CHECKS_H_
