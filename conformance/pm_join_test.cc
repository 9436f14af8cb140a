// Path-manager scenarios on the simulator in the style of Linux's
// tools/testing/selftests/net/mptcp/mptcp_join.sh: both hosts run the in-kernel path manager
// with endpoints and limits, a bulk transfer each way is checked byte for byte (the harness),
// and each case checks the MIB counters the selftest checks for the same case:
//   chk_join_nr   MPJoinSynRx (server), MPJoinSynAckRx (client), MPJoinAckRx (server)
//   chk_add_nr    AddAddr (receiver), EchoAdd (announcer)
//   chk_add_tx_nr AddAddrTx (announcer), EchoAddTx (receiver)
//   chk_rm_nr     RmAddr (receiver of REMOVE_ADDR), RmSubflow (remover)
//   chk_rm_tx_nr  RmAddrTx
//   chk_prio_nr   MPPrioTx, MPPrioRx
// Paths: client 192.0.2.(1+i), server 198.51.100.(1+i), 10 Mbit/s and 10 ms each way (the
// selftest's veths are unshaped; "slow" runs are what make its mid-connection actions land
// during the transfer, as At() does here). Seeds are fixed; a failure prints its seed.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "conformance/scenario_common.h"
#include "io/sim/harness.h"
#include "io/sim/packet_edit.h"
#include "mptcp/connection.h"
#include "mptcp/path_manager/endpoints.h"
#include "mptcp/time.h"

