// Data-sequence mappings (RFC 8684 §3.3.1), one table per subflow and direction: which
// subflow bytes carry which data sequence numbers. The sender's table turns an outgoing
// segment into its DSS option (and says which data a failed subflow leaves to reinject); the
// receiver's table turns in-order subflow bytes into connection-level data.
#ifndef MPTCP_DSN_MAP_H_
#define MPTCP_DSN_MAP_H_

#include <algorithm>
#include <cstdint>
#include <optional>

#include "mptcp/fifo.h"
#include "mptcp/seq.h"

namespace mptcp {

// RFC 8684 §3.3: the Data-Level Length field is 16 bits, so one mapping covers < 64 KiB.
inline constexpr uint32_t kMaxMappingLength = 0xffff;

struct TxMapping {
  SeqNum32 ssn;  // absolute subflow sequence number of the first byte
  Dsn64 dsn;     // data sequence number of the first byte
  uint32_t len = 0;

  SeqNum32 ssn_end() const { return ssn + len; }
  Dsn64 dsn_end() const { return dsn + len; }
};

// What the sender handed one subflow, in subflow order. Entries stay until both the subflow
// has acknowledged them and DATA_ACK has passed them, so a failed subflow's unacknowledged data
// can be found and reinjected (RFC 8684 §3.3.6).
class TxMappings {
 public:
  // Records that subflow bytes [ssn, ssn+len) carry data [dsn, dsn+len). Extends the last
  // mapping when both spaces continue it and the result still fits the 16-bit length.
  void Add(SeqNum32 ssn, Dsn64 dsn, uint32_t len, uint32_t max_len = kMaxMappingLength) {
    if (len == 0) return;
    if (!q_.empty()) {
      TxMapping& last = q_.back();
      if (last.ssn_end() == ssn && last.dsn_end() == dsn && last.len + len <= max_len) {
        last.len += len;
        return;
      }
    }
    q_.push_back(TxMapping{ssn, dsn, len});
  }

  // Cuts the mapping that covers `at` (not at its first byte) in two there, so that the bytes
  // from `at` on can be described by a mapping of their own; any other `at` changes nothing.
  void Split(SeqNum32 at) {
    const std::optional<size_t> i = FindIndex(at);
    if (!i || q_[*i].ssn == at) return;
    const TxMapping m = q_[*i];
    const uint32_t head = static_cast<uint32_t>(at - m.ssn);
    q_[*i].len = head;
    q_.insert(*i + 1, TxMapping{at, m.dsn + head, m.len - head});
  }

  // The mapping covering subflow sequence number `ssn`, if any.
  const TxMapping* Find(SeqNum32 ssn) const {
    const std::optional<size_t> i = FindIndex(ssn);
    return i ? &q_[*i] : nullptr;
  }

  // Drops mappings the subflow has acknowledged (below `snd_una`) whose data is also
  // acknowledged at the data level (below `data_una`).
  void Prune(SeqNum32 snd_una, Dsn64 data_una) {
    while (!q_.empty() && q_.front().ssn_end() <= snd_una && q_.front().dsn_end() <= data_una) {
      q_.pop_front();
    }
    q_.ShrinkIfEmpty();
  }

  // Calls fn(dsn, len) for each mapped data range not yet acknowledged at the data level.
  template <typename Fn>
  void ForEachUnacked(Dsn64 data_una, Fn&& fn) const {
    for (const TxMapping& m : q_) {
      if (m.dsn_end() <= data_una) continue;
      const Dsn64 from = std::max(m.dsn, data_una);
      fn(from, static_cast<uint32_t>(m.dsn_end() - from));
    }
  }

  bool empty() const { return q_.empty(); }
  size_t size() const { return q_.size(); }
  const TxMapping& operator[](size_t i) const { return q_[i]; }
  void clear() { q_.clear(); q_.ShrinkIfEmpty(); }
  size_t allocated_bytes() const { return q_.allocated_bytes(); }

 private:
  std::optional<size_t> FindIndex(SeqNum32 ssn) const {
    // Mappings are sorted by ssn and contiguous in practice; search from the back, where
    // new data is, then binary search.
    if (q_.empty()) return std::nullopt;
    if (SeqInRange(ssn, q_.back().ssn, q_.back().ssn_end())) return q_.size() - 1;
    size_t lo = 0, hi = q_.size();
    while (lo < hi) {
      const size_t mid = (lo + hi) / 2;
      if (q_[mid].ssn_end() <= ssn) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo < q_.size() && SeqInRange(ssn, q_[lo].ssn, q_[lo].ssn_end())) return lo;
    return std::nullopt;
  }

  Fifo<TxMapping> q_;
};

struct RxMapping {
  SeqNum32 ssn;      // absolute subflow sequence number of the first byte
  Dsn64 dsn;
  uint32_t len = 0;  // data bytes covered (a DATA_FIN's extra octet is not counted here)
  std::optional<uint16_t> checksum;  // DSS checksum over the mapping, when negotiated
  bool data_fin = false;             // the DATA_FIN follows the last byte (at dsn + len)
  uint16_t wire_len = 0;             // data-level length as sent (len + data_fin)
  uint32_t relative_ssn = 0;         // as sent, for the checksum pseudo-header

