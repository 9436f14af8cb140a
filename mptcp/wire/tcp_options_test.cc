#include "mptcp/wire/tcp_options.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace mptcp::wire {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes Encode(const TcpOptions& o) {
  Bytes out(kMaxTcpOptionsLength, 0xcc);
  auto n = EmitTcpOptions(o, out);
  EXPECT_TRUE(n.ok()) << n.error();
  out.resize(n.ok() ? *n : 0);
  return out;
}

WireError ParseError(const Bytes& b) {
  auto r = ParseTcpOptions(b);
  EXPECT_FALSE(r.ok());
  return r.ok() ? WireError{} : r.error();
}

// Linux's SYN options: MSS 1460, SACK-permitted + TS, NOP WS 7.
const Bytes kLinuxSyn = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 42, 0, 0, 0, 0, 1, 3, 3, 7};

TEST(TcpOptionsTest, ParsesLinuxSyn) {
  auto o = ParseTcpOptions(kLinuxSyn);
  ASSERT_TRUE(o.ok()) << o.error();
  EXPECT_EQ(o->mss, 1460);
  EXPECT_TRUE(o->sack_permitted);
  ASSERT_TRUE(o->timestamps.has_value());
  EXPECT_EQ(o->timestamps->tsval, 42u);
  EXPECT_EQ(o->timestamps->tsecr, 0u);
  EXPECT_EQ(o->window_scale, 7);
  EXPECT_EQ(o->num_sack_blocks, 0);
  EXPECT_EQ(o->mptcp_len, 0);
  // And the canonical encoding is byte-identical.
  EXPECT_EQ(Encode(*o), kLinuxSyn);
}

TEST(TcpOptionsTest, EmptyAndPadding) {
  auto o = ParseTcpOptions({});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, TcpOptions{});
  EXPECT_EQ(TcpOptions{}.EncodedLength(), 0u);
  EXPECT_TRUE(Encode(TcpOptions{}).empty());
  const Bytes pad = {1, 1, 1, 0, 0, 0, 0, 0};
  o = ParseTcpOptions(pad);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(*o, TcpOptions{});
}

TEST(TcpOptionsTest, EachOption) {
  {
    auto o = ParseTcpOptions(Bytes{2, 4, 0xff, 0xfe});
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o->mss, 0xfffe);
  }
  {
    auto o = ParseTcpOptions(Bytes{3, 3, 20, 0});  // raw shift kept (RFC 7323 §2.3)
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o->window_scale, 20);
    EXPECT_EQ(ClampWindowScale(*o->window_scale), 14);
    EXPECT_EQ(ClampWindowScale(14), 14);
    EXPECT_EQ(ClampWindowScale(3), 3);
  }
  {
    auto o = ParseTcpOptions(Bytes{4, 2});
    ASSERT_TRUE(o.ok());
    EXPECT_TRUE(o->sack_permitted);
  }
  {
    auto o = ParseTcpOptions(Bytes{8, 10, 1, 2, 3, 4, 5, 6, 7, 8});
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(o->timestamps, (TcpTimestamps{0x01020304, 0x05060708}));
  }
  for (uint8_t n = 1; n <= 4; ++n) {
    Bytes b = {5, static_cast<uint8_t>(2 + 8 * n)};
    for (uint8_t i = 0; i < n; ++i) {
      const uint32_t l = 1000u * (i + 1), r = l + 100;
      for (uint32_t v : {l, r}) {
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
      }
    }
    auto o = ParseTcpOptions(b);
    ASSERT_TRUE(o.ok()) << int{n};
    ASSERT_EQ(o->num_sack_blocks, n);
    for (uint8_t i = 0; i < n; ++i) {
      EXPECT_EQ(o->sack_blocks[i],
                (SackBlock{SeqNum32(1000u * (i + 1)), SeqNum32(1000u * (i + 1) + 100)}));
    }
    EXPECT_EQ(o->sacks().size(), n);
  }
  {
    const Bytes mp = {30, 4, 0x00, 0x81, 30, 3, 0x70};  // two MPTCP options, kept whole
    auto o = ParseTcpOptions(mp);
    ASSERT_TRUE(o.ok());
    EXPECT_EQ(Bytes(o->mptcp().begin(), o->mptcp().end()), mp);
    std::vector<Bytes> each;
    for (std::span<const uint8_t> opt : o->mptcp_options()) {
      each.emplace_back(opt.begin(), opt.end());
    }
    ASSERT_EQ(each.size(), 2u);
    EXPECT_EQ(each[0], (Bytes{30, 4, 0x00, 0x81}));
    EXPECT_EQ(each[1], (Bytes{30, 3, 0x70}));
  }
}

