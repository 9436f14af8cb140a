// The Endpoint around its connections: letting closed connections go with compact TIME-WAIT
// records, the accept backlog, the path and buffer check of PollTransmit, tuples claimed by
// subflows opened on the Connection directly, turns among busy connections, and path-manager
// commands for the whole Endpoint.
#include "mptcp/endpoint.h"

#include <gtest/gtest.h>


#include <vector>

#include "absl/container/flat_hash_map.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/tcp.h"
#include "testing/endpoint_pair.h"

namespace mptcp::testing {
namespace {

using wire::TcpFlag::kAck;
using wire::TcpFlag::kFin;
using wire::TcpFlag::kRst;
using wire::TcpFlag::kSyn;

// An IPv4 packet carrying `seg` from `from` to `to`, checksums filled.
std::vector<uint8_t> Packet(const SocketAddress& from, const SocketAddress& to,
                            wire::TcpRepr seg) {
  seg.src_port = from.port;
  seg.dst_port = to.port;
  std::vector<uint8_t> pkt(20 + 60);
  auto n = seg.Emit(std::span<uint8_t>(pkt).subspan(20), from.ip, to.ip);
  EXPECT_TRUE(n.ok());
  wire::IpRepr ip;
  ip.src = from.ip;
  ip.dst = to.ip;
  ip.protocol = 6;
  ip.payload_len = static_cast<uint16_t>(*n);
  EXPECT_TRUE(ip.Emit(std::span<uint8_t>(pkt).first(20)).ok());
  pkt.resize(20 + *n);
  return pkt;
}

// The next packet `e` sends, parsed (nullopt if none).
std::optional<wire::TcpRepr> Next(Endpoint& e, Timestamp now, std::vector<uint8_t>& buf) {
  const TransmitResult t = e.PollTransmit(now, buf);
  if (!t) return std::nullopt;
  auto ip = wire::ParseIpPacket(std::span<const uint8_t>(buf.data(), t->len));
  if (!ip.ok()) return std::nullopt;
  auto seg = wire::TcpRepr::Parse(ip->payload);
  if (!seg.ok()) return std::nullopt;
  return *seg;
}

TEST(EndpointTest, ClosedConnectionsLeaveTimeWaitRecordsThatAnswerForThem) {
  EndpointPair p{EndpointConfig{}};
  const SocketAddress client = NthClientAddress(7);
  uint64_t packets = 0;
  ASSERT_TRUE(ConnectAcceptClose(p, client, &packets));
  EXPECT_EQ(p.client.connection_count(), 0u) << "released without Reap()";
  EXPECT_EQ(p.server.connection_count(), 0u);
  EXPECT_EQ(p.client.stats().released, 1u);
  ASSERT_EQ(p.client.time_wait_count() + p.server.time_wait_count(), 1u)
      << "the side that closed its subflow first keeps TIME-WAIT";
  Endpoint& tw = p.client.time_wait_count() == 1 ? p.client : p.server;
  const SocketAddress local = &tw == &p.client ? client : kPairServer0;
  const SocketAddress remote = &tw == &p.client ? kPairServer0 : client;

  // The peer's FIN again (its ACK of ours was lost, say): acknowledged from the record.
  wire::TcpRepr fin;
  fin.flags = kFin | kAck;
  fin.seq = SeqNum32(12345);
  const PacketResult r = tw.OnPacket(p.now, Packet(remote, local, fin));
  EXPECT_EQ(r.verdict, PacketVerdict::kTimeWait);
  std::vector<uint8_t> buf(2048);
  const auto ack = Next(tw, p.now, buf);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->flags, kAck) << "an ACK, not a RST";
  EXPECT_EQ(tw.stats().time_wait_acks, 1u);

