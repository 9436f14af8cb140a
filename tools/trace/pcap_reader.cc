// The pcap / pcapng reader of pcap_reader.h: file headers, records and blocks, each length
// checked before use.
#include "tools/trace/pcap_reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"

namespace mptcp::trace {
namespace {

constexpr uint32_t kPcapMagicMicros = 0xa1b2c3d4;
constexpr uint32_t kPcapMagicNanos = 0xa1b23c4d;
constexpr uint32_t kPcapngShb = 0x0a0d0d0a;  // reads the same in both byte orders
constexpr uint32_t kPcapngByteOrderMagic = 0x1a2b3c4d;
constexpr uint32_t kPcapngIdb = 1;
constexpr uint32_t kPcapngSpb = 3;
constexpr uint32_t kPcapngEpb = 6;
constexpr uint16_t kOptEndOfOpt = 0;
constexpr uint16_t kIfTsresol = 9;
constexpr uint16_t kIfTsoffset = 14;

uint32_t LoadLe32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint32_t Swap32(uint32_t v) { return __builtin_bswap32(v); }

class FileSource : public ByteSource {
 public:
  FileSource(std::FILE* f, uint64_t size) : f_(f), size_(size) {}
  ~FileSource() override { std::fclose(f_); }
  size_t Read(std::span<uint8_t> out) override {
    return out.empty() ? 0 : std::fread(out.data(), 1, out.size(), f_);
  }
  uint64_t Size() const override { return size_; }

