//===- PatchEmbedTest.cpp - image patches to tokens -----------------------===//

#include "TestUtil.h"

namespace mimo::kernels::test {
namespace {

const int64_t N = 2, C = 3, IH = 8, IW = 4, P = 2, HID = 5;
const int64_t PATCHES = (IH / P) * (IW / P), CPP = C * P * P;

struct Case {
  int64_t cls;
  bool biasAndPos;
};

class PatchEmbed : public ::testing::TestWithParam<Case> {
protected:
  int64_t tokens() const { return GetParam().cls + PATCHES; }
  PatchEmbedParams params() const { return {P, GetParam().cls}; }
  std::unique_ptr<Kernels> K = createCpuKernels();
  Vec pix = randn(N * C * IH * IW, 1), w = randn(CPP * HID, 2),
      b = randn(HID, 3), pos = randn((GetParam().cls + PATCHES) * HID, 4),
      cls = randn(std::max<int64_t>(GetParam().cls, 1) * HID, 5);

  TensorView pixView() { return view(pix, {N, C, IH, IW}); }
  TensorView bView() {
    return GetParam().biasAndPos ? view(b, {HID}) : TensorView();
  }
  TensorView posView() {
    return GetParam().biasAndPos ? view(pos, {tokens(), HID}) : TensorView();
  }
  TensorView clsView() {
    return GetParam().cls ? view(cls, {GetParam().cls, HID}) : TensorView();
  }
  std::vector<char> workspace() {
    return std::vector<char>(K->patchEmbedWorkspaceBytes(params(), pixView()));
  }
  Status forward(Vec &out) {
    auto ws = workspace();
    return K->patchEmbedForward(
        params(), pixView(), view(w, {CPP, HID}), bView(), posView(), clsView(),
        view(out, {N * tokens(), HID}), Workspace{ws.data(), ws.size()});
  }
};

TEST_P(PatchEmbed, ForwardMatchesNaive) {
  const int64_t t = tokens(), nc = GetParam().cls;
  Vec out(N * t * HID);
  ASSERT_OK(forward(out));
  DVec want(N * t * HID, 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t tok = 0; tok < t; ++tok)
      for (int64_t h = 0; h < HID; ++h) {
        double s = 0.0;
        if (tok < nc) {
          s = cls[tok * HID + h];
        } else {
          int64_t pi = tok - nc, py = pi / (IW / P), px = pi % (IW / P);
          for (int64_t c = 0; c < C; ++c)
            for (int64_t dy = 0; dy < P; ++dy)
              for (int64_t dx = 0; dx < P; ++dx)
                s += double(pix[((n * C + c) * IH + py * P + dy) * IW + px * P +
                                dx]) *
                     w[((c * P + dy) * P + dx) * HID + h];
          if (GetParam().biasAndPos)
            s += b[h];
        }
        if (GetParam().biasAndPos)
          s += pos[tok * HID + h];
        want[(n * t + tok) * HID + h] = s;
      }
  expectClose(out, want, 1e-5, "tokens");
}

TEST_P(PatchEmbed, BackwardMatchesFiniteDifferences) {
  const int64_t t = tokens(), nc = GetParam().cls;
  Vec out(N * t * HID), r = randn(N * t * HID, 6);
  auto loss = [&] {
    EXPECT_OK(forward(out));
    return project(out, r);
  };
  Vec dw0 = randn(CPP * HID, 7), dw = dw0, db0 = randn(HID, 8), db = db0,
      dpos0 = randn(t * HID, 9), dpos = dpos0,
      dcls0 = randn(std::max<int64_t>(nc, 1) * HID, 10), dcls = dcls0;
  bool bp = GetParam().biasAndPos;
  auto ws = workspace();
  ASSERT_OK(K->patchEmbedBackward(params(), pixView(), view(r, {N * t, HID}),
                                  view(dw, {CPP, HID}),
                                  bp ? view(db, {HID}) : TensorView(),
                                  bp ? view(dpos, {t, HID}) : TensorView(),
                                  nc ? view(dcls, {nc, HID}) : TensorView(),
                                  Workspace{ws.data(), ws.size()}));
  gradCheck("dw", w, minus(dw, dw0), loss);
  if (bp) {
    gradCheck("db", b, minus(db, db0), loss);
    gradCheck("dpos", pos, minus(dpos, dpos0), loss);
  }
  if (nc)
    gradCheck("dcls", cls, minus(dcls, dcls0), loss);
}

INSTANTIATE_TEST_SUITE_P(Variants, PatchEmbed,
                         ::testing::Values(Case{0, false}, Case{0, true},
                                           Case{1, true}, Case{2, false}),
                         [](const auto &info) {
                           return "Cls" + std::to_string(info.param.cls) +
                                  (info.param.biasAndPos ? "BiasPos" : "Plain");
                         });

TEST(PatchEmbedErrors, RejectsIndivisibleImageAndBadPosition) {
  auto K = createCpuKernels();
  Vec pix(1 * 3 * 7 * 4), w(12 * 5), out(100 * 5);
  std::vector<char> ws(4096);
  expectError(K->patchEmbedForward(
                  {2, 0}, view(pix, {1, 3, 7, 4}), view(w, {12, 5}), {}, {}, {},
                  view(out, {7, 5}), Workspace{ws.data(), ws.size()}),
              {"patch_embed_forward", "'pixels'", "multiples of the patch"});
  Vec pix2(1 * 3 * 8 * 4), pos(9 * 5);
  expectError(K->patchEmbedForward({2, 1}, view(pix2, {1, 3, 8, 4}),
                                   view(w, {12, 5}), {}, view(pos, {8, 5}),
                                   view(pos, {1, 5}), view(out, {9, 5}),
                                   Workspace{ws.data(), ws.size()}),
              {"patch_embed_forward", "'pos'", "expected f32[9, 5]",
               "found f32[8, 5]"});
}

} // namespace
} // namespace mimo::kernels::test
