// The capture reader on files built byte by byte: both pcap byte orders and timestamp
// resolutions, pcapng with several interfaces, sections and unknown blocks, and every kind of
// damage reported as a typed error without losing the frames before it.
#include "tools/trace/pcap_reader.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tools/trace/capture_builder.h"

namespace mptcp::trace {
namespace {

using testing::Bytes;

std::vector<CaptureFrame> ReadAll(const Bytes& file, absl::Status* end,
                                  std::vector<Bytes>* data = nullptr) {
  std::vector<CaptureFrame> out;
  auto r = CaptureReader::FromBytes(file);
  if (!r.ok()) {
    *end = r.status();
    return out;
  }
  for (int i = 0; i < 1000; ++i) {
    auto f = (*r)->Next();
    if (!f.ok()) {
      *end = f.status();
      return out;
    }
    if (!f->has_value()) break;
    out.push_back(**f);
    if (data != nullptr) data->emplace_back((*f)->data.begin(), (*f)->data.end());
  }
  *end = absl::OkStatus();
  return out;
}

Bytes Frame(size_t n, uint8_t fill) { return Bytes(n, fill); }

TEST(PcapReaderTest, ClassicPcapBothByteOrdersAndResolutions) {
  for (bool big : {false, true}) {
    for (bool nanos : {false, true}) {
      testing::PcapFile p(LinkType::kRaw, big, nanos, /*snaplen=*/100);
      p.Add(1'500'000'000'123'456'789, Frame(60, 1));
      p.Add(1'500'000'001'000'001'000, Frame(150, 2));  // cut to the snaplen
      absl::Status end;
      std::vector<Bytes> data;
      const auto frames = ReadAll(p.bytes(), &end, &data);
      ASSERT_TRUE(end.ok()) << end;
      ASSERT_EQ(frames.size(), 2u) << big << nanos;
      EXPECT_EQ(frames[0].number, 1u);
      EXPECT_EQ(frames[0].link_type, LinkType::kRaw);
      EXPECT_EQ(frames[0].time_ns, nanos ? 1'500'000'000'123'456'789 : 1'500'000'000'123'456'000);
      EXPECT_EQ(frames[1].time_ns, 1'500'000'001'000'001'000);
      EXPECT_EQ(data[1].size(), 100u);
      EXPECT_EQ(frames[1].original_length, 150u);
      EXPECT_EQ(data[0], Frame(60, 1));
    }
  }
}

TEST(PcapReaderTest, PcapngInterfacesSectionsAndUnknownBlocks) {
  for (bool big : {false, true}) {
    testing::PcapngFile p(big);
    const uint32_t eth = p.AddInterface(LinkType::kEthernet, 0, 6);
    const uint32_t raw = p.AddInterface(LinkType::kRaw, 0, 9);
    p.AddBlock(0x00000004, Bytes(12, 7));  // a name resolution block: skipped
    p.AddPacket(eth, 1'000'000, Frame(70, 1));            // 1 s in microseconds
    p.AddPacket(raw, 2'000'000'001, Frame(41, 2), 40);     // 2 s in nanoseconds, cut
    p.AddBlock(0x40000bad, Bytes(3, 0));                   // custom: skipped
    p.AddSimplePacket(Frame(33, 3));                       // interface 0, no timestamp
    p.AddSection();
    const uint32_t sll = p.AddInterface(LinkType::kLinuxSll2, 0, 0x80 | 10);  // 2^-10 s
    p.AddPacket(sll, 3 * 1024, Frame(20, 4));
    absl::Status end;
    std::vector<Bytes> data;
    auto r = CaptureReader::FromBytes(p.bytes());
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ((*r)->format(), CaptureFormat::kPcapng);
    const auto frames = ReadAll(p.bytes(), &end, &data);
    ASSERT_TRUE(end.ok()) << end;
    ASSERT_EQ(frames.size(), 4u);
    EXPECT_EQ(frames[0].link_type, LinkType::kEthernet);
    EXPECT_EQ(frames[0].time_ns, 1'000'000'000);
    EXPECT_EQ(frames[1].link_type, LinkType::kRaw);
    EXPECT_EQ(frames[1].interface_id, 1u);
    EXPECT_EQ(frames[1].time_ns, 2'000'000'001);
    EXPECT_EQ(data[1].size(), 40u);
    EXPECT_EQ(frames[1].original_length, 41u);
    EXPECT_EQ(frames[2].link_type, LinkType::kEthernet);
    EXPECT_EQ(data[2], Frame(33, 3));
    EXPECT_EQ(frames[3].link_type, LinkType::kLinuxSll2);
    EXPECT_EQ(frames[3].time_ns, 3'000'000'000);
    EXPECT_EQ(frames[3].number, 4u);
  }
}

TEST(PcapReaderTest, TruncatedLastRecordKeepsEarlierFrames) {
  testing::PcapFile p(LinkType::kRaw);
  p.Add(0, Frame(60, 1));
  p.Add(0, Frame(60, 2));
  for (size_t cut : {size_t{1}, size_t{10}, size_t{16}, size_t{50}}) {
    Bytes b = p.bytes();
    b.erase(b.end() - static_cast<std::ptrdiff_t>(cut), b.end());
    absl::Status end;
    const auto frames = ReadAll(b, &end);
    EXPECT_EQ(frames.size(), 1u) << cut;
    EXPECT_EQ(end.code(), absl::StatusCode::kDataLoss) << end;
    EXPECT_TRUE(absl::StrContains(end.message(), "cut short")) << end;
  }
  testing::PcapngFile g;
  g.AddInterface(LinkType::kRaw);
  g.AddPacket(0, 1, Frame(60, 1));
  g.AddPacket(0, 2, Frame(60, 1));
  Bytes b = g.bytes();
  b.erase(b.end() - 8, b.end());
  absl::Status end;
  EXPECT_EQ(ReadAll(b, &end).size(), 1u);
  EXPECT_EQ(end.code(), absl::StatusCode::kDataLoss) << end;
}

TEST(PcapReaderTest, NotACapture) {
  absl::Status end;
  ReadAll(Bytes{}, &end);
  EXPECT_EQ(end.code(), absl::StatusCode::kInvalidArgument);
  const std::string text = "hello, this is not a capture file at all";
  ReadAll(Bytes(text.begin(), text.end()), &end);
  EXPECT_EQ(end.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(end.message(), "not a pcap or pcapng file")) << end;
  // A pcap file header cut short.
  testing::PcapFile p(LinkType::kRaw);
  ReadAll(Bytes(p.bytes().begin(), p.bytes().begin() + 10), &end);
  EXPECT_EQ(end.code(), absl::StatusCode::kInvalidArgument);
}

TEST(PcapReaderTest, MalformedPcapng) {
  absl::Status end;
  {
    testing::PcapngFile p;
    p.AddPacket(0, 1, Frame(20, 1));  // no interface described
    ReadAll(p.bytes(), &end);
    EXPECT_EQ(end.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(end.message(), "interface")) << end;
  }
  {
    testing::PcapngFile p;
    p.AddInterface(LinkType::kRaw);
    p.AddPacket(0, 1, Frame(20, 1));
    Bytes b = p.bytes();
    b[b.size() - 1] ^= 0x40;  // trailing length differs
    EXPECT_EQ(ReadAll(b, &end).size(), 0u);
    EXPECT_EQ(end.code(), absl::StatusCode::kInvalidArgument);
  }
  {
    testing::PcapngFile p;
    p.AddInterface(LinkType::kRaw);
    Bytes b = p.bytes();
    // A block claiming 1 GiB.
    for (uint8_t x : {6, 0, 0, 0, 0, 0, 0, 0x40}) b.push_back(x);
    ReadAll(b, &end);
    EXPECT_EQ(end.code(), absl::StatusCode::kInvalidArgument);
  }
  {
    // Captured length larger than the block.
    testing::PcapngFile p;
    p.AddInterface(LinkType::kRaw);
    p.AddPacket(0, 1, Frame(20, 1));
    Bytes b = p.bytes();
    const size_t epb = b.size() - (12 + 20 + 20);
    b[epb + 8 + 12] = 200;
    ReadAll(b, &end);
    EXPECT_EQ(end.code(), absl::StatusCode::kInvalidArgument) << end;
  }
}

TEST(PcapReaderTest, OpenFileErrors) {
  auto r = CaptureReader::OpenFile("/nonexistent/dir/x.pcap");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(r.status().message(), "/nonexistent/dir/x.pcap"));
  r = CaptureReader::OpenFile("/");
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace mptcp::trace
