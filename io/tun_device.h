// A Linux TUN device (IFF_TUN | IFF_NO_PI) as a PacketDevice: whole IP packets in and out of
// the kernel through /dev/net/tun, non-blocking, with a pollable fd for the event loop.
//
// The device lives in the network namespace of the thread that opens it. Opening a name that
// exists attaches to that (persistent, `ip tuntap add`) device; any other name creates a
// device that disappears when the fd is closed. Packets the kernel routes to the device are
// read here; packets written here enter the kernel as if received on the device.
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

class TunDevice : public PacketDevice {
 public:
  // Opens /dev/net/tun and creates (or attaches to) the TUN interface `name` (at most 15
  // characters; empty lets the kernel pick "tunN"). The device starts down: see
  // io/net_config.h to bring it up and route addresses to it.
  static absl::StatusOr<std::unique_ptr<TunDevice>> Open(std::string_view name);

  // Where the TUN driver is looked for; tests point it elsewhere to see the error path.
  static absl::StatusOr<std::unique_ptr<TunDevice>> OpenAt(const std::string& clone_path,
                                                           std::string_view name);

  ~TunDevice() override;
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;

  int fd() const override { return fd_; }
  std::string_view name() const override { return name_; }
  absl::StatusOr<size_t> Read(std::span<uint8_t> buf) override;
  absl::Status Write(std::span<const uint8_t> packet) override;

 private:
  TunDevice(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}

  int fd_;
  std::string name_;
};

}  // namespace mptcp::io

#endif  // MPTCP_IO_TUN_DEVICE_H_
