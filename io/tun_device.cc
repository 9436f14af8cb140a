#include "io/tun_device.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"

namespace mptcp::io {
namespace {

std::string ErrnoText(int err) { return absl::StrFormat("%s (errno %d)", std::strerror(err), err); }

}  // namespace

absl::StatusOr<std::unique_ptr<TunDevice>> TunDevice::Open(std::string_view name) {
  return OpenAt("/dev/net/tun", name);
}

absl::StatusOr<std::unique_ptr<TunDevice>> TunDevice::OpenAt(const std::string& clone_path,
                                                             std::string_view name) {
  if (name.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(
        absl::StrFormat("TUN name '%s' is longer than %d characters", name, IFNAMSIZ - 1));
  }
  const int fd = ::open(clone_path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENODEV || err == ENXIO) {
      return absl::NotFoundError(absl::StrFormat(
          "cannot open %s: %s; the TUN driver is missing (load the 'tun' module, or give the "
          "container the device)",
          clone_path, ErrnoText(err)));
    }
    if (err == EACCES || err == EPERM) {
      return absl::PermissionDeniedError(absl::StrFormat(
          "cannot open %s: %s; run as root or with CAP_NET_ADMIN", clone_path, ErrnoText(err)));
    }
    return absl::UnavailableError(
        absl::StrFormat("cannot open %s: %s", clone_path, ErrnoText(err)));
  }
  struct ifreq ifr;
  std::memset(&ifr, 0, sizeof(ifr));
  // IFF_NO_PI: no 4-byte packet-information prefix, each read/write is one bare IP packet.
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
    const int err = errno;
    ::close(fd);
    if (err == EPERM || err == EACCES) {
      return absl::PermissionDeniedError(absl::StrFormat(
          "TUNSETIFF '%s': %s; creating or attaching a TUN device needs CAP_NET_ADMIN (or a "
          "persistent device owned by this user)",
          name, ErrnoText(err)));
    }
    if (err == EBUSY) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "TUNSETIFF '%s': %s; another process has the device open", name, ErrnoText(err)));
    }
    if (err == EINVAL) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "TUNSETIFF '%s': %s; the name belongs to an interface that is not a TUN device (or a "
          "TAP / multi-queue one)",
          name, ErrnoText(err)));
    }
    if (err == ENOTTY || err == EBADFD) {
      return absl::NotFoundError(absl::StrFormat("%s is not the TUN clone device: %s",
                                                 clone_path, ErrnoText(err)));
    }
    return absl::UnavailableError(absl::StrFormat("TUNSETIFF '%s': %s", name, ErrnoText(err)));
  }
  return std::unique_ptr<TunDevice>(new TunDevice(fd, std::string(ifr.ifr_name)));
}

TunDevice::~TunDevice() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<size_t> TunDevice::Read(std::span<uint8_t> buf) {
  for (int attempt = 0; attempt < 8; ++attempt) {  // bounded EINTR retries
    const ssize_t n = ::read(fd_, buf.data(), buf.size());
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) return size_t{0};
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return size_t{0};
    // EBADFD / EIO / ENODEV: the interface was deleted or detached.
    return absl::UnavailableError(
        absl::StrFormat("read from TUN %s: %s (device gone?)", name_, ErrnoText(err)));
  }
  return size_t{0};
}

absl::Status TunDevice::Write(std::span<const uint8_t> packet) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    const ssize_t n = ::write(fd_, packet.data(), packet.size());
    if (n >= 0) {
      if (static_cast<size_t>(n) != packet.size()) {
        return absl::InternalError(absl::StrFormat("short write to TUN %s: %d of %u bytes", name_,
                                                   n, packet.size()));
      }
      return absl::OkStatus();
    }
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == ENOMEM) {
      return absl::UnavailableError(absl::StrFormat("TUN %s busy: %s", name_, ErrnoText(err)));
    }
    if (err == EIO) {
      // The interface is administratively down: drop, as a down link would.
      return absl::UnavailableError(absl::StrFormat("TUN %s is down: %s", name_, ErrnoText(err)));
    }
    if (err == EINVAL) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "TUN %s rejected a %u-byte packet: %s", name_, packet.size(), ErrnoText(err)));
    }
    return absl::FailedPreconditionError(absl::StrFormat(
        "write to TUN %s: %s (device down or gone?)", name_, ErrnoText(err)));
  }
  return absl::UnavailableError(absl::StrFormat("TUN %s: interrupted", name_));
}

}  // namespace mptcp::io