TEST(TcpOptionsTest, EveryWrongLengthOfKnownOptions) {
  const struct {
    uint8_t kind;
    std::set<int> valid;
  } known[] = {
      {2, {4}}, {3, {3}}, {4, {2}}, {5, {10, 18, 26, 34}}, {8, {10}},
  };
  for (const auto& k : known) {
    for (int len = 0; len <= 40; ++len) {
      Bytes b(40, 0);
      b[0] = k.kind;
      b[1] = static_cast<uint8_t>(len);
      auto r = ParseTcpOptions(b);
      if (k.valid.count(len)) {
        EXPECT_TRUE(r.ok()) << int{k.kind} << " len " << len;
        continue;
      }
      ASSERT_FALSE(r.ok()) << int{k.kind} << " len " << len;
      EXPECT_EQ(r.error(),
                (WireError{WireErrorCode::kBadOptionLength, k.kind, WireError::kNoSubtype,
                           static_cast<uint16_t>(len)}))
          << int{k.kind} << " len " << len;
    }
  }
}

TEST(TcpOptionsTest, LengthBelowTwoOrPastEnd) {
  for (uint8_t kind : {2, 5, 30, 99, 254}) {
    for (uint8_t len : {0, 1}) {
      const WireError e = ParseError(Bytes{kind, len, 0, 0});
      EXPECT_EQ(e.code, WireErrorCode::kBadOptionLength);
      EXPECT_EQ(e.option_kind, kind);
      EXPECT_EQ(e.length, len);
    }
    // Length runs one past the block.
    const WireError e = ParseError(Bytes{1, kind, 5, 0, 0});
    EXPECT_EQ(e.code, WireErrorCode::kBadOptionLength);
    EXPECT_EQ(e.option_kind, kind);
    EXPECT_EQ(e.length, 5);
    // The length byte itself is missing.
    const WireError m = ParseError(Bytes{1, 1, 1, kind});
    EXPECT_EQ(m.code, WireErrorCode::kBadOptionLength);
    EXPECT_EQ(m.option_kind, kind);
    EXPECT_EQ(m.length, 0);
  }
}

TEST(TcpOptionsTest, TruncationAtEveryByte) {
  TcpOptions o;
  o.mss = 1400;
  o.timestamps = TcpTimestamps{7, 8};
  o.window_scale = 9;
  ASSERT_TRUE(o.AddMptcpOption(Bytes{30, 12, 0x10, 0x81, 1, 2, 3, 4, 5, 6, 7, 8}));
  const Bytes full = Encode(o);
  ASSERT_EQ(full.size(), 32u);
  // Option boundaries in the canonical layout: MSS | NOP NOP TS | NOP WS | MPTCP.
  const std::set<size_t> boundaries = {0, 4, 5, 6, 16, 17, 20, 32};
  for (size_t n = 0; n <= full.size(); ++n) {
    auto r = ParseTcpOptions(std::span<const uint8_t>(full).first(n));
    if (boundaries.count(n)) {
      EXPECT_TRUE(r.ok()) << n;
    } else {
      ASSERT_FALSE(r.ok()) << n;
      EXPECT_EQ(r.error().code, WireErrorCode::kBadOptionLength) << n;
      EXPECT_NE(r.error().option_kind, 0) << n;
    }
  }
  auto r = ParseTcpOptions(full);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, o);
}

