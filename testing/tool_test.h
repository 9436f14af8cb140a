// A fixture for tests that run one of the project's command-line tools (tools/mptcp_sim,
// tools/mptcp_trace): a fresh working directory per test case under TEST_TMPDIR, and Run(),
// which runs the tool there through the shell and returns its exit status, stdout and stderr.
#ifndef MPTCP_TESTING_TOOL_TEST_H_
#define MPTCP_TESTING_TOOL_TEST_H_

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace mptcp::testing {

struct ToolResult {
  int code = -1;  // exit status; -1 when killed by a signal
  std::string out, err;
};

inline std::string SlurpFile(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class ToolTest : public ::testing::Test {
 protected:
  // `binary`: the tool's path relative to the runfiles root, e.g. "tools/mptcp_sim".
  explicit ToolTest(std::string binary) : relative_(std::move(binary)) {}

  void SetUp() override {
    binary_ = std::filesystem::absolute(relative_);
    ASSERT_TRUE(std::filesystem::exists(binary_)) << binary_;
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = std::filesystem::path(tmp != nullptr ? tmp : "/tmp") /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  // Runs the tool in dir_ with `args` (shell words).
  ToolResult Run(const std::string& args) {
    const std::filesystem::path out = dir_ / "stdout.txt", err = dir_ / "stderr.txt";
    const std::string cmd = absl::StrCat("cd '", dir_.string(), "' && '", binary_.string(), "' ",
                                         args, " >'", out.string(), "' 2>'", err.string(), "'");
    const int status = std::system(cmd.c_str());
    ToolResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = SlurpFile(out);
    r.err = SlurpFile(err);
    return r;
  }

  std::string relative_;
  std::filesystem::path binary_, dir_;
};

}  // namespace mptcp::testing

#endif  // MPTCP_TESTING_TOOL_TEST_H_
