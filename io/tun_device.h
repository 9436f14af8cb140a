// A Linux TUN device (IFF_TUN | IFF_NO_PI) as a PacketDevice: whole IP packets in and out of
// the kernel through /dev/net/tun, non-blocking, with a pollable fd for the event loop.
//
// The device lives in the network namespace of the thread that opens it. Opening a name that
// exists attaches to that (persistent, `ip tuntap add`) device; any other name creates a
// device that disappears when the fd is closed. Packets the kernel routes to the device are
// read here; packets written here enter the kernel as if received on the device.
//
// With TunOptions::offload the device speaks virtio-net headers (IFF_VNET_HDR) and offers the
// kernel checksum and TCP segmentation offload (TUNSETOFFLOAD: TUN_F_CSUM, TSO4, TSO6), as a
// VM's virtio NIC does. Then the kernel hands us coalesced (GRO) or unsegmented (TSO) TCP
// packets of up to 64 KiB, whose partial checksums Read completes, and WriteSegments gives
// the kernel whole super-segments to cut: one system call per up to 64 KiB either way.
//
// Errors are absl::Status with what to do about them: no /dev/net/tun (kNotFound), no
// CAP_NET_ADMIN (kPermissionDenied), a busy or non-TUN name (kFailedPrecondition), the device
// deleted under us (kUnavailable from Read/Write).
#ifndef MPTCP_IO_TUN_DEVICE_H_
#define MPTCP_IO_TUN_DEVICE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/packet_device.h"

namespace mptcp::io {

struct TunOptions {
  // virtio-net headers with checksum and TCP segmentation offload (see above).
  bool offload = false;
};

class TunDevice : public PacketDevice {
 public:
  // The most segments a super-segment written with offload carries: 64 KiB of payload at
  // the smallest full-sized MSS on a 1500-byte link is about 45.
  static constexpr size_t kGsoMaxSegments = 64;

  // Opens /dev/net/tun and creates (or attaches to) the TUN interface `name` (at most 15
  // characters; empty lets the kernel pick "tunN"). The device starts down: see
  // io/net_config.h to bring it up and route addresses to it.
  static absl::StatusOr<std::unique_ptr<TunDevice>> Open(std::string_view name,
                                                         const TunOptions& options = {});

  // Where the TUN driver is looked for; tests point it elsewhere to see the error path.
  static absl::StatusOr<std::unique_ptr<TunDevice>> OpenAt(const std::string& clone_path,
                                                           std::string_view name,
                                                           const TunOptions& options = {});

  ~TunDevice() override;
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;

  int fd() const override { return fd_; }
  std::string_view name() const override { return name_; }
  absl::StatusOr<size_t> Read(std::span<uint8_t> buf) override;
  absl::Status Write(std::span<const uint8_t> packet) override;
  size_t gso_max_segments() const override { return offload_ ? kGsoMaxSegments : 1; }
  absl::Status WriteSegments(std::span<uint8_t> packet, uint16_t segment_size) override;
  bool offload() const { return offload_; }

  // Counters of the offload path: coalesced packets read (more than one MSS of payload is not
  // known here, so: packets the kernel marked GSO) and super-segments written.
  uint64_t gso_packets_read() const { return gso_read_; }
  uint64_t gso_packets_written() const { return gso_written_; }

 private:
  TunDevice(int fd, std::string name, bool offload)
      : fd_(fd), name_(std::move(name)), offload_(offload) {}
  // One write(v) of a virtio-net header (when offload is on) and a packet.
  absl::Status WriteWithHeader(std::span<const uint8_t> packet, const void* vnet_hdr);

  int fd_;
  std::string name_;
  bool offload_;
  uint64_t gso_read_ = 0, gso_written_ = 0;
};

}  // namespace mptcp::io

#endif  // MPTCP_IO_TUN_DEVICE_H_
