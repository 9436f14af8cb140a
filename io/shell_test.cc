#include "io/shell.h"

#include <gtest/gtest.h>

namespace mptcp::io {
namespace {

TEST(ShellTest, RunsAndCapturesBothStreams) {
  const CommandResult r = RunShell("echo out; echo err >&2; exit 3", 5);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.output, "out\nerr\n");
}

TEST(ShellTest, QuotesSingleQuotes) {
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  const CommandResult r = RunShell("printf %s " + ShellQuote("a 'b' $c"), 5);
  EXPECT_EQ(r.output, "a 'b' $c");
}

TEST(ShellTest, FindsSbinTools) {
  // `ip` lives in /sbin or /usr/sbin, which a non-root PATH may lack.
  EXPECT_EQ(RunShell("command -v ip >/dev/null || command -v true", 5).exit_code, 0);
}

TEST(ShellTest, KillsACommandThatOutlivesItsTimeout) {
  const CommandResult r = RunShell("sleep 30", 1);
  EXPECT_NE(r.exit_code, 0);
}

TEST(ShellTest, ErrnoTextNamesTheNumber) {
  EXPECT_NE(ErrnoText(2).find("(errno 2)"), std::string::npos);
}

}  // namespace
}  // namespace mptcp::io
