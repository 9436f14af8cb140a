// Parsing of `ip mptcp`-style endpoints, limits and manager names, and ID assignment.
#include "mptcp/path_manager/endpoints.h"

#include "gtest/gtest.h"

namespace mptcp {
namespace {

TEST(PmEndpointTest, ParsesEveryWord) {
  auto e = ParsePmEndpoint("198.51.100.2,port=10100,signal,id=7");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->address, IpAddress::V4(198, 51, 100, 2));
  EXPECT_EQ(e->port, 10100);
  EXPECT_EQ(e->id, 7);
  EXPECT_TRUE(e->signal);
  EXPECT_FALSE(e->subflow || e->backup || e->fullmesh);
  e = ParsePmEndpoint("2001:db8::2,subflow,backup,fullmesh");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_TRUE(e->subflow && e->backup && e->fullmesh);
  EXPECT_EQ(e->ToString(), "2001:db8::2,subflow,backup,fullmesh");
}

TEST(PmEndpointTest, RefusesWhatTheKernelRefuses) {
  EXPECT_FALSE(ParsePmEndpoint("192.0.2.1,signal,fullmesh").ok());  // Linux: EINVAL
  EXPECT_FALSE(ParsePmEndpoint("192.0.2.1,subflow,port=80").ok());  // port needs signal
  EXPECT_FALSE(ParsePmEndpoint("192.0.2.1,id=0").ok());
  EXPECT_FALSE(ParsePmEndpoint("192.0.2.1,id=256").ok());
  EXPECT_FALSE(ParsePmEndpoint("not-an-address,signal").ok());
  auto bad = ParsePmEndpoint("192.0.2.1,sgnal");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("sgnal"), std::string_view::npos);
}

TEST(PmLimitsTest, LinuxDefaultsAndParsing) {
  PmLimits d;
  EXPECT_EQ(d.subflows, 2u);           // recent kernels' default
  EXPECT_EQ(d.add_addr_accepted, 0u);  // announced addresses are not joined by default
  auto l = ParsePmLimits("subflows=4,add_addr_accepted=2");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->subflows, 4u);
  EXPECT_EQ(l->add_addr_accepted, 2u);
  l = ParsePmLimits("add_addr_accepted=1");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->subflows, 2u) << "an omitted limit keeps its value";
  EXPECT_FALSE(ParsePmLimits("subflows=9").ok());  // MPTCP_PM_ADDR_MAX
  EXPECT_FALSE(ParsePmLimits("paths=2").ok());
}

TEST(PathManagerKindTest, NamesAndClearError) {
  EXPECT_EQ(*ParsePathManagerKind("in-kernel"), PathManagerKind::kInKernel);
  EXPECT_EQ(*ParsePathManagerKind("ndiffports"), PathManagerKind::kNdiffports);
  EXPECT_EQ(*ParsePathManagerKind("manual"), PathManagerKind::kManual);
  auto bad = ParsePathManagerKind("fullmesh");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "unknown path manager 'fullmesh' (valid: in-kernel, ndiffports, manual)");
}

TEST(NormalizeTest, AssignsFreeIdsAndRejectsDuplicates) {
  std::vector<PmEndpoint> eps(3);
  eps[0].address = IpAddress::V4(192, 0, 2, 1);
  eps[1].address = IpAddress::V4(192, 0, 2, 2);
  eps[1].id = 1;
  eps[2].address = IpAddress::V4(192, 0, 2, 3);
  ASSERT_TRUE(NormalizePmEndpoints(eps).ok());
  EXPECT_EQ(eps[0].id, 2);
  EXPECT_EQ(eps[1].id, 1);
  EXPECT_EQ(eps[2].id, 3);
  eps[2].id = 1;
  EXPECT_FALSE(NormalizePmEndpoints(eps).ok());
  std::vector<PmEndpoint> twice(2);
  twice[0].address = twice[1].address = IpAddress::V4(192, 0, 2, 1);
  EXPECT_FALSE(NormalizePmEndpoints(twice).ok());
  std::vector<PmEndpoint> nine(9);
  for (size_t i = 0; i < nine.size(); ++i) nine[i].address = IpAddress::V4(192, 0, 2, uint8_t(i + 1));
  EXPECT_FALSE(NormalizePmEndpoints(nine).ok()) << "Linux keeps at most 8";
}

}  // namespace
}  // namespace mptcp
