// The in-kernel manager's rules, as conversations with a fake connection: what it announces,
// which subflows it opens under which limits, what ADD_ADDR and endpoint changes lead to, and
// re-creation with backoff.
#include "mptcp/path_manager/in_kernel.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mptcp/path_manager/fake_host.h"

namespace mptcp {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::FakePmHost;

const IpAddress kC1 = IpAddress::V4(192, 0, 2, 1);
const IpAddress kC2 = IpAddress::V4(192, 0, 2, 2);
const IpAddress kC3 = IpAddress::V4(192, 0, 2, 3);
const IpAddress kS1 = IpAddress::V4(198, 51, 100, 1);
const IpAddress kS2 = IpAddress::V4(198, 51, 100, 2);
const IpAddress kS3 = IpAddress::V4(198, 51, 100, 3);
const FourTuple kInitial{{kC1, 40000}, {kS1, 80}};
const Timestamp kT0 = Timestamp::Zero() + Duration::Seconds(1);

PmEndpoint Ep(IpAddress a, std::string_view flags, uint8_t id = 0) {
  PmEndpoint e;
  e.address = a;
  e.id = id;
  e.signal = flags.find("signal") != std::string_view::npos;
  e.subflow = flags.find("subflow") != std::string_view::npos;
  e.backup = flags.find("backup") != std::string_view::npos;
  e.fullmesh = flags.find("fullmesh") != std::string_view::npos;
  return e;
}

InKernelPathManager Make(std::vector<PmEndpoint> eps, PmLimits limits,
                         Duration backoff = Duration::Zero()) {
  EXPECT_TRUE(NormalizePmEndpoints(eps).ok());
  return InKernelPathManager(std::move(eps), limits, backoff, Duration::Seconds(8));
}

const PmEvent kEstablished{.type = PmEvent::Type::kFullyEstablished};

PmEvent Announced(uint8_t id, SocketAddress a) {
  return PmEvent{.type = PmEvent::Type::kAddressAnnounced, .address_id = id, .address = a};
}

TEST(InKernelTest, NothingBeforeFullyEstablished) {
  FakePmHost host(true, kInitial);
  auto pm = Make({Ep(kC2, "subflow")}, PmLimits{});
  pm.OnEvent(kT0, host, host.Up(1));
  EXPECT_THAT(host.TakeLog(), IsEmpty());
}

TEST(InKernelTest, SubflowEndpointsJoinThePeersInitialAddressUpToTheLimit) {
  FakePmHost host(true, kInitial);
  auto pm = Make({Ep(kC2, "subflow"), Ep(kC3, "subflow")}, PmLimits{.subflows = 1});
  pm.OnEvent(kT0, host, kEstablished);
  EXPECT_THAT(host.TakeLog(), ElementsAre("open 192.0.2.2->198.51.100.1:80 lid=1"));
  pm.OnEvent(kT0, host, host.Up(2));
  EXPECT_THAT(host.TakeLog(), IsEmpty()) << "subflows=1 reached";
  ASSERT_TRUE(pm.Command(kT0, host, PmCommand{.type = PmCommand::Type::kSetLimits,
                                              .limits = PmLimits{.subflows = 2}})
                  .ok());
  EXPECT_THAT(host.TakeLog(), ElementsAre("open 192.0.2.3->198.51.100.1:80 lid=2"));
}

TEST(InKernelTest, SignalEndpointsAreAnnouncedOnceEach) {
  FakePmHost host(false, FourTuple{{kS1, 80}, {kC1, 40000}});
  PmEndpoint with_port = Ep(kS3, "signal");
  with_port.port = 10100;
  auto pm = Make({Ep(kS2, "signal"), with_port}, PmLimits{});
  pm.OnEvent(kT0, host, kEstablished);
  EXPECT_THAT(host.TakeLog(), ElementsAre("announce id=1 198.51.100.2:0",
                                          "announce id=2 198.51.100.3:10100"));
  pm.OnEvent(kT0, host, host.Up(1));
  EXPECT_THAT(host.TakeLog(), IsEmpty());
}

TEST(InKernelTest, TheInitialAddressEndpointIsIdZeroAndItsBackupFlagSendsMpPrio) {
  FakePmHost host(true, kInitial);
  auto pm = Make({Ep(kC1, "subflow,backup"), Ep(kC2, "subflow")}, PmLimits{});
  pm.OnEvent(kT0, host, kEstablished);
  // RFC 8684 §3.2: the initial subflow's address is ID 0; Linux marks the endpoint used.
  EXPECT_THAT(host.TakeLog(),
              ElementsAre("prio 1 backup", "open 192.0.2.2->198.51.100.1:80 lid=2"));
}

TEST(InKernelTest, AddAddrIsJoinedOnlyWithinAddAddrAccepted) {
  FakePmHost host(true, kInitial);
  auto pm = Make({}, PmLimits{});  // defaults: subflows 2, add_addr_accepted 0
  pm.OnEvent(kT0, host, kEstablished);
  pm.OnEvent(kT0, host, Announced(1, SocketAddress{kS2, 0}));
  EXPECT_THAT(host.TakeLog(), IsEmpty()) << "add_addr_accepted 0 joins nothing";

  FakePmHost host2(true, kInitial);
  auto pm2 = Make({}, PmLimits{.subflows = 2, .add_addr_accepted = 1});
  pm2.OnEvent(kT0, host2, kEstablished);
  host2.SetRemoteId(SocketAddress{kS2, 80}, 1);
  host2.SetRemoteId(SocketAddress{kS3, 10100}, 2);
  pm2.OnEvent(kT0, host2, Announced(1, SocketAddress{kS2, 0}));
  // No fullmesh endpoint: from the address routing picks (the initial one, ID 0), to the
  // connection's port.
  EXPECT_THAT(host2.TakeLog(), ElementsAre("open 192.0.2.1->198.51.100.2:80 lid=0"));
  EXPECT_EQ(pm2.add_addr_accepted(), 1u);
  pm2.OnEvent(kT0, host2, Announced(2, SocketAddress{kS3, 10100}));
  EXPECT_THAT(host2.TakeLog(), IsEmpty()) << "add_addr_accepted 1 used up";
  // A removed address gives its slot back (Linux's mptcp_pm_nl_rm_addr).
  pm2.OnEvent(kT0, host2, PmEvent{.type = PmEvent::Type::kAddressRemoved, .address_id = 1});
  EXPECT_EQ(pm2.add_addr_accepted(), 0u);
}

TEST(InKernelTest, FullMeshTwoByTwo) {
  // Client endpoints C1 (the initial address) and C2, both fullmesh; the server announces S2.
  FakePmHost host(true, kInitial);
  auto pm = Make({Ep(kC1, "subflow,fullmesh"), Ep(kC2, "subflow,fullmesh")},
                 PmLimits{.subflows = 4, .add_addr_accepted = 1});
  pm.OnEvent(kT0, host, kEstablished);
  EXPECT_THAT(host.TakeLog(), ElementsAre("open 192.0.2.2->198.51.100.1:80 lid=2"));
  host.SetRemoteId(SocketAddress{kS2, 80}, 5);
  pm.OnEvent(kT0, host, Announced(5, SocketAddress{kS2, 0}));
  EXPECT_THAT(host.TakeLog(), ElementsAre("open 192.0.2.1->198.51.100.2:80 lid=0",
                                          "open 192.0.2.2->198.51.100.2:80 lid=2"));
  EXPECT_EQ(host.extra(), 3u) << "4 subflows: every local address to every remote one";
}

TEST(InKernelTest, FlagCKeepsPlainSubflowsOffThePeersInitialAddress) {
  FakePmHost host(true, kInitial);
  host.deny_id0_ = true;  // RFC 8684 §3.1
  auto pm = Make({Ep(kC2, "subflow")}, PmLimits{});
  pm.OnEvent(kT0, host, kEstablished);
  EXPECT_THAT(host.TakeLog(), IsEmpty());
}

TEST(InKernelTest, IncomingJoinsWithinTheSubflowsLimit) {
  auto pm = Make({}, PmLimits{.subflows = 2});
  EXPECT_TRUE(pm.AllowIncomingJoin(0));
  EXPECT_TRUE(pm.AllowIncomingJoin(1));
  EXPECT_FALSE(pm.AllowIncomingJoin(2));
}

TEST(InKernelTest, DeleteFlushAndChange) {
  FakePmHost host(false, FourTuple{{kS1, 80}, {kC1, 40000}});
  auto pm = Make({Ep(kS2, "signal", 2), Ep(kS3, "signal", 3)}, PmLimits{});
  pm.OnEvent(kT0, host, kEstablished);
  host.TakeLog();
  ASSERT_TRUE(pm.Command(kT0, host, PmCommand{.type = PmCommand::Type::kEndpointDelete, .id = 3}).ok());
  EXPECT_THAT(host.TakeLog(), ElementsAre("remove_addr id=3"));
  EXPECT_FALSE(pm.Command(kT0, host, PmCommand{.type = PmCommand::Type::kEndpointDelete, .id = 9}).ok());
  ASSERT_TRUE(pm.Command(kT0, host, PmCommand{.type = PmCommand::Type::kFlush}).ok());
  EXPECT_THAT(host.TakeLog(), ElementsAre("remove_addr id=2"));
  EXPECT_TRUE(pm.endpoints().empty());

  FakePmHost client(true, kInitial);
  auto cpm = Make({Ep(kC2, "subflow", 2), Ep(kC3, "subflow", 3)}, PmLimits{});
  cpm.OnEvent(kT0, client, kEstablished);
  client.TakeLog();
  PmCommand change{.type = PmCommand::Type::kEndpointChange};
  change.endpoint.id = 2;
  change.endpoint.backup = true;
  ASSERT_TRUE(cpm.Command(kT0, client, change).ok());
  EXPECT_THAT(client.TakeLog(), ElementsAre("prio 2 backup"));
  change.endpoint.backup = false;
  ASSERT_TRUE(cpm.Command(kT0, client, change).ok());
  EXPECT_THAT(client.TakeLog(), ElementsAre("prio 2 regular"));
  // Linux's flush sends no REMOVE_ADDR for endpoints it only used as subflow sources.
  ASSERT_TRUE(cpm.Command(kT0, client, PmCommand{.type = PmCommand::Type::kFlush}).ok());
  EXPECT_THAT(client.TakeLog(), ElementsAre("close id=2", "close id=3"));
}

TEST(InKernelTest, FailedSubflowsComeBackWithBackoffWhileTheirAddressesAreValid) {
  FakePmHost host(true, kInitial);
  auto pm = Make({Ep(kC2, "subflow", 2)}, PmLimits{}, Duration::Seconds(1));
  pm.OnEvent(kT0, host, kEstablished);
  EXPECT_THAT(host.TakeLog(), ElementsAre("open 192.0.2.2->198.51.100.1:80 lid=2"));
  EXPECT_TRUE(pm.NextDeadline().IsNever());
  std::vector<double> reopened_after;
  Timestamp failed = kT0;
  SubflowId id = 2;
  for (int i = 0; i < 5; ++i) {
    pm.OnEvent(failed, host, host.Down(id));
    const Timestamp due = pm.NextDeadline();
    reopened_after.push_back((due - failed).seconds());
    pm.OnTimeout(due, host);
    auto log = host.TakeLog();
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0], "open 192.0.2.2->198.51.100.1:80 lid=2");
    id = host.subflows().back().id;
    failed = due;
  }
  EXPECT_THAT(reopened_after, ElementsAre(1, 2, 4, 8, 8)) << "doubling, capped";
  // Up again: the backoff starts over.
  pm.OnEvent(failed, host, host.Up(id));
  pm.OnEvent(failed, host, host.Down(id));
  EXPECT_EQ((pm.NextDeadline() - failed).seconds(), 1);
  // Its endpoint deleted: no more attempts.
  ASSERT_TRUE(pm.Command(failed, host, PmCommand{.type = PmCommand::Type::kEndpointDelete, .id = 2}).ok());
  EXPECT_TRUE(pm.NextDeadline().IsNever());
}

TEST(InKernelTest, NoRecreationForWithdrawnSubflowsOrWhenClosing) {
  FakePmHost host(true, kInitial);
  auto pm = Make({Ep(kC2, "subflow", 2)}, PmLimits{}, Duration::Seconds(1));
  pm.OnEvent(kT0, host, kEstablished);
  PmEvent down = host.Down(2);
  down.withdrawn = true;
  pm.OnEvent(kT0, host, down);
  EXPECT_TRUE(pm.NextDeadline().IsNever());
  host.winding_down_ = true;
  pm.OnEvent(kT0, host, PmEvent{.type = PmEvent::Type::kSubflowDown, .local_id = 2,
                                .initiator = true});
  EXPECT_TRUE(pm.NextDeadline().IsNever());
}

}  // namespace
}  // namespace mptcp