  // A RST ends the record: the next segment is a stray.
  wire::TcpRepr rst;
  rst.flags = kRst;
  rst.seq = ack->ack;
  EXPECT_EQ(tw.OnPacket(p.now, Packet(remote, local, rst)).verdict, PacketVerdict::kTimeWait);
  EXPECT_EQ(tw.time_wait_count(), 0u);
  EXPECT_EQ(tw.OnPacket(p.now, Packet(remote, local, fin)).verdict, PacketVerdict::kNoConnection);
}

TEST(EndpointTest, TimeWaitRecordsExpireAfterTwoMsl) {
  EndpointPair p{EndpointConfig{}};
  uint64_t packets = 0;
  ASSERT_TRUE(ConnectAcceptClose(p, NthClientAddress(1), &packets));
  ASSERT_EQ(p.client.time_wait_count() + p.server.time_wait_count(), 1u);
  const PollAt d = PollAt::Earliest(p.client.NextDeadline(), p.server.NextDeadline());
  ASSERT_FALSE(d.never()) << "the record's expiry is a deadline";
  EXPECT_GE(d.at(), p.now + Duration::Seconds(59));
  p.now = d.at();
  p.Timers();
  EXPECT_EQ(p.client.time_wait_count() + p.server.time_wait_count(), 0u);
  EXPECT_TRUE(p.client.NextDeadline().never());
  EXPECT_TRUE(p.server.NextDeadline().never());
}

TEST(EndpointTest, TimeWaitTableIsBounded) {
  EndpointConfig cfg;
  cfg.max_time_wait = 3;
  EndpointPair p(cfg);
  uint64_t packets = 0;
  for (uint32_t i = 0; i < 10; ++i) ASSERT_TRUE(ConnectAcceptClose(p, NthClientAddress(i), &packets));
  EXPECT_EQ(p.client.time_wait_count() + p.server.time_wait_count(), 3u);
  EXPECT_EQ(p.client.stats().time_wait_overflow + p.server.stats().time_wait_overflow, 7u);
}

TEST(EndpointTest, ConnectOverATimeWaitTupleReusesIt) {
  EndpointPair p{EndpointConfig{}};
  uint64_t packets = 0;
  const SocketAddress client = NthClientAddress(3);
  ASSERT_TRUE(ConnectAcceptClose(p, client, &packets));
  ASSERT_TRUE(ConnectAcceptClose(p, client, &packets)) << "the same 4-tuple, at once";
  EXPECT_EQ(p.client.stats().time_wait_reused + p.server.stats().time_wait_reused, 1u);
}

TEST(EndpointTest, PeerClosedConnectionStaysUntilTheApplicationClosesIt) {
  EndpointPair p{EndpointConfig{}};
  auto cid = p.client.Connect(p.now, NthClientAddress(0), kPairServer0);
  ASSERT_TRUE(cid.ok());
  ConnectionId sid = 0;
  ASSERT_TRUE(p.RunUntil([&] {
    while (auto e = p.server.PollEvent()) sid = e->id;
    return sid != 0 && p.client.connection(*cid)->fully_established();
  }));
  p.server.connection(sid)->Abort(p.now);
  p.RunUntil([&] { return p.client.connection(*cid)->closed(); });
  EXPECT_EQ(p.server.connection(sid), nullptr) << "aborted by its application: released";
  Connection* c = p.client.connection(*cid);
  ASSERT_NE(c, nullptr) << "reset under its application: kept for it to see";
  EXPECT_EQ(c->close_reason(), CloseReason::kReset);
  c->Close(p.now);
  p.RunUntil([&] { return false; }, 3);
  EXPECT_EQ(p.client.connection(*cid), nullptr) << "closed by its application too: released";
}

TEST(EndpointTest, AcceptBacklogBoundsPendingAcceptsAndDropsExtraSyns) {
  EndpointConfig cfg;
  cfg.accept_backlog = 2;
  EndpointPair p(cfg);
  for (uint32_t i = 0; i < 3; ++i) ASSERT_TRUE(p.client.Connect(p.now, NthClientAddress(i), kPairServer0).ok());
  p.Shuttle(p.client, p.server);
  EXPECT_EQ(p.server.pending_events(), 2u);
  EXPECT_EQ(p.server.connection_count(), 2u);
  EXPECT_EQ(p.server.stats().listen_overflows, 1u);
  // Accepting one makes room: the third client's SYN, resent, gets in.
  ASSERT_TRUE(p.server.PollEvent().has_value());
  p.RunUntil([&] { return p.server.connection_count() == 3; }, 200);
  EXPECT_EQ(p.server.connection_count(), 3u);
}

TEST(EndpointTest, PollTransmitNamesThePathAndRefusesASmallBuffer) {
  EndpointPair p{EndpointConfig{}};
  const SocketAddress client = NthClientAddress(5);
  ASSERT_TRUE(p.client.Connect(p.now, client, kPairServer0).ok());
  ASSERT_TRUE(p.client.NextDeadline().now());
  std::vector<uint8_t> small(60);
  const TransmitResult tiny = p.client.PollTransmit(p.now, small);
  EXPECT_EQ(tiny.status(), TransmitResult::Status::kBufferTooSmall);
  EXPECT_GT(tiny.needed(), small.size());
  EXPECT_TRUE(p.client.NextDeadline().now()) << "the SYN is still queued";
  std::vector<uint8_t> buf(tiny.needed());
  const TransmitResult t = p.client.PollTransmit(p.now, buf);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, (FourTuple{client, kPairServer0}));
  EXPECT_NE(t->subflow, 0u);
  EXPECT_FALSE(p.client.PollTransmit(p.now, buf));
}

