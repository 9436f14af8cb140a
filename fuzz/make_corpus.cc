// Writes the wire fuzzer's seed corpus (seed_inputs.h) into a directory, by default
// fuzz/corpus/mptcp_options_fuzzer of the workspace it is run from:
//   bazel run //fuzz:make_corpus [-- OUTPUT_DIR]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz/seed_inputs.h"

int main(int argc, char** argv) {
  std::filesystem::path dir;
  if (argc > 1) {
    dir = argv[1];
  } else if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY")) {
    dir = std::filesystem::path(ws) / "fuzz/corpus/mptcp_options_fuzzer";
  } else {
    std::fprintf(stderr, "usage: make_corpus OUTPUT_DIR (or run it with bazel run)\n");
    return 2;
  }
  std::filesystem::create_directories(dir);
  size_t bytes = 0;
  const auto seeds = mptcp::fuzz::SeedInputs();
  for (const auto& seed : seeds) {
    std::ofstream f(dir / seed.name, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(seed.data.data()),
            static_cast<std::streamsize>(seed.data.size()));
    if (!f) {
      std::fprintf(stderr, "cannot write %s\n", (dir / seed.name).c_str());
      return 1;
    }
    bytes += seed.data.size();
  }
  std::printf("wrote %zu seed inputs (%zu bytes) to %s\n", seeds.size(), bytes, dir.c_str());
  return 0;
}
