#include "io/net_config.h"

#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"

namespace mptcp::io {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

absl::Status ErrnoStatus(int err, const std::string& what) {
  const std::string msg = absl::StrFormat("%s: %s (errno %d)", what, std::strerror(err), err);
  if (err == EPERM || err == EACCES) {
    return absl::PermissionDeniedError(msg + "; needs root or CAP_NET_ADMIN");
  }
  if (err == ENODEV || err == ENXIO) return absl::NotFoundError(msg);
  return absl::UnavailableError(msg);
}

bool FillName(struct ifreq& ifr, const std::string& name) {
  std::memset(&ifr, 0, sizeof(ifr));
  if (name.empty() || name.size() >= IFNAMSIZ) return false;
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  return true;
}

}  // namespace

absl::Status SetLinkUp(const std::string& name, std::optional<int> mtu) {
  Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0) return ErrnoStatus(errno, "socket");
  struct ifreq ifr;
  if (!FillName(ifr, name)) return absl::InvalidArgumentError("bad interface name: " + name);
  if (mtu) {
    ifr.ifr_mtu = *mtu;
    if (::ioctl(s.get(), SIOCSIFMTU, &ifr) < 0) {
      return ErrnoStatus(errno, absl::StrFormat("set MTU %d on %s", *mtu, name));
    }
  }
  if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) < 0) return ErrnoStatus(errno, "get flags of " + name);
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) < 0) return ErrnoStatus(errno, "bring up " + name);
  return absl::OkStatus();
}

absl::Status SetTxQueueLength(const std::string& name, int packets) {
  Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0) return ErrnoStatus(errno, "socket");
  struct ifreq ifr;
  if (!FillName(ifr, name)) return absl::InvalidArgumentError("bad interface name: " + name);
  if (packets <= 0) return absl::InvalidArgumentError("queue length must be positive");
  ifr.ifr_qlen = packets;
  if (::ioctl(s.get(), SIOCSIFTXQLEN, &ifr) < 0) {
    return ErrnoStatus(errno, absl::StrFormat("set txqueuelen %d on %s", packets, name));
  }
  return absl::OkStatus();
}

absl::Status AddRoute(const IpAddress& dst, int prefix_len, const std::string& name) {
  const std::string what = absl::StrFormat("route %s/%d dev %s", dst.ToString(), prefix_len, name);
  if (prefix_len < 0 || prefix_len > (dst.is_v4() ? 32 : 128)) {
    return absl::InvalidArgumentError("bad prefix length in " + what);
  }
  if (dst.is_v4()) {
    Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (s.get() < 0) return ErrnoStatus(errno, "socket");
    struct rtentry rt;
    std::memset(&rt, 0, sizeof(rt));
    auto* d = reinterpret_cast<struct sockaddr_in*>(&rt.rt_dst);
    auto* m = reinterpret_cast<struct sockaddr_in*>(&rt.rt_genmask);
    d->sin_family = AF_INET;
    m->sin_family = AF_INET;
    const uint32_t mask = prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - prefix_len);
    d->sin_addr.s_addr = htonl(dst.v4_value() & mask);
    m->sin_addr.s_addr = htonl(mask);
    rt.rt_flags = RTF_UP | (prefix_len == 32 ? RTF_HOST : 0);
    std::string dev = name;  // rt_dev is a non-const char*
    rt.rt_dev = dev.data();
    if (::ioctl(s.get(), SIOCADDRT, &rt) < 0 && errno != EEXIST) return ErrnoStatus(errno, what);
    return absl::OkStatus();
  }
  Fd s(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0) return ErrnoStatus(errno, "socket(AF_INET6)");
  const unsigned index = ::if_nametoindex(name.c_str());
  if (index == 0) return ErrnoStatus(errno, what);
  struct in6_rtmsg rt;
  std::memset(&rt, 0, sizeof(rt));
  std::memcpy(&rt.rtmsg_dst, dst.data(), 16);
  rt.rtmsg_dst_len = static_cast<uint16_t>(prefix_len);
  rt.rtmsg_metric = 1;
  rt.rtmsg_flags = RTF_UP | (prefix_len == 128 ? RTF_HOST : 0);
  rt.rtmsg_ifindex = static_cast<int>(index);
  if (::ioctl(s.get(), SIOCADDRT, &rt) < 0 && errno != EEXIST) return ErrnoStatus(errno, what);
  return absl::OkStatus();
}

absl::Status DisableOffloads(const std::string& name) {
  Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0) return ErrnoStatus(errno, "socket");
  // The legacy ethtool commands are still honoured and need no feature-string lookup.
  for (uint32_t cmd : {ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_STXCSUM}) {
    struct ethtool_value v;
    v.cmd = cmd;
    v.data = 0;
    struct ifreq ifr;
    if (!FillName(ifr, name)) return absl::InvalidArgumentError("bad interface name: " + name);
    ifr.ifr_data = reinterpret_cast<char*>(&v);
    if (::ioctl(s.get(), SIOCETHTOOL, &ifr) < 0 && errno != EOPNOTSUPP) {
      return ErrnoStatus(errno, absl::StrFormat("ethtool 0x%x on %s", cmd, name));
    }
  }
  return absl::OkStatus();
}

}  // namespace mptcp::io
