// Writes the capture-analyser fuzzer's seed corpus: a few tiny valid captures of a scripted
// MPTCP connection in each supported file format and link type (tools/trace/capture_builder.h),
// by default into fuzz/corpus/pcap_reader_fuzzer of the workspace it is run from:
//   bazel run //fuzz:make_pcap_corpus [-- OUTPUT_DIR]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "tools/trace/capture_builder.h"
#include "tools/trace/pcap_reader.h"

namespace {

namespace t = mptcp::trace::testing;
namespace lt = mptcp::trace::LinkType;

std::vector<std::pair<std::string, t::Bytes>> Seeds() {
  std::vector<std::pair<std::string, t::Bytes>> out;
  t::ScriptOptions small;
  small.segments_each = 1;
  small.segment_bytes = 100;
  const t::ScriptedConnection sc = t::ScriptConnection(small);
  {
    t::PcapFile f(lt::kRaw);
    for (size_t i = 0; i < sc.packets.size(); ++i) f.Add(sc.times_ns[i], sc.packets[i]);
    out.emplace_back("raw-le-micro.pcap", f.bytes());
  }
  {
    t::PcapFile f(lt::kLinuxSll, /*big_endian=*/true, /*nanos=*/true, /*snaplen=*/96);
    for (size_t i = 0; i < sc.packets.size(); ++i) f.Add(sc.times_ns[i], t::LinuxSll(sc.packets[i]));
    out.emplace_back("sll-be-nano-cut.pcap", f.bytes());
  }
  {
    t::PcapngFile f;
    const uint16_t vlan[] = {7};
    f.AddInterface(lt::kEthernet, 128, 9);
    f.AddInterface(lt::kLinuxSll2, 0, 6);
    for (size_t i = 0; i < sc.packets.size(); ++i) {
      if (i % 2 == 0) {
        f.AddPacket(0, static_cast<uint64_t>(sc.times_ns[i]), t::Ethernet(sc.packets[i], vlan), 128);
      } else {
        f.AddPacket(1, static_cast<uint64_t>(sc.times_ns[i] / 1000), t::LinuxSll2(sc.packets[i]));
      }
    }
    out.emplace_back("eth-vlan-sll2.pcapng", f.bytes());
  }
  {
    t::ScriptOptions o = small;
    o.reinject = true;
    o.fastclose = true;
    o.conflicting_mapping = true;
    const t::ScriptedConnection x = t::ScriptConnection(o);
    t::PcapngFile f(/*big_endian=*/true);
    f.AddInterface(lt::kRaw);
    for (size_t i = 0; i < x.packets.size(); ++i) {
      f.AddPacket(0, static_cast<uint64_t>(x.times_ns[i] / 1000), x.packets[i]);
    }
    f.AddSimplePacket(x.packets[0]);
    out.emplace_back("raw-be-findings.pcapng", f.bytes());
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path dir;
  if (argc > 1) {
    dir = argv[1];
  } else if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY")) {
    dir = std::filesystem::path(ws) / "fuzz/corpus/pcap_reader_fuzzer";
  } else {
    std::fprintf(stderr, "usage: make_pcap_corpus OUTPUT_DIR (or run it with bazel run)\n");
    return 2;
  }
  std::filesystem::create_directories(dir);
  size_t bytes = 0;
  const auto seeds = Seeds();
  for (const auto& [name, data] : seeds) {
    std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    if (!f) {
      std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
      return 1;
    }
    bytes += data.size();
  }
  std::printf("wrote %zu seed captures (%zu bytes) to %s\n", seeds.size(), bytes, dir.c_str());
  return 0;
}
