// Reads packet captures for mptcp_trace: classic pcap (either byte order, microsecond or
// nanosecond timestamps) and pcapng (Section Header, Interface Description, Enhanced and Simple
// Packet Blocks; several interfaces with their own link types and timestamp resolutions; other
// blocks skipped by length), from a file or from memory, one frame at a time.
//
// Formats: https://www.tcpdump.org/manpages/pcap-savefile.5.html (draft-ietf-opsawg-pcap) and
// draft-ietf-opsawg-pcapng. Every length read from the file is checked against what is left
// before anything is read through it, and no block or record may exceed kMaxRecordBytes, so a
// hostile file costs at most that much memory and never an out-of-bounds read.
//
// Errors are absl::Status values naming the byte offset: InvalidArgument for a file that is
// not a capture or is malformed, DataLoss for a file that ends inside a record (a capture cut
// short: what came before is good), NotFound / PermissionDenied etc. for a file that cannot be
// opened. After an error, Next() keeps returning it.
#ifndef MPTCP_TOOLS_TRACE_PCAP_READER_H_
#define MPTCP_TOOLS_TRACE_PCAP_READER_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mptcp::trace {

// LINKTYPE_* values (https://www.tcpdump.org/linktypes.html) the decoder understands.
namespace LinkType {
constexpr uint32_t kNull = 0;        // BSD loopback: 4-byte address family, host byte order
constexpr uint32_t kEthernet = 1;    // with 802.1Q / 802.1ad tags
constexpr uint32_t kRaw = 101;       // IPv4 or IPv6 by the version nibble
constexpr uint32_t kLinuxSll = 113;  // Linux cooked capture v1, 16-byte header
constexpr uint32_t kIpv4 = 228;
constexpr uint32_t kIpv6 = 229;
constexpr uint32_t kLinuxSll2 = 276;  // Linux cooked capture v2, 20-byte header
}  // namespace LinkType

// No record or block may be larger; a bigger length field is a malformed file (real captures
// use 256 KiB at most for packets).
inline constexpr uint32_t kMaxRecordBytes = 16u << 20;

enum class CaptureFormat { kPcap, kPcapng };

// One captured frame. `data` is valid until the next call to Next().
struct CaptureFrame {
  uint64_t number = 0;      // 1-based, in file order (Wireshark's frame number)
  int64_t time_ns = 0;      // since the Unix epoch
  uint32_t link_type = 0;
  uint32_t interface_id = 0;  // pcapng interface; 0 for pcap
  uint32_t original_length = 0;  // on the wire; data.size() may be smaller (snaplen)
  std::span<const uint8_t> data;
};

// Where the bytes come from: a file or a memory buffer.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `out.size()` bytes; fewer only at the end of the input.
  virtual size_t Read(std::span<uint8_t> out) = 0;
  // The total size if known (for progress), else 0.
  virtual uint64_t Size() const = 0;
};

class CaptureReader {
 public:
  static absl::StatusOr<std::unique_ptr<CaptureReader>> OpenFile(const std::string& path);
  // Reads from a copy of `bytes`.
  static absl::StatusOr<std::unique_ptr<CaptureReader>> FromBytes(std::span<const uint8_t> bytes);
  static absl::StatusOr<std::unique_ptr<CaptureReader>> FromSource(
      std::unique_ptr<ByteSource> source);

  // The next frame; nullopt at a clean end of file; an error as described at the top.
  absl::StatusOr<std::optional<CaptureFrame>> Next();

  CaptureFormat format() const { return format_; }
  uint64_t offset() const { return offset_; }          // bytes consumed so far
  uint64_t size() const { return source_->Size(); }    // 0 if unknown
  uint64_t frames() const { return frames_; }
  // Blocks of types this reader does not use (pcapng), skipped.
  uint64_t skipped_blocks() const { return skipped_blocks_; }

 private:
  struct Interface {
    uint32_t link_type = 0;
    uint32_t snaplen = 0;
    // Timestamp units per second (if_tsresol) and the offset in seconds (if_tsoffset).
    uint64_t units_per_second = 1'000'000;
    int64_t offset_seconds = 0;
  };

  explicit CaptureReader(std::unique_ptr<ByteSource> source) : source_(std::move(source)) {}
  absl::Status ReadFileHeader();
  absl::StatusOr<std::optional<CaptureFrame>> NextPcap();
  absl::StatusOr<std::optional<CaptureFrame>> NextPcapng();
  absl::Status ParseSectionHeader(std::span<const uint8_t> body);
  absl::Status ParseInterface(std::span<const uint8_t> body);
  // Reads exactly n bytes into buf_ (resized); DataLoss if the input ends first, naming `what`.
  absl::Status ReadExact(size_t n, const char* what);
  absl::Status Fail(absl::Status s);
  uint16_t U16(const uint8_t* p) const;
  uint32_t U32(const uint8_t* p) const;
  uint64_t U64(const uint8_t* p) const;  // a 64-bit option value in the section's order
  int64_t ToNanos(uint64_t ticks, const Interface& itf) const;

  std::unique_ptr<ByteSource> source_;
  CaptureFormat format_ = CaptureFormat::kPcap;
  bool swapped_ = false;  // the file's byte order differs from little-endian reading
  bool nanos_ = false;    // pcap: nanosecond timestamps
  uint32_t pcap_link_type_ = 0;
  uint32_t pcap_snaplen_ = 0;
  std::vector<Interface> interfaces_;  // pcapng, current section
  std::vector<uint8_t> buf_;
  uint64_t offset_ = 0;
  uint64_t frames_ = 0;
  int64_t last_time_ns_ = 0;  // for simple packet blocks, which carry no timestamp
  uint64_t skipped_blocks_ = 0;
  absl::Status error_;
};

}  // namespace mptcp::trace

#endif  // MPTCP_TOOLS_TRACE_PCAP_READER_H_