 private:
  std::FILE* f_;
  uint64_t size_;
};

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::span<const uint8_t> bytes) : bytes_(bytes.begin(), bytes.end()) {}
  size_t Read(std::span<uint8_t> out) override {
    const size_t n = std::min(out.size(), bytes_.size() - pos_);
    if (n > 0) std::memcpy(out.data(), bytes_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  uint64_t Size() const override { return bytes_.size(); }

 private:
  std::vector<uint8_t> bytes_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<CaptureReader>> CaptureReader::OpenFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int e = errno;
    const std::string msg = absl::StrFormat("%s: cannot open: %s", path, std::strerror(e));
    if (e == ENOENT) return absl::NotFoundError(msg);
    if (e == EACCES || e == EPERM) return absl::PermissionDeniedError(msg);
    return absl::UnavailableError(msg);
  }
  struct stat st {};
  uint64_t size = 0;
  if (fstat(fileno(f), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      std::fclose(f);
      return absl::InvalidArgumentError(absl::StrFormat("%s: is a directory", path));
    }
    if (S_ISREG(st.st_mode)) size = static_cast<uint64_t>(st.st_size);
  }
  return FromSource(std::make_unique<FileSource>(f, size));
}

absl::StatusOr<std::unique_ptr<CaptureReader>> CaptureReader::FromBytes(
    std::span<const uint8_t> bytes) {
  return FromSource(std::make_unique<MemorySource>(bytes));
}

absl::StatusOr<std::unique_ptr<CaptureReader>> CaptureReader::FromSource(
    std::unique_ptr<ByteSource> source) {
  std::unique_ptr<CaptureReader> r(new CaptureReader(std::move(source)));
  if (absl::Status s = r->ReadFileHeader(); !s.ok()) return s;
  return r;
}

uint16_t CaptureReader::U16(const uint8_t* p) const {
  return swapped_ ? static_cast<uint16_t>(p[0] << 8 | p[1])
                  : static_cast<uint16_t>(p[1] << 8 | p[0]);
}
uint32_t CaptureReader::U32(const uint8_t* p) const {
  const uint32_t v = LoadLe32(p);
  return swapped_ ? Swap32(v) : v;
}
uint64_t CaptureReader::U64(const uint8_t* p) const {
  // A 64-bit option value (if_tsoffset) is one integer in the section's byte order; the EPB
  // timestamp is two 32-bit words instead and is assembled by its caller.
  const uint64_t lo = U32(swapped_ ? p + 4 : p), hi = U32(swapped_ ? p : p + 4);
  return hi << 32 | lo;
}

absl::Status CaptureReader::Fail(absl::Status s) {
  error_ = s;
  return s;
}

absl::Status CaptureReader::ReadExact(size_t n, const char* what) {
  buf_.resize(n);
  const size_t got = source_->Read(buf_);
  offset_ += got;
  if (got < n) {
    return Fail(absl::DataLossError(absl::StrFormat(
        "truncated %s at offset %u: %u of %u bytes present (the capture was cut short)", what,
        offset_ - got, got, n)));
  }
  return absl::OkStatus();
}

absl::Status CaptureReader::ReadFileHeader() {
  uint8_t magic[4];
  const size_t got = source_->Read(magic);
  offset_ += got;
  if (got < 4) {
    return Fail(absl::InvalidArgumentError(
        absl::StrFormat("not a capture: %u bytes, too short for a pcap or pcapng header", got)));
  }
  const uint32_t m = LoadLe32(magic);
  if (m == kPcapngShb) {
    format_ = CaptureFormat::kPcapng;
    // The SHB is read as a block by NextPcapng: put its type back by starting from the length.
    if (absl::Status s = ReadExact(8, "pcapng section header"); !s.ok()) {
      return Fail(absl::InvalidArgumentError(s.message()));
    }
    const uint32_t bom = LoadLe32(buf_.data() + 4);
    if (bom == kPcapngByteOrderMagic) {
      swapped_ = false;
    } else if (bom == Swap32(kPcapngByteOrderMagic)) {
      swapped_ = true;
    } else {
      return Fail(absl::InvalidArgumentError(
          absl::StrFormat("pcapng: bad byte-order magic 0x%08x in the section header", bom)));
    }
    const uint32_t len = U32(buf_.data());
    if (len < 28 || len % 4 != 0 || len > kMaxRecordBytes) {
      return Fail(absl::InvalidArgumentError(
          absl::StrFormat("pcapng: bad section header length %u at offset 0", len)));
    }
    std::vector<uint8_t> head(buf_.begin(), buf_.end());  // length, byte-order magic
    if (absl::Status s = ReadExact(len - 12, "pcapng section header"); !s.ok()) {
      return Fail(absl::InvalidArgumentError(s.message()));
    }
    if (U32(buf_.data() + buf_.size() - 4) != len) {
      return Fail(absl::InvalidArgumentError("pcapng: section header lengths disagree"));
    }
    std::vector<uint8_t> body(head.begin() + 4, head.end());
    body.insert(body.end(), buf_.begin(), buf_.end() - 4);
    return ParseSectionHeader(body);
  }
  if (m == kPcapMagicMicros || m == kPcapMagicNanos) {
    swapped_ = false;
  } else if (m == Swap32(kPcapMagicMicros) || m == Swap32(kPcapMagicNanos)) {
    swapped_ = true;
  } else {
    return Fail(absl::InvalidArgumentError(absl::StrFormat(
        "not a pcap or pcapng file (magic %02x %02x %02x %02x)", magic[0], magic[1], magic[2],
        magic[3])));
  }
  format_ = CaptureFormat::kPcap;
  nanos_ = (swapped_ ? Swap32(m) : m) == kPcapMagicNanos;
  if (absl::Status s = ReadExact(20, "pcap file header"); !s.ok()) {
    return Fail(absl::InvalidArgumentError(s.message()));
  }
  const uint8_t* p = buf_.data();
  const uint16_t major = U16(p);
  if (major != 2) {
    return Fail(absl::InvalidArgumentError(
        absl::StrFormat("pcap: unsupported version %u.%u", major, U16(p + 2))));
  }
  pcap_snaplen_ = U32(p + 12);
  // The upper bits of the link-type word carry the FCS length (draft-ietf-opsawg-pcap §4).
  pcap_link_type_ = U32(p + 16) & 0xffff;
  return absl::OkStatus();
}

absl::Status CaptureReader::ParseSectionHeader(std::span<const uint8_t> body) {
  // Byte-order magic (4), major (2), minor (2), section length (8), options.
  if (body.size() < 16) return Fail(absl::InvalidArgumentError("pcapng: short section header"));
  const uint16_t major = U16(body.data() + 4);
  if (major != 1) {
    return Fail(absl::InvalidArgumentError(
        absl::StrFormat("pcapng: unsupported version %u.%u", major, U16(body.data() + 6))));
  }
  interfaces_.clear();  // interface ids are per section
  return absl::OkStatus();
}

absl::Status CaptureReader::ParseInterface(std::span<const uint8_t> body) {
  if (body.size() < 8) {
    return Fail(absl::InvalidArgumentError(
        absl::StrFormat("pcapng: short interface description at offset %u", offset_)));
  }
  if (interfaces_.size() >= 65536) {
    return Fail(absl::InvalidArgumentError("pcapng: more than 65536 interfaces"));
  }
  Interface itf;
  itf.link_type = U16(body.data());
  itf.snaplen = U32(body.data() + 4);
  // Options: code (2), length (2), value padded to 4; ends at opt_endofopt or the body's end.
  size_t i = 8;
  while (body.size() - i >= 4) {
    const uint16_t code = U16(body.data() + i), len = U16(body.data() + i + 2);
    i += 4;
    if (code == kOptEndOfOpt) break;
    const size_t padded = (size_t{len} + 3) & ~size_t{3};
    if (padded > body.size() - i) {
      return Fail(absl::InvalidArgumentError(
          absl::StrFormat("pcapng: interface option %u overruns its block", code)));
    }
    const uint8_t* v = body.data() + i;
    if (code == kIfTsresol && len >= 1) {
      const uint8_t r = v[0];
      const unsigned exp = r & 0x7f;
      // MSB clear: 10^-exp seconds; set: 2^-exp (draft-ietf-opsawg-pcapng §4.2).
      if ((r & 0x80) == 0) {
        if (exp > 18) return Fail(absl::InvalidArgumentError("pcapng: if_tsresol beyond 10^-18"));
        itf.units_per_second = 1;
        for (unsigned k = 0; k < exp; ++k) itf.units_per_second *= 10;
      } else {
        if (exp > 62) return Fail(absl::InvalidArgumentError("pcapng: if_tsresol beyond 2^-62"));
        itf.units_per_second = uint64_t{1} << exp;
      }
    } else if (code == kIfTsoffset && len >= 8) {
      itf.offset_seconds = static_cast<int64_t>(U64(v));
    }
    i += padded;
  }
  interfaces_.push_back(itf);
  return absl::OkStatus();
}

int64_t CaptureReader::ToNanos(uint64_t ticks, const Interface& itf) const {
  const unsigned __int128 ns =
      static_cast<unsigned __int128>(ticks) * 1'000'000'000u / itf.units_per_second;
  const __int128 total = static_cast<__int128>(ns) + static_cast<__int128>(itf.offset_seconds) *
                                                         1'000'000'000;
  constexpr __int128 kMax = INT64_MAX, kMin = INT64_MIN;
  return static_cast<int64_t>(std::clamp(total, kMin, kMax));
}

absl::StatusOr<std::optional<CaptureFrame>> CaptureReader::Next() {
  if (!error_.ok()) return error_;
  return format_ == CaptureFormat::kPcap ? NextPcap() : NextPcapng();
}

absl::StatusOr<std::optional<CaptureFrame>> CaptureReader::NextPcap() {
  uint8_t hdr[16];
  const uint64_t at = offset_;
  const size_t got = source_->Read(hdr);
  offset_ += got;
  if (got == 0) return std::nullopt;
  if (got < sizeof hdr) {
    return Fail(absl::DataLossError(absl::StrFormat(
        "truncated record header at offset %u (frame %u): the capture was cut short", at,
        frames_ + 1)));
  }
  const uint32_t sec = U32(hdr), frac = U32(hdr + 4), incl = U32(hdr + 8), orig = U32(hdr + 12);
  if (incl > kMaxRecordBytes) {
    return Fail(absl::InvalidArgumentError(absl::StrFormat(
        "pcap: record at offset %u (frame %u) claims %u captured bytes", at, frames_ + 1, incl)));
  }
  if (absl::Status s = ReadExact(incl, "pcap record"); !s.ok()) {
    return Fail(absl::DataLossError(absl::StrFormat("frame %u: %s", frames_ + 1, s.message())));
  }
  CaptureFrame f;
  f.number = ++frames_;
  f.time_ns = static_cast<int64_t>(sec) * 1'000'000'000 +
              static_cast<int64_t>(nanos_ ? frac : uint64_t{frac} * 1000);
  f.link_type = pcap_link_type_;
  f.original_length = std::max(orig, incl);
  f.data = buf_;
  return f;
}

absl::StatusOr<std::optional<CaptureFrame>> CaptureReader::NextPcapng() {
  // A bounded number of non-packet blocks per call; each is consumed, so this always ends.
  for (;;) {
    const uint64_t at = offset_;
    uint8_t hdr[8];
    const size_t got = source_->Read(hdr);
    offset_ += got;
    if (got == 0) return std::nullopt;
    if (got < sizeof hdr) {
      return Fail(absl::DataLossError(absl::StrFormat(
          "truncated block header at offset %u: the capture was cut short", at)));
    }
    const uint32_t type = U32(hdr);
    if (type == kPcapngShb) {
      // A new section, possibly in the other byte order: the magic follows the length.
      uint8_t bom[4];
      if (source_->Read(bom) < 4) {
        return Fail(absl::DataLossError(
            absl::StrFormat("truncated section header at offset %u", at)));
      }
      offset_ += 4;
      const uint32_t b = LoadLe32(bom);
      if (b == kPcapngByteOrderMagic) {
        swapped_ = false;
      } else if (b == Swap32(kPcapngByteOrderMagic)) {
        swapped_ = true;
      } else {
        return Fail(absl::InvalidArgumentError(
            absl::StrFormat("pcapng: bad byte-order magic at offset %u", at)));
      }
      const uint32_t len = U32(hdr + 4);
      if (len < 28 || len % 4 != 0 || len > kMaxRecordBytes) {
        return Fail(absl::InvalidArgumentError(
            absl::StrFormat("pcapng: bad section header length %u at offset %u", len, at)));
      }
      if (absl::Status s = ReadExact(len - 12, "pcapng section header"); !s.ok()) return s;
      std::vector<uint8_t> body(bom, bom + 4);
      body.insert(body.end(), buf_.begin(), buf_.end() - 4);
      if (absl::Status s = ParseSectionHeader(body); !s.ok()) return s;
      continue;
    }
    const uint32_t len = U32(hdr + 4);
    if (len < 12 || len % 4 != 0 || len > kMaxRecordBytes) {
      return Fail(absl::InvalidArgumentError(
          absl::StrFormat("pcapng: bad block length %u at offset %u (block type 0x%x)", len, at,
                          type)));
    }
    if (absl::Status s = ReadExact(len - 8, "pcapng block"); !s.ok()) return s;
    if (U32(buf_.data() + buf_.size() - 4) != len) {
      return Fail(absl::InvalidArgumentError(
          absl::StrFormat("pcapng: block at offset %u: trailing length differs", at)));
    }
    const std::span<const uint8_t> body(buf_.data(), buf_.size() - 4);
    switch (type) {
      case kPcapngIdb:
        if (absl::Status s = ParseInterface(body); !s.ok()) return s;
        continue;
      case kPcapngEpb: {
        // Interface id, timestamp high, low, captured length, original length, data.
        if (body.size() < 20) {
          return Fail(absl::InvalidArgumentError(
              absl::StrFormat("pcapng: short enhanced packet block at offset %u", at)));
        }
        const uint32_t if_id = U32(body.data()), cap = U32(body.data() + 12);
        if (if_id >= interfaces_.size()) {
          return Fail(absl::InvalidArgumentError(absl::StrFormat(
              "pcapng: packet at offset %u names interface %u, but %u are described", at, if_id,
              interfaces_.size())));
        }
        if (cap > body.size() - 20) {
          return Fail(absl::InvalidArgumentError(absl::StrFormat(
              "pcapng: packet at offset %u: captured length %u overruns its block", at, cap)));
        }
        const uint64_t ticks =
            uint64_t{U32(body.data() + 4)} << 32 | uint64_t{U32(body.data() + 8)};
        CaptureFrame f;
        f.number = ++frames_;
        f.interface_id = if_id;
        f.link_type = interfaces_[if_id].link_type;
        f.time_ns = ToNanos(ticks, interfaces_[if_id]);
        f.original_length = std::max(U32(body.data() + 16), cap);
        f.data = body.subspan(20, cap);
        last_time_ns_ = f.time_ns;
        return f;
      }
      case kPcapngSpb: {
        // Original length, then the data up to the block's end or interface 0's snaplen. It
        // has no timestamp: the previous packet's is used.
        if (body.size() < 4 || interfaces_.empty()) {
          return Fail(absl::InvalidArgumentError(absl::StrFormat(
              "pcapng: simple packet block at offset %u without interface 0", at)));
        }
        const uint32_t orig = U32(body.data());
        size_t cap = std::min<size_t>(orig, body.size() - 4);
        if (interfaces_[0].snaplen != 0) cap = std::min<size_t>(cap, interfaces_[0].snaplen);
        CaptureFrame f;
        f.number = ++frames_;
        f.link_type = interfaces_[0].link_type;
        f.time_ns = last_time_ns_;
        f.original_length = std::max<uint32_t>(orig, static_cast<uint32_t>(cap));
        f.data = body.subspan(4, cap);
        return f;
      }
      default:
        ++skipped_blocks_;  // name resolution, statistics, custom, ...: not needed here
        continue;
    }
  }
}

}  // namespace mptcp::trace
