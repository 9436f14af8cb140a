// ValidateTcpConfig: what a plain TCP engine can run with, and the errors it gives otherwise.
#include "mptcp/tcp/tcp_config.h"

#include <gtest/gtest.h>

namespace mptcp::tcp {
namespace {

TEST(TcpConfigTest, DefaultsAreValid) { EXPECT_TRUE(ValidateTcpConfig(TcpConfig{}).ok()); }

TEST(TcpConfigTest, UncoupledControllersAreValid) {
  for (cc::CcAlgorithm a : {cc::CcAlgorithm::kNewReno, cc::CcAlgorithm::kCubic}) {
    TcpConfig c;
    c.congestion_control = a;
    EXPECT_TRUE(ValidateTcpConfig(c).ok()) << cc::CcAlgorithmName(a);
  }
}

TEST(TcpConfigTest, CoupledControllerOnAPlainEngineIsAClearError) {
  for (cc::CcAlgorithm a : {cc::CcAlgorithm::kLia, cc::CcAlgorithm::kOlia, cc::CcAlgorithm::kBalia}) {
    TcpConfig c;
    c.congestion_control = a;
    const absl::Status s = ValidateTcpConfig(c);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(std::string(cc::CcAlgorithmName(a))), std::string::npos) << s;
    EXPECT_NE(s.message().find("MPTCP"), std::string::npos) << s;
  }
}

TEST(TcpConfigTest, ZeroMssIsAnError) {
  TcpConfig c;
  c.mss = 0;
  EXPECT_EQ(ValidateTcpConfig(c).code(), absl::StatusCode::kInvalidArgument);
}

TEST(TcpConfigTest, MaxReorderingBelowThreeIsAClearError) {
  TcpConfig c;
  c.max_reordering = 2;
  const absl::Status s = ValidateTcpConfig(c);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("max_reordering is 2"), absl::string_view::npos) << s;
  c.max_reordering = 3;
  EXPECT_TRUE(ValidateTcpConfig(c).ok());
}

TEST(CcAlgorithmTest, NamesRoundTrip) {
  for (cc::CcAlgorithm a : {cc::CcAlgorithm::kNewReno, cc::CcAlgorithm::kCubic, cc::CcAlgorithm::kLia,
                            cc::CcAlgorithm::kOlia, cc::CcAlgorithm::kBalia}) {
    EXPECT_EQ(cc::CcAlgorithmFromName(cc::CcAlgorithmName(a)), a);
    EXPECT_NE(cc::kCcAlgorithmNames.find(cc::CcAlgorithmName(a)), std::string_view::npos);
  }
  EXPECT_FALSE(cc::CcAlgorithmFromName("reno").has_value());
  EXPECT_FALSE(cc::CcAlgorithmFromName("").has_value());
  EXPECT_FALSE(cc::CcAlgorithmFromName("LIA").has_value());  // names are lower case
}

TEST(CcAlgorithmTest, CoupledOnesReduceToNewRenoAlone) {
  EXPECT_TRUE(cc::IsCoupled(cc::CcAlgorithm::kLia));
  EXPECT_FALSE(cc::IsCoupled(cc::CcAlgorithm::kCubic));
  EXPECT_EQ(cc::UncoupledBase(cc::CcAlgorithm::kOlia), cc::CcAlgorithm::kNewReno);
  EXPECT_EQ(cc::UncoupledBase(cc::CcAlgorithm::kCubic), cc::CcAlgorithm::kCubic);
}

}  // namespace
}  // namespace mptcp::tcp
