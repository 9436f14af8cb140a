#include "io/raw_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace mptcp::io {
namespace {

std::string ErrnoText(int err) { return absl::StrFormat("%s (errno %d)", std::strerror(err), err); }

// Bounds the work of one Read() when the host carries much TCP that is not ours.
constexpr int kMaxSkipsPerRead = 256;

}  // namespace

absl::StatusOr<std::unique_ptr<RawSocket>> RawSocket::Open(const RawSocketOptions& options) {
  for (const IpAddress& a : options.local_addresses) {
    if (!a.is_v4()) {
      return absl::UnimplementedError("RawSocket is IPv4 only (use a TUN device for IPv6): " +
                                      a.ToString());
    }
  }
  if (options.local_addresses.empty()) {
    return absl::InvalidArgumentError("RawSocket needs at least one local address");
  }
  const int fd = ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    const int err = errno;
    if (err == EPERM || err == EACCES) {
      return absl::PermissionDeniedError("raw socket: " + ErrnoText(err) +
                                         "; needs root or CAP_NET_RAW");
    }
    return absl::UnavailableError("raw socket: " + ErrnoText(err));
  }
  auto fail = [fd](const std::string& what, int err) {
    ::close(fd);
    const std::string msg = what + ": " + ErrnoText(err);
    if (err == EPERM || err == EACCES) {
      return absl::PermissionDeniedError(msg + "; needs CAP_NET_ADMIN");
    }
    return absl::UnavailableError(msg);
  };
  const int one = 1;
  // We write the IP header ourselves (the core emits whole IP packets).
  if (::setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0) {
    return fail("IP_HDRINCL", errno);
  }
  const uint32_t mark = options.mark;
  if (mark != 0 && ::setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
    return fail("SO_MARK", errno);
  }
  const int rcvbuf = options.receive_buffer;
  if (rcvbuf > 0 && ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));  // best effort
  }
  return std::unique_ptr<RawSocket>(new RawSocket(fd, options));
}

RawSocket::RawSocket(int fd, const RawSocketOptions& options) : fd_(fd) {
  std::vector<std::string> names;
  for (const IpAddress& a : options.local_addresses) {
    addresses_.insert(a);
    names.push_back(a.ToString());
  }
  for (uint16_t p : options.local_ports) ports_.insert(p);
  name_ = "raw:" + absl::StrJoin(names, ",");
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawSocket::ForUs(std::span<const uint8_t> p) const {
  if (p.size() < 20 || (p[0] >> 4) != 4) return false;
  const size_t ihl = size_t{p[0] & 0x0fu} * 4;
  if (ihl < 20 || p.size() < ihl + 4 || p[9] != IPPROTO_TCP) return false;
  if (!addresses_.contains(IpAddress::V4FromBytes(p.data() + 16))) return false;
  if (ports_.empty()) return true;
  const uint16_t dport = static_cast<uint16_t>(p[ihl + 2] << 8 | p[ihl + 3]);
  return ports_.contains(dport);
}

absl::StatusOr<size_t> RawSocket::Read(std::span<uint8_t> buf) {
  for (int i = 0; i < kMaxSkipsPerRead; ++i) {
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) return size_t{0};
      return absl::UnavailableError(absl::StrFormat("%s: recv: %s", name_, ErrnoText(err)));
    }
    const auto pkt = buf.first(static_cast<size_t>(n));
    if (ForUs(pkt)) return static_cast<size_t>(n);
    ++skipped_;
  }
  return size_t{0};  // more may be waiting: the socket stays readable
}

absl::Status RawSocket::Write(std::span<const uint8_t> packet) {
  if (packet.size() < 20 || (packet[0] >> 4) != 4) {
    return absl::InvalidArgumentError(name_ + ": not an IPv4 packet");
  }
  struct sockaddr_in dst;
  std::memset(&dst, 0, sizeof(dst));
  dst.sin_family = AF_INET;
  std::memcpy(&dst.sin_addr, packet.data() + 16, 4);
  for (int attempt = 0; attempt < 8; ++attempt) {
    const ssize_t n = ::sendto(fd_, packet.data(), packet.size(), 0,
                               reinterpret_cast<const struct sockaddr*>(&dst), sizeof(dst));
    if (n >= 0) return absl::OkStatus();
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == ENETUNREACH ||
        err == EHOSTUNREACH || err == ENETDOWN || err == EPERM) {
      // EPERM: a firewall rule dropped it. All of these are "the network lost the packet".
      return absl::UnavailableError(absl::StrFormat("%s: sendto: %s", name_, ErrnoText(err)));
    }
    return absl::InvalidArgumentError(absl::StrFormat("%s: sendto: %s", name_, ErrnoText(err)));
  }
  return absl::UnavailableError(name_ + ": interrupted");
}

}  // namespace mptcp::io
