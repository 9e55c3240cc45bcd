//===- AttentionTest.cpp - memory-efficient attention ---------------------===//
//
// References materialize the full score matrix in double.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <limits>

namespace mimo::kernels::test {
namespace {

const int64_t S = 13, D = 8;

bool visible(const AttentionParams &p, int64_t qpos, int64_t kpos) {
  if (p.causal && kpos > qpos)
    return false;
  if (p.segment > 0 && qpos / p.segment != kpos / p.segment)
    return false;
  return true;
}

// Naive attention of q rows at qOffset.. against k/v rows at kOffset..
void naiveAttention(const AttentionParams &p, int64_t qOffset, int64_t kOffset,
                    int64_t sq, int64_t sk, const Vec &q, const Vec &k,
                    const Vec &v, DVec &out, DVec &lse) {
  int64_t hq = p.qHeads, hkv = p.kvHeads, group = hq / hkv;
  double scale = 1.0 / std::sqrt(double(D));
  out.assign(sq * hq * D, 0.0);
  lse.assign(sq * hq, -std::numeric_limits<double>::infinity());
  for (int64_t h = 0; h < hq; ++h) {
    int64_t g = h / group;
    for (int64_t i = 0; i < sq; ++i) {
      DVec s(sk, -std::numeric_limits<double>::infinity());
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < sk; ++j) {
        if (!visible(p, qOffset + i, kOffset + j))
          continue;
        double d = 0;
        for (int64_t c = 0; c < D; ++c)
          d += double(q[(i * hq + h) * D + c]) * k[(j * hkv + g) * D + c];
        s[j] = d * scale;
        m = std::max(m, s[j]);
      }
      if (m == -std::numeric_limits<double>::infinity())
        continue;
      double z = 0;
      for (int64_t j = 0; j < sk; ++j)
        z += std::exp(s[j] - m);
      for (int64_t j = 0; j < sk; ++j) {
        double pj = std::exp(s[j] - m) / z;
        for (int64_t c = 0; c < D; ++c)
          out[(i * hq + h) * D + c] += pj * v[(j * hkv + g) * D + c];
      }
      lse[i * hq + h] = m + std::log(z);
    }
  }
}

struct Case {
  bool causal;
  int64_t hq, hkv, segment;
};

std::string caseName(const ::testing::TestParamInfo<Case> &info) {
  const Case &c = info.param;
  return std::string(c.causal ? "Causal" : "Bidir") + "Hq" +
         std::to_string(c.hq) + "Hkv" + std::to_string(c.hkv) + "Seg" +
         std::to_string(c.segment);
}

class Attention : public ::testing::TestWithParam<Case> {
protected:
  AttentionParams params() const {
    AttentionParams p;
    p.qHeads = GetParam().hq;
    p.kvHeads = GetParam().hkv;
    p.headDim = D;
    p.causal = GetParam().causal;
    p.segment = GetParam().segment;
    return p;
  }
  int64_t qw() const { return GetParam().hq * D; }
  int64_t kw() const { return GetParam().hkv * D; }
  std::unique_ptr<Kernels> K = createCpuKernels();
};

TEST_P(Attention, ForwardMatchesNaive) {
  AttentionParams p = params();
  Vec q = randn(S * qw(), 1), k = randn(S * kw(), 2), v = randn(S * kw(), 3),
      out(S * qw()), lse(S * p.qHeads);
  ASSERT_OK(K->attentionForward(p, view(q, {S, qw()}), view(k, {S, kw()}),
                                view(v, {S, kw()}), view(out, {S, qw()}),
                                view(lse, {S, p.qHeads})));
  DVec wo, wl;
  naiveAttention(p, 0, 0, S, S, q, k, v, wo, wl);
  expectClose(out, wo, 1e-5, "out");
  expectClose(lse, wl, 1e-5, "lse");
}

TEST_P(Attention, BackwardMatchesFiniteDifferences) {
  AttentionParams p = params();
  Vec q = randn(S * qw(), 1), k = randn(S * kw(), 2), v = randn(S * kw(), 3),
      out(S * qw()), lse(S * p.qHeads), r = randn(S * qw(), 4);
  auto loss = [&] {
    EXPECT_OK(K->attentionForward(p, view(q, {S, qw()}), view(k, {S, kw()}),
                                  view(v, {S, kw()}), view(out, {S, qw()}),
                                  view(lse, {S, p.qHeads})));
    return project(out, r);
  };
  loss();
  Vec dq(S * qw(), 7.0f), dk(S * kw(), 7.0f), dv(S * kw(), 7.0f); // overwritten
  std::vector<char> ws(K->attentionBackwardWorkspaceBytes(p, S));
  ASSERT_OK(K->attentionBackward(
      p, view(q, {S, qw()}), view(k, {S, kw()}), view(v, {S, kw()}),
      view(out, {S, qw()}), view(lse, {S, p.qHeads}), view(r, {S, qw()}),
      view(dq, {S, qw()}), view(dk, {S, kw()}), view(dv, {S, kw()}),
      Workspace{ws.data(), ws.size()}));
  gradCheck("dq", q, dq, loss);
  gradCheck("dk", k, dk, loss);
  gradCheck("dv", v, dv, loss);
}

// Ring-attention composition: query chunks against key chunks with global
// offsets, merged, equal the full attention; block backwards sum to the
// full backward.
TEST_P(Attention, BlocksComposeToFullResult) {
  AttentionParams p = params();
  const int64_t hq = p.qHeads;
  Vec q = randn(S * qw(), 1), k = randn(S * kw(), 2), v = randn(S * kw(), 3),
      out(S * qw()), lse(S * hq), dout = randn(S * qw(), 4);
  ASSERT_OK(K->attentionForward(p, view(q, {S, qw()}), view(k, {S, kw()}),
                                view(v, {S, kw()}), view(out, {S, qw()}),
                                view(lse, {S, hq})));
  Vec dq(S * qw()), dk(S * kw()), dv(S * kw());
  std::vector<char> ws(K->attentionBackwardWorkspaceBytes(p, S));
  Workspace w{ws.data(), ws.size()};
  ASSERT_OK(K->attentionBackward(
      p, view(q, {S, qw()}), view(k, {S, kw()}), view(v, {S, kw()}),
      view(out, {S, qw()}), view(lse, {S, hq}), view(dout, {S, qw()}),
      view(dq, {S, qw()}), view(dk, {S, kw()}), view(dv, {S, kw()}), w));

  const std::vector<std::pair<int64_t, int64_t>> chunks = {
      {0, 4}, {4, 9}, {9, 13}};
  auto rows = [](const Vec &x, int64_t width, int64_t b, int64_t e) {
    return Vec(x.begin() + b * width, x.begin() + e * width);
  };
  Vec bdq(S * qw(), 0.0f), bdk(S * kw(), 0.0f), bdv(S * kw(), 0.0f);
  for (auto [qb, qe] : chunks) {
    int64_t sq = qe - qb;
    Vec qc = rows(q, qw(), qb, qe), oc(sq * qw()), lc(sq * hq);
    bool first = true;
    // Visit key chunks in reverse to show the merge is order independent.
    for (auto it = chunks.rbegin(); it != chunks.rend(); ++it) {
      auto [kb, ke] = *it;
      int64_t sk = ke - kb;
      Vec kc = rows(k, kw(), kb, ke), vc = rows(v, kw(), kb, ke), bo(sq * qw()),
          bl(sq * hq);
      ASSERT_OK(K->attentionBlockForward(
          p, qb, kb, view(qc, {sq, qw()}), view(kc, {sk, kw()}),
          view(vc, {sk, kw()}), view(bo, {sq, qw()}), view(bl, {sq, hq})));
      DVec wo, wl;
      naiveAttention(p, qb, kb, sq, sk, qc, kc, vc, wo, wl);
      for (size_t i = 0; i < bl.size(); ++i) {
        if (std::isinf(wl[i]))
          EXPECT_TRUE(std::isinf(bl[i]) && bl[i] < 0) << "masked row lse";
        else
          EXPECT_NEAR(bl[i], wl[i], 1e-5 * std::max(1.0, std::fabs(wl[i])));
      }
      if (first) {
        oc = bo;
        lc = bl;
        first = false;
      } else {
        ASSERT_OK(K->attentionMerge(view(oc, {sq, qw()}), view(lc, {sq, hq}),
                                    view(bo, {sq, qw()}), view(bl, {sq, hq})));
      }
    }
    expectClose(oc, rows(out, qw(), qb, qe), 1e-5, "merged out");
    expectClose(lc, rows(lse, hq, qb, qe), 1e-5, "merged lse");

    Vec go = rows(dout, qw(), qb, qe), fo = rows(out, qw(), qb, qe),
        fl = rows(lse, hq, qb, qe), dqc(sq * qw(), 0.0f);
    for (auto [kb, ke] : chunks) {
      int64_t sk = ke - kb;
      Vec kc = rows(k, kw(), kb, ke), vc = rows(v, kw(), kb, ke),
          dkc = rows(bdk, kw(), kb, ke), dvc = rows(bdv, kw(), kb, ke);
      ASSERT_OK(K->attentionBlockBackward(
          p, qb, kb, view(qc, {sq, qw()}), view(kc, {sk, kw()}),
          view(vc, {sk, kw()}), view(fo, {sq, qw()}), view(fl, {sq, hq}),
          view(go, {sq, qw()}), view(dqc, {sq, qw()}), view(dkc, {sk, kw()}),
          view(dvc, {sk, kw()}), w));
      std::copy(dkc.begin(), dkc.end(), bdk.begin() + kb * kw());
      std::copy(dvc.begin(), dvc.end(), bdv.begin() + kb * kw());
    }
    std::copy(dqc.begin(), dqc.end(), bdq.begin() + qb * qw());
  }
  expectClose(bdq, dq, 1e-5, "blockwise dq");
  expectClose(bdk, dk, 1e-5, "blockwise dk");
  expectClose(bdv, dv, 1e-5, "blockwise dv");
}

INSTANTIATE_TEST_SUITE_P(
    Variants, Attention,
    ::testing::Values(Case{false, 2, 2, 0}, Case{true, 2, 2, 0},
                      Case{false, 4, 2, 0}, Case{true, 4, 1, 0},
                      Case{false, 2, 2, 5}, Case{true, 4, 2, 5},
                      Case{false, 3, 1, 4}),
    caseName);

TEST(AttentionLong, ManyKeyBlocksMatchNaive) {
  // Longer than one internal key block, so the online rescaling is used.
  auto K = createCpuKernels();
  AttentionParams p{2, 1, 16, true, 0, 0.0f};
  const int64_t s = 150;
  Vec q = randn(s * 32, 1, 2.0f), k = randn(s * 16, 2, 2.0f),
      v = randn(s * 16, 3), out(s * 32), lse(s * 2);
  ASSERT_OK(K->attentionForward(p, view(q, {s, 32}), view(k, {s, 16}),
                                view(v, {s, 16}), view(out, {s, 32}),
                                view(lse, {s, 2})));
  DVec wo, wl;
  // naiveAttention is written for D = 8; this reference is for D = 16.
  wo.assign(s * 32, 0.0);
  wl.assign(s * 2, 0.0);
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t i = 0; i < s; ++i) {
      DVec sc(i + 1);
      double m = -1e300;
      for (int64_t j = 0; j <= i; ++j) {
        double d = 0;
        for (int64_t c = 0; c < 16; ++c)
          d += double(q[(i * 2 + h) * 16 + c]) * k[j * 16 + c];
        sc[j] = d / 4.0;
        m = std::max(m, sc[j]);
      }
      double z = 0;
      for (int64_t j = 0; j <= i; ++j)
        z += std::exp(sc[j] - m);
      for (int64_t j = 0; j <= i; ++j)
        for (int64_t c = 0; c < 16; ++c)
          wo[(i * 2 + h) * 16 + c] += std::exp(sc[j] - m) / z * v[j * 16 + c];
      wl[i * 2 + h] = m + std::log(z);
    }
  expectClose(out, wo, 1e-5, "out");
  expectClose(lse, wl, 1e-5, "lse");
}

