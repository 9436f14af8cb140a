// Running a shell command from a test or tool, bounded in time, with its output: what the
// interop tests and the kernel benchmarks use to drive `ip`, `nstat`, `tc` and friends in the
// network namespaces they create.
#ifndef MPTCP_IO_SHELL_H_
#define MPTCP_IO_SHELL_H_

#include <string>

namespace mptcp::io {

// The PATH commands run with: /usr/sbin and /sbin too, where `ip` and `tc` live.
inline constexpr const char* kShellPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct CommandResult {
  int exit_code = -1;  // -1: did not exit normally (killed, or could not start)
  std::string output;  // stdout and stderr together
};

// Runs `command` with /bin/sh, PATH set to include /usr/sbin and /sbin (where `ip` lives),
// killed after `timeout_seconds` (at least 1).
CommandResult RunShell(const std::string& command, int timeout_seconds);

// `s` single-quoted for /bin/sh.
std::string ShellQuote(const std::string& s);

// strerror(err) with the number, e.g. "No such file or directory (errno 2)".
std::string ErrnoText(int err);

}  // namespace mptcp::io

#endif  // MPTCP_IO_SHELL_H_
