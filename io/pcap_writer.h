// A classic-pcap writer (not pcapng) for raw IPv4/IPv6 packets, into memory or a file.
//
// Format (https://www.tcpdump.org/manpages/pcap-savefile.5.html, and the IETF draft
// draft-ietf-opsawg-pcap): a 24-byte file header, then per packet a 16-byte record header and
// the packet bytes. Link type LINKTYPE_RAW (101) means each record is an IP packet with no
// link-layer header; the version nibble tells IPv4 from IPv6.
//
// Every integer is written little-endian whatever the host, so the same packets and
// timestamps give the same bytes everywhere (determinism tests compare whole captures). Readers
// detect the byte order from the magic number.
//
// Errors never crash: they are absl::Status values. WritePacket() returns nothing so that a
// capture tap can stay a one-liner; its first error is kept (status()) and later writes are
// ignored, and Close() reports it.
#ifndef MPTCP_IO_PCAP_WRITER_H_
#define MPTCP_IO_PCAP_WRITER_H_

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "mptcp/time.h"

namespace mptcp::io {

// Microsecond-resolution pcap magic; written little-endian it reads d4 c3 b2 a1.
inline constexpr uint32_t kPcapMagicMicros = 0xa1b2c3d4;
inline constexpr uint16_t kPcapVersionMajor = 2;
inline constexpr uint16_t kPcapVersionMinor = 4;
// The largest packet kept whole; longer packets are truncated (incl_len) and their full
// length is recorded (orig_len). 65535 covers every non-jumbogram IP packet.
inline constexpr uint32_t kPcapSnaplen = 65535;
// LINKTYPE_RAW: the packet starts with the IPv4 or IPv6 header.
inline constexpr uint32_t kLinkTypeRaw = 101;
inline constexpr size_t kPcapFileHeaderSize = 24;
inline constexpr size_t kPcapRecordHeaderSize = 16;

class PcapWriter {
 public:
  // An in-memory capture: the file header is in contents() at once.
  PcapWriter() { AppendFileHeader(); }

  PcapWriter(PcapWriter&&) = default;
  PcapWriter& operator=(PcapWriter&&) = default;
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;
  ~PcapWriter() { (void)Close(); }

