// The built-in demo scenario of mptcp_sim: tools/scenarios/demo.json, embedded at build time
// (the genrule in tools/BUILD.bazel), so the tool runs without arguments and the file and the
// built-in copy cannot drift apart.
#ifndef MPTCP_TOOLS_DEMO_SCENARIO_H_
#define MPTCP_TOOLS_DEMO_SCENARIO_H_

namespace mptcp::tools {

// A C string so that it converts to std::string_view and absl::string_view alike.
inline constexpr char kDemoScenarioJson[] =
#include "tools/demo_scenario.inc"
    ;

}  // namespace mptcp::tools

#endif  // MPTCP_TOOLS_DEMO_SCENARIO_H_
