#include "io/tun_device.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "io/net_config.h"
#include "mptcp/address.h"
#include "mptcp/wire/checksum.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/tcp.h"
#include "testing/prerequisites.h"

namespace mptcp::io {
namespace {

TEST(TunDeviceTest, MissingCloneDeviceIsNotFound) {
  auto t = TunDevice::OpenAt("/nonexistent/net/tun", "x");
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(absl::IsNotFound(t.status())) << t.status();
  EXPECT_NE(t.status().message().find("TUN driver"), absl::string_view::npos);
}

TEST(TunDeviceTest, NotATunCloneDeviceIsNotFound) {
  auto t = TunDevice::OpenAt("/dev/null", "x");
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(absl::IsNotFound(t.status())) << t.status();
}

TEST(TunDeviceTest, LongNameIsRejected) {
  auto t = TunDevice::Open("a-name-longer-than-15");
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(t.status())) << t.status();
}

TEST(TunDeviceTest, BadConfigArgumentsAreRejected) {
  EXPECT_TRUE(absl::IsInvalidArgument(AddRoute(IpAddress::V4(192, 0, 2, 1), 33, "lo")));
  EXPECT_TRUE(absl::IsInvalidArgument(SetLinkUp("")));
}

// The rest needs root and /dev/net/tun, and runs in a namespace of its own.
std::string Prerequisite() {
  if (::geteuid() != 0) return "needs root";
  const int fd = ::open("/dev/net/tun", O_RDWR);
  if (fd < 0) return "no /dev/net/tun";
  ::close(fd);
  return "";
}

class Namespace {
 public:
  Namespace() : name_(absl::StrFormat("mpt%d-tuntest", ::getpid())) {
    ok_ = std::system(("PATH=/usr/sbin:/sbin:/usr/bin:/bin ip netns add " + name_ +
                       " >/dev/null 2>&1").c_str()) == 0;
  }
  ~Namespace() {
    if (ok_) (void)std::system(("PATH=/usr/sbin:/sbin:/usr/bin:/bin ip netns del " + name_).c_str());
  }
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  // Runs `fn` on a thread inside the namespace.
  template <typename Fn>
  void Run(Fn fn) {
    std::thread t([&] {
      const int fd = ::open(("/var/run/netns/" + name_).c_str(), O_RDONLY);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(::setns(fd, CLONE_NEWNET), 0) << std::strerror(errno);
      ::close(fd);
      fn();
    });
    t.join();
  }

 private:
  std::string name_;
  bool ok_ = false;
};

std::vector<uint8_t> UdpPacket(const IpAddress& src, const IpAddress& dst) {
  std::vector<uint8_t> p(28, 0);
  p[0] = 0x45;
  p[3] = 28;
  p[8] = 64;  // TTL
  p[9] = 17;
  std::memcpy(&p[12], src.data(), 4);
  std::memcpy(&p[16], dst.data(), 4);
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  p[10] = static_cast<uint8_t>(~sum >> 8);
  p[11] = static_cast<uint8_t>(~sum);
  p[21] = 9;
  p[23] = 9;
  p[25] = 8;  // UDP length, checksum 0
  return p;
}

// Lets the kernel forward what a test writes: on in the test's own namespace only.
void EnableIpv4Forwarding() {
  const int fd = ::open("/proc/sys/net/ipv4/ip_forward", O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "1", 1), 1);
  ::close(fd);
}

// Reads until an IPv4 packet of `protocol` comes (skipping what the kernel sends on its own,
// such as IPv6 router solicitations on link up), for at most about a second: its length, or
// 0 if none came.
size_t ReadIpv4Protocol(TunDevice& tun, std::vector<uint8_t>& buf, uint8_t protocol) {
  for (int i = 0; i < 1000; ++i) {
    auto r = tun.Read(buf);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return 0;
    if (*r > 0 && buf[0] >> 4 == 4 && buf[9] == protocol) return *r;
    if (*r == 0) ::usleep(1000);
  }
  return 0;
}

