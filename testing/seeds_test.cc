// The seed list and its replay line, under each way the environment can ask for seeds.
#include "testing/seeds.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mptcp::testing {
namespace {

constexpr SeedSpec kSpec{"SEEDS_TEST", 4, 2};

class SeedsTest : public ::testing::Test {
 protected:
  void SetUp() override { Clear(); }
  void TearDown() override { Clear(); }
  static void Clear() {
    unsetenv("SEEDS_TEST_SEED");
    unsetenv("SEEDS_TEST_SEEDS");
  }
};

TEST_F(SeedsTest, DefaultCountDependsOnTheBuild) {
  const std::vector<uint64_t> want =
      kSanitizerBuild ? std::vector<uint64_t>{1, 2} : std::vector<uint64_t>{1, 2, 3, 4};
  EXPECT_EQ(Seeds(kSpec), want);
}

TEST_F(SeedsTest, SeedsVariableRunsOneToN) {
  setenv("SEEDS_TEST_SEEDS", "6", 1);
  EXPECT_EQ(Seeds(kSpec), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6}));
}

TEST_F(SeedsTest, SeedVariableReplaysOneSeedAndWins) {
  setenv("SEEDS_TEST_SEEDS", "6", 1);
  setenv("SEEDS_TEST_SEED", "123456789012", 1);
  EXPECT_EQ(Seeds(kSpec), (std::vector<uint64_t>{123456789012}));
}

TEST_F(SeedsTest, OtherPrefixesAreIgnored) {
  setenv("SEEDS_TEST_OTHER_SEEDS", "9", 1);
  EXPECT_EQ(Seeds(kSpec).size(), kSanitizerBuild ? 2u : 4u);
  unsetenv("SEEDS_TEST_OTHER_SEEDS");
}

using SeedsDeathTest = SeedsTest;

TEST_F(SeedsDeathTest, MalformedOrZeroValuesStopTheBinary) {
  for (const char* bad : {"", "x", "3x", "-1", "0"}) {
    SCOPED_TRACE(bad);
    setenv("SEEDS_TEST_SEEDS", bad, 1);
    EXPECT_DEATH(Seeds(kSpec), "SEEDS_TEST_SEEDS=.*expected a positive number");
    Clear();
    setenv("SEEDS_TEST_SEED", bad, 1);
    EXPECT_DEATH(Seeds(kSpec), "SEEDS_TEST_SEED=.*expected a positive number");
    Clear();
  }
}

TEST_F(SeedsTest, ReplayNamesTheVariableTheSeedAndThisTest) {
  const std::string r = Replay(kSpec, 17);
  EXPECT_NE(r.find("seed 17;"), std::string::npos) << r;
  EXPECT_NE(r.find("--test_env=SEEDS_TEST_SEED=17"), std::string::npos) << r;
  EXPECT_NE(r.find("--gtest_filter=SeedsTest.ReplayNamesTheVariableTheSeedAndThisTest"),
            std::string::npos)
      << r;
  // Under `bazel test`, the target too.
  if (const char* target = std::getenv("TEST_TARGET")) {
    EXPECT_NE(r.find(std::string("bazel test ") + target), std::string::npos) << r;
  }
}

}  // namespace
}  // namespace mptcp::testing
