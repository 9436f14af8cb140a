"""A repository rule exposing Debian's system libraries as cc_library targets via pkg-config.

A BUILD file cannot run pkg-config; a repository rule can. Each entry of _LIBS becomes
`@syslibs//:<name>` with the compile flags and link options pkg-config reports.
"""

_LIBS = {
    "absl": [
        "absl_status",
        "absl_statusor",
        "absl_strings",
        "absl_str_format",
        "absl_flat_hash_map",
        "absl_inlined_vector",
        "absl_span",
        "absl_hash",
        "absl_btree",
    ],
    "absl_flags": ["absl_flags", "absl_flags_parse", "absl_flags_usage"],
    "fmt": ["fmt"],
    "gtest": ["gmock", "gtest"],
    "gtest_main": ["gmock_main", "gmock", "gtest"],
    "benchmark": ["benchmark"],
    "nlohmann_json": ["nlohmann_json"],
}

def _pkg_config(ctx, flag, modules):
    res = ctx.execute(["pkg-config", flag] + modules)
    if res.return_code != 0:
        fail("pkg-config %s %s failed: %s\nInstall the Debian -dev packages listed in README.md." %
             (flag, " ".join(modules), res.stderr))
    return [t for t in res.stdout.strip().split(" ") if t]

def _syslibs_impl(ctx):
    out = ['package(default_visibility = ["//visibility:public"])', ""]
    for name, modules in _LIBS.items():
        cflags = _pkg_config(ctx, "--cflags", modules)
        libs = _pkg_config(ctx, "--libs", modules)
        defines = [f[2:] for f in cflags if f.startswith("-D")]
        copts = [f for f in cflags if not f.startswith("-D") and not f.startswith("-I/usr/include")]
        out.append("cc_library(")
        out.append('    name = "%s",' % name)
        out.append("    defines = %s," % repr(defines))
        out.append("    copts = %s," % repr(copts))
        out.append("    linkopts = %s," % repr(libs + ["-lpthread"]))
        out.append(")")
        out.append("")
    # Debian ships no benchmark_main.pc; the library is there, so link it by name.
    bench = _pkg_config(ctx, "--libs", ["benchmark"])
    out.append('cc_library(name = "benchmark_main", linkopts = %s)' % repr(["-lbenchmark_main"] + bench + ["-lpthread"]))
    out.append("")
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD.bazel", "\n".join(out))

syslibs = repository_rule(
    implementation = _syslibs_impl,
    local = True,
    environ = ["PKG_CONFIG_PATH"],
)