TEST(TcpOptionsTest, UnknownOptionsSkipped) {
  // MD5 (19, len 18), an experimental option (254, len 4), TFO cookie (34, len 10; kept, not
  // skipped: RFC 7413), then MSS.
  Bytes b = {19, 18};
  b.resize(18, 0xab);
  for (uint8_t x : {254, 4, 0xf9, 0x89, 34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 2, 4, 0x05, 0xa0}) {
    b.push_back(x);
  }
  auto o = ParseTcpOptions(b);
  ASSERT_TRUE(o.ok()) << o.error();
  TcpOptions want;
  want.mss = 1440;
  const uint8_t cookie[] = {1, 2, 3, 4, 5, 6, 7, 8};
  want.fast_open = TcpFastOpenCookie::Of(cookie);
  EXPECT_EQ(*o, want);
  // An unknown option of minimal length 2.
  o = ParseTcpOptions(Bytes{200, 2, 4, 2});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->sack_permitted);
}

TEST(TcpOptionsTest, EolInTheMiddleEndsTheList) {
  // MSS, EOL, then bytes that would be an error and a window scale if parsed.
  const Bytes b = {2, 4, 0x05, 0xb4, 0, 3, 3, 7, 8, 99};
  auto o = ParseTcpOptions(b);
  ASSERT_TRUE(o.ok()) << o.error();
  EXPECT_EQ(o->mss, 1460);
  EXPECT_FALSE(o->window_scale.has_value());
  EXPECT_FALSE(o->timestamps.has_value());
}

TEST(TcpOptionsTest, DuplicatesLastWins) {
  const Bytes b = {2, 4, 0, 100, 2, 4, 0, 200, 3, 3, 1, 3, 3, 2,
                   5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 5, 10, 0, 0, 0, 3, 0, 0, 0, 4, 4, 2, 4, 2};
  auto o = ParseTcpOptions(b);
  ASSERT_TRUE(o.ok()) << o.error();
  EXPECT_EQ(o->mss, 200);
  EXPECT_EQ(o->window_scale, 2);
  ASSERT_EQ(o->num_sack_blocks, 1);
  EXPECT_EQ(o->sack_blocks[0], (SackBlock{SeqNum32(3), SeqNum32(4)}));
  EXPECT_TRUE(o->sack_permitted);
}

TEST(TcpOptionsTest, OversizedBlockCannotOverflowMptcpBytes) {
  // A caller handing more than 40 bytes: MPTCP bytes are capped at 40.
  Bytes b;
  for (int i = 0; i < 5; ++i) {
    for (uint8_t x : {30, 10, 0x20, 0, 0, 0, 0, 0, 0, 0}) b.push_back(x);
  }
  const WireError e = ParseError(b);
  EXPECT_EQ(e.code, WireErrorCode::kBadOptionLength);
  EXPECT_EQ(e.option_kind, 30);
}

TEST(TcpOptionsTest, CanonicalLayouts) {
  TcpOptions o;
  o.sack_permitted = true;
  EXPECT_EQ(Encode(o), (Bytes{1, 1, 4, 2}));
  o.timestamps = TcpTimestamps{1, 2};
  EXPECT_EQ(Encode(o), (Bytes{4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}));
  o.sack_permitted = false;
  EXPECT_EQ(Encode(o), (Bytes{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}));
  o = TcpOptions{};
  o.window_scale = 14;
  EXPECT_EQ(Encode(o), (Bytes{1, 3, 3, 14}));
  o = TcpOptions{};
  o.AddSackBlock({SeqNum32(5), SeqNum32(9)});
  EXPECT_EQ(Encode(o), (Bytes{1, 1, 5, 10, 0, 0, 0, 5, 0, 0, 0, 9}));
  o = TcpOptions{};
  ASSERT_TRUE(o.AddMptcpOption(Bytes{30, 3, 0x70}));
  EXPECT_EQ(o.EncodedLength(), 4u);
  EXPECT_EQ(Encode(o), (Bytes{30, 3, 0x70, 1}));  // NOP-padded
}

