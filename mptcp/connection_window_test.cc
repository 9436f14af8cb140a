// Conversation tests of the data-level receive window (RFC 8684 §3.3.4, §3.3.5): the right
// edge a server advertises (DATA_ACK + window) never moves left on any kind of segment, a
// segment the peer would not take a window from never pairs a newer DATA_ACK with a smaller
// window, and a peer that sends beyond the edge never loses data that a subflow acknowledged.
//
// The server runs TestConfig(): MSS 1000, no window scaling or timestamps, 20000-byte buffers.
// The client (the test) has opened path 1 and joined path 2.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "mptcp/connection.h"
#include "testing/connection_test_util.h"
#include "mptcp/crypto/keys.h"
#include "mptcp/random.h"

namespace mptcp::testing {
namespace {

constexpr uint64_t kSeed = 7;
constexpr Dsn64 kA0 = kClientIdsn + 1;  // the client's first data-level byte

// The server with both subflows fully established (the join's third ACK at 110 ms, its fourth
// ACK sent). Returns the server's ISS on each path.
struct Server {
  ConnHarness c;
  uint32_t siss1 = 0, siss2 = 0;
  // The client's next subflow sequence number on each path (relative: 1 is the first byte).
  uint32_t next_rel[2] = {1, 1};

  explicit Server(const ConnectionConfig& config = TestConfig())
      : c(config, Role::kServer, kServerKey, kSeed) {
    // The client offers window scaling (shift 0) when the server's config uses it.
    const JoinResponder r =
        ServerJoin(c, config.subflow.window_scaling ? std::optional<uint8_t>(0) : std::nullopt);
    siss1 = r.siss1;
    siss2 = r.siss2;
    c.Send(Ms(110), ServerPath2(),
           PeerSeg().SeqN(kClientJoinIss + 1).AckN(siss2 + 1).Win(30000).Mptcp(wire::MpJoinAck{
               .hmac = crypto::JoinAckHmac(kClientKey, kServerKey, kClientNonce, r.nonce)}));
    c.PollAll(Ms(110));
    c.Events();
  }

  FourTuple Path(int p) const { return p == 0 ? ServerPath1() : ServerPath2(); }
  uint32_t ClientIss(int p) const { return p == 0 ? kClientIss : kClientJoinIss; }
  uint32_t ServerIss(int p) const { return p == 0 ? siss1 : siss2; }

  // The client's segment on path p: `len` bytes of data-level offset `off` (from kA0) at
  // subflow offset `rel`, mapped by a DSS of its own.
  Disposition SendData(Timestamp t, int p, uint32_t rel, uint64_t off, uint16_t len) {
    std::vector<uint8_t> data(len);
    for (uint16_t i = 0; i < len; ++i) data[i] = static_cast<uint8_t>((off + i) * 13 + 5);
    return c.Send(t, Path(p),
                  PeerSeg()
                      .SeqN(ClientIss(p) + rel)
                      .AckN(ServerIss(p) + 1)
                      .Win(30000)
                      .Data(data)
                      .Mptcp(MapDss(kServerIdsn + 1, kA0 + off, rel, len)));
  }
  // The next `len` data-level bytes at offset `off`, in order on path p.
  Disposition SendNext(Timestamp t, int p, uint64_t off, uint16_t len) {
    const Disposition d = SendData(t, p, next_rel[p], off, len);
    next_rel[p] += len;
    return d;
  }
};

// The edge one emitted segment advertises, if it carries a DATA_ACK (`scale`: our window
// scale, RFC 7323 §2.2).
std::optional<Dsn64> Edge(const Sent& s, uint8_t scale = 0) {
  auto dss = s.Get<wire::Dss>();
  if (!dss || !dss->data_ack) return std::nullopt;
  return dss->data_ack->value + (uint64_t{s.tcp.window} << scale);
}

bool ReadsPattern(ConnHarness& c, uint64_t from, size_t n) {
  std::vector<uint8_t> out(n);
  if (c->Read(c.now(), out) != n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (out[i] != static_cast<uint8_t>((from + i) * 13 + 5)) return false;
  }
  return true;
}

TEST(ConnectionWindowTest, PureAckOnAnIdleSubflowKeepsItsWindow) {
  Server s;
  // 5000 bytes on path 1: the ACK there carries DATA_ACK kA0 + 5000 and window 15000 (nothing
  // read yet): the edge is kA0 + 20000.
  for (int i = 0; i < 5; ++i) s.SendNext(Ms(200), 0, i * 1000, 1000);
  std::vector<Sent> out = s.c.PollAll(Ms(200));
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back().path, ServerPath1());
  EXPECT_EQ(out.back().Get<wire::Dss>()->data_ack->value, kA0 + 5000);
  EXPECT_EQ(out.back().tcp.window, 15000);

