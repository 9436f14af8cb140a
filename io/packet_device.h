// The interface the event loop reads IP packets from and writes them to: a TUN device, a raw
// socket, or a test double. One read or write moves exactly one whole IPv4/IPv6 packet.
#ifndef MPTCP_IO_PACKET_DEVICE_H_
#define MPTCP_IO_PACKET_DEVICE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mptcp/address.h"

namespace mptcp::io {

class PacketDevice {
 public:
  virtual ~PacketDevice() = default;

  // A file descriptor that polls readable (epoll EPOLLIN) when a packet may be waiting.
  virtual int fd() const = 0;
  // For messages: the interface name or a description.
  virtual std::string_view name() const = 0;
  // Reads one packet into `buf` without blocking: its length, or 0 when none is waiting.
  // A packet longer than `buf` is truncated by the kernel, so `buf` should hold the MTU.
  // An error means the device is unusable (gone, closed).
  virtual absl::StatusOr<size_t> Read(std::span<uint8_t> buf) = 0;
  // Sends one packet without blocking. kUnavailable means "not now" (the packet is dropped,
  // TCP will retransmit); any other error means the device is unusable or the packet invalid.
  virtual absl::Status Write(std::span<const uint8_t> packet) = 0;
};

}  // namespace mptcp::io

#endif  // MPTCP_IO_PACKET_DEVICE_H_