TEST(TcpOptionsTest, Full40ByteBlocks) {
  TcpOptions o;
  o.timestamps = TcpTimestamps{0xdeadbeef, 0xfeedface};
  for (uint32_t i = 0; i < 3; ++i) ASSERT_TRUE(o.AddSackBlock({SeqNum32(i), SeqNum32(i + 10)}));
  EXPECT_EQ(o.EncodedLength(), 40u);
  Bytes enc = Encode(o);
  ASSERT_EQ(enc.size(), 40u);
  auto back = ParseTcpOptions(enc);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(*back, o);

  TcpOptions m;
  m.mss = 1460;
  m.timestamps = TcpTimestamps{1, 0};
  m.window_scale = 7;
  Bytes mp(20, 0);
  mp[0] = 30;
  mp[1] = 20;
  ASSERT_TRUE(m.AddMptcpOption(mp));
  EXPECT_EQ(m.EncodedLength(), 40u);
  enc = Encode(m);
  ASSERT_EQ(enc.size(), 40u);
  back = ParseTcpOptions(enc);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(*back, m);

  // A fourth SACK block does not fit beside timestamps.
  ASSERT_TRUE(o.AddSackBlock({SeqNum32(100), SeqNum32(200)}));
  EXPECT_EQ(o.EncodedLength(), 48u);
  Bytes out(64);
  auto r = EmitTcpOptions(o, out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WireErrorCode::kInvalidField);
  EXPECT_EQ(r.error().length, 48);
  EXPECT_FALSE(o.AddSackBlock({SeqNum32(1), SeqNum32(2)}));  // all four slots used
}

TEST(TcpOptionsTest, EmitErrors) {
  TcpOptions o;
  o.mss = 1460;
  Bytes out(3);
  auto r = EmitTcpOptions(o, out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, WireErrorCode::kBufferTooSmall);

  out.resize(40);
  o.num_sack_blocks = 5;
  EXPECT_EQ(EmitTcpOptions(o, out).error().code, WireErrorCode::kInvalidField);
  o.num_sack_blocks = 0;

  o.mptcp_len = 3;
  o.mptcp_bytes = {31, 3, 0};  // not kind 30
  EXPECT_EQ(EmitTcpOptions(o, out).error().code, WireErrorCode::kInvalidField);
  o.mptcp_bytes = {30, 4, 0};  // runs past mptcp_len
  EXPECT_EQ(EmitTcpOptions(o, out).error().code, WireErrorCode::kInvalidField);
  o.mptcp_bytes = {30, 1, 0};  // length < 2
  EXPECT_EQ(EmitTcpOptions(o, out).error().code, WireErrorCode::kInvalidField);
  o.mptcp_len = 41;
  EXPECT_EQ(EmitTcpOptions(o, out).error().code, WireErrorCode::kInvalidField);
  o.mptcp_len = 0;
  EXPECT_TRUE(EmitTcpOptions(o, out).ok());
}

TEST(TcpOptionsTest, AddMptcpOption) {
  TcpOptions o;
  EXPECT_FALSE(o.AddMptcpOption(Bytes{}));
  EXPECT_FALSE(o.AddMptcpOption(Bytes{30}));
  EXPECT_FALSE(o.AddMptcpOption(Bytes{2, 4, 0, 0}));      // not MPTCP
  EXPECT_FALSE(o.AddMptcpOption(Bytes{30, 5, 0, 0}));     // length byte != size
  EXPECT_EQ(o.mptcp_len, 0);
  Bytes big(36, 0);
  big[0] = 30;
  big[1] = 36;
  EXPECT_TRUE(o.AddMptcpOption(big));
  EXPECT_TRUE(o.AddMptcpOption(Bytes{30, 4, 0, 0}));      // exactly 40
  EXPECT_FALSE(o.AddMptcpOption(Bytes{30, 2}));           // no room
  EXPECT_EQ(o.mptcp_len, 40);
  int count = 0;
  for (auto opt : o.mptcp_options()) {
    (void)opt;
    ++count;
  }
  EXPECT_EQ(count, 2);
  o.ClearMptcp();
  EXPECT_TRUE(o.mptcp().empty());
}

