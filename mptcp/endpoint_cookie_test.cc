// A stateless MP_CAPABLE v1 server (SYN cookies, RFC 4987 §3.6, RFC 8684 §3.1): no state from
// the SYN to the third ACK, the connection rebuilt from that ACK carries MPTCP byte-exact both
// ways, forged ACKs open nothing, and a SYN flood leaves the server's state at its bound while
// a real client still connects.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "mptcp/endpoint.h"
#include "mptcp/random.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"
#include "testing/endpoint_pair.h"

namespace mptcp::testing {
namespace {

const SocketAddress kClient{IpAddress::V4(192, 0, 2, 1), 40000};

uint8_t PatternByte(uint64_t i, uint8_t salt) { return static_cast<uint8_t>((i * 131 + salt) >> 3); }

// Sends `bytes` each way and reads them back, checking every byte; true when all arrived.
bool TransferBothWays(EndpointPair& p, ConnectionId client_id, ConnectionId server_id,
                      uint64_t bytes) {
  uint64_t sent[2] = {0, 0}, got[2] = {0, 0};
  std::array<uint8_t, 4096> buf{};
  for (int round = 0; round < 20000 && (got[0] < bytes || got[1] < bytes); ++round) {
    Connection* ends[2] = {p.client.connection(client_id), p.server.connection(server_id)};
    if (ends[0] == nullptr || ends[1] == nullptr) return false;
    for (int side = 0; side < 2; ++side) {
      Connection* c = ends[side];
      while (sent[side] < bytes && c->write_space() > 0) {
        const size_t n = std::min<uint64_t>({buf.size(), bytes - sent[side], c->write_space()});
        for (size_t i = 0; i < n; ++i) buf[i] = PatternByte(sent[side] + i, side ? 7 : 3);
        const size_t w = c->Write(p.now, std::span<const uint8_t>(buf.data(), n));
        sent[side] += w;
        if (w < n) break;
      }
      Connection* r = ends[1 - side];
      for (size_t n; (n = r->Read(p.now, buf)) > 0;) {
        for (size_t i = 0; i < n; ++i) {
          if (buf[i] != PatternByte(got[side] + i, side ? 7 : 3)) {
            ADD_FAILURE() << "wrong byte at " << got[side] + i << " (direction " << side << ")";
            return false;
          }
        }
        got[side] += n;
      }
    }
    if (p.Exchange() == 0) p.AdvanceToNextDeadline();
  }
  return got[0] == bytes && got[1] == bytes;
}

ConnectionId AcceptOne(EndpointPair& p) {
  while (auto e = p.server.PollEvent()) return e->id;
  return 0;
}

TEST(EndpointCookieTest, AlwaysModeKeepsNoStateUntilTheThirdAckAndCarriesMptcp) {
  EndpointConfig cfg;
  cfg.syn_cookies = SynCookieMode::kAlways;
  EndpointPair p(cfg);
  auto cid = p.client.Connect(p.now, kClient, kPairServer0);
  ASSERT_TRUE(cid.ok());
  // The SYN reaches the server, which answers and keeps nothing.
  ASSERT_EQ(p.Shuttle(p.client, p.server), 1u);
  EXPECT_EQ(p.server.connection_count(), 0u);
  EXPECT_EQ(p.server.stats().syncookies_sent, 1u);
  ASSERT_EQ(p.Shuttle(p.server, p.client), 1u);  // the cookie SYN-ACK
  ASSERT_TRUE(p.RunUntil([&] {
    Connection* c = p.client.connection(*cid);
    return c != nullptr && c->fully_established();
  }));
  EXPECT_EQ(p.server.stats().syncookies_recv, 1u);
  EXPECT_EQ(p.server.stats().syncookies_failed, 0u);
  const ConnectionId sid = AcceptOne(p);
  ASSERT_NE(sid, 0u);
  Connection* s = p.server.connection(sid);
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->fallen_back());
  EXPECT_FALSE(p.client.connection(*cid)->fallen_back());
  EXPECT_EQ(s->remote_key(), p.client.connection(*cid)->local_key());
  ASSERT_TRUE(TransferBothWays(p, *cid, sid, 300'000));
  // The rebuilt subflow kept what the SYN negotiated: window scaling, SACK, timestamps.
  for (const SubflowInfo& i : s->Subflows()) {
    EXPECT_GT(i.bytes_sent_segments, 0u);
  }
}

TEST(EndpointCookieTest, JoinsWorkOnACookieConnection) {
  EndpointConfig cfg;
  cfg.syn_cookies = SynCookieMode::kAlways;
  EndpointPair p(cfg);
  auto cid = p.client.Connect(p.now, kClient, kPairServer0);
  ASSERT_TRUE(cid.ok());
  ASSERT_TRUE(p.RunUntil([&] {
    Connection* c = p.client.connection(*cid);
    return c != nullptr && c->fully_established();
  }));
  const ConnectionId sid = AcceptOne(p);
  ASSERT_NE(sid, 0u);
  // RFC 8684 §3.2: the join names the connection by the token of the key the cookie derived.
  const SocketAddress client1{IpAddress::V4(192, 0, 2, 2), 40001};
  ASSERT_TRUE(p.client.OpenSubflow(p.now, *cid, client1, kPairServer1).ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.server.connection(sid)->subflow_count() == 2; }));
  ASSERT_TRUE(TransferBothWays(p, *cid, sid, 200'000));
}

TEST(EndpointCookieTest, ForgedAcksOpenNothing) {
  EndpointConfig cfg;
  cfg.syn_cookies = SynCookieMode::kAlways;
  EndpointPair p(cfg);
  // A blind ACK with a guessed cookie.
  wire::TcpRepr ack;
  ack.src_port = kClient.port;
  ack.dst_port = kPairServer0.port;
  ack.seq = SeqNum32(1000);
  ack.ack = SeqNum32(0x12345678);
  ack.flags = wire::TcpFlag::kAck;
  ack.window = 1000;
  std::vector<uint8_t> pkt = IpPacketOf(kClient, kPairServer0, ack);
  ASSERT_FALSE(pkt.empty());
  EXPECT_EQ(p.server.OnPacket(p.now, pkt).verdict, PacketVerdict::kNoConnection);
  EXPECT_EQ(p.server.stats().syncookies_failed, 1u);
  EXPECT_EQ(p.server.connection_count(), 0u);

  // A real cookie, but the third ACK echoes a key other than the one the cookie stands for.
  auto cid = p.client.Connect(p.now, kClient, kPairServer0);
  ASSERT_TRUE(cid.ok());
  p.Shuttle(p.client, p.server);
  p.Shuttle(p.server, p.client);
  std::vector<uint8_t> third(2048);
  const TransmitResult t = p.client.PollTransmit(p.now, third);
  ASSERT_TRUE(t);
  third.resize(t->len);
  auto parsed = wire::ParseIpPacket(third);
  ASSERT_TRUE(parsed.ok());
  auto seg = wire::TcpRepr::Parse(parsed->payload);
  ASSERT_TRUE(seg.ok());
  wire::TcpRepr forged = *seg;
  forged.options.ClearMptcp();
  wire::MpCapable m;
  m.flags = wire::MpCapable::kFlagH;
  m.sender_key = 1;
  m.receiver_key = 2;  // not the cookie's key
  std::array<uint8_t, 40> b{};
  auto n = wire::EmitMptcpOption(m, b);
  ASSERT_TRUE(n.ok());
  forged.options.AddMptcpOption(std::span<const uint8_t>(b.data(), *n));
  pkt = IpPacketOf(kClient, kPairServer0, forged);
  ASSERT_FALSE(pkt.empty());
  EXPECT_EQ(p.server.OnPacket(p.now, pkt).verdict, PacketVerdict::kNoConnection);
  EXPECT_EQ(p.server.stats().syncookies_failed, 2u);
  EXPECT_EQ(p.server.connection_count(), 0u);
  // The genuine third ACK still opens it.
  EXPECT_EQ(p.server.OnPacket(p.now, third).verdict, PacketVerdict::kNewConnection);
  EXPECT_EQ(p.server.connection_count(), 1u);
}

// A spoofed MP_CAPABLE SYN from `from`.
std::vector<uint8_t> SpoofedSyn(const SocketAddress& from, const SocketAddress& to, Random& rng) {
  wire::TcpRepr t;
  t.src_port = from.port;
  t.dst_port = to.port;
  t.seq = SeqNum32(static_cast<uint32_t>(rng.Next()));
  t.flags = wire::TcpFlag::kSyn;
  t.window = 65535;
  t.options.mss = 1460;
  t.options.window_scale = 7;
  t.options.sack_permitted = true;
  t.options.timestamps = wire::TcpTimestamps{static_cast<uint32_t>(rng.Next()), 0};
  std::array<uint8_t, 8> buf{};
  wire::MpCapable m;
  m.flags = wire::MpCapable::kFlagH;
  auto n = wire::EmitMptcpOption(m, buf);
  EXPECT_TRUE(n.ok());
  t.options.AddMptcpOption(std::span<const uint8_t>(buf.data(), *n));
  std::vector<uint8_t> p = IpPacketOf(from, to, t);
  EXPECT_FALSE(p.empty());
  return p;
}

TEST(EndpointCookieTest, SynFloodStaysBoundedAndARealClientConnects) {
  EndpointConfig cfg;  // the default: cookies once max_half_open handshakes are pending
  cfg.max_half_open = 256;
  EndpointPair p(cfg);
  const uint64_t flood = [] {
    const char* e = std::getenv("SYN_FLOOD_COUNT");
    return e != nullptr ? std::strtoull(e, nullptr, 10) : 100'000ull;
  }();
  ASSERT_GT(flood, 0u);
  Random rng(11);
  std::vector<uint8_t> out(2048);
  size_t most = 0;
  size_t most_table = 0;
  for (uint64_t i = 0; i < flood; ++i) {
    const SocketAddress from{IpAddress::V4(203, 0, 113, static_cast<uint8_t>(1 + i % 250)),
                             static_cast<uint16_t>(1024 + (i / 250) % 60000)};
    p.server.OnPacket(p.now, SpoofedSyn(from, kPairServer0, rng));
    while (p.server.PollTransmit(p.now, out)) {  // SYN-ACKs to spoofed sources: lost
    }
    most = std::max(most, p.server.connection_count());
    if (i % 1024 == 0) most_table = std::max(most_table, p.server.TableBytes());
    if (i % 4096 == 0) p.now = p.now + Duration::Millis(1);
  }
  EXPECT_EQ(most, cfg.max_half_open) << "half-open connections beyond the bound";
  EXPECT_GE(p.server.stats().syncookies_sent, flood - cfg.max_half_open);
  std::printf("SYN flood of %llu: at most %zu connections, %zu bytes of tables; %llu cookies\n",
              static_cast<unsigned long long>(flood), most, most_table,
              static_cast<unsigned long long>(p.server.stats().syncookies_sent));
  // A real client during the flood's aftermath: answered with a cookie, connects, transfers.
  auto cid = p.client.Connect(p.now, kClient, kPairServer0);
  ASSERT_TRUE(cid.ok());
  ASSERT_TRUE(p.RunUntil([&] {
    Connection* c = p.client.connection(*cid);
    return c != nullptr && c->fully_established();
  }));
  EXPECT_GE(p.server.stats().syncookies_recv, 1u);
  ConnectionId sid = 0;
  while (auto e = p.server.PollEvent()) sid = e->id;  // the spoofed ones were accepted too
  ASSERT_NE(sid, 0u);
  EXPECT_TRUE(TransferBothWays(p, *cid, sid, 100'000));
}

}  // namespace
}  // namespace mptcp::testing