TEST(AttentionErrors, RejectsBadHeadsShapesAndWorkspace) {
  auto K = createCpuKernels();
  Vec q(4 * 24), k(4 * 16), v(4 * 16), o(4 * 24), l(4 * 3);
  AttentionParams p{3, 2, 8, false, 0, 0.0f};
  expectError(K->attentionForward(p, view(q, {4, 24}), view(k, {4, 16}),
                                  view(v, {4, 16}), view(o, {4, 24}),
                                  view(l, {4, 3})),
              {"attention_forward", "query heads (3)", "kv heads (2)"});
  p = AttentionParams{3, 1, 8, false, 0, 0.0f};
  expectError(
      K->attentionForward(p, view(q, {4, 24}), view(k, {4, 16}),
                          view(v, {4, 16}), view(o, {4, 24}), view(l, {4, 3})),
      {"attention_forward", "'k'", "expected f32[4, 8]", "found f32[4, 16]"});
  p = AttentionParams{3, 3, 8, false, 0, 0.0f};
  Vec k3(4 * 24), v3(4 * 24), dq(4 * 24), dk(4 * 24), dv(4 * 24), g(4 * 24);
  std::vector<char> ws(8);
  expectError(K->attentionBackward(
                  p, view(q, {4, 24}), view(k3, {4, 24}), view(v3, {4, 24}),
                  view(o, {4, 24}), view(l, {4, 3}), view(g, {4, 24}),
                  view(dq, {4, 24}), view(dk, {4, 24}), view(dv, {4, 24}),
                  Workspace{ws.data(), ws.size()}),
              {"attention_backward", "'workspace'", "48 bytes", "found 8"});
}

} // namespace
} // namespace mimo::kernels::test
