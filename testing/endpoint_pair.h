// Two Endpoints joined back to back in memory on a virtual clock, with nothing in between: for
// benchmarks and memory tests that need many connections quickly (the io/sim harness models
// links and is the tool for behaviour under loss and delay).
#ifndef TESTING_ENDPOINT_PAIR_H_
#define TESTING_ENDPOINT_PAIR_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "mptcp/endpoint.h"
#include "mptcp/wire/gso.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/tcp.h"

namespace mptcp::testing {

class EndpointPair {
 public:
  // The server listens on port 80.
  explicit EndpointPair(const EndpointConfig& cfg) : client(cfg, 1), server(cfg, 2) {
    server.Listen(80);
  }

  // Moves every packet one way (less those `drop` takes, a path cut); returns how many went.
  // With gso_max_segments > 1 the endpoints may send super-segments: cut into segments as
  // Linux's GSO would (each offered to `drop` and `tap` on its own) unless gso_whole, which
  // delivers them as they are, as GRO hands a coalesced segment to a receiver.
  uint64_t Shuttle(Endpoint& from, Endpoint& to) {
    uint64_t n = 0;
    std::vector<uint8_t>& buf = gso_max_segments > 1 ? big_ : pkt_;
    while (const TransmitResult t = from.PollTransmit(now, buf, gso_max_segments)) {
      const std::span<const uint8_t> packet(buf.data(), t->len);
      if (t->segment_size != 0) ++super_segments;
      if (t->segment_size == 0 || gso_whole) {
        n += Deliver(to, *t, packet);
        continue;
      }
      Transmit cut = *t;
      cut.segment_size = 0;
      auto r = wire::ForEachGsoSegment(packet, t->segment_size, pkt_,
                                       [&](std::span<const uint8_t> seg) {
                                         cut.len = seg.size();
                                         n += Deliver(to, cut, seg);
                                       });
      if (!r.ok()) ++bad_super_segments;
    }
    return n;
  }
  uint64_t Exchange() { return Shuttle(client, server) + Shuttle(server, client); }
  void Timers() {
    for (Endpoint* e : {&client, &server}) {
      if (e->NextDeadline().DueBy(now)) e->OnTimeout(now);
    }
  }
  // Moves the clock to the earlier endpoint's next deadline (1 ms on when neither has one)
  // and runs the timers due.
  void AdvanceToNextDeadline() {
    const Timestamp next =
        PollAt::Earliest(client.NextDeadline(), server.NextDeadline()).WakeAt(now);
    now = next.IsNever() ? now + Duration::Millis(1) : std::max(now, next);
    Timers();
  }
  // Exchanges packets, moving the clock to the next deadline when nothing moves, until done()
  // holds or `max_rounds` pass.
  template <typename Done>
  bool RunUntil(Done done, int max_rounds = 1000) {
    for (int i = 0; i < max_rounds; ++i) {
      if (done()) return true;
      if (Exchange() == 0) AdvanceToNextDeadline();
    }
    return done();
  }

  Endpoint client, server;
  Timestamp now = Timestamp::Zero();
  // Packets for which this says true are lost (either direction).
  std::function<bool(const Transmit&)> drop;
  // Sees every packet delivered (after `drop`).
  std::function<void(const Transmit&, std::span<const uint8_t>)> tap;
  // May change a packet (a copy) before delivery: a middlebox.
  std::function<void(std::vector<uint8_t>&)> rewrite;
  size_t gso_max_segments = 1;
  bool gso_whole = false;
  uint64_t super_segments = 0, bad_super_segments = 0;

 private:
  uint64_t Deliver(Endpoint& to, const Transmit& t, std::span<const uint8_t> packet) {
    if (drop && drop(t)) return 0;
    if (rewrite) {
      std::vector<uint8_t> copy(packet.begin(), packet.end());
      rewrite(copy);
      if (tap) tap(t, copy);
      to.OnPacket(now, copy);
      return 1;
    }
    if (tap) tap(t, packet);
    to.OnPacket(now, packet);
    return 1;
  }

  std::vector<uint8_t> pkt_ = std::vector<uint8_t>(2048);
  std::vector<uint8_t> big_ = std::vector<uint8_t>(65536 + 64);
};

// Client addresses 192.0.2.1-254 and ports 1024-65535: 16 million distinct tuples.
inline SocketAddress NthClientAddress(uint32_t n) {
  return SocketAddress{IpAddress::V4(192, 0, 2, static_cast<uint8_t>(1 + (n / 64512) % 254)),
                       static_cast<uint16_t>(1024 + n % 64512)};
}
// `t` as the IP packet `from` would send to `to` (checksums filled in): for tests that forge
// segments. Empty if `t` cannot be encoded.
inline std::vector<uint8_t> IpPacketOf(const SocketAddress& from, const SocketAddress& to,
                                       const wire::TcpRepr& t) {
  wire::IpRepr ip;
  ip.src = from.ip;
  ip.dst = to.ip;
  ip.payload_len = static_cast<uint16_t>(t.EncodedLength());
  std::vector<uint8_t> p(ip.PacketLength());
  if (!ip.Emit(p).ok() ||
      !t.Emit(std::span<uint8_t>(p).subspan(ip.HeaderLength()), ip.src, ip.dst).ok()) {
    return {};
  }
  return p;
}

inline const SocketAddress kPairServer0{IpAddress::V4(198, 51, 100, 1), 80};
inline const SocketAddress kPairServer1{IpAddress::V4(198, 51, 100, 2), 80};

// One connection's life as a request/response client and server have it: the client connects,
// the server accepts and closes, the client reads to the end and closes; neither reaps. Returns
// whether it closed cleanly (both DATA_FINs) before the client's Endpoint let it go, and adds
// the packets it took to `packets`.
inline bool ConnectAcceptClose(EndpointPair& p, const SocketAddress& client_addr,
                               uint64_t* packets) {
  auto cid = p.client.Connect(p.now, client_addr, kPairServer0);
  if (!cid.ok()) return false;
  bool clean = false;
  uint8_t sink[64];
  for (int round = 0; round < 64; ++round) {
    const uint64_t moved = p.Exchange();
    *packets += moved;
    while (auto e = p.server.PollEvent()) {
      Connection* s = p.server.connection(e->id);
      while (s->PollEvent()) {
      }
      s->Close(p.now);
    }
    Connection* c = p.client.connection(*cid);
    if (c == nullptr) break;  // released: done
    while (auto e = c->PollEvent()) {
      if (e->type == EventType::kClosed && e->reason == CloseReason::kNormal) clean = true;
    }
    while (c->Read(p.now, sink) > 0) {
    }
    if (c->eof() && !c->app_closed()) c->Close(p.now);
    if (moved == 0) p.AdvanceToNextDeadline();  // only timers left (delayed ACKs)
  }
  return clean && p.client.connection(*cid) == nullptr;
}

}  // namespace mptcp::testing

#endif  // TESTING_ENDPOINT_PAIR_H_
