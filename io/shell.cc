#include "io/shell.h"

#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_format.h"

namespace mptcp::io {

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string ErrnoText(int err) { return absl::StrFormat("%s (errno %d)", std::strerror(err), err); }

CommandResult RunShell(const std::string& command, int timeout_seconds) {
  CommandResult r;
  const std::string full =
      absl::StrFormat("PATH=%s; export PATH; timeout -k 2 %d sh -c %s 2>&1", kShellPath,
                      std::max(1, timeout_seconds), ShellQuote(command));
  FILE* p = ::popen(full.c_str(), "r");
  if (p == nullptr) {
    r.output = "popen failed: " + ErrnoText(errno);
    return r;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  const int st = ::pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace mptcp::io