  SeqNum32 ssn_end() const { return ssn + len; }
  friend bool operator==(const RxMapping&, const RxMapping&) = default;
};

// Mappings received on one subflow, sorted by subflow sequence number, bounded in count.
class RxMappings {
 public:
  enum class AddResult { kAdded, kDuplicate, kConflict, kFull };

  explicit RxMappings(size_t max_entries = 1024) : max_entries_(max_entries) {}

  // RFC 8684 §3.3.1: a mapping repeated on several segments is the same; one that overlaps a
  // known mapping with different values is a protocol error (DSSNotMatching in Linux).
  // Mappings continuing a neighbour in both sequence spaces (and without checksums, which
  // belong to one mapping each) are merged, so a sender's per-segment mappings cost one entry.
  AddResult Add(const RxMapping& m) {
    // Find the insertion point (most mappings arrive in order: check the back first).
    size_t pos = q_.size();
    while (pos > 0 && m.ssn < q_[pos - 1].ssn) --pos;
    for (size_t i : {pos, pos - 1}) {
      if (i >= q_.size()) continue;
      const RxMapping& o = q_[i];
      if (m.len > 0 && o.len > 0 && m.ssn < o.ssn_end() && o.ssn < m.ssn_end()) {
        // Overlap: consistent only if both map the overlap identically (e.g. a mapping that
        // was re-sent shortened or extended at one end).
        const int32_t d = m.ssn - o.ssn;
        if (static_cast<int64_t>(m.dsn) - static_cast<int64_t>(o.dsn) != d) {
          return AddResult::kConflict;
        }
        if (o.ssn <= m.ssn && m.ssn_end() <= o.ssn_end() && (!m.data_fin || o.data_fin) &&
            (o.checksum == m.checksum || !m.checksum)) {
          return AddResult::kDuplicate;  // nothing new
        }
      } else if (o.ssn == m.ssn && o.dsn == m.dsn && o.len == m.len && o.data_fin == m.data_fin) {
        return AddResult::kDuplicate;
      }
    }
    auto mergeable = [](const RxMapping& a, const RxMapping& b) {  // b continues a
      return !a.checksum && !b.checksum && !a.data_fin && a.ssn_end() == b.ssn &&
             a.dsn + a.len == b.dsn && uint64_t{a.len} + b.len < (1ull << 31);
    };
    if (pos > 0 && mergeable(q_[pos - 1], m)) {
      RxMapping& prev = q_[pos - 1];
      prev.len += m.len;
      prev.data_fin = m.data_fin;
      if (pos < q_.size() && mergeable(prev, q_[pos])) {
        prev.len += q_[pos].len;
        prev.data_fin = q_[pos].data_fin;
        q_.erase_at(pos);
      }
      return AddResult::kAdded;
    }
    if (pos < q_.size() && mergeable(m, q_[pos])) {
      RxMapping& next = q_[pos];
      next.ssn = m.ssn;
      next.dsn = m.dsn;
      next.len += m.len;
      next.relative_ssn = m.relative_ssn;
      return AddResult::kAdded;
    }
    if (q_.size() >= max_entries_) return AddResult::kFull;
    q_.insert(pos, m);
    return AddResult::kAdded;
  }

  bool full() const { return q_.size() >= max_entries_; }

  // The mapping covering `ssn` (for a mapping with only a DATA_FIN, none covers bytes).
  const RxMapping* Find(SeqNum32 ssn) const {
    for (size_t i = q_.size(); i-- > 0;) {
      const RxMapping& m = q_[i];
      if (SeqInRange(ssn, m.ssn, m.ssn_end())) return &m;
      if (m.ssn_end() <= ssn && m.ssn <= ssn) break;
    }
    // Overlapping mappings are possible (consistent re-sends): fall back to a full scan.
    for (const RxMapping& m : q_) {
      if (SeqInRange(ssn, m.ssn, m.ssn_end())) return &m;
    }
    return nullptr;
  }

  // Drops mappings wholly before `read_seq` (already delivered).
  void PruneBefore(SeqNum32 read_seq) {
    while (!q_.empty() && q_.front().ssn_end() <= read_seq && q_.front().ssn <= read_seq &&
           !(q_.front().len == 0 && q_.front().data_fin && q_.front().ssn == read_seq)) {
      q_.pop_front();
    }
    q_.ShrinkIfEmpty();
  }

  bool empty() const { return q_.empty(); }
  size_t size() const { return q_.size(); }
  const RxMapping& operator[](size_t i) const { return q_[i]; }
  void clear() { q_.clear(); q_.ShrinkIfEmpty(); }
  size_t allocated_bytes() const { return q_.allocated_bytes(); }

 private:
  size_t max_entries_;
  Fifo<RxMapping> q_;
};

}  // namespace mptcp

#endif  // MPTCP_DSN_MAP_H_
