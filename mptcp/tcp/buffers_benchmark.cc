// Throughput of the subflow byte buffers on the per-packet path, in 1448-byte chunks (an
// Ethernet MSS with timestamps). Run with `bazel run -c opt //mptcp/tcp:buffers_benchmark`.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "mptcp/tcp/recv_buffer.h"
#include "mptcp/tcp/send_buffer.h"

namespace mptcp {
namespace {

constexpr size_t kChunk = 1448;
constexpr size_t kCapacity = 256 * 1024;

std::vector<uint8_t> Payload() {
  std::vector<uint8_t> v(kChunk);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i * 7);
  return v;
}

// The application writes a chunk and an ACK frees one, with the buffer kept half full so that
// the ring wraps regularly.
void BM_SendAppendConsume(benchmark::State& state) {
  const auto payload = Payload();
  SendBuffer b(kCapacity);
  while (b.size() < kCapacity / 2) b.Append(payload);
  for (auto _ : state) {
    benchmark::DoNotOptimize(b.Append(payload));
    b.Consume(kChunk);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunk));
}
BENCHMARK(BM_SendAppendConsume);

// As above, plus copying each chunk out once as a segment would be built.
void BM_SendAppendCopyOutConsume(benchmark::State& state) {
  const auto payload = Payload();
  std::vector<uint8_t> segment(kChunk);
  SendBuffer b(kCapacity);
  while (b.size() < kCapacity / 2) b.Append(payload);
  for (auto _ : state) {
    b.Append(payload);
    benchmark::DoNotOptimize(b.CopyOut(b.size() - kChunk, segment));
    b.Consume(kChunk);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunk));
}
BENCHMARK(BM_SendAppendCopyOutConsume);

// In-order segments written and read by the application one by one.
void BM_RecvWriteRead(benchmark::State& state) {
  const auto payload = Payload();
  std::vector<uint8_t> out(kChunk);
  RecvBuffer b(kCapacity);
  for (auto _ : state) {
    benchmark::DoNotOptimize(b.Write(0, payload));
    benchmark::DoNotOptimize(b.Read(out));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunk));
}
BENCHMARK(BM_RecvWriteRead);

// In-order segments with a backlog of unread data, so the readable bytes wrap the ring.
void BM_RecvWriteReadBacklog(benchmark::State& state) {
  const auto payload = Payload();
  std::vector<uint8_t> out(kChunk);
  RecvBuffer b(kCapacity);
  while (b.readable() < kCapacity / 2) b.Write(0, payload);
  for (auto _ : state) {
    benchmark::DoNotOptimize(b.Write(0, payload));
    benchmark::DoNotOptimize(b.Read(out));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunk));
}
BENCHMARK(BM_RecvWriteReadBacklog);

// Pairs of segments arriving swapped: every other write goes through the Assembler.
void BM_RecvReorderedPairs(benchmark::State& state) {
  const auto payload = Payload();
  std::vector<uint8_t> out(2 * kChunk);
  RecvBuffer b(kCapacity);
  for (auto _ : state) {
    benchmark::DoNotOptimize(b.Write(kChunk, payload));
    benchmark::DoNotOptimize(b.Write(0, payload));
    benchmark::DoNotOptimize(b.Read(out));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 2 * kChunk));
}
BENCHMARK(BM_RecvReorderedPairs);

}  // namespace
}  // namespace mptcp
