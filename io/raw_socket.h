// A raw IPv4 socket as a PacketDevice: an alternative to TUN that puts the userspace stack on
// addresses the kernel already owns. Sends whole IP packets (IPPROTO_RAW semantics via
// IP_HDRINCL on an IPPROTO_TCP raw socket) and receives a copy of every TCP packet the kernel
// delivers locally, keeping only those for our addresses and ports.
//
// The kernel's own TCP must be kept from answering. A raw socket only gets a *copy*: the kernel
// still processes each packet, finds no socket for our port and answers with a RST (RFC 9293
// §3.10.7.1), which would kill our connections. Two ways out:
//
//   1. (what the test uses) Drop the kernel's RSTs for our ports, but not ours. Every packet
//      this class sends carries the socket mark `mark` (SO_MARK, default kRawSocketMark), so
//        iptables -A OUTPUT -p tcp --sport PORT --tcp-flags RST RST -m mark ! --mark 0x4d50 -j DROP
//      drops the kernel's RSTs only (for a client, PORT is our source port; pick it outside
//      net.ipv4.ip_local_port_range, or list it in net.ipv4.ip_local_reserved_ports, so the
//      kernel never gives it to one of its own sockets). ICMP port-unreachables do not arise
//      for TCP.
//   2. Give the stack an address on no interface and route it to a dummy/TUN device instead:
//      but then the kernel does not deliver the packets locally and the raw socket sees
//      nothing, which is why the TUN binding (io/tun_device.h) exists.
//
// Offloads: packets that reach a raw socket from a veth peer in another namespace may still
// carry a partial TCP checksum and be GSO super-packets (up to 64 KiB); the peer's link should
// have tx checksumming and TSO/GSO off (io/net_config.h DisableOffloads) or the stack's
// checksum check drops them. IPv6 is not supported here (an IPv6 raw socket does not hand
// over the IP header); use TUN for IPv6.
#ifndef MPTCP_IO_RAW_SOCKET_H_
#define MPTCP_IO_RAW_SOCKET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/packet_device.h"
#include "mptcp/address.h"

namespace mptcp::io {

// "MP": the SO_MARK our packets carry, so that firewall rules can tell them from the kernel's.
inline constexpr uint32_t kRawSocketMark = 0x4d50;

struct RawSocketOptions {
  // Receive only TCP packets to these addresses (IPv4) ...
  std::vector<IpAddress> local_addresses;
  // ... and these destination ports (empty: any port). More can be added with AddPort().
  std::vector<uint16_t> local_ports;
  uint32_t mark = kRawSocketMark;
  // Receive buffer (SO_RCVBUFFORCE when permitted): the kernel drops what does not fit.
  int receive_buffer = 8 << 20;
};

class RawSocket : public PacketDevice {
 public:
  // Needs CAP_NET_RAW (and CAP_NET_ADMIN for the mark).
  static absl::StatusOr<std::unique_ptr<RawSocket>> Open(const RawSocketOptions& options);

  ~RawSocket() override;
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  void AddPort(uint16_t port) { ports_.insert(port); }

  int fd() const override { return fd_; }
  std::string_view name() const override { return name_; }
  // One packet for us, or 0 when none is waiting (packets for other addresses or ports are
  // skipped, at most a bounded number per call).
  absl::StatusOr<size_t> Read(std::span<uint8_t> buf) override;
  absl::Status Write(std::span<const uint8_t> packet) override;

  uint64_t skipped() const { return skipped_; }

 private:
  RawSocket(int fd, const RawSocketOptions& options);
  bool ForUs(std::span<const uint8_t> packet) const;

  int fd_;
  std::string name_;
  absl::flat_hash_set<IpAddress> addresses_;
  absl::flat_hash_set<uint16_t> ports_;
  uint64_t skipped_ = 0;
};

}  // namespace mptcp::io

#endif  // MPTCP_IO_RAW_SOCKET_H_
