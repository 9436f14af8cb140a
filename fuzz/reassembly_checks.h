// The differential reassembly property: a script of segment writes, application reads and
// capacity changes runs against RecvBuffer (the in-place reassembly behind every subflow's
// receive queue and the connection's DSN-level one) and against a model simple enough to be
// obviously right, one slot per byte of the window; every observable must agree after every
// step.
//
// What is compared: each Write's result (bytes accepted, how far RCV.NXT moved, a refusal for
// lack of ranges); the readable bytes, their values included (the first copy of a byte to
// arrive is the one kept: RFC 9293 §3.10.7.4 trims to the window, and a retransmission never
// overwrites what is held); the out-of-order ranges SACK reports (RFC 2018 §4); the window
// (RFC 9293 §3.8.6); the capacity; and the memory, never past the capacity.
#ifndef FUZZ_REASSEMBLY_CHECKS_H_
#define FUZZ_REASSEMBLY_CHECKS_H_

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "mptcp/tcp/recv_buffer.h"

namespace mptcp::fuzz {

#define MPTCP_REASSEMBLY_CHECK(cond)                                                    \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "reassembly check failed (%s:%d): %s\n", __FILE__, __LINE__, \
                   #cond);                                                             \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

// The model: the readable bytes, then one slot per byte past RCV.NXT (-1: not arrived).
class ReassemblyModel {
 public:
  ReassemblyModel(size_t capacity, size_t max_ranges)
      : capacity_(capacity), max_ranges_(max_ranges) {}

  size_t capacity() const { return capacity_; }
  size_t readable() const { return readable_.size(); }
  size_t window() const { return capacity_ - readable_.size(); }
  const std::vector<uint8_t>& readable_bytes() const { return readable_; }

  // Out-of-order ranges [start, end) relative to RCV.NXT.
  std::vector<Assembler::Range> Ranges() const {
    std::vector<Assembler::Range> out;
    for (size_t i = 0; i < ooo_.size(); ++i) {
      if (ooo_[i] < 0) continue;
      if (!out.empty() && out.back().end == i) {
        ++out.back().end;
      } else {
        out.push_back({i, i + 1});
      }
    }
    return out;
  }
  size_t OooBytes() const {
    return static_cast<size_t>(
        std::count_if(ooo_.begin(), ooo_.end(), [](int v) { return v >= 0; }));
  }
  size_t Extent() const {
    const std::vector<Assembler::Range> r = Ranges();
    return r.empty() ? 0 : r.back().end;
  }

  RecvBuffer::WriteResult Write(size_t offset, std::span<const uint8_t> data) {
    RecvBuffer::WriteResult result;
    if (data.empty() || offset >= window()) return result;
    const size_t len = std::min(data.size(), window() - offset);
    // Out of order, a new range beyond the bound is refused whole: count the ranges there
    // would be, the new one included. In order, nothing is refused (it is readable at once).
    if (offset > 0 && RangesWith(offset, len) > max_ranges_) {
      result.rejected_too_many_ranges = true;
      return result;
    }
    if (ooo_.size() < offset + len) ooo_.resize(offset + len, -1);
    for (size_t i = 0; i < len; ++i) {
      if (ooo_[offset + i] < 0) ooo_[offset + i] = static_cast<int16_t>(data[i]);
    }
    result.accepted = len;
    while (result.advanced < ooo_.size() && ooo_[result.advanced] >= 0) {
      readable_.push_back(static_cast<uint8_t>(ooo_[result.advanced]));
      ++result.advanced;
    }
    ooo_.erase(ooo_.begin(), ooo_.begin() + static_cast<ptrdiff_t>(result.advanced));
    // Slots past the last arrived byte carry no information.
    while (!ooo_.empty() && ooo_.back() < 0) ooo_.pop_back();
    return result;
  }

  void Consume(size_t n) {
    n = std::min(n, readable_.size());
    readable_.erase(readable_.begin(), readable_.begin() + static_cast<ptrdiff_t>(n));
  }

  void SetCapacity(size_t c) { capacity_ = std::max(c, readable_.size() + Extent()); }

 private:
  size_t RangesWith(size_t offset, size_t len) const {
    size_t runs = 0;
    bool prev = false;
    const size_t stop = std::max(ooo_.size(), offset + len);
    for (size_t i = 0; i < stop; ++i) {
      const bool here = (i < ooo_.size() && ooo_[i] >= 0) || (i >= offset && i < offset + len);
      if (here && !prev) ++runs;
      prev = here;
    }
    return runs;
  }

