// The seed list of every seeded test, read from the environment one way:
//
//   <PREFIX>_SEED=k    runs seed k only (to replay a failure),
//   <PREFIX>_SEEDS=n   runs seeds 1..n,
//   neither            runs seeds 1..default_count, or 1..sanitizer_count in an ASan build.
//
// A prefix names a family of tests that share a budget (MPTCP_PIPE: the lossy pipes;
// CONFORMANCE: the simulator scenarios), so one --test_env scales a whole family, as
// scripts/test.sh does for its ASan pass. A value that is not a positive number stops the test
// binary: a typo must not quietly run no seed, or another number of them.
//
// Replay() says how to rerun one seed of the running test: the Bazel target (TEST_TARGET,
// set by `bazel test`), the variable and the gtest filter. Every seeded test prints it with a
// failure, e.g. SCOPED_TRACE(Replay(kSeeds, seed)) inside the seed loop.
#ifndef MPTCP_TESTING_SEEDS_H_
#define MPTCP_TESTING_SEEDS_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace mptcp::testing {

struct SeedSpec {
  const char* prefix;   // the environment variables are <prefix>_SEED and <prefix>_SEEDS
  int default_count;    // seeds 1..default_count when neither is set
  // The same under a sanitizer, where runs are about ten times slower (the scenarios are
  // deterministic per seed, so the plain build covers the rest).
  int sanitizer_count;
};

// True in an AddressSanitizer build (gcc defines the macro; clang answers __has_feature).
constexpr bool kSanitizerBuild =
#if defined(__SANITIZE_ADDRESS__)
    true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    true;
#else
    false;
#endif
#else
    false;
#endif

namespace seeds_internal {

// The positive number in environment variable `name`, 0 if it is unset; stops the binary on
// anything else.
inline uint64_t PositiveFromEnv(const std::string& name) {
  const char* s = std::getenv(name.c_str());
  if (s == nullptr) return 0;
  uint64_t v = 0;
  if (!absl::SimpleAtoi(s, &v) || v == 0) {
    std::fprintf(stderr, "%s=\"%s\": expected a positive number\n", name.c_str(), s);
    std::fflush(stderr);
    std::abort();
  }
  return v;
}

}  // namespace seeds_internal

// A count other than seeds (runs, sizes) from environment variable `name`: `fallback` when
// unset; like the seed variables, anything but a positive number stops the binary.
inline uint64_t CountFromEnv(const char* name, uint64_t fallback) {
  const uint64_t v = seeds_internal::PositiveFromEnv(name);
  return v == 0 ? fallback : v;
}

inline std::vector<uint64_t> Seeds(const SeedSpec& spec) {
  const std::string prefix = spec.prefix;
  if (const uint64_t one = seeds_internal::PositiveFromEnv(prefix + "_SEED")) return {one};
  uint64_t n = seeds_internal::PositiveFromEnv(prefix + "_SEEDS");
  if (n == 0) n = static_cast<uint64_t>(kSanitizerBuild ? spec.sanitizer_count : spec.default_count);
  std::vector<uint64_t> v;
  for (uint64_t i = 1; i <= n; ++i) v.push_back(i);
  return v;
}

// The running test's full gtest name (suite.name, parameters included), or "*".
inline std::string CurrentTestFilter() {
  const ::testing::TestInfo* t = ::testing::UnitTest::GetInstance()->current_test_info();
  return t == nullptr ? "*" : absl::StrCat(t->test_suite_name(), ".", t->name());
}

// "seed 7; replay: bazel test //x:y --test_env=PREFIX_SEED=7 --test_arg=--gtest_filter=..."
inline std::string Replay(const SeedSpec& spec, uint64_t seed) {
  const char* target = std::getenv("TEST_TARGET");
  return absl::StrCat("seed ", seed, "; replay: bazel test ",
                      target != nullptr ? target : "<this test>", " --test_env=", spec.prefix,
                      "_SEED=", seed, " --test_arg=--gtest_filter=", CurrentTestFilter(),
                      " --test_output=all");
}

}  // namespace mptcp::testing

#endif  // MPTCP_TESTING_SEEDS_H_
