#include "io/pcap_writer.h"

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "mptcp/time.h"
#include "testing/prerequisites.h"

namespace mptcp::io {
namespace {

std::string Hex(std::string_view bytes) {
  std::string s;
  for (unsigned char c : bytes) absl::StrAppendFormat(&s, "%02x", c);
  return s;
}

std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + 7 * i);
  return v;
}

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// An independent reader for the round trip: parses a little-endian microsecond pcap and
// returns nullopt on any inconsistency.
struct Record {
  uint32_t sec, usec, orig_len;
  std::string data;
};
struct Capture {
  uint32_t snaplen, linktype;
  std::vector<Record> records;
};
uint32_t Le32(std::string_view b, size_t at) {
  return uint32_t{static_cast<uint8_t>(b[at])} | uint32_t{static_cast<uint8_t>(b[at + 1])} << 8 |
         uint32_t{static_cast<uint8_t>(b[at + 2])} << 16 |
         uint32_t{static_cast<uint8_t>(b[at + 3])} << 24;
}
std::optional<Capture> ReadPcap(std::string_view b) {
  if (b.size() < 24 || Le32(b, 0) != 0xa1b2c3d4 || Le32(b, 4) != (4u << 16 | 2u)) {
    return std::nullopt;
  }
  Capture c{Le32(b, 16), Le32(b, 20), {}};
  size_t at = 24;
  while (at < b.size()) {
    if (b.size() - at < 16) return std::nullopt;
    Record r{Le32(b, at), Le32(b, at + 4), Le32(b, at + 12), {}};
    const uint32_t incl = Le32(b, at + 8);
    at += 16;
    if (incl > c.snaplen || incl > r.orig_len || r.usec >= 1'000'000 || b.size() - at < incl) {
      return std::nullopt;
    }
    r.data = std::string(b.substr(at, incl));
    at += incl;
    c.records.push_back(std::move(r));
  }
  return c;
}

TEST(PcapWriterTest, FileHeaderBytesExact) {
  PcapWriter w;
  // magic a1b2c3d4, v2.4, thiszone 0, sigfigs 0, snaplen 65535, LINKTYPE_RAW (101), all LE.
  EXPECT_EQ(Hex(w.contents()),
            "d4c3b2a1"
            "02000400"
            "00000000"
            "00000000"
            "ffff0000"
            "65000000");
  EXPECT_EQ(w.contents().size(), kPcapFileHeaderSize);
  EXPECT_TRUE(w.status().ok());
  EXPECT_EQ(w.packets_written(), 0u);
  EXPECT_FALSE(w.is_file());
}

