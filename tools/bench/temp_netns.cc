// TempNetns: see temp_netns.h.
#include "tools/bench/temp_netns.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace mptcp::tools {
namespace {

// Read by the guard thread; written once before it starts.
char g_netns_name[64] = {};
int g_signal_pipe[2] = {-1, -1};
std::atomic<bool> g_armed{false};

void OnSignal(int sig) {
  const unsigned char b = static_cast<unsigned char>(sig);
  (void)!::write(g_signal_pipe[1], &b, 1);
}

// On a signal, or once `limit` has passed, deletes the namespace and exits the process.
void GuardThread(std::chrono::steady_clock::time_point limit) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        limit - std::chrono::steady_clock::now());
    struct pollfd pfd = {g_signal_pipe[0], POLLIN, 0};
    const int n = ::poll(&pfd, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    if (n < 0 && errno == EINTR) continue;
    unsigned char sig = 0;
    if (n > 0 && ::read(g_signal_pipe[0], &sig, 1) != 1) continue;
    if (n > 0) {
      std::fprintf(stderr, "signal %d: deleting network namespace %s\n", sig, g_netns_name);
    } else {
      std::fprintf(stderr, "watchdog expired: deleting network namespace %s\n", g_netns_name);
    }
    (void)RunCommand(absl::StrCat("ip netns del ", g_netns_name));
    ::_exit(n > 0 ? 128 + sig : 1);
  }
}

absl::Status ArmGuard(std::chrono::steady_clock::time_point limit) {
  if (g_armed.exchange(true)) return absl::InternalError("one TempNetns per process");
  if (::pipe2(g_signal_pipe, O_CLOEXEC) < 0) {
    return absl::InternalError("pipe2: " + ErrnoText(errno));
  }
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sa.sa_flags = SA_RESTART;
  ::sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
  std::thread(GuardThread, limit).detach();
  return absl::OkStatus();
}

void DeleteStale(const std::string& prefix) {
  for (absl::string_view line : absl::StrSplit(RunCommand("ip netns list").output, '\n')) {
    const std::string name(line.substr(0, line.find(' ')));
    int pid = 0;
    if (name.rfind(prefix, 0) != 0) continue;
    if (!absl::SimpleAtoi(name.substr(prefix.size()), &pid) || pid <= 0) continue;
    if (::kill(pid, 0) < 0 && errno == ESRCH) (void)RunCommand("ip netns del " + name);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<TempNetns>> TempNetns::Create(
    const std::string& prefix, std::chrono::steady_clock::time_point watchdog) {
  if (::geteuid() != 0) return absl::FailedPreconditionError("needs root (network namespaces)");
  if (RunCommand("command -v ip && command -v timeout").exit_code != 0) {
    return absl::FailedPreconditionError("needs `ip` (iproute2) and `timeout` (coreutils)");
  }
  DeleteStale(prefix);
  const std::string name = absl::StrFormat("%s%d", prefix, ::getpid());
  if (name.size() >= sizeof(g_netns_name)) return absl::InvalidArgumentError("prefix too long");
  std::snprintf(g_netns_name, sizeof(g_netns_name), "%s", name.c_str());
  // Armed before the namespace exists, so that no signal finds it unguarded. (One that lands
  // during `ip netns add` itself may miss it; the next run deletes it as stale.)
  if (absl::Status st = ArmGuard(watchdog); !st.ok()) return st;
  CommandResult r = RunCommand("ip netns add " + name);
  if (r.exit_code != 0) {
    (void)RunCommand("ip netns del " + name);  // in case it timed out half-way
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create a network namespace: ", absl::StripAsciiWhitespace(r.output)));
  }
  return std::unique_ptr<TempNetns>(new TempNetns(name));
}

TempNetns::~TempNetns() {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (RunCommand("ip netns del " + name_).exit_code == 0) return;
    ::usleep(100'000);
  }
  std::fprintf(stderr, "warning: could not delete network namespace %s\n", name_.c_str());
}

CommandResult TempNetns::Exec(const std::string& command) const {
  return RunCommand("ip netns exec " + name_ + " " + command);
}

absl::Status TempNetns::ExecOk(const std::string& command) const {
  CommandResult r = Exec(command);
  if (r.exit_code == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrFormat("`%s` in %s exited %d: %s", command, name_,
                                             r.exit_code, absl::StripAsciiWhitespace(r.output)));
}

}  // namespace mptcp::tools
