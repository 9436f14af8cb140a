// A live check on one direction of an MPTCP connection, packet by packet: the payload of each
// TCP segment must be the stream bytes its data sequence mapping says (RFC 8684 §3.3.1), where
// the stream is io::StreamPattern(seed). The transfer's digest says only that something went
// wrong; this says which segment, on which subflow, under which mapping.
//
// It follows the sender's subflows by their SYN (the initial subflow sequence number), the
// sender's IDSN by the key in its MP_CAPABLE (RFC 8684 §3.1: the IDSN is the low 64 bits of
// SHA-256 of the key), and maps each payload byte through the DSS mapping on its segment, or
// through the MP_CAPABLE data-level length on the client's first data (subflow byte 1 is
// IDSN + 1). A segment whose payload runs past its mapping is an error too: a receiver would
// read those bytes under whatever mapping comes next. Segments with no mapping (after a
// fallback to TCP) and 32-bit mappings are counted, not checked.
#ifndef MPTCP_CONFORMANCE_STREAM_CHECK_H_
#define MPTCP_CONFORMANCE_STREAM_CHECK_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "io/stream_pattern.h"
#include "mptcp/address.h"
#include "mptcp/seq.h"

namespace mptcp::interop {

class StreamCheck {
 public:
  // `seed`: the sender's io::StreamPattern seed. One connection per check (the first IDSN
  // seen is kept).
  explicit StreamCheck(uint64_t seed) : pattern_(seed) {}

  // One IP packet sent in this direction (anything that is not TCP is ignored). `when`, in
  // seconds, only labels the first error. Returns the stream offsets [first, end) of the
  // payload as mapped, when it has a 64-bit mapping.
  struct Range {
    uint64_t first = 0, end = 0;
  };
  std::optional<Range> OnPacket(std::span<const uint8_t> packet, double when = 0);

  bool ok() const { return first_error_.empty(); }
  // The first wrong segment, described; empty while none.
  const std::string& first_error() const { return first_error_; }
  uint64_t errors() const { return errors_; }
  uint64_t checked_segments() const { return checked_; }
  uint64_t checked_bytes() const { return checked_bytes_; }
  uint64_t unmapped_segments() const { return unmapped_; }
  // Segments whose mapping covers subflow bytes that an earlier, different mapping on the same
  // subflow also covered. RFC 8684 §3.3.1 allows it when both agree; Linux takes a different
  // mapping for bytes its current one covers as an error (MPTcpExtDSSNotMatching), and reads
  // a segment that starts inside its current mapping with that one. The first is described.
  uint64_t overlapping_mappings() const { return overlaps_; }
  const std::string& first_overlap() const { return first_overlap_; }

 private:
  struct Mapping {
    uint64_t dsn = 0;
    uint32_t subflow_seq = 0;  // relative to the subflow's ISN
    uint32_t len = 0;
  };
  void Fail(std::string what);

  io::StreamPattern pattern_;
  std::optional<uint64_t> idsn_;
  struct Flow {
    SeqNum32 isn;
    std::vector<Mapping> recent;  // the last mappings seen, oldest first (bounded)
  };
  void NoteMapping(Flow& flow, const FourTuple& tuple, const Mapping& m, double when);

  absl::flat_hash_map<FourTuple, Flow> flows_;  // sender's side first
  std::vector<uint8_t> want_;
  std::string first_error_;
  std::string first_overlap_;
  uint64_t errors_ = 0, checked_ = 0, checked_bytes_ = 0, unmapped_ = 0, overlaps_ = 0;
};

}  // namespace mptcp::interop

#endif  // MPTCP_CONFORMANCE_STREAM_CHECK_H_
