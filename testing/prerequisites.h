// Prerequisite skips that a strict run turns into failures.
//
// A test that needs root, TUN, kernel MPTCP, tshark or python3 skips with its reason when they
// are missing, so that `bazel test //...` passes on a developer's laptop. CI runs as root with
// everything installed: there, a skip means a check silently did not run, and the suite would
// pass having tested less than it says. With MPTCP_REQUIRE_ALL=1 in the test's environment
// (.ci/run sets it; scripts/test.sh forwards it to every pass), every prerequisite skip is a
// failure carrying the same reason.
//
// Only prerequisite skips go through here. A "TARGET MISSED" skip (a known miss reported, see
// docs/conformance.md) is a different thing and has its own hard limit.
#ifndef MPTCP_TESTING_PREREQUISITES_H_
#define MPTCP_TESTING_PREREQUISITES_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <string_view>

namespace mptcp::testing {

inline constexpr char kRequireAllEnv[] = "MPTCP_REQUIRE_ALL";

// True when MPTCP_REQUIRE_ALL is "1". Any other value is read as off, except that a value
// that is neither "0" nor "1" (a typo) also counts as on: a strict run must not turn lax by
// mistake.
inline bool PrerequisitesRequired() {
  const char* v = std::getenv(kRequireAllEnv);
  if (v == nullptr || *v == '\0') return false;
  return std::string_view(v) != "0";
}

}  // namespace mptcp::testing

// Skips the current test with `why` (anything streamable), or fails it in a strict run. Like
// GTEST_SKIP, it returns from the current function.
#define MPTCP_SKIP_MISSING_PREREQUISITE(why)                                               \
  do {                                                                                     \
    if (::mptcp::testing::PrerequisitesRequired()) {                                       \
      GTEST_FAIL() << "prerequisite missing, and MPTCP_REQUIRE_ALL is set: " << why;       \
    } else {                                                                               \
      GTEST_SKIP() << why;                                                                 \
    }                                                                                      \
  } while (0)

#endif  // MPTCP_TESTING_PREREQUISITES_H_