TEST(EndpointTest, SubflowOpenedOnTheConnectionIsRoutedAndItsTupleClaimed) {
  EndpointPair p{EndpointConfig{}};
  auto cid = p.client.Connect(p.now, NthClientAddress(0), kPairServer0);
  ASSERT_TRUE(cid.ok());
  ASSERT_TRUE(p.RunUntil([&] { return p.client.connection(*cid)->fully_established(); }));
  const SocketAddress second{IpAddress::V4(203, 0, 113, 9), 5000};
  // Not through the Endpoint: the Connection tells its owner which tuple it takes.
  auto sid = p.client.connection(*cid)->OpenSubflow(p.now, FourTuple{second, kPairServer1});
  ASSERT_TRUE(sid.ok());
  p.RunUntil([&] { return false; }, 20);
  EXPECT_EQ(p.client.connection(*cid)->subflow_count(), 2u);
  const auto info = p.client.connection(*cid)->subflow(*sid);
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->fully_established) << "the SYN-ACK found its way back to it";
  EXPECT_EQ(p.client.stats().strays, 0u);
  // Another connection cannot take that tuple.
  EXPECT_FALSE(p.client.Connect(p.now, second, kPairServer1).ok());
}

TEST(EndpointTest, BusyConnectionsTakeTurns) {
  EndpointPair p{EndpointConfig{}};
  std::vector<ConnectionId> ids;
  for (uint32_t i = 0; i < 3; ++i) {
    auto id = p.client.Connect(p.now, NthClientAddress(i), kPairServer0);
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
  }
  ASSERT_TRUE(p.RunUntil([&] {
    for (ConnectionId id : ids) {
      if (!p.client.connection(id)->fully_established()) return false;
    }
    return true;
  }));
  std::vector<uint8_t> data(64 * 1024, 7);
  for (ConnectionId id : ids) p.client.connection(id)->Write(p.now, data);
  // The first 30 segments out go to the three connections in turn, 10 each.
  std::vector<uint8_t> buf(2048);
  absl::flat_hash_map<FourTuple, int> per_path;
  for (int i = 0; i < 30; ++i) {
    const TransmitResult t = p.client.PollTransmit(p.now, buf);
    ASSERT_TRUE(t);
    ++per_path[t->path];
  }
  ASSERT_EQ(per_path.size(), 3u);
  for (const auto& [path, n] : per_path) EXPECT_EQ(n, 10) << path;
}

// `ip mptcp endpoint add/delete` for the whole Endpoint, as Linux applies them to a namespace:
// every running connection announces the new address and later withdraws it (RFC 8684 §3.4),
// and a connection that starts in between announces it too.
TEST(EndpointTest, PathManagerCommandReachesEveryConnectionAndLaterOnes) {
  EndpointConfig cfg;
  cfg.connection.path_manager.kind = PathManagerKind::kInKernel;
  EndpointPair p(cfg);
  std::vector<ConnectionId> clients;
  auto connect = [&](uint16_t port) {
    auto id = p.client.Connect(p.now, {IpAddress::V4(192, 0, 2, 1), port}, kPairServer0);
    ASSERT_TRUE(id.ok()) << id.status();
    clients.push_back(*id);
    ASSERT_TRUE(p.RunUntil([&] { return p.client.connection(*id)->fully_established(); }));
  };
  auto server_mibs = [&] {
    std::vector<MptcpMib> mibs;
    p.server.ForEachConnection([&](ConnectionId, Connection& c) { mibs.push_back(c.mib()); });
    return mibs;
  };
  connect(40000);
  connect(40001);
  PmCommand add;
  add.type = PmCommand::Type::kEndpointAdd;
  add.endpoint = PmEndpoint{kPairServer1.ip, 0, 0, /*signal=*/true};
  ASSERT_TRUE(p.server.PathManagerCommand(p.now, add).ok());
  ASSERT_EQ(p.server.config().connection.path_manager.endpoints.size(), 1u);
  const uint8_t id = p.server.config().connection.path_manager.endpoints[0].id;
  EXPECT_EQ(id, 1) << "the first free ID";
  connect(40002);  // after the command: configured with the endpoint
  p.RunUntil([] { return false; }, 50);
  ASSERT_EQ(server_mibs().size(), 3u);
  for (const MptcpMib& m : server_mibs()) EXPECT_GE(m.add_addr_tx, 1u);
  for (ConnectionId c : clients) EXPECT_EQ(p.client.connection(c)->mib().add_addr, 1u);

  PmCommand bad;
  bad.type = PmCommand::Type::kEndpointDelete;
  bad.id = 9;
  EXPECT_EQ(p.server.PathManagerCommand(p.now, bad).code(), absl::StatusCode::kNotFound);
  PmCommand del = bad;
  del.id = id;
  ASSERT_TRUE(p.server.PathManagerCommand(p.now, del).ok());
  EXPECT_TRUE(p.server.config().connection.path_manager.endpoints.empty());
  p.RunUntil([] { return false; }, 50);
  for (const MptcpMib& m : server_mibs()) EXPECT_EQ(m.rm_addr_tx, 1u);
  for (ConnectionId c : clients) EXPECT_EQ(p.client.connection(c)->mib().rm_addr, 1u);

  // The client's Endpoint has the default manual manager: nothing to change there.
  EXPECT_EQ(EndpointPair(EndpointConfig{}).client.PathManagerCommand(p.now, add).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace mptcp::testing
