#include "io/tun_device.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "mptcp/wire/bytes.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/ip.h"

namespace mptcp::io {
namespace {

// The legacy virtio-net header (linux/virtio_net.h's struct virtio_net_hdr, a stable ABI; that
// header does not compile as C++), in host byte order as TUN uses it on a little-endian host.
struct VirtioNetHdr {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;      // bytes of IP + TCP header
  uint16_t gso_size;     // payload bytes per segment
  uint16_t csum_start;   // where the checksummed part starts
  uint16_t csum_offset;  // where, from csum_start, the checksum goes
};
static_assert(sizeof(VirtioNetHdr) == 10);
constexpr uint8_t kVnetNeedsCsum = 1;
constexpr uint8_t kVnetGsoNone = 0;
constexpr uint8_t kVnetGsoTcpV4 = 1;
constexpr uint8_t kVnetGsoTcpV6 = 4;

std::string ErrnoText(int err) { return absl::StrFormat("%s (errno %d)", std::strerror(err), err); }

}  // namespace

absl::StatusOr<std::unique_ptr<TunDevice>> TunDevice::Open(std::string_view name,
                                                           const TunOptions& options) {
  return OpenAt("/dev/net/tun", name, options);
}

absl::StatusOr<std::unique_ptr<TunDevice>> TunDevice::OpenAt(const std::string& clone_path,
                                                             std::string_view name,
                                                             const TunOptions& options) {
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
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (options.offload ? IFF_VNET_HDR : 0);
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
  if (options.offload) {
    // The legacy 10-byte header (no mergeable buffers), and what we can take from the kernel:
    // partial checksums and unsegmented TCP over IPv4 and IPv6.
    int hdr_size = sizeof(VirtioNetHdr);
    const unsigned long offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
    if (::ioctl(fd, TUNSETVNETHDRSZ, &hdr_size) < 0 || ::ioctl(fd, TUNSETOFFLOAD, offloads) < 0) {
      const int err = errno;
      ::close(fd);
      return absl::FailedPreconditionError(absl::StrFormat(
          "TUN '%s': this kernel refuses virtio-net headers or TCP offload: %s; run without "
          "offload",
          name, ErrnoText(err)));
    }
  }
  return std::unique_ptr<TunDevice>(
      new TunDevice(fd, std::string(ifr.ifr_name), options.offload));
}

TunDevice::~TunDevice() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<size_t> TunDevice::Read(std::span<uint8_t> buf) {
  VirtioNetHdr hdr{};
  struct iovec iov[2] = {{&hdr, sizeof(hdr)}, {buf.data(), buf.size()}};
  for (int attempt = 0; attempt < 8; ++attempt) {  // bounded EINTR retries
    const ssize_t n = offload_ ? ::readv(fd_, iov, 2) : ::read(fd_, buf.data(), buf.size());
    if (n > 0 && !offload_) return static_cast<size_t>(n);
    if (n > 0) {
      if (static_cast<size_t>(n) <= sizeof(hdr)) return size_t{0};  // no packet: skip it
      const size_t len = static_cast<size_t>(n) - sizeof(hdr);
      if (hdr.gso_type != kVnetGsoNone) ++gso_read_;
      if ((hdr.flags & kVnetNeedsCsum) != 0) {
        // CHECKSUM_PARTIAL: the field at csum_start + csum_offset holds the pseudo-header's
        // sum; the sum over [csum_start, end) completes it. Out-of-range offsets are left for
        // the stack's own checksum test to reject.
        const size_t start = hdr.csum_start, at = start + hdr.csum_offset;
        if (start < len && at + 2 <= len) {
          wire::StoreBe16(buf.data() + at,
                          wire::InternetChecksum::Compute(
                              std::span<const uint8_t>(buf.data() + start, len - start)));
        }
      }
      return len;
    }
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
  const VirtioNetHdr none{};  // a whole, fully checksummed packet
  return WriteWithHeader(packet, &none);
}

absl::Status TunDevice::WriteSegments(std::span<uint8_t> packet, uint16_t segment_size) {
  if (!offload_) return PacketDevice::WriteSegments(packet, segment_size);
  auto ip = wire::ParseIpPacket(packet);
  if (!ip.ok() || ip->ip.protocol != wire::kIpProtoTcp || ip->payload.size() < 20) {
    return absl::InvalidArgumentError("TUN " + name_ + ": a super-segment must be TCP over IP");
  }
  const size_t ip_len = static_cast<size_t>(ip->payload.data() - packet.data());
  const size_t tcp_hdr = static_cast<size_t>(ip->payload[12] >> 4) * 4;
  const size_t tcp_len = ip->payload.size();
  if (tcp_hdr < 20 || tcp_hdr > tcp_len) {
    return absl::InvalidArgumentError("TUN " + name_ + ": bad TCP header in a super-segment");
  }
  // CHECKSUM_PARTIAL, as the kernel's own TSO packets: the field holds the pseudo-header's sum
  // (for the whole length; the kernel adjusts it per segment), the rest is summed when cut.
  uint8_t* check = packet.data() + ip_len + wire::kTcpChecksumOffset;
  wire::StoreBe16(check, wire::TcpPseudoHeaderSum(ip->ip.src, ip->ip.dst, tcp_len).Sum());
  VirtioNetHdr hdr{};
  hdr.flags = kVnetNeedsCsum;
  hdr.gso_type = ip->ip.src.is_v4() ? kVnetGsoTcpV4 : kVnetGsoTcpV6;
  hdr.gso_size = segment_size;
  hdr.hdr_len = static_cast<uint16_t>(ip_len + tcp_hdr);
  hdr.csum_start = static_cast<uint16_t>(ip_len);
  hdr.csum_offset = static_cast<uint16_t>(wire::kTcpChecksumOffset);
  absl::Status st = WriteWithHeader(packet.first(ip_len + tcp_len), &hdr);
  if (st.ok()) ++gso_written_;
  return st;
}

absl::Status TunDevice::WriteWithHeader(std::span<const uint8_t> packet, const void* vnet_hdr) {
  const size_t hdr_len = offload_ ? sizeof(VirtioNetHdr) : 0;
  struct iovec iov[2] = {{const_cast<void*>(vnet_hdr), hdr_len},
                         {const_cast<uint8_t*>(packet.data()), packet.size()}};
  for (int attempt = 0; attempt < 8; ++attempt) {
    const ssize_t w = offload_ ? ::writev(fd_, iov, 2) : ::write(fd_, packet.data(), packet.size());
    if (w >= 0) {
      if (static_cast<size_t>(w) != hdr_len + packet.size()) {
        return absl::InternalError(absl::StrFormat("short write to TUN %s: %d of %u bytes", name_,
                                                   w, hdr_len + packet.size()));
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