  size_t capacity_;
  size_t max_ranges_;
  // Vectors rather than deques: the fronts move by memmove, much cheaper under the sanitizers
  // than a deque's per-element steps.
  std::vector<uint8_t> readable_;
  std::vector<int16_t> ooo_;
};

// Reads the script; past the end it yields zeros.
class ReassemblyScript {
 public:
  explicit ReassemblyScript(std::span<const uint8_t> data) : data_(data) {}
  bool done() const { return pos_ >= data_.size(); }
  uint8_t Byte() { return pos_ < data_.size() ? data_[pos_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(Byte() << 8 | Byte()); }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

inline void CompareReassembly(const RecvBuffer& b, const ReassemblyModel& m) {
  MPTCP_REASSEMBLY_CHECK(b.capacity() == m.capacity());
  MPTCP_REASSEMBLY_CHECK(b.readable() == m.readable());
  MPTCP_REASSEMBLY_CHECK(b.window() == m.window());
  MPTCP_REASSEMBLY_CHECK(b.ooo_bytes() == m.OooBytes());
  const std::vector<Assembler::Range> want = m.Ranges();
  const std::span<const Assembler::Range> got = b.ooo_ranges().ranges();
  MPTCP_REASSEMBLY_CHECK(got.size() == want.size());
  MPTCP_REASSEMBLY_CHECK(std::equal(got.begin(), got.end(), want.begin()));
  MPTCP_REASSEMBLY_CHECK(b.allocated_bytes() <= b.capacity());
  MPTCP_REASSEMBLY_CHECK(b.empty() == (m.readable() == 0 && want.empty()));
}

// Runs one script. Returns normally; a difference aborts.
inline void CheckReassemblyScript(std::span<const uint8_t> data) {
  ReassemblyScript in(data);
  const size_t max_ranges = in.Byte() % 9;  // 0 (no out-of-order data at all) to 8
  const size_t capacity = 1 + in.U16() % 20000;
  RecvBuffer buffer(capacity, max_ranges);
  ReassemblyModel model(capacity, max_ranges);
  uint64_t rcv_nxt = 0;  // the stream position of RCV.NXT, to derive segment contents
  std::vector<uint8_t> segment, out, want;
  for (int step = 0; step < 4096 && !in.done(); ++step) {
    const uint8_t op = in.Byte();
    switch (op % 8) {
      case 0: case 1: case 2: case 3: {  // a segment: offset past RCV.NXT, length, contents
        const size_t offset = in.U16() % (model.window() + 64);
        const size_t len = in.U16() % 3000;
        // Each byte is a function of its stream position, perturbed by a per-segment value
        // for some segments, so that a byte kept from the wrong copy shows.
        const uint8_t variant = (op & 0x80) ? in.Byte() : 0;
        segment.resize(len);
        for (size_t i = 0; i < len; ++i) {
          const uint64_t pos = rcv_nxt + offset + i;
          segment[i] = static_cast<uint8_t>((pos * 131) ^ (pos >> 8) ^ variant);
        }
        const RecvBuffer::WriteResult got = buffer.Write(offset, segment);
        const RecvBuffer::WriteResult exp = model.Write(offset, segment);
        MPTCP_REASSEMBLY_CHECK(got.accepted == exp.accepted);
        MPTCP_REASSEMBLY_CHECK(got.advanced == exp.advanced);
        MPTCP_REASSEMBLY_CHECK(got.rejected_too_many_ranges == exp.rejected_too_many_ranges);
        rcv_nxt += got.advanced;
        break;
      }
      case 4: {  // the application reads, and every byte is checked
        const size_t n = in.U16() % 4096;
        out.resize(n);
        const size_t got = buffer.Read(out);
        MPTCP_REASSEMBLY_CHECK(got == std::min(n, model.readable()));
        want.assign(model.readable_bytes().begin(),
                    model.readable_bytes().begin() + static_cast<ptrdiff_t>(got));
        MPTCP_REASSEMBLY_CHECK(std::equal(want.begin(), want.end(), out.begin()));
        model.Consume(got);
        break;
      }
      case 5: {  // the application peeks, then consumes (the zero-copy read path)
        const size_t n = in.U16() % 4096;
        const RecvBuffer::Pieces p = buffer.PeekReadable(n);
        MPTCP_REASSEMBLY_CHECK(p.size() == std::min(n, model.readable()));
        out.resize(p.size());
        p.CopyTo(out);
        MPTCP_REASSEMBLY_CHECK(
            std::equal(out.begin(), out.end(), model.readable_bytes().begin()));
        const size_t c = in.Byte() % 2 ? p.size() : in.U16();
        buffer.Consume(c);
        model.Consume(c);
        break;
      }
      case 6: {  // the capacity changes (a socket option, or memory pressure)
        const size_t c = in.U16() % 20000;
        buffer.set_capacity(c);
        model.SetCapacity(c);
        break;
      }
      default:
        buffer.ReleaseMemoryIfEmpty();
        if (buffer.empty()) MPTCP_REASSEMBLY_CHECK(buffer.allocated_bytes() == 0);
        break;
    }
    CompareReassembly(buffer, model);
  }
}

}  // namespace mptcp::fuzz

#endif  // FUZZ_REASSEMBLY_CHECKS_H_