  // 3000 more on path 2: its ACK says DATA_ACK kA0 + 8000, window 12000 (the same edge).
  for (int i = 0; i < 3; ++i) s.SendNext(Ms(210), 1, 5000 + i * 1000, 1000);
  out = s.c.PollAll(Ms(210));
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back().path, ServerPath2());
  EXPECT_EQ(out.back().Get<wire::Dss>()->data_ack->value, kA0 + 8000);
  EXPECT_EQ(out.back().tcp.window, 12000);

  // A duplicate of an old segment on path 1 draws a duplicate ACK there: same SEQ, same ACK as
  // the last one on path 1, so a Linux peer keeps path 1's window of 15000 and adds it to any
  // newer DATA_ACK. Pairing kA0 + 8000 with 12000 would be ignored, then read as kA0 + 8000 +
  // 15000, 3000 past our buffer. The ACK keeps 15000 and holds DATA_ACK at kA0 + 5000.
  s.SendData(Ms(220), 0, 1, 0, 1000);
  out = s.c.PollAll(Ms(220));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].path, ServerPath1());
  EXPECT_EQ(out[0].tcp.ack.value(), kClientIss + 5001);
  EXPECT_EQ(out[0].tcp.window, 15000);
  EXPECT_EQ(out[0].Get<wire::Dss>()->data_ack->value, kA0 + 5000);
  EXPECT_EQ(*Edge(out[0]), kA0 + 20000);
  EXPECT_EQ(s.c->mib().rcv_wnd_shared, 1u);

  // The application reads all 8000: the window update carries the new edge kA0 + 28000,
  // whichever subflow carries it.
  ASSERT_TRUE(ReadsPattern(s.c, 0, 8000));
  out = s.c.PollAll(Ms(230));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(*Edge(out[0]), kA0 + 28000);
}