TEST(PcapWriterTest, RecordLayoutExact) {
  PcapWriter w;
  const std::vector<uint8_t> pkt = {0x45, 0x00, 0x00, 0x14, 0xde, 0xad};
  // 0x12345678 s + 654321 us + 999 ns: the nanoseconds are truncated, not rounded.
  w.WritePacket(Timestamp::FromNanos(0x12345678LL * 1'000'000'000 + 654'321'999), pkt);
  ASSERT_TRUE(w.status().ok()) << w.status();
  EXPECT_EQ(Hex(w.contents().substr(kPcapFileHeaderSize)),
            "78563412"   // ts_sec
            "f1fb0900"   // ts_usec = 654321
            "06000000"   // incl_len
            "06000000"   // orig_len
            "45000014dead");
  EXPECT_EQ(w.packets_written(), 1u);
}

TEST(PcapWriterTest, RoundTripThroughIndependentReader) {
  PcapWriter w;
  const std::vector<std::vector<uint8_t>> packets = {Pattern(20, 0x45), Pattern(40, 0x60),
                                                     Pattern(1500, 3), {}, Pattern(1, 9)};
  const int64_t ts_ns[] = {0, 1'500, 999'999'999, 1'000'000'000, 4'294'967'295'999'999'000};
  for (size_t i = 0; i < packets.size(); ++i) {
    w.WritePacket(Timestamp::FromNanos(ts_ns[i]), packets[i]);
  }
  ASSERT_TRUE(w.status().ok()) << w.status();
  EXPECT_EQ(w.packets_written(), packets.size());

  const std::optional<Capture> c = ReadPcap(w.contents());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->snaplen, 65535u);
  EXPECT_EQ(c->linktype, 101u);
  ASSERT_EQ(c->records.size(), packets.size());
  for (size_t i = 0; i < packets.size(); ++i) {
    SCOPED_TRACE(i);
    const Record& r = c->records[i];
    EXPECT_EQ(int64_t{r.sec} * 1'000'000 + r.usec, ts_ns[i] / 1000);
    EXPECT_EQ(r.orig_len, packets[i].size());
    EXPECT_EQ(r.data, std::string(packets[i].begin(), packets[i].end()));
  }
}

TEST(PcapWriterTest, LongPacketIsTruncatedToSnaplenWithOriginalLength) {
  PcapWriter w;
  const std::vector<uint8_t> big = Pattern(70'000, 1);
  w.WritePacket(Timestamp::FromNanos(42'000), big);
  ASSERT_TRUE(w.status().ok());
  const std::optional<Capture> c = ReadPcap(w.contents());
  ASSERT_TRUE(c.has_value());
  ASSERT_EQ(c->records.size(), 1u);
  EXPECT_EQ(c->records[0].orig_len, 70'000u);
  EXPECT_EQ(c->records[0].data, std::string(big.begin(), big.begin() + 65535));
}

TEST(PcapWriterTest, SameInputGivesBitIdenticalCaptures) {
  PcapWriter a, b;
  for (int i = 0; i < 10; ++i) {
    const std::vector<uint8_t> p = Pattern(60 + i, static_cast<uint8_t>(i));
    a.WritePacket(Timestamp::FromNanos(i * 1'234'567), p);
    b.WritePacket(Timestamp::FromNanos(i * 1'234'567), p);
  }
  EXPECT_EQ(a.contents(), b.contents());
  b.WritePacket(Timestamp::FromNanos(1), Pattern(1, 0));
  EXPECT_NE(a.contents(), b.contents());
}

TEST(PcapWriterTest, TimestampOutsidePcapRangeIsAnErrorAndSticky) {
  {
    PcapWriter w;
    w.WritePacket(Timestamp::FromNanos(-1), Pattern(20, 0));
    EXPECT_EQ(w.status().code(), absl::StatusCode::kOutOfRange);
    EXPECT_EQ(w.contents().size(), kPcapFileHeaderSize);  // nothing appended
    w.WritePacket(Timestamp::FromNanos(5), Pattern(20, 0));  // ignored after the error
    EXPECT_EQ(w.contents().size(), kPcapFileHeaderSize);
    EXPECT_EQ(w.packets_written(), 0u);
    EXPECT_EQ(w.Close().code(), absl::StatusCode::kOutOfRange);
  }
  {
    PcapWriter w;
    w.WritePacket(Timestamp::FromNanos(4'294'967'296LL * 1'000'000'000), Pattern(20, 0));
    EXPECT_EQ(w.status().code(), absl::StatusCode::kOutOfRange);
  }
  {
    PcapWriter w;
    w.WritePacket(Timestamp::Never(), Pattern(20, 0));
    EXPECT_EQ(w.status().code(), absl::StatusCode::kOutOfRange);
  }
}

TEST(PcapWriterTest, FileModeWritesTheSameBytesAsMemoryMode) {
  const std::string path = TempPath("pcap_writer_test_file_mode.pcap");
  PcapWriter file, mem;
  ASSERT_TRUE(file.Open(path).ok());
  EXPECT_TRUE(file.is_file());
  for (int i = 0; i < 5; ++i) {
    const std::vector<uint8_t> p = Pattern(100 * i + 20, static_cast<uint8_t>(i));
    file.WritePacket(Timestamp::FromNanos(i * 1'000'001'000LL), p);
    mem.WritePacket(Timestamp::FromNanos(i * 1'000'001'000LL), p);
  }
  EXPECT_TRUE(file.contents().empty());
  EXPECT_EQ(file.packets_written(), 5u);
  ASSERT_TRUE(file.Flush().ok());
  ASSERT_TRUE(file.Close().ok());
  EXPECT_TRUE(file.Close().ok());  // idempotent
  EXPECT_EQ(ReadFile(path), mem.contents());
}

TEST(PcapWriterTest, DestructorClosesTheFile) {
  const std::string path = TempPath("pcap_writer_test_dtor.pcap");
  {
    PcapWriter w;
    ASSERT_TRUE(w.Open(path).ok());
    w.WritePacket(Timestamp::Zero(), Pattern(20, 1));
  }
  const std::optional<Capture> c = ReadPcap(ReadFile(path));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->records.size(), 1u);
}

TEST(PcapWriterTest, MovedWriterKeepsWriting) {
  const std::string path = TempPath("pcap_writer_test_move.pcap");
  PcapWriter a;
  ASSERT_TRUE(a.Open(path).ok());
  a.WritePacket(Timestamp::Zero(), Pattern(20, 1));
  PcapWriter b = std::move(a);
  b.WritePacket(Timestamp::Zero(), Pattern(20, 2));
  ASSERT_TRUE(b.Close().ok());
  const std::optional<Capture> c = ReadPcap(ReadFile(path));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->records.size(), 2u);
}

TEST(PcapWriterTest, OpenFailureIsAStatusAndLeavesMemoryModeUsable) {
  PcapWriter w;
  const absl::Status s = w.Open(TempPath("no/such/dir/x.pcap"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.message().find("no/such/dir"), std::string::npos) << s;
  EXPECT_FALSE(w.is_file());
  w.WritePacket(Timestamp::Zero(), Pattern(20, 1));
  EXPECT_TRUE(w.status().ok());
  EXPECT_EQ(w.contents().size(), kPcapFileHeaderSize + kPcapRecordHeaderSize + 20);
}

TEST(PcapWriterTest, OpenIsOnlyAllowedOnAFreshWriter) {
  {
    PcapWriter w;
    w.WritePacket(Timestamp::Zero(), Pattern(20, 1));
    EXPECT_EQ(w.Open(TempPath("late.pcap")).code(), absl::StatusCode::kFailedPrecondition);
  }
  {
    PcapWriter w;
    ASSERT_TRUE(w.Open(TempPath("twice.pcap")).ok());
    EXPECT_EQ(w.Open(TempPath("twice2.pcap")).code(), absl::StatusCode::kFailedPrecondition);
  }
  {
    PcapWriter w;
    ASSERT_TRUE(w.Close().ok());
    EXPECT_EQ(w.Open(TempPath("closed.pcap")).code(), absl::StatusCode::kFailedPrecondition);
  }
}

TEST(PcapWriterTest, WriteAfterCloseIsAnError) {
  PcapWriter w;
  w.WritePacket(Timestamp::Zero(), Pattern(20, 1));
  ASSERT_TRUE(w.Close().ok());
  const std::string before = w.contents();
  w.WritePacket(Timestamp::Zero(), Pattern(20, 1));
  EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(w.contents(), before);  // memory mode keeps the capture after Close()
  EXPECT_EQ(w.packets_written(), 1u);
}

TEST(PcapWriterTest, DiskFullIsReportedNotIgnored) {
  std::ifstream probe("/dev/full");
  if (!probe.good()) MPTCP_SKIP_MISSING_PREREQUISITE("/dev/full is not available here");
  PcapWriter w;
  ASSERT_TRUE(w.Open("/dev/full").ok());  // the header is buffered by stdio
  // More than any stdio buffer, so fwrite() itself fails; else Flush()/Close() must.
  const std::vector<uint8_t> p = Pattern(60'000, 1);
  for (int i = 0; i < 4; ++i) w.WritePacket(Timestamp::Zero(), p);
  const absl::Status flushed = w.Flush();
  EXPECT_FALSE(flushed.ok());
  EXPECT_EQ(w.Close().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace mptcp::io
