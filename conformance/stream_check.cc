#include "conformance/stream_check.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "absl/strings/str_format.h"
#include "mptcp/crypto/keys.h"
#include "mptcp/wire/ip.h"
#include "mptcp/wire/mptcp_options.h"
#include "mptcp/wire/tcp.h"

namespace mptcp::interop {

void StreamCheck::Fail(std::string what) {
  if (errors_++ == 0) first_error_ = std::move(what);
}

void StreamCheck::NoteMapping(Flow& flow, const FourTuple& tuple, const Mapping& m,
                              double when) {
  for (const Mapping& o : flow.recent) {
    if (o.dsn == m.dsn && o.subflow_seq == m.subflow_seq && o.len == m.len) return;  // a repeat
  }
  for (const Mapping& o : flow.recent) {
    const uint32_t o_end = o.subflow_seq + o.len, m_end = m.subflow_seq + m.len;
    const bool overlap = static_cast<int32_t>(m.subflow_seq - o_end) < 0 &&
                         static_cast<int32_t>(o.subflow_seq - m_end) < 0;
    if (!overlap) continue;
    const bool agree = m.dsn - o.dsn == static_cast<uint64_t>(static_cast<int64_t>(
                                            static_cast<int32_t>(m.subflow_seq - o.subflow_seq)));
    const std::string what = absl::StrFormat(
        "at %.6f s, subflow %s: mapping (dsn %u, subflow_seq %u, len %u) after (dsn %u, "
        "subflow_seq %u, len %u)",
        when, tuple.ToString(), m.dsn, m.subflow_seq, m.len, o.dsn, o.subflow_seq, o.len);
    if (!agree) {
      Fail("two mappings give the same subflow bytes different data sequence numbers: " + what);
    } else if (overlaps_++ == 0) {
      first_overlap_ = what;
    }
    break;
  }
  flow.recent.push_back(m);
  if (flow.recent.size() > 64) flow.recent.erase(flow.recent.begin());
}

std::optional<StreamCheck::Range> StreamCheck::OnPacket(std::span<const uint8_t> packet,
                                                       double when) {
  auto ip = wire::ParseIpPacket(packet);
  if (!ip.ok() || ip->ip.protocol != wire::kIpProtoTcp) return std::nullopt;
  auto seg = wire::TcpRepr::Parse(ip->payload);
  if (!seg.ok()) return std::nullopt;
  const FourTuple flow{{ip->ip.src, seg->src_port}, {ip->ip.dst, seg->dst_port}};
  std::optional<Mapping> map;
  for (std::span<const uint8_t> raw : seg->options.mptcp_options()) {
    auto opt = wire::ParseMptcpOption(raw);
    if (!opt.ok()) continue;
    if (const auto* mpc = std::get_if<wire::MpCapable>(&*opt)) {
      if (mpc->sender_key && !idsn_) idsn_ = crypto::KeyIdsn(*mpc->sender_key);
      // RFC 8684 §3.1: data on the MP_CAPABLE third ACK maps subflow byte 1 to IDSN + 1.
      if (mpc->data_len && idsn_) map = Mapping{*idsn_ + 1, 1, *mpc->data_len};
    } else if (const auto* dss = std::get_if<wire::Dss>(&*opt)) {
      // RFC 8684 §3.3.3: a DATA_FIN takes one octet of the data-level length, no subflow byte.
      const uint32_t fin = dss->data_fin ? 1 : 0;
      if (dss->mapping && dss->mapping->data_len > fin && dss->mapping->dsn_is_64bit) {
        map = Mapping{dss->mapping->dsn, dss->mapping->subflow_seq,
                      static_cast<uint32_t>(dss->mapping->data_len - fin)};
      }
    }
  }
  if (seg->has_flag(wire::TcpFlag::kSyn)) {
    flows_[flow] = Flow{seg->seq, {}};  // a SYN or SYN-ACK: the sender's ISN
    return std::nullopt;
  }
  if (seg->payload.empty()) return std::nullopt;
  const auto f = flows_.find(flow);
  if (!map || !idsn_ || f == flows_.end()) {
    ++unmapped_;
    return std::nullopt;
  }
  NoteMapping(f->second, flow, *map, when);
  const uint32_t rel = static_cast<uint32_t>(seg->seq - f->second.isn);
  const uint32_t into = rel - map->subflow_seq;  // the segment's offset within its mapping
  const size_t len = seg->payload.size();
  auto where = [&] {
    return absl::StrFormat(
        "at %.6f s, subflow %s, seq %u (relative %u), %u payload bytes, mapping dsn %u "
        "(stream offset %d) subflow_seq %u len %u",
        when, flow.ToString(), seg->seq.value(), rel, len, map->dsn,
        static_cast<int64_t>(map->dsn - (*idsn_ + 1)), map->subflow_seq, map->len);
  };
  if (into >= map->len) {
    Fail("a segment outside its own mapping: " + where());
    return std::nullopt;
  }
  if (into + len > map->len) Fail("a segment running past its mapping: " + where());
  const size_t n = std::min<size_t>(len, map->len - into);
  const uint64_t offset = map->dsn + into - (*idsn_ + 1);
  want_.resize(n);
  pattern_.Fill(offset, want_);
  ++checked_;
  checked_bytes_ += n;
  for (size_t k = 0; k < n; ++k) {
    if (want_[k] != seg->payload[k]) {
      Fail(absl::StrFormat("payload differs from the stream at its mapped offset %u (byte %u of "
                           "the segment): %s",
                           offset + k, k, where()));
      break;
    }
  }
  return Range{offset, offset + n};
}

}  // namespace mptcp::interop