TEST(TcpOptionsTest, MptcpIteratorIsSafeOverGarbage) {
  TcpOptions o;
  o.mptcp_len = 40;  // set directly, bypassing AddMptcpOption
  o.mptcp_bytes[0] = 30;
  o.mptcp_bytes[1] = 6;
  o.mptcp_bytes[6] = 30;
  o.mptcp_bytes[7] = 0;  // a zero length would loop forever if followed
  int count = 0;
  for (auto opt : o.mptcp_options()) {
    EXPECT_EQ(opt.size(), 6u);
    ++count;
  }
  EXPECT_EQ(count, 1);
  o.mptcp_bytes[7] = 200;  // runs past the end
  count = 0;
  for (auto opt : o.mptcp_options()) {
    (void)opt;
    ++count;
  }
  EXPECT_EQ(count, 1);
  o.mptcp_len = 250;  // out of range: clamped to the array
  EXPECT_EQ(o.mptcp().size(), 40u);
}

TEST(TcpOptionsTest, EqualityIgnoresUnusedTails) {
  TcpOptions a, b;
  a.sack_blocks[2] = {SeqNum32(1), SeqNum32(2)};
  a.mptcp_bytes[5] = 9;
  EXPECT_EQ(a, b);
  a.num_sack_blocks = 3;
  EXPECT_NE(a, b);
}

TEST(TcpOptionsTest, RandomRoundTrips) {
  std::mt19937 rng(7323);
  auto u32 = [&rng] { return static_cast<uint32_t>(rng()); };
  int emitted = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    TcpOptions o;
    if (rng() & 1) o.mss = static_cast<uint16_t>(rng());
    if (rng() & 1) o.window_scale = static_cast<uint8_t>(rng());
    o.sack_permitted = rng() & 1;
    if (rng() & 1) o.timestamps = TcpTimestamps{u32(), u32()};
    const int nsack = static_cast<int>(rng() % 5);
    for (int i = 0; i < nsack; ++i) {
      o.AddSackBlock({SeqNum32(u32()), SeqNum32(u32())});
    }
    const int nmp = static_cast<int>(rng() % 3);
    for (int i = 0; i < nmp; ++i) {
      Bytes mp(2 + rng() % 20);
      for (auto& x : mp) x = static_cast<uint8_t>(rng());
      mp[0] = 30;
      mp[1] = static_cast<uint8_t>(mp.size());
      o.AddMptcpOption(mp);
    }
    Bytes out(kMaxTcpOptionsLength);
    auto n = EmitTcpOptions(o, out);
    const size_t want_len = o.EncodedLength();
    if (want_len > kMaxTcpOptionsLength) {
      ASSERT_FALSE(n.ok());
      EXPECT_EQ(n.error().code, WireErrorCode::kInvalidField);
      continue;
    }
    ASSERT_TRUE(n.ok()) << n.error();
    ASSERT_EQ(*n, want_len);
    ASSERT_EQ(*n % 4, 0u);
    ++emitted;
    auto back = ParseTcpOptions(std::span<const uint8_t>(out).first(*n));
    ASSERT_TRUE(back.ok()) << back.error();
    ASSERT_EQ(*back, o) << o << " vs " << *back;
  }
  EXPECT_GT(emitted, 5000);
}