TEST(TunDeviceTest, PacketsRoundTripAndDeviceLossIsAnError) {
  const std::string why = Prerequisite();
  if (!why.empty()) MPTCP_SKIP_MISSING_PREREQUISITE(why);
  Namespace ns;
  if (!ns.ok()) MPTCP_SKIP_MISSING_PREREQUISITE("cannot create a network namespace");
  ns.Run([&] {
    auto tun = TunDevice::Open("mtest0");
    ASSERT_TRUE(tun.ok()) << tun.status();
    EXPECT_EQ((*tun)->name(), "mtest0");
    // A second open of a device in use is refused with a clear error.
    auto again = TunDevice::Open("mtest0");
    EXPECT_TRUE(absl::IsFailedPrecondition(again.status())) << again.status();
    // Nothing to read yet; writing to a down device is a drop, not an error that ends a loop.
    std::vector<uint8_t> buf(2048);
    auto n = (*tun)->Read(buf);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 0u);
    const IpAddress a = IpAddress::V4(192, 0, 2, 201), b = IpAddress::V4(192, 0, 2, 200);
    EXPECT_TRUE(absl::IsUnavailable((*tun)->Write(UdpPacket(a, b))));
    ASSERT_TRUE(SetLinkUp("mtest0", 1400).ok());
    ASSERT_TRUE(AddRoute(b, 32, "mtest0").ok());
    ASSERT_TRUE(AddRoute(b, 32, "mtest0").ok());  // idempotent
    EnableIpv4Forwarding();
    // The kernel forwards the packet straight back into the device, one hop older.
    ASSERT_TRUE((*tun)->Write(UdpPacket(a, b)).ok());
    ASSERT_EQ(ReadIpv4Protocol(**tun, buf, 17), 28u);
    EXPECT_EQ(buf[8], 63);
    EXPECT_EQ(IpAddress::V4FromBytes(&buf[16]), b);
    // Garbage is refused by the kernel as invalid, not as a device failure.
    const std::vector<uint8_t> junk = {0x45, 0, 0};
    const absl::Status junk_st = (*tun)->Write(junk);
    EXPECT_TRUE(junk_st.ok() || absl::IsInvalidArgument(junk_st)) << junk_st;
    // The device deleted under us: reads report it.
    ASSERT_EQ(std::system(("PATH=/usr/sbin:/sbin:/usr/bin:/bin ip -n " + ns.name() +
                           " link del mtest0").c_str()),
              0);
    auto gone = (*tun)->Read(buf);
    EXPECT_TRUE(absl::IsUnavailable(gone.status())) << gone.status();
  });
}

// With offload (IFF_VNET_HDR, TUNSETOFFLOAD): a TCP super-segment written with WriteSegments
// is forwarded by the kernel straight back into the device, still unsegmented (the device
// takes TSO), with a partial checksum that Read completes; plain packets pass as before.
TEST(TunDeviceTest, OffloadPassesSuperSegmentsBothWays) {
  const std::string why = Prerequisite();
  if (!why.empty()) MPTCP_SKIP_MISSING_PREREQUISITE(why);
  Namespace ns;
  if (!ns.ok()) MPTCP_SKIP_MISSING_PREREQUISITE("cannot create a network namespace");
  ns.Run([&] {
    auto tun = TunDevice::Open("mgso0", TunOptions{.offload = true});
    ASSERT_TRUE(tun.ok()) << tun.status();
    EXPECT_GT((*tun)->gso_max_segments(), 40u);
    ASSERT_TRUE(SetLinkUp("mgso0", 1500).ok());
    const IpAddress a = IpAddress::V4(192, 0, 2, 201), b = IpAddress::V4(192, 0, 2, 200);
    ASSERT_TRUE(AddRoute(b, 32, "mgso0").ok());
    EnableIpv4Forwarding();
    std::vector<uint8_t> payload(3 * 1000 + 500);
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 13);
    wire::TcpRepr tcp;
    tcp.src_port = 40000;
    tcp.dst_port = 9;
    tcp.seq = SeqNum32(1000);
    tcp.ack = SeqNum32(1);
    tcp.flags = wire::TcpFlag::kAck | wire::TcpFlag::kPsh;
    tcp.window = 1000;
    tcp.options.timestamps = wire::TcpTimestamps{1, 2};
    tcp.payload = payload;
    wire::IpRepr ip;
    ip.src = a;
    ip.dst = b;
    ip.payload_len = static_cast<uint16_t>(tcp.EncodedLength());
    std::vector<uint8_t> pkt(ip.PacketLength());
    ASSERT_TRUE(ip.Emit(pkt).ok());
    ASSERT_TRUE(tcp.Emit(std::span<uint8_t>(pkt).subspan(20), a, b).ok());
    ASSERT_TRUE((*tun)->WriteSegments(pkt, 1000).ok());
    EXPECT_EQ((*tun)->gso_packets_written(), 1u);

    std::vector<uint8_t> buf(65536);
    const size_t got = ReadIpv4Protocol(**tun, buf, 6);
    ASSERT_EQ(got, pkt.size()) << "the kernel should hand the super-segment back whole";
    EXPECT_GE((*tun)->gso_packets_read(), 1u);
    auto back = wire::ParseIpPacket(std::span<const uint8_t>(buf.data(), got));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->ip.ttl, 63);
    EXPECT_TRUE(wire::VerifyTcpChecksum(back->ip.src, back->ip.dst, back->payload));
    auto seg = wire::TcpRepr::Parse(back->payload);
    ASSERT_TRUE(seg.ok());
    EXPECT_EQ(seg->seq, SeqNum32(1000));
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), seg->payload.begin(),
                           seg->payload.end()));

    // A plain packet still goes through (with an empty virtio-net header).
    ASSERT_TRUE((*tun)->Write(UdpPacket(a, b)).ok());
    EXPECT_EQ(ReadIpv4Protocol(**tun, buf, 17), 28u);
  });
}

}  // namespace
}  // namespace mptcp::io
