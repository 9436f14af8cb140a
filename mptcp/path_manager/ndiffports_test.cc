// ndiffports and manual managers, and the factory's choice and validation.
#include "mptcp/path_manager/ndiffports.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mptcp/path_manager/factory.h"
#include "mptcp/path_manager/fake_host.h"

namespace mptcp {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::FakePmHost;

const FourTuple kInitial{{IpAddress::V4(192, 0, 2, 1), 40000},
                         {IpAddress::V4(198, 51, 100, 1), 80}};
const Timestamp kT0 = Timestamp::Zero();

TEST(NdiffportsTest, ClientOpensNMinusOneOverTheInitialPair) {
  FakePmHost host(true, kInitial);
  NdiffportsPathManager pm(3);
  pm.OnEvent(kT0, host, PmEvent{.type = PmEvent::Type::kFullyEstablished});
  EXPECT_THAT(host.TakeLog(), ElementsAre("open 192.0.2.1->198.51.100.1:80 lid=0",
                                          "open 192.0.2.1->198.51.100.1:80 lid=0"));
  auto subs = host.subflows();
  ASSERT_EQ(subs.size(), 3u);
  EXPECT_NE(subs[1].tuple.local.port, subs[2].tuple.local.port) << "different source ports";
  // Announcements change nothing.
  pm.OnEvent(kT0, host, PmEvent{.type = PmEvent::Type::kAddressAnnounced, .address_id = 1});
  EXPECT_THAT(host.TakeLog(), IsEmpty());
}

TEST(NdiffportsTest, ServerOpensNothing) {
  FakePmHost host(false, kInitial);
  NdiffportsPathManager pm(4);
  pm.OnEvent(kT0, host, PmEvent{.type = PmEvent::Type::kFullyEstablished});
  EXPECT_THAT(host.TakeLog(), IsEmpty());
}

TEST(NdiffportsTest, FailedSubflowIsReopened) {
  FakePmHost host(true, kInitial);
  NdiffportsPathManager pm(2, Duration::Millis(500), Duration::Seconds(4));
  pm.OnEvent(kT0, host, PmEvent{.type = PmEvent::Type::kFullyEstablished});
  host.TakeLog();
  pm.OnEvent(kT0, host, host.Down(2));
  EXPECT_EQ(pm.NextDeadline(), kT0 + Duration::Millis(500));
  pm.OnTimeout(pm.NextDeadline(), host);
  EXPECT_THAT(host.TakeLog(), ElementsAre("open 192.0.2.1->198.51.100.1:80 lid=0"));
}

TEST(ManualTest, OpensOnlyPlannedJoinsAndReportsRefusals) {
  FakePmHost host(true, kInitial);
  ManualPathManager pm({PlannedJoin{{IpAddress::V4(192, 0, 2, 2), 40000},
                                    {IpAddress::V4(198, 51, 100, 2), 0}, true}});
  pm.OnEvent(kT0, host, PmEvent{.type = PmEvent::Type::kFullyEstablished});
  EXPECT_THAT(host.TakeLog(), ElementsAre("open 192.0.2.2->198.51.100.2:80 lid=0 backup"));
  pm.OnEvent(kT0, host, PmEvent{.type = PmEvent::Type::kFullyEstablished});
  EXPECT_THAT(host.TakeLog(), IsEmpty()) << "once";
  EXPECT_FALSE(pm.Command(kT0, host, PmCommand{.type = PmCommand::Type::kFlush}).ok());

  FakePmHost refusing(true, kInitial);
  refusing.refuse_opens_ = true;
  ManualPathManager pm2({PlannedJoin{}});
  pm2.OnEvent(kT0, refusing, PmEvent{.type = PmEvent::Type::kFullyEstablished});
  ASSERT_EQ(pm2.refused().size(), 1u);
  EXPECT_EQ(pm2.refused()[0].first, 0u);
}

TEST(FactoryTest, BuildsTheNamedManagerAndValidates) {
  PathManagerConfig c;
  EXPECT_EQ(MakePathManager(c)->kind(), PathManagerKind::kManual);
  c.kind = PathManagerKind::kInKernel;
  EXPECT_EQ(MakePathManager(c)->kind(), PathManagerKind::kInKernel);
  c.kind = PathManagerKind::kNdiffports;
  EXPECT_EQ(MakePathManager(c)->kind(), PathManagerKind::kNdiffports);
  c.ndiffports = 0;
  EXPECT_FALSE(ValidatePathManagerConfig(c).ok());
  c.ndiffports = 2;
  c.limits.subflows = 9;
  EXPECT_FALSE(ValidatePathManagerConfig(c).ok());
}

}  // namespace
}  // namespace mptcp
