// Small interface-configuration steps a TUN user needs, done with ioctl(2) in the calling
// thread's network namespace: bring a link up (and set its MTU), route an address or prefix to
// it, switch off a link's checksum/segmentation offloads. Each is idempotent where the kernel
// allows (a route that exists already is fine) and reports failures as absl::Status.
#ifndef MPTCP_IO_NET_CONFIG_H_
#define MPTCP_IO_NET_CONFIG_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "mptcp/address.h"

namespace mptcp::io {

// `ip link set NAME up [mtu MTU]`.
absl::Status SetLinkUp(const std::string& name, std::optional<int> mtu = std::nullopt);

// `ip link set NAME txqueuelen PACKETS`: how many packets the kernel queues on the interface
// for the reader before dropping. A TUN device starts at 500; a kernel TCP peer with TSO fires
// 64 KiB bursts (45 packets each) on every subflow at once, and while our loop is busy with
// one batch the queue overflows: a tail loss each time, which the peer recovers only at its
// retransmission timeout (200 ms). kTunTxQueueLength absorbs such bursts.
inline constexpr int kTunTxQueueLength = 4096;
absl::Status SetTxQueueLength(const std::string& name, int packets);

// `ip route add DST/PREFIX dev NAME`: packets to DST/PREFIX go to the interface. For a TUN
// device this is how the kernel learns that our userspace stack's addresses sit behind it;
// those addresses must NOT be configured on any local interface, or the kernel would deliver
// their packets to its own TCP instead. An existing identical route is not an error.
absl::Status AddRoute(const IpAddress& dst, int prefix_len, const std::string& name);

// `ethtool -K NAME tx off tso off gso off`: the kernel then sends fully checksummed,
// MTU-sized packets on the link. Raw sockets see packets from a veth peer before the kernel
// finishes partial checksums, so a RawSocket user turns these off on the far end.
absl::Status DisableOffloads(const std::string& name);

}  // namespace mptcp::io

#endif  // MPTCP_IO_NET_CONFIG_H_