// Every kind of segment the server sends (data with DATA_ACK, pure ACKs, duplicate ACKs, window
// updates after reads, ACKs of retransmissions), on both subflows, under a client that sends
// in random order, loses, duplicates and pauses, and an application that reads at random: the
// advertised edge never moves left and never passes what the buffer can hold. With window
// scaling, so that the window travels in units of 8 octets (a 300000-byte buffer needs a shift
// of 3, RFC 7323 §2.3): a window rounded down would retract the edge by up to 7 octets.
TEST(ConnectionWindowTest, RightEdgeNeverMovesLeftOnAnyAckPath) {
  ConnectionConfig config = TestConfig();
  config.subflow.window_scaling = true;
  config.recv_buffer = config.subflow.recv_buffer = 300000;
  constexpr uint8_t kScale = 3;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Server s(config);
    Random rng(seed);
    Dsn64 edge = kA0 + config.recv_buffer;  // highest edge seen so far (the first ACK's)
    uint64_t sent = 0;          // data-level offset of the client's next new byte
    uint64_t read = 0;          // bytes the application read
    int checked = 0;            // segments with a DATA_ACK seen
    std::vector<uint8_t> server_data(500, 0x5a);
    struct Seg {
      int path;
      uint32_t rel;
      uint64_t off;
      uint16_t len;
    };
    std::vector<Seg> history;
    Timestamp t = Ms(300);
    for (int step = 0; step < 400; ++step) {
      t = t + Duration::Millis(1 + static_cast<int64_t>(rng.Uniform(5)));
      switch (rng.Uniform(6)) {
        case 0:
        case 1: {  // new data within the last edge seen, on a random path (maybe lost)
          if (kA0 + sent >= edge) break;
          const int p = static_cast<int>(rng.Uniform(2));
          const uint16_t len = static_cast<uint16_t>(
              std::min<uint64_t>(1 + rng.Uniform(1000), edge - kA0 - sent));
          history.push_back(Seg{p, s.next_rel[p], sent, len});
          if (rng.Uniform(5) != 0) s.SendData(t, p, s.next_rel[p], sent, len);
          s.next_rel[p] += len;
          sent += len;
          break;
        }
        case 2:  // a retransmission or duplicate of an earlier segment
          if (!history.empty()) {
            const Seg& g = history[rng.Uniform(history.size())];
            s.SendData(t, g.path, g.rel, g.off, g.len);
          }
          break;
        case 3: {  // the application reads
          std::vector<uint8_t> out(rng.Uniform(6000));
          read += s.c->Read(t, out);
          break;
        }
        case 4:  // the server has data of its own (data segments carry DATA_ACKs too)
          s.c->Write(t, server_data);
          break;
        default:  // time passes: delayed ACKs, retransmissions
          t = t + Duration::Millis(50);
          break;
      }
      for (const Sent& out : s.c.PollAll(t)) {
        const std::optional<Dsn64> e = Edge(out, kScale);
        if (!e) continue;
        ASSERT_GE(*e, edge) << "seed " << seed << " step " << step << ": edge moved left on "
                            << out;
        ASSERT_LE(*e, kA0 + read + s.c->receive_capacity())
            << "seed " << seed << " step " << step << ": edge past the buffer on " << out;
        edge = *e;
        ++checked;
      }
    }
    EXPECT_EQ(s.c->mib().rcv_window_drop, 0u) << "seed " << seed;
    EXPECT_GT(checked, 100) << "seed " << seed;
  }
}

// The client sends 25 segments of 1000 bytes at once, 5000 past the 20000-byte window: 12 on
// path 1, 13 on path 2. Whatever a subflow acknowledges reaches the application; what lies
// past the edge is refused before TCP takes it, and arrives when the client resends it.
TEST(ConnectionWindowTest, PeerSendingBeyondTheWindowLosesNothingAcknowledged) {
  Server s;
  for (int i = 0; i < 12; ++i) s.SendNext(Ms(200), 0, i * 1000, 1000);
  for (int i = 12; i < 25; ++i) s.SendNext(Ms(200), 1, i * 1000, 1000);
  uint32_t acked[2] = {0, 0};  // highest subflow ACK the server sent on each path (relative)
  for (const Sent& out : s.c.PollAll(Ms(200))) {
    const int p = out.path == ServerPath1() ? 0 : 1;
    acked[p] = std::max(acked[p], out.tcp.ack.value() - s.ClientIss(p));
  }
  // Path 1's 12000 bytes and the first 8000 of path 2 fit (DSNs below kA0 + 20000): acked.
  EXPECT_EQ(acked[0], 12001u);
  EXPECT_EQ(acked[1], 8001u) << "bytes past the window must not be acknowledged";
  EXPECT_EQ(s.c->mib().rcv_window_trim, 5000u);
  EXPECT_EQ(s.c->mib().rcv_window_drop, 0u);
  // Every acknowledged byte is readable, and right.
  EXPECT_EQ(s.c->readable(), 20000u);
  ASSERT_TRUE(ReadsPattern(s.c, 0, 20000));
  s.c.PollAll(Ms(210));  // the window update

  // The client's subflow resends what was not acknowledged: now inside the window.
  for (int i = 20; i < 25; ++i) s.SendData(Ms(400), 1, 8001 + (i - 20) * 1000, i * 1000, 1000);
  s.c.PollAll(Ms(400));
  EXPECT_EQ(s.c->readable(), 5000u);
  EXPECT_TRUE(ReadsPattern(s.c, 20000, 5000));
  EXPECT_EQ(s.c->mib().rcv_window_drop, 0u);
}

}  // namespace
}  // namespace mptcp::testing
