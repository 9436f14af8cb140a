// A flood of spoofed SYN+MP_JOIN carrying a connection's real token (RFC 7430 §2.2: the token
// is sent in clear, so an on-path observer or a lucky guess has it). The joins still in their
// handshake are bounded by the subflow limit, the oldest making room for the newest, so the
// connection's state stays at its bound and a real join made after the flood succeeds at once.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "mptcp/endpoint.h"
#include "mptcp/random.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"
#include "testing/endpoint_pair.h"

namespace mptcp::testing {
namespace {

// A SYN+MP_JOIN from `from` to `to` naming `token`, as a spoofer would send it.
std::vector<uint8_t> SpoofedJoinSyn(const SocketAddress& from, const SocketAddress& to,
                                    uint32_t token, Random& rng) {
  wire::TcpRepr t;
  t.src_port = from.port;
  t.dst_port = to.port;
  t.seq = SeqNum32(static_cast<uint32_t>(rng.Next()));
  t.flags = wire::TcpFlag::kSyn;
  t.window = 65535;
  t.options.mss = 1460;
  std::array<uint8_t, 40> buf{};
  auto n = wire::EmitMptcpOption(
      wire::MpJoinSyn{false, static_cast<uint8_t>(rng.Uniform(8)), token,
                      static_cast<uint32_t>(rng.Next())},
      buf);
  EXPECT_TRUE(n.ok());
  t.options.AddMptcpOption(std::span<const uint8_t>(buf.data(), *n));
  std::vector<uint8_t> p = IpPacketOf(from, to, t);
  EXPECT_FALSE(p.empty());
  return p;
}

// Connects the pair's client to kPairServer0 and runs until it is fully established: the
// server's side of that connection, or nullptr.
Connection* EstablishedServerConnection(EndpointPair& p) {
  const SocketAddress client0{IpAddress::V4(192, 0, 2, 1), 40000};
  auto cid = p.client.Connect(p.now, client0, kPairServer0);
  if (!cid.ok()) return nullptr;
  const bool up = p.RunUntil([&] {
    Connection* c = p.client.connection(*cid);
    return c != nullptr && c->fully_established();
  });
  Connection* server = nullptr;
  if (up) p.server.ForEachConnection([&](ConnectionId, Connection& c) { server = &c; });
  return server;
}

TEST(EndpointFloodTest, JoinFloodStaysBoundedAndARealJoinStillSucceeds) {
  EndpointConfig cfg;
  cfg.connection.max_subflows = 8;
  EndpointPair p(cfg);
  Connection* server = EstablishedServerConnection(p);
  ASSERT_NE(server, nullptr);
  // Some data both ways, so the server knows the connection works end to end.
  std::array<uint8_t, 1000> data{};
  ConnectionId cid{};
  p.client.ForEachConnection([&](ConnectionId id, Connection&) { cid = id; });
  p.client.connection(cid)->Write(p.now, data);
  p.RunUntil([] { return false; }, 20);
  const uint32_t token = server->local_token();

  Random rng(7);
  std::vector<uint8_t> out(2048);
  constexpr uint32_t kFlood = 100'000;
  size_t most = 0;
  for (uint32_t i = 0; i < kFlood; ++i) {
    // Sources all over 203.0.113.0/24, ports too: every SYN a new four-tuple.
    const SocketAddress from{IpAddress::V4(203, 0, 113, static_cast<uint8_t>(1 + i % 250)),
                             static_cast<uint16_t>(1024 + (i / 250) % 60000)};
    p.server.OnPacket(p.now, SpoofedJoinSyn(from, kPairServer1, token, rng));
    // The SYN-ACKs go to the spoofed sources: nobody answers them.
    while (p.server.PollTransmit(p.now, out)) {
    }
    most = std::max(most, server->subflow_count());
    if (i % 1000 == 999) p.now = p.now + Duration::Millis(1);
  }
  EXPECT_LE(most, cfg.connection.max_subflows) << "state past its bound";
  EXPECT_EQ(p.server.connection_count(), 1u);
  EXPECT_GE(server->mib().mp_join_syn_evicted, kFlood - cfg.connection.max_subflows);
  // The spoofed joins never got past their handshake: no subflow came up.
  EXPECT_EQ(server->Subflows().size(), server->subflow_count());

  // A real join from the client, right after the flood.
  const SocketAddress client1{IpAddress::V4(192, 0, 2, 2), 40001};
  auto sid = p.client.OpenSubflow(p.now, cid, client1, kPairServer1);
  ASSERT_TRUE(sid.ok()) << sid.status();
  EXPECT_TRUE(p.RunUntil([&] {
    auto info = p.client.connection(cid)->subflow(*sid);
    return info.has_value() && info->fully_established;
  })) << "the real join did not complete";
  size_t up = 0;
  for (const SubflowInfo& s : server->Subflows()) up += s.fully_established ? 1 : 0;
  EXPECT_EQ(up, 2u);
  std::printf("%u spoofed joins: at most %zu subflows held, %llu evicted; the real join "
              "completed\n",
              kFlood, most, static_cast<unsigned long long>(server->mib().mp_join_syn_evicted));
}

// RFC 8684 §3.1 flag C, the server's side: having said that its initial address and port take
// no joins (deny_join_initial, Linux's allow_join_initial_addr_port=0), the server refuses a
// SYN+MP_JOIN there, from a client that ignores the flag, and still takes one to another
// address of its own.
TEST(EndpointFloodTest, FlagCRefusesJoinsToTheInitialAddress) {
  EndpointConfig cfg;
  cfg.connection.deny_join_initial = true;
  EndpointPair p(cfg);
  Connection* server = EstablishedServerConnection(p);
  ASSERT_NE(server, nullptr);
  Random rng(9);
  const SocketAddress stranger{IpAddress::V4(203, 0, 113, 9), 5000};
  p.server.OnPacket(p.now, SpoofedJoinSyn(stranger, kPairServer0, server->local_token(), rng));
  EXPECT_EQ(server->mib().mp_join_rejected, 1u);
  EXPECT_EQ(server->subflow_count(), 1u);
  const SocketAddress other{IpAddress::V4(203, 0, 113, 9), 5001};
  p.server.OnPacket(p.now, SpoofedJoinSyn(other, kPairServer1, server->local_token(), rng));
  EXPECT_EQ(server->mib().mp_join_rejected, 1u);
  EXPECT_EQ(server->subflow_count(), 2u) << "a join to the second address is taken";
}

// RFC 8684 §3.4.1: joins go to a port the connection uses or one an ADD_ADDR named. Linux has
// no listener elsewhere and answers with a RST; so do we, though the token is valid.
TEST(EndpointFloodTest, JoinsGoOnlyToPortsInUseOrAnnounced) {
  EndpointPair p(EndpointConfig{});
  Connection* server = EstablishedServerConnection(p);
  ASSERT_NE(server, nullptr);
  Random rng(9);
  const SocketAddress stray_port{kPairServer1.ip, 9999};
  const SocketAddress announced{IpAddress::V4(198, 51, 100, 3), 6000};
  auto join_to = [&](const SocketAddress& local, uint16_t client_port) {
    const PacketResult r = p.server.OnPacket(
        p.now, SpoofedJoinSyn({IpAddress::V4(203, 0, 113, 9), client_port}, local,
                              server->local_token(), rng));
    return r.verdict != PacketVerdict::kJoinRefused;  // refused: a RST is queued
  };
  EXPECT_FALSE(join_to(stray_port, 5000));
  EXPECT_EQ(server->mib().mp_join_port_mismatch, 1u);
  EXPECT_EQ(server->subflow_count(), 1u);
  EXPECT_TRUE(join_to({kPairServer1.ip, kPairServer0.port}, 5001)) << "the connection's port";
  EXPECT_EQ(server->subflow_count(), 2u);
  EXPECT_FALSE(join_to(announced, 5002)) << "not announced yet";
  server->AnnounceAddress(p.now, 7, announced);
  EXPECT_TRUE(join_to(announced, 5003));
  EXPECT_EQ(server->subflow_count(), 3u);
  EXPECT_EQ(server->mib().mp_join_port_mismatch, 2u);
  server->WithdrawAddress(p.now, 7);  // and with it the subflow that joined there
  EXPECT_FALSE(join_to(announced, 5004)) << "withdrawn";
  EXPECT_EQ(server->mib().mp_join_port_mismatch, 3u);
}

}  // namespace
}  // namespace mptcp::testing