  // Switches to writing `path` (created or truncated) and writes the file header there.
  // Only allowed before any packet was written, and once: FailedPrecondition otherwise. On an
  // I/O error the writer stays in memory mode and the error is returned (not made sticky).
  absl::Status Open(const std::string& path) {
    if (file_ != nullptr) return absl::FailedPreconditionError("pcap: already open");
    if (closed_) return absl::FailedPreconditionError("pcap: Open() after Close()");
    if (packets_ != 0 || !status_.ok()) {
      return absl::FailedPreconditionError("pcap: Open() after packets were written");
    }
    FilePtr f(std::fopen(path.c_str(), "wb"));
    if (f == nullptr) return ErrnoStatus("cannot open", path);
    // The memory buffer holds exactly the file header at this point.
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), f.get()) != buffer_.size()) {
      return ErrnoStatus("cannot write header to", path);
    }
    buffer_.clear();
    file_ = std::move(f);
    path_ = path;
    return absl::OkStatus();
  }

  // Appends one record. `ip_packet` is a whole IPv4/IPv6 packet; bytes past kPcapSnaplen are
  // cut (orig_len keeps the true size). `ts` must lie in [0, 2^32) seconds (pcap's unsigned
  // 32-bit seconds); it is truncated to whole microseconds. Errors become status().
  void WritePacket(Timestamp ts, std::span<const uint8_t> ip_packet) {
    if (!status_.ok()) return;
    if (closed_) {
      status_ = absl::FailedPreconditionError("pcap: WritePacket() after Close()");
      return;
    }
    if (ts.nanos() < 0 || ts.nanos() / 1'000'000'000 > 0xffffffffLL) {
      status_ = absl::OutOfRangeError(
          absl::StrFormat("pcap: timestamp %dns outside [0, 2^32) seconds", ts.nanos()));
      return;
    }
    const int64_t micros = ts.nanos() / 1000;
    const uint32_t incl_len =
        static_cast<uint32_t>(std::min<size_t>(ip_packet.size(), kPcapSnaplen));
    const uint32_t orig_len =
        static_cast<uint32_t>(std::min<size_t>(ip_packet.size(), 0xffffffffu));
    uint8_t header[kPcapRecordHeaderSize];
    StoreLe32(header, static_cast<uint32_t>(micros / 1'000'000));
    StoreLe32(header + 4, static_cast<uint32_t>(micros % 1'000'000));
    StoreLe32(header + 8, incl_len);
    StoreLe32(header + 12, orig_len);
    Append(std::span<const uint8_t>(header, sizeof(header)));
    Append(ip_packet.first(incl_len));
    if (status_.ok()) ++packets_;
  }

  // The first error of any WritePacket() so far (OK if none).
  const absl::Status& status() const { return status_; }
  // Records written successfully.
  size_t packets_written() const { return packets_; }
  bool is_file() const { return file_ != nullptr; }

  // In memory mode: the whole capture so far. Empty in file mode.
  const std::string& contents() const { return buffer_; }
  std::span<const uint8_t> bytes() const {
    return {reinterpret_cast<const uint8_t*>(buffer_.data()), buffer_.size()};
  }

  // File mode: pushes buffered records to the OS. Returns status() or the flush error.
  absl::Status Flush() {
    if (!status_.ok() || file_ == nullptr) return status_;
    if (std::fflush(file_.get()) != 0) status_ = ErrnoStatus("cannot flush", path_);
    return status_;
  }

  // Closes the file (if any) and returns the first error of the writer's life. Idempotent;
  // later WritePacket() calls fail with FailedPrecondition. Memory mode keeps contents().
  absl::Status Close() {
    if (closed_) return status_;
    closed_ = true;
    if (file_ != nullptr) {
      // fclose() flushes; it reports a failed flush as its own failure.
      if (std::fclose(file_.release()) != 0 && status_.ok()) {
        status_ = ErrnoStatus("cannot close", path_);
      }
    }
    return status_;
  }

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const {
      if (f != nullptr) std::fclose(f);
    }
  };
  using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

  static void StoreLe16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
  }
  static void StoreLe32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
  }
  static absl::Status ErrnoStatus(const char* what, const std::string& path) {
    return absl::InternalError(
        absl::StrFormat("pcap: %s %s: %s", what, path, std::strerror(errno)));
  }

  void AppendFileHeader() {
    uint8_t h[kPcapFileHeaderSize];
    StoreLe32(h, kPcapMagicMicros);
    StoreLe16(h + 4, kPcapVersionMajor);
    StoreLe16(h + 6, kPcapVersionMinor);
    StoreLe32(h + 8, 0);   // thiszone: timestamps are UTC
    StoreLe32(h + 12, 0);  // sigfigs: always 0
    StoreLe32(h + 16, kPcapSnaplen);
    StoreLe32(h + 20, kLinkTypeRaw);
    buffer_.assign(reinterpret_cast<const char*>(h), sizeof(h));
  }

  void Append(std::span<const uint8_t> data) {
    if (!status_.ok() || data.empty()) return;
    if (file_ == nullptr) {
      buffer_.append(reinterpret_cast<const char*>(data.data()), data.size());
    } else if (std::fwrite(data.data(), 1, data.size(), file_.get()) != data.size()) {
      status_ = ErrnoStatus("cannot write to", path_);
    }
  }

  std::string buffer_;
  FilePtr file_;
  std::string path_;
  absl::Status status_;
  size_t packets_ = 0;
  bool closed_ = false;
};

}  // namespace mptcp::io

#endif  // MPTCP_IO_PCAP_WRITER_H_
