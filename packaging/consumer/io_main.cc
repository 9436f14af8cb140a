// Links against the installed mptcp::io library (a compiled archive, unlike the core) and
// calls into it, so a missing or broken libmptcp_io fails the consumer test. The call is one
// that needs no privileges: opening a TUN clone device that does not exist.
#include <cstdio>

#include "io/tun_device.h"

int main() {
  auto tun = mptcp::io::TunDevice::OpenAt("/nonexistent/tun", "mptcp0");
  if (tun.ok() || !absl::IsNotFound(tun.status())) return 1;
  std::printf("consumer_io: libmptcp_io linked and answered: %s\n",
              tun.status().ToString().c_str());
  return 0;
}
