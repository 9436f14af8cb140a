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
#include "mptcp/wire/gso.h"

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

  // Segmentation offload (GSO). How many segments one WriteSegments call may carry: 1 when
  // the device has no offload (the event loop then asks the endpoint for plain segments).
  virtual size_t gso_max_segments() const { return 1; }
  // Sends a super-segment (Transmit::segment_size): one IP and TCP header and the payload of
  // several segments, which the device or the kernel cuts into segments of `segment_size`
  // payload bytes. The device may rewrite the packet's checksum fields. This default cuts it
  // in software (wire::ForEachGsoSegment) and writes each segment.
  virtual absl::Status WriteSegments(std::span<uint8_t> packet, uint16_t segment_size);
};

inline absl::Status PacketDevice::WriteSegments(std::span<uint8_t> packet,
                                               uint16_t segment_size) {
  uint8_t scratch[65536];
  absl::Status first_error;
  auto cut = wire::ForEachGsoSegment(packet, segment_size, scratch,
                                     [&](std::span<const uint8_t> segment) {
                                       absl::Status st = Write(segment);
                                       if (!st.ok() && first_error.ok()) first_error = st;
                                     });
  if (!cut.ok()) {
    return absl::InvalidArgumentError("cannot cut a super-segment: " + cut.error().ToString());
  }
  return first_error;
}

}  // namespace mptcp::io

#endif  // MPTCP_IO_PACKET_DEVICE_H_