TEST(TcpOptionsTest, ToString) {
  auto o = ParseTcpOptions(kLinuxSyn);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->ToString(), "mss 1460,sackOK,TS val 42 ecr 0,wscale 7");
  TcpOptions s;
  s.AddSackBlock({SeqNum32(10), SeqNum32(20)});
  ASSERT_TRUE(s.AddMptcpOption(Bytes{30, 4, 0x20, 0}));
  EXPECT_EQ(s.ToString(), "sack 1 {10:20},mptcp sub 2 len 4");
}

// RFC 7413 §4.1.1: a cookie request (length 2) and cookies of 4 to 16 bytes are kept.
TEST(TcpOptionsTest, FastOpenCookieParsed) {
  auto req = ParseTcpOptions(Bytes{2, 4, 0x05, 0xb4, 34, 2, 1, 1});
  ASSERT_TRUE(req.ok()) << req.error();
  ASSERT_TRUE(req->fast_open.has_value());
  EXPECT_EQ(req->fast_open->len, 0u);
  EXPECT_EQ(req->mss, 1460);
  for (uint8_t n : {4, 8, 16}) {
    Bytes b = {34, static_cast<uint8_t>(2 + n)};
    for (uint8_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(0xa0 + i));
    auto o = ParseTcpOptions(b);
    ASSERT_TRUE(o.ok()) << o.error();
    ASSERT_TRUE(o->fast_open.has_value()) << int{n};
    EXPECT_EQ(o->fast_open->len, n);
    EXPECT_TRUE(std::ranges::equal(o->fast_open->cookie(), std::span<const uint8_t>(b).subspan(2)));
  }
}

// Other lengths are skipped as before, not errors: the core's acceptance is unchanged.
TEST(TcpOptionsTest, FastOpenBadLengthSkipped) {
  for (uint8_t len : {3, 4, 5, 19, 20}) {
    Bytes b = {34, len};
    b.resize(len, 0x11);
    b.insert(b.end(), {2, 4, 0x05, 0xb4});
    auto o = ParseTcpOptions(b);
    ASSERT_TRUE(o.ok()) << int{len} << ": " << o.error();
    EXPECT_FALSE(o->fast_open.has_value()) << int{len};
    EXPECT_EQ(o->mss, 1460);
  }
}

// Emitted after SACK and before MPTCP, NOP-padded to 4 bytes, like Linux.
TEST(TcpOptionsTest, FastOpenEmitRoundTrip) {
  TcpOptions o;
  o.mss = 1460;
  const uint8_t cookie[] = {1, 2, 3, 4, 5, 6};
  o.fast_open = TcpFastOpenCookie::Of(cookie);
  const uint8_t mp[] = {30, 4, 0x01, 0x81};
  ASSERT_TRUE(o.AddMptcpOption(mp));
  EXPECT_EQ(o.EncodedLength(), 4u + 8 + 4);
  const Bytes b = Encode(o);
  EXPECT_EQ(b, (Bytes{2, 4, 0x05, 0xb4, 34, 8, 1, 2, 3, 4, 5, 6, 30, 4, 0x01, 0x81}));
  auto p = ParseTcpOptions(b);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, o);
  EXPECT_NE(p->ToString().find("tfo cookie 010203040506"), std::string::npos) << p->ToString();

  TcpOptions r;
  r.fast_open = TcpFastOpenCookie{};  // a request
  EXPECT_EQ(Encode(r), (Bytes{34, 2, 1, 1}));
  TcpOptions none;
  EXPECT_NE(none, r);
}

TEST(TcpOptionsTest, FastOpenInvalidCookieNotEmitted) {
  TcpOptions o;
  o.fast_open = TcpFastOpenCookie{};
  o.fast_open->len = 3;
  Bytes out(40, 0);
  auto n = EmitTcpOptions(o, out);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().code, WireErrorCode::kInvalidField);
  EXPECT_EQ(n.error().option_kind, 34);
}

}  // namespace
}  // namespace mptcp::wire
