// A network namespace that lives exactly as long as the benchmark that made it: created with
// `ip netns add`, deleted by the destructor, by a signal (SIGINT, SIGTERM, SIGHUP) or by a
// watchdog when the whole run overshoots its time; namespaces of earlier runs that died by
// SIGKILL are deleted on the next start. Used by kernel_mptcp_loopback.
#ifndef MPTCP_TOOLS_BENCH_TEMP_NETNS_H_
#define MPTCP_TOOLS_BENCH_TEMP_NETNS_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/shell.h"

namespace mptcp::tools {

using io::CommandResult;
using io::ErrnoText;

// Runs `command` under sh with a sane PATH, killed after `timeout_seconds` (io::RunShell).
inline CommandResult RunCommand(const std::string& command, int timeout_seconds = 10) {
  return io::RunShell(command, timeout_seconds);
}

class TempNetns {
 public:
  // Creates "<prefix><pid>" after deleting stale "<prefix><dead pid>" ones, and arms the guard:
  // until the process exits, SIGINT/SIGTERM/SIGHUP or reaching `watchdog` delete the namespace
  // and _exit (128 + signal, or 1). One TempNetns per process. FailedPrecondition when this
  // machine cannot make one (not root, no `ip`, no namespaces).
  static absl::StatusOr<std::unique_ptr<TempNetns>> Create(
      const std::string& prefix, std::chrono::steady_clock::time_point watchdog);
  ~TempNetns();
  TempNetns(const TempNetns&) = delete;
  TempNetns& operator=(const TempNetns&) = delete;

  const std::string& name() const { return name_; }
  // The bind-mounted namespace file, for open() + setns(fd, CLONE_NEWNET).
  std::string path() const { return "/var/run/netns/" + name_; }

  // Runs `command` (no shell) inside the namespace with `ip netns exec`.
  CommandResult Exec(const std::string& command) const;
  // The same; an error with the command's output when it exits non-zero.
  absl::Status ExecOk(const std::string& command) const;

 private:
  explicit TempNetns(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

}  // namespace mptcp::tools

#endif  // MPTCP_TOOLS_BENCH_TEMP_NETNS_H_
