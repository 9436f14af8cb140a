#include "testing/prerequisites.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace mptcp::testing {
namespace {

class PrerequisitesTest : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv(kRequireAllEnv); }
};

TEST_F(PrerequisitesTest, OffUnlessSet) {
  ::unsetenv(kRequireAllEnv);
  EXPECT_FALSE(PrerequisitesRequired());
  ::setenv(kRequireAllEnv, "", 1);
  EXPECT_FALSE(PrerequisitesRequired());
  ::setenv(kRequireAllEnv, "0", 1);
  EXPECT_FALSE(PrerequisitesRequired());
  ::setenv(kRequireAllEnv, "1", 1);
  EXPECT_TRUE(PrerequisitesRequired());
  ::setenv(kRequireAllEnv, "yes", 1);  // a typo must not make a strict run lax
  EXPECT_TRUE(PrerequisitesRequired());
}

void SkipForMissingTool() { MPTCP_SKIP_MISSING_PREREQUISITE("no frobnicator installed"); }

TEST_F(PrerequisitesTest, StrictRunFailsWithTheReason) {
  ::setenv(kRequireAllEnv, "1", 1);
  EXPECT_FATAL_FAILURE(SkipForMissingTool(), "no frobnicator installed");
}

TEST_F(PrerequisitesTest, LaxRunSkips) {
  ::unsetenv(kRequireAllEnv);
  SkipForMissingTool();
  // The helper's GTEST_SKIP marked this test skipped, without a failure.
  EXPECT_TRUE(::testing::Test::IsSkipped());
  EXPECT_FALSE(::testing::Test::HasFailure());
}

}  // namespace
}  // namespace mptcp::testing