namespace mptcp::sim::conformance {
namespace {

constexpr uint64_t kSeed = 13;

IpAddress C(int i) { return IpAddress::V4(192, 0, 2, static_cast<uint8_t>(i)); }
IpAddress S(int i) { return IpAddress::V4(198, 51, 100, static_cast<uint8_t>(i)); }

PmEndpoint Ep(IpAddress a, std::string_view flags, uint8_t id = 0, uint16_t port = 0) {
  std::string text = a.ToString();
  if (!flags.empty()) absl::StrAppend(&text, ",", std::string(flags));
  if (id != 0) absl::StrAppend(&text, ",id=", int{id});
  if (port != 0) absl::StrAppend(&text, ",port=", port);
  auto e = ParsePmEndpoint(text);
  EXPECT_TRUE(e.ok()) << text << ": " << e.status();
  return *e;
}

// An mptcp_join.sh-like pair: n paths, in-kernel managers on both ends with the given limits
// (pm_nl_set_limits ns add_addr_accepted subflows), `bytes` each way.
HarnessConfig JoinConfig(size_t paths, PmLimits server, PmLimits client, size_t bytes) {
  HarnessConfig cfg;
  cfg.seed = kSeed;
  cfg.paths = DocumentationPaths(paths, NetemLink(10, 10));
  cfg.join_all = false;
  cfg.client_bytes = cfg.server_bytes = bytes;
  cfg.deadline = Duration::Seconds(120);
  for (auto* e : {&cfg.client, &cfg.server}) {
    e->connection.path_manager.kind = PathManagerKind::kInKernel;
  }
  cfg.server.connection.path_manager.limits = server;
  cfg.client.connection.path_manager.limits = client;
  return cfg;
}

struct Counts {
  uint64_t syn_rx, synack_rx, ack_rx;
};
Counts Joins(const HarnessResult& r) {
  return {r.server_mib.mp_join_syn_rx, r.client_mib.mp_join_synack_rx, r.server_mib.mp_join_ack_rx};
}
#define EXPECT_JOINS(r, a, b, c)                               \
  do {                                                         \
    const Counts j = Joins(r);                                 \
    EXPECT_EQ(j.syn_rx, a##u) << "MPJoinSynRx\n" << r.Describe();    \
    EXPECT_EQ(j.synack_rx, b##u) << "MPJoinSynAckRx";          \
    EXPECT_EQ(j.ack_rx, c##u) << "MPJoinAckRx";                \
  } while (0)

// Payload the client end of path i saw, both directions.
uint64_t PathPayload(const HarnessResult& r, size_t i) {
  return r.paths[i].payload_bytes[0] + r.paths[i].payload_bytes[1];
}

// Runs a command on one side's connection at `at` (as `ip mptcp endpoint ...` would then).
void CommandAt(Harness& h, double at_s, bool client, PmCommand cmd) {
  h.At(Timestamp::Zero() + Duration::Millis(static_cast<int64_t>(at_s * 1000)),
       [client, cmd](Harness& hh) {
         Connection* c = client ? hh.client_conn() : hh.server_conn();
         ASSERT_NE(c, nullptr);
         const absl::Status s = c->PathManagerCommand(hh.sim().now(), cmd);
         EXPECT_TRUE(s.ok()) << s;
       });
}

// "signal address": the server announces 198.51.100.2; the client (add_addr_accepted 1)
// joins it.
TEST(PmJoinTest, SignalAddress) {
  HarnessConfig cfg = JoinConfig(2, {.subflows = 1}, {.subflows = 1, .add_addr_accepted = 1}, 1 << 20);
  cfg.server.connection.path_manager.endpoints = {Ep(S(2), "signal")};
  Harness h(cfg);
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_JOINS(r, 1, 1, 1);
  EXPECT_EQ(r.client_mib.add_addr, 1u);  // chk_add_nr 1 1
  EXPECT_EQ(r.server_mib.echo_add, 1u);
  EXPECT_EQ(r.server_mib.add_addr_tx, 1u);  // chk_add_tx_nr 1 1
  EXPECT_EQ(r.client_mib.echo_add_tx, 1u);
}

// The default add_addr_accepted (0): the announcement is echoed, not joined ("unused signal
// address": chk_join_nr 0 0 0, chk_add_nr 1 1).
TEST(PmJoinTest, UnusedSignalAddressWithDefaultLimits) {
  HarnessConfig cfg = JoinConfig(2, PmLimits{}, PmLimits{}, 256 << 10);
  cfg.server.connection.path_manager.endpoints = {Ep(S(2), "signal")};
  Harness h(cfg);
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_JOINS(r, 0, 0, 0);
  EXPECT_EQ(r.client_mib.add_addr, 1u);
  EXPECT_EQ(r.server_mib.echo_add, 1u);
}

// A subflow endpoint added mid-connection (`ip mptcp endpoint add 192.0.2.2 subflow` at 1 s):
// a join from it, which then carries data.
TEST(PmJoinTest, SubflowAddedMidConnection) {
  HarnessConfig cfg = JoinConfig(2, {.subflows = 1}, {.subflows = 1}, 4 << 20);
  Harness h(cfg);
  uint64_t path1_before = 0;
  h.At(Timestamp::Zero() + Duration::Millis(990), [&](Harness& hh) {
    path1_before = hh.meter(1).payload_bytes(Direction::kForward) +
                   hh.meter(1).payload_bytes(Direction::kReverse);
  });
  CommandAt(h, 1.0, true, PmCommand{.type = PmCommand::Type::kEndpointAdd, .endpoint = Ep(C(2), "subflow")});
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_JOINS(r, 1, 1, 1);
  EXPECT_EQ(path1_before, 0u);
  EXPECT_GT(PathPayload(r, 1), 1u << 20) << r.Describe();
}

// "remove single address": the server announces 198.51.100.2 (joined), then deletes the
// endpoint at 1 s: chk_join_nr 1 1 1, chk_add_nr 1 1, chk_rm_nr 1 1 invert (RmAddr at the
// client, RmSubflow at the server), chk_rm_tx_nr 1.
TEST(PmJoinTest, AddressRemoved) {
  HarnessConfig cfg = JoinConfig(2, {.subflows = 1}, {.subflows = 1, .add_addr_accepted = 1}, 4 << 20);
  cfg.server.connection.path_manager.endpoints = {Ep(S(2), "signal", 2)};
  Harness h(cfg);
  size_t subflows_after = 99;
  CommandAt(h, 1.0, false, PmCommand{.type = PmCommand::Type::kEndpointDelete, .id = 2});
  h.At(Timestamp::Zero() + Duration::Millis(1500), [&](Harness& hh) {
    ASSERT_NE(hh.client_conn(), nullptr);
    subflows_after = 0;
    for (const SubflowInfo& s : hh.client_conn()->Subflows()) {
      subflows_after += s.state == tcp::TcpState::kEstablished ? 1 : 0;
    }
  });
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_JOINS(r, 1, 1, 1);
  EXPECT_EQ(r.client_mib.add_addr, 1u);
  EXPECT_EQ(r.server_mib.echo_add, 1u);
  EXPECT_EQ(r.client_mib.rm_addr, 1u);
  EXPECT_EQ(r.server_mib.rm_subflow, 1u);
  EXPECT_EQ(r.server_mib.rm_addr_tx, 1u);
  EXPECT_EQ(subflows_after, 1u) << "the subflow to the removed address closed";
}

// "flush addresses": three signal endpoints, all joined, flushed at 1 s: chk_join_nr 3 3 3,
// chk_add_nr 3 3, chk_rm_nr 3 3 invert.
TEST(PmJoinTest, FlushAddresses) {
  HarnessConfig cfg = JoinConfig(4, {.subflows = 3, .add_addr_accepted = 3},
                                 {.subflows = 3, .add_addr_accepted = 3}, 4 << 20);
  cfg.server.connection.path_manager.endpoints = {Ep(S(2), "signal", 250), Ep(S(3), "signal"),
                                                  Ep(S(4), "signal")};
  Harness h(cfg);
  CommandAt(h, 1.0, false, PmCommand{.type = PmCommand::Type::kFlush});
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_JOINS(r, 3, 3, 3);
  EXPECT_EQ(r.client_mib.add_addr, 3u);
  EXPECT_EQ(r.server_mib.echo_add, 3u);
  EXPECT_EQ(r.client_mib.rm_addr, 3u);
  EXPECT_EQ(r.server_mib.rm_subflow, 3u);
}

// "flush subflows": three subflow endpoints at the client, flushed at 1 s: no REMOVE_ADDR
// goes (Linux since 5.18: chk_rm_tx_nr 0), the client closes its 3 subflows (RmSubflow 3).
TEST(PmJoinTest, FlushSubflows) {
  HarnessConfig cfg = JoinConfig(4, {.subflows = 3, .add_addr_accepted = 3},
                                 {.subflows = 3, .add_addr_accepted = 3}, 4 << 20);
  cfg.client.connection.path_manager.endpoints = {Ep(C(2), "subflow", 150), Ep(C(3), "subflow"),
                                                  Ep(C(4), "subflow")};
  Harness h(cfg);
  CommandAt(h, 1.0, true, PmCommand{.type = PmCommand::Type::kFlush});
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_JOINS(r, 3, 3, 3);
  EXPECT_EQ(r.client_mib.rm_addr_tx, 0u);
  EXPECT_EQ(r.server_mib.rm_addr, 0u);
  EXPECT_EQ(r.client_mib.rm_subflow, 3u);
}

// Full mesh 2x2: the client's two addresses are fullmesh endpoints, the server announces its
// second: every client address reaches every server address, 4 subflows, each carrying data.
TEST(PmJoinTest, FullMeshTwoByTwo) {
  HarnessConfig cfg = JoinConfig(2, {.subflows = 4}, {.subflows = 4, .add_addr_accepted = 1}, 8 << 20);
  cfg.client.connection.path_manager.endpoints = {Ep(C(1), "subflow,fullmesh"),
                                                  Ep(C(2), "subflow,fullmesh")};
  cfg.server.connection.path_manager.endpoints = {Ep(S(2), "signal")};
  Harness h(cfg);
  std::vector<SubflowInfo> seen;
  h.At(Timestamp::Zero() + Duration::Seconds(3), [&](Harness& hh) {
    ASSERT_NE(hh.client_conn(), nullptr);
    seen = hh.client_conn()->Subflows();
  });
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_JOINS(r, 3, 3, 3);
  ASSERT_EQ(seen.size(), 4u) << r.Describe();
  std::vector<std::string> pairs;
  for (const SubflowInfo& s : seen) {
    pairs.push_back(absl::StrCat(s.tuple.local.ip.ToString(), "->", s.tuple.remote.ip.ToString()));
    EXPECT_GT(s.bytes_sent_segments, 100u) << pairs.back() << " carried no data";
  }
  std::sort(pairs.begin(), pairs.end());
  EXPECT_EQ(pairs, (std::vector<std::string>{"192.0.2.1->198.51.100.1", "192.0.2.1->198.51.100.2",
                                             "192.0.2.2->198.51.100.1", "192.0.2.2->198.51.100.2"}));
}

// A backup subflow (endpoint `subflow,backup`) carries nothing while the primary path is up;
// when the primary is cut at 1 s it carries the rest, and the transfer completes.
TEST(PmJoinTest, BackupUnusedThenUsedOnFailure) {
  HarnessConfig cfg = JoinConfig(2, {.subflows = 1}, {.subflows = 1}, 4 << 20);
  cfg.client.connection.path_manager.endpoints = {Ep(C(2), "subflow,backup")};
  cfg.allow_abnormal_close = false;
  Harness h(cfg);
  uint64_t backup_before = 99;
  h.At(Timestamp::Zero() + Duration::Millis(1000), [&](Harness& hh) {
    backup_before = hh.meter(1).payload_bytes(Direction::kForward) +
                    hh.meter(1).payload_bytes(Direction::kReverse);
    hh.SetPathUp(0, false);
  });
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_JOINS(r, 1, 1, 1);
  EXPECT_EQ(backup_before, 0u) << "a backup stays idle while the primary works";
  EXPECT_GT(PathPayload(r, 1), 4u << 20) << "then it carries the rest";
}

// MP_PRIO switch (`ip mptcp endpoint change id 2 backup`, then `nobackup`): MPPrioTx at the
// client, MPPrioRx at the server, and the server stops sending on that subflow while it is a
// backup.
TEST(PmJoinTest, MpPrioSwitch) {
  HarnessConfig cfg = JoinConfig(2, {.subflows = 1}, {.subflows = 1}, 12 << 20);
  cfg.client_bytes = 0;
  cfg.client.connection.path_manager.endpoints = {Ep(C(2), "subflow", 2)};
  Harness h(cfg);
  PmCommand to_backup{.type = PmCommand::Type::kEndpointChange};
  to_backup.endpoint.id = 2;
  to_backup.endpoint.backup = true;
  PmCommand to_regular = to_backup;
  to_regular.endpoint.backup = false;
  CommandAt(h, 2.0, true, to_backup);
  CommandAt(h, 5.0, true, to_regular);
  uint64_t at_2_5 = 0, at_5 = 0;
  h.At(Timestamp::Zero() + Duration::Millis(2500),
       [&](Harness& hh) { at_2_5 = hh.meter(1).payload_bytes(Direction::kReverse); });
  h.At(Timestamp::Zero() + Duration::Millis(4990),
       [&](Harness& hh) { at_5 = hh.meter(1).payload_bytes(Direction::kReverse); });
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_JOINS(r, 1, 1, 1);
  EXPECT_EQ(r.client_mib.mp_prio_tx, 2u);  // chk_prio_nr 2 2 (once each way)
  EXPECT_EQ(r.server_mib.mp_prio_rx, 2u);
  EXPECT_GT(at_2_5, 1u << 20) << "path 1 carried data before";
  EXPECT_EQ(at_5, at_2_5) << "nothing new on the backup while the primary works";
  EXPECT_GT(r.paths[1].payload_bytes[1], at_5 + (1u << 20)) << "regular again after nobackup";
}

// True for a packet with an MPTCP ADD_ADDR option (subtype 3, RFC 8684 §3.4.1).
bool HasAddAddr(Packet& p) {
  auto v = ParseTcpPacket(p.bytes);
  if (!v) return false;
  bool found = false;
  ForEachTcpOption(v->options(), [&](uint8_t kind, std::span<uint8_t> o) {
    if (kind == 30 && o.size() >= 3 && (o[2] >> 4) == 3) found = true;
  });
  return found;
}

// "signal address, ADD_ADDR timeout": every echo is dropped (mptcp_join.sh drops the client's
// ADD_ADDR suboptions with iptables), add_addr_timeout 1 s: the server announces 4 times (the
// first and ADD_ADDR_RETRANS_MAX = 3 more), chk_add_tx_nr 4 4, chk_add_nr 4 0, and the address
// is still joined (chk_join_nr 1 1 1).
TEST(PmJoinTest, EveryEchoDroppedAnnouncementRetransmittedThreeTimes) {
  HarnessConfig cfg = JoinConfig(2, {.subflows = 1}, {.subflows = 1, .add_addr_accepted = 1}, 6 << 20);
  cfg.server.connection.path_manager.endpoints = {Ep(S(2), "signal")};
  cfg.server.connection.add_addr_timeout = Duration::Seconds(1);
  cfg.run_at_least = Duration::Seconds(6);
  cfg.paths[0].middlebox = FunctionMiddlebox("drop-echo", [](Direction d, Packet& p) {
    return !(d == Direction::kForward && HasAddAddr(p));
  });
  Harness h(cfg);
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_JOINS(r, 1, 1, 1);
  EXPECT_EQ(r.server_mib.add_addr_tx, 4u);
  EXPECT_EQ(r.client_mib.echo_add_tx, 4u);
  EXPECT_EQ(r.client_mib.add_addr, 4u) << "received 4 times (chk_add_nr 4 0)";
  EXPECT_EQ(r.client_mib.dup_add_addr, 3u) << "news once";
  EXPECT_EQ(r.server_mib.echo_add, 0u);
  ASSERT_TRUE(r.paths[0].middlebox.has_value());
  EXPECT_EQ(r.paths[0].middlebox->total_dropped(), 4u);
}

// Every ADD_ADDR itself dropped: sent 1 + add_addr_retrans_max times (here 2), never received,
// never joined.
TEST(PmJoinTest, EveryAnnouncementDroppedRetransmittedExactlyTheConfiguredCount) {
  HarnessConfig cfg = JoinConfig(2, {.subflows = 1}, {.subflows = 1, .add_addr_accepted = 1}, 4 << 20);
  cfg.server.connection.path_manager.endpoints = {Ep(S(2), "signal")};
  cfg.server.connection.add_addr_timeout = Duration::Millis(500);
  cfg.server.connection.add_addr_retrans_max = 2;
  cfg.run_at_least = Duration::Seconds(4);
  cfg.paths[0].middlebox = FunctionMiddlebox("drop-add-addr", [](Direction d, Packet& p) {
    return !(d == Direction::kReverse && HasAddAddr(p));
  });
  Harness h(cfg);
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_EQ(r.server_mib.add_addr_tx, 3u);
  EXPECT_EQ(r.client_mib.add_addr, 0u);
  EXPECT_JOINS(r, 0, 0, 0);
  EXPECT_EQ(r.paths[0].middlebox->total_dropped(), 3u);
}

// A forged ADD_ADDR (its address rewritten on the way, so its HMAC no longer matches, RFC 8684
// §3.4.1) is ignored and counted (AddAddrHMacFailure), and no SYN goes to the address.
TEST(PmJoinTest, ForgedAddAddrIgnored) {
  HarnessConfig cfg = JoinConfig(2, {.subflows = 1}, {.subflows = 1, .add_addr_accepted = 1}, 4 << 20);
  cfg.server.connection.path_manager.endpoints = {Ep(S(2), "signal")};
  cfg.server.connection.add_addr_timeout = Duration::Millis(500);
  const IpAddress forged = IpAddress::V4(203, 0, 113, 9);
  int rewritten = 0;
  cfg.paths[0].middlebox = FunctionMiddlebox("forge", [&](Direction d, Packet& p) {
    if (d != Direction::kReverse) return true;
    auto v = ParseTcpPacket(p.bytes);
    if (!v) return true;
    bool changed = false;
    ForEachTcpOption(v->options(), [&](uint8_t kind, std::span<uint8_t> o) {
      if (kind == 30 && o.size() >= 8 && (o[2] >> 4) == 3 && (o[2] & 1) == 0) {
        std::memcpy(o.data() + 4, forged.data(), 4);
        changed = true;
      }
    });
    if (changed) {
      v->FixChecksums();
      ++rewritten;
    }
    return true;
  });
  std::vector<FourTuple> client_tuples;
  Harness h(cfg);
  h.At(Timestamp::Zero() + Duration::Millis(2900), [&](Harness& hh) {
    ASSERT_NE(hh.client_conn(), nullptr) << "the transfer outlasts the retransmissions";
    hh.client_conn()->ForEachTuple([&](const FourTuple& t) { client_tuples.push_back(t); });
  });
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_EQ(rewritten, 4) << "the first announcement and its 3 retransmissions";
  EXPECT_EQ(r.client_mib.add_addr_hmac_failure, 4u);
  EXPECT_EQ(r.client_mib.add_addr, 0u);
  EXPECT_EQ(r.client_mib.echo_add_tx, 0u);
  EXPECT_EQ(r.client_mib.mp_join_syn_tx, 0u) << "no SYN to the forged address";
  for (const FourTuple& t : client_tuples) EXPECT_NE(t.remote.ip, forged);
}

// A REMOVE_ADDR for an ID the client never heard of (the server withdraws ID 77 at 1 s) changes
// nothing: no RmAddr, no AddressRemoved event, every subflow stays (RFC 8684 §3.4.2 removes
// only what the ID names).
TEST(PmJoinTest, RemoveAddrForUnknownIdChangesNothing) {
  HarnessConfig cfg = JoinConfig(2, {.subflows = 1}, {.subflows = 1}, 4 << 20);
  cfg.client.connection.path_manager.endpoints = {Ep(C(2), "subflow")};
  Harness h(cfg);
  size_t subflows_before = 0, subflows_after = 0;
  h.At(Timestamp::Zero() + Duration::Seconds(1), [&](Harness& hh) {
    ASSERT_NE(hh.server_conn(), nullptr);
    subflows_before = hh.client_conn()->subflow_count();
    hh.server_conn()->WithdrawAddress(hh.sim().now(), 77);
  });
  h.At(Timestamp::Zero() + Duration::Millis(1500), [&](Harness& hh) {
    ASSERT_NE(hh.client_conn(), nullptr);
    subflows_after = hh.client_conn()->subflow_count();
  });
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_JOINS(r, 1, 1, 1);
  EXPECT_EQ(r.server_mib.rm_addr_tx, 1u) << "the REMOVE_ADDR went out";
  EXPECT_EQ(r.client_mib.rm_addr, 0u);
  EXPECT_EQ(r.client_mib.rm_subflow, 0u);
  for (const SimEvent& e : r.events) EXPECT_NE(e.event.type, EventType::kAddressRemoved);
  EXPECT_EQ(subflows_before, 2u);
  EXPECT_EQ(subflows_after, 2u);
}

// ndiffports: 3 subflows in all over the one address pair, on 3 source ports, each carrying
// data; the server (in-kernel, subflows 2) accepts the 2 joins.
TEST(PmJoinTest, NdiffportsThreeSubflowsOverOnePair) {
  HarnessConfig cfg = JoinConfig(1, {.subflows = 2}, {}, 4 << 20);
  cfg.client.connection.path_manager.kind = PathManagerKind::kNdiffports;
  cfg.client.connection.path_manager.ndiffports = 3;
  Harness h(cfg);
  std::vector<SubflowInfo> seen;
  h.At(Timestamp::Zero() + Duration::Seconds(2), [&](Harness& hh) {
    ASSERT_NE(hh.client_conn(), nullptr);
    seen = hh.client_conn()->Subflows();
  });
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_JOINS(r, 2, 2, 2);
  ASSERT_EQ(seen.size(), 3u);
  std::vector<uint16_t> ports;
  for (const SubflowInfo& s : seen) {
    EXPECT_EQ(s.tuple.local.ip, C(1));
    EXPECT_EQ(s.tuple.remote, (SocketAddress{S(1), cfg.server_port}));
    EXPECT_GT(s.bytes_sent_segments, 100u);
    ports.push_back(s.tuple.local.port);
  }
  std::sort(ports.begin(), ports.end());
  EXPECT_EQ(ports, (std::vector<uint16_t>{40000, 40001, 40002}));
}

// RFC 8684 §3.1 flag C (the server's deny_join_initial, Linux's allow_join_initial_addr_port=0):
// the client's plain `subflow` endpoint has only the server's initial address to go to, so it
// opens nothing (Linux's fill_remote_addresses_vec with deny_join_id0), while the address the
// server announces is joined. A join forced to the initial address (the application's own
// OpenSubflow) is refused by the client's own check before any SYN.
TEST(PmJoinTest, FlagCKeepsJoinsOffTheInitialAddress) {
  HarnessConfig cfg = JoinConfig(2, {.subflows = 2}, {.subflows = 2, .add_addr_accepted = 1}, 1 << 20);
  cfg.server.connection.deny_join_initial = true;
  cfg.server.connection.path_manager.endpoints = {Ep(S(2), "signal")};
  cfg.client.connection.path_manager.endpoints = {Ep(C(2), "subflow")};
  Harness h(cfg);
  absl::Status forced;
  h.At(Timestamp::Zero() + Duration::Millis(500), [&](Harness& hh) {
    ASSERT_NE(hh.client_conn(), nullptr);
    forced = hh.client_conn()
                 ->OpenSubflow(hh.sim().now(), FourTuple{{C(2), 45000}, {S(1), cfg.server_port}})
                 .status();
  });
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_JOINS(r, 1, 1, 1);  // the announced address only
  EXPECT_EQ(r.client_mib.mp_join_syn_tx, 1u);
  EXPECT_EQ(forced.code(), absl::StatusCode::kFailedPrecondition) << forced;
}

// A subflow the in-kernel manager opened fails while its addresses stay valid: it is opened
// again after 1 s, and when the peer keeps refusing, after 2 s, then 4 s (doubling), until it
// is up again. Here the subflow from 192.0.2.2 is reset at 1 s while the server's `subflows`
// limit is 0 (set at 0.9 s), so the joins at 2 s and 4 s are refused (MPJoinRejected, RST);
// the limit is 1 again from 5 s, and the join at 8 s comes up.
TEST(PmJoinTest, FailedSubflowRecreatedWithBackoff) {
  HarnessConfig cfg = JoinConfig(2, {.subflows = 1}, {.subflows = 1}, 0);
  cfg.client_bytes = 14 << 20;  // about 11.5 s at 10 Mbit/s
  cfg.client.connection.path_manager.endpoints = {Ep(C(2), "subflow", 2)};
  Harness h(cfg);
  CommandAt(h, 0.9, false, PmCommand{.type = PmCommand::Type::kSetLimits, .limits = {.subflows = 0}});
  h.At(Timestamp::Zero() + Duration::Seconds(1), [](Harness& hh) {
    ASSERT_NE(hh.client_conn(), nullptr);
    bool reset = false;
    for (const SubflowInfo& s : hh.client_conn()->Subflows()) {
      if (s.tuple.local.ip == C(2)) reset = hh.InjectResetToClient(s.tuple);
    }
    EXPECT_TRUE(reset);
  });
  CommandAt(h, 5.0, false, PmCommand{.type = PmCommand::Type::kSetLimits, .limits = {.subflows = 1}});
  const HarnessResult r = h.Run();
  ASSERT_TRUE(r.ok) << r.Describe();
  EXPECT_EQ(r.client_mib.mp_join_syn_tx, 4u) << "first join, refused at 2 s and 4 s, up at 8 s\n"
                                              << r.Describe();
  EXPECT_EQ(r.server_mib.mp_join_rejected, 2u);
  EXPECT_EQ(r.server_mib.mp_join_ack_rx, 2u);
  std::vector<double> up_at;
  for (const SimEvent& e : r.events) {
    if (e.client && e.event.type == EventType::kSubflowUp && e.event.subflow != 1) {
      up_at.push_back(Seconds(e.at));
    }
  }
  ASSERT_EQ(up_at.size(), 2u) << r.Describe();
  EXPECT_LT(up_at[0], 0.2);
  EXPECT_GE(up_at[1], 8.0) << "retries at 1 + 1, + 2, + 4 s";
  EXPECT_LT(up_at[1], 8.2);
}

}  // namespace
}  // namespace mptcp::sim::conformance
