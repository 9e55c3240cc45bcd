//===- CudaKernelsTest.cpp - The CUDA kernels against the CPU reference ---===//
//
// Every kernel runs on the same inputs through the CPU reference kernels and
// the CUDA kernels, in f32 (tolerance 1e-4 of the tensor's largest
// magnitude: different summation orders and exp implementations) and in
// bf16 (inputs rounded to bf16 for both sides, outputs stored in bf16:
// tolerance 1e-2 to 3e-2). Tests that need a GPU skip themselves when none
// is visible; the ones about builds and errors run everywhere.
//
//===----------------------------------------------------------------------===//

#include "mimo/kernels/CudaKernels.h"
#include "TestUtil.h"

#include <cuda_runtime.h>

#include <cstring>
#include <functional>
#include <memory>
#include <ostream>

namespace mimo::kernels {
/// Test parameters print as their dtype name.
inline void PrintTo(DType t, std::ostream *os) { *os << dtypeName(t); }
} // namespace mimo::kernels

namespace mimo::kernels::test {
namespace {

bool haveGpu() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return n > 0;
}

#define REQUIRE_GPU()                                                          \
  do {                                                                         \
    if (!haveGpu())                                                            \
      GTEST_SKIP() << "no CUDA device";                                        \
  } while (0)

uint16_t toBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) // NaN stays NaN
    return uint16_t((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u); // round to nearest even
  return uint16_t(u >> 16);
}

float fromBf16(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

Vec roundBf16(const Vec &v) {
  Vec r(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    r[i] = fromBf16(toBf16(v[i]));
  return r;
}

/// One kernel argument: host contents and shape; `stat` marks tensors that
/// stay f32 whatever the compute type (lse, mean, rstd, loss, moments).
struct Arg {
  Vec f;
  std::vector<int32_t> i;
  std::vector<int64_t> shape;
  bool isInt = false;
  bool stat = false;
  bool absent = false;
};

Arg floats(Vec v, std::vector<int64_t> shape) {
  Arg a;
  a.f = std::move(v);
  a.shape = std::move(shape);
  return a;
}
Arg stats(Vec v, std::vector<int64_t> shape) {
  Arg a = floats(std::move(v), std::move(shape));
  a.stat = true;
  return a;
}
Arg ints(std::vector<int32_t> v, std::vector<int64_t> shape) {
  Arg a;
  a.i = std::move(v);
  a.shape = std::move(shape);
  a.isInt = true;
  return a;
}
Arg none() {
  Arg a;
  a.absent = true;
  return a;
}

TensorView makeView(void *data, DType t, const std::vector<int64_t> &s) {
  TensorView v;
  v.data = data;
  v.dtype = t;
  v.rank = int(s.size());
  for (size_t d = 0; d < s.size(); ++d)
    v.shape[d] = s[d];
  return v;
}

using Call = std::function<rt::Status(Kernels &, std::vector<TensorView> &)>;

/// Runs `call` on the CPU kernels (f32) and returns the arguments after it.
std::vector<Arg> runCpu(std::vector<Arg> args, const Call &call) {
  auto k = createCpuKernels();
  std::vector<TensorView> views;
  for (Arg &a : args)
    views.push_back(a.absent  ? TensorView()
                    : a.isInt ? makeView(a.i.data(), DType::I32, a.shape)
                              : makeView(a.f.data(), DType::F32, a.shape));
  rt::Status s = call(*k, views);
  EXPECT_TRUE(s.ok()) << "cpu: " << s.toString();
  return args;
}

/// Runs `call` on the CUDA kernels with float tensors in `type` (stats in
/// f32) and returns the arguments read back as floats.
std::vector<Arg> runCuda(std::vector<Arg> args, const Call &call, DType type,
                         rt::Status *status = nullptr) {
  auto made = createCudaKernels(nullptr);
  EXPECT_TRUE(made.ok()) << made.status().toString();
  if (!made.ok())
    return args;
  std::unique_ptr<Kernels> k = std::move(made).value();
  std::vector<TensorView> views;
  std::vector<void *> device;
  for (Arg &a : args) {
    if (a.absent) {
      views.push_back(TensorView());
      device.push_back(nullptr);
      continue;
    }
    DType t = a.isInt ? DType::I32 : a.stat ? DType::F32 : type;
    size_t n = a.isInt ? a.i.size() : a.f.size();
    void *p = nullptr;
    EXPECT_EQ(cudaMalloc(&p, std::max<size_t>(n * dtypeSize(t), 16)),
              cudaSuccess);
    if (a.isInt) {
      cudaMemcpy(p, a.i.data(), n * 4, cudaMemcpyHostToDevice);
    } else if (t == DType::BF16) {
      std::vector<uint16_t> h(n);
      for (size_t e = 0; e < n; ++e)
        h[e] = toBf16(a.f[e]);
      cudaMemcpy(p, h.data(), n * 2, cudaMemcpyHostToDevice);
    } else {
      cudaMemcpy(p, a.f.data(), n * 4, cudaMemcpyHostToDevice);
    }
    views.push_back(makeView(p, t, a.shape));
    device.push_back(p);
  }
  rt::Status s = call(*k, views);
  if (status)
    *status = s;
  else
    EXPECT_TRUE(s.ok()) << "cuda: " << s.toString();
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  for (size_t a = 0; a < args.size(); ++a) {
    if (!device[a])
      continue;
    Arg &arg = args[a];
    if (arg.isInt) {
      cudaMemcpy(arg.i.data(), device[a], arg.i.size() * 4,
                 cudaMemcpyDeviceToHost);
    } else if (views[a].dtype == DType::BF16) {
      std::vector<uint16_t> h(arg.f.size());
      cudaMemcpy(h.data(), device[a], h.size() * 2, cudaMemcpyDeviceToHost);
      for (size_t e = 0; e < h.size(); ++e)
        arg.f[e] = fromBf16(h[e]);
    } else {
      cudaMemcpy(arg.f.data(), device[a], arg.f.size() * 4,
                 cudaMemcpyDeviceToHost);
    }
    cudaFree(device[a]);
  }
  return args;
}

/// Rounds the non-stat float inputs to bf16 when `type` is BF16, runs both
/// backends and compares the arguments listed in `outputs`.
void compare(const std::string &what, std::vector<Arg> args, const Call &call,
             std::initializer_list<size_t> outputs, DType type,
             double rtolF32 = 1e-4, double rtolBf16 = 2e-2) {
  if (type == DType::BF16)
    for (Arg &a : args)
      if (!a.isInt && !a.stat && !a.absent)
        a.f = roundBf16(a.f);
  std::vector<Arg> want = runCpu(args, call);
  std::vector<Arg> got = runCuda(args, call, type);
  double rtol = type == DType::BF16 ? rtolBf16 : rtolF32;
  for (size_t o : outputs) {
    std::string name =
        what + " (" + dtypeName(type) + ") output " + std::to_string(o);
    if (want[o].isInt)
      EXPECT_EQ(got[o].i, want[o].i) << name;
    else
      expectClose(got[o].f, want[o].f, rtol, name);
  }
}

class CudaKernels : public ::testing::TestWithParam<DType> {};

INSTANTIATE_TEST_SUITE_P(Types, CudaKernels,
                         ::testing::Values(DType::F32, DType::BF16),
                         [](const auto &info) {
                           return std::string(dtypeName(info.param));
                         });

TEST(CudaKernelsBuild, IsBuiltAndAnswersWithoutADevice) {
  EXPECT_TRUE(cudaKernelsBuilt());
  if (haveGpu())
    GTEST_SKIP() << "a CUDA device is visible";
  auto k = createCudaKernels(nullptr);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().code(), rt::StatusCode::Unavailable);
  EXPECT_NE(k.status().message().find("no CUDA device"), std::string::npos)
      << k.status().toString();
}

TEST_P(CudaKernels, Gemm) {
  REQUIRE_GPU();
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      int64_t m = 37, n = 45, k = 29;
      std::vector<int64_t> as =
          ta ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k};
      std::vector<int64_t> bs =
          tb ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n};
      compare(
          "gemm",
          {floats(randn(m * k, 1), as), floats(randn(k * n, 2), bs),
           floats(randn(m * n, 3), {m, n})},
          [&](Kernels &kk, std::vector<TensorView> &v) {
            return kk.gemm(ta, tb, 0.5f, v[0], v[1], 2.0f, v[2]);
          },
          {2}, GetParam());
    }
}

TEST_P(CudaKernels, Linear) {
  REQUIRE_GPU();
  int64_t t = 33, in = 40, out = 24;
  for (bool transposed : {false, true}) {
    std::vector<int64_t> ws = transposed ? std::vector<int64_t>{out, in}
                                         : std::vector<int64_t>{in, out};
    compare(
        "linear_forward",
        {floats(randn(t * in, 4), {t, in}), floats(randn(in * out, 5), ws),
         floats(randn(out, 6), {out}), floats(Vec(t * out), {t, out})},
        [&](Kernels &k, std::vector<TensorView> &v) {
          return k.linearForward(v[0], v[1], v[2], v[3], transposed);
        },
        {3}, GetParam());
    compare(
        "linear_backward",
        {floats(randn(t * in, 7), {t, in}), floats(randn(in * out, 8), ws),
         floats(randn(t * out, 9), {t, out}), floats(Vec(t * in), {t, in}),
         floats(randn(in * out, 10), ws), floats(randn(out, 11), {out})},
        [&](Kernels &k, std::vector<TensorView> &v) {
          return k.linearBackward(v[0], v[1], v[2], v[3], v[4], v[5],
                                  transposed);
        },
        {3, 4, 5}, GetParam());
  }
}

TEST(CudaKernelsMixed, Bf16ActivationsAccumulateIntoF32Gradients) {
  REQUIRE_GPU();
  // x, w, dy in bf16; dw and db in f32 (master gradients).
  int64_t t = 64, in = 32, out = 48;
  Vec x = roundBf16(randn(t * in, 12)), w = roundBf16(randn(in * out, 13)),
      dy = roundBf16(randn(t * out, 14));
  Vec dw0 = randn(in * out, 15), db0 = randn(out, 16);
  std::vector<Arg> args = {floats(x, {t, in}),    floats(w, {in, out}),
                           floats(dy, {t, out}),  none(),
                           stats(dw0, {in, out}), stats(db0, {out})};
  Call call = [](Kernels &k, std::vector<TensorView> &v) {
    return k.linearBackward(v[0], v[1], v[2], v[3], v[4], v[5], false);
  };
  std::vector<Arg> want = runCpu(args, call);
  std::vector<Arg> got = runCuda(args, call, DType::BF16);
  expectClose(got[4].f, want[4].f, 1e-4, "dw (f32 from bf16)");
  expectClose(got[5].f, want[5].f, 1e-4, "db (f32 from bf16)");
}

TEST_P(CudaKernels, Norms) {
  REQUIRE_GPU();
  int64_t t = 21, h = 300;
  Vec x = randn(t * h, 20, 2.0f);
  compare(
      "layer_norm_forward",
      {floats(x, {t, h}), floats(randn(h, 21), {h}), floats(randn(h, 22), {h}),
       floats(Vec(t * h), {t, h}), stats(Vec(t), {t}), stats(Vec(t), {t})},
      [](Kernels &k, std::vector<TensorView> &v) {
        return k.layerNormForward(v[0], v[1], v[2], 1e-5f, v[3], v[4], v[5]);
      },
      {3, 4, 5}, GetParam());
  // Saved statistics from the reference forward feed both backwards.
  Vec mean(t), rstd(t), y(t * h);
  Vec gamma = randn(h, 23);
  Vec beta(h, 0.0f);
  auto cpu = createCpuKernels();
  ASSERT_OK(cpu->layerNormForward(view(x, {t, h}), view(gamma, {h}),
                                  view(beta, {h}), 1e-5f, view(y, {t, h}),
                                  view(mean, {t}), view(rstd, {t})));
  compare(
      "layer_norm_backward",
      {floats(x, {t, h}), floats(gamma, {h}), stats(mean, {t}),
       stats(rstd, {t}), floats(randn(t * h, 24), {t, h}),
       floats(Vec(t * h), {t, h}), floats(randn(h, 25), {h}),
       floats(randn(h, 26), {h})},
      [](Kernels &k, std::vector<TensorView> &v) {
        return k.layerNormBackward(v[0], v[1], v[2], v[3], v[4], v[5], v[6],
                                   v[7]);
      },
      {5, 6, 7}, GetParam());
  compare(
      "rms_norm_forward",
      {floats(x, {t, h}), floats(gamma, {h}), floats(Vec(t * h), {t, h}),
       stats(Vec(t), {t})},
      [](Kernels &k, std::vector<TensorView> &v) {
        return k.rmsNormForward(v[0], v[1], 1e-6f, v[2], v[3]);
      },
      {2, 3}, GetParam());
  ASSERT_OK(cpu->rmsNormForward(view(x, {t, h}), view(gamma, {h}), 1e-6f,
                                view(y, {t, h}), view(rstd, {t})));
  compare(
      "rms_norm_backward",
      {floats(x, {t, h}), floats(gamma, {h}), stats(rstd, {t}),
       floats(randn(t * h, 27), {t, h}), floats(Vec(t * h), {t, h}),
       floats(randn(h, 28), {h})},
      [](Kernels &k, std::vector<TensorView> &v) {
        return k.rmsNormBackward(v[0], v[1], v[2], v[3], v[4], v[5]);
      },
      {4, 5}, GetParam());
}

TEST_P(CudaKernels, Activations) {
  REQUIRE_GPU();
  int64_t n = 1000;
  Vec x = randn(n, 30, 2.0f), dy = randn(n, 31), up = randn(n, 32);
  compare(
      "gelu_forward", {floats(x, {n}), floats(Vec(n), {n})},
      [](Kernels &k, std::vector<TensorView> &v) {
        return k.geluForward(v[0], v[1]);
      },
      {1}, GetParam());
  compare(
      "gelu_backward", {floats(x, {n}), floats(dy, {n}), floats(Vec(n), {n})},
      [](Kernels &k, std::vector<TensorView> &v) {
        return k.geluBackward(v[0], v[1], v[2]);
      },
      {2}, GetParam());
  compare(
      "swiglu_forward", {floats(x, {n}), floats(up, {n}), floats(Vec(n), {n})},
      [](Kernels &k, std::vector<TensorView> &v) {
        return k.swigluForward(v[0], v[1], v[2]);
      },
      {2}, GetParam());
  compare(
      "swiglu_backward",
      {floats(x, {n}), floats(up, {n}), floats(dy, {n}), floats(Vec(n), {n}),
       floats(Vec(n), {n})},
      [](Kernels &k, std::vector<TensorView> &v) {
        return k.swigluBackward(v[0], v[1], v[2], v[3], v[4]);
      },
      {3, 4}, GetParam());
}

struct AttnCase {
  int64_t s, hq, hkv, d;
  bool causal;
  int64_t segment;
};

TEST_P(CudaKernels, Attention) {
  REQUIRE_GPU();
  for (AttnCase c :
       {AttnCase{70, 4, 2, 64, true, 0}, AttnCase{70, 4, 4, 128, false, 0},
        AttnCase{50, 2, 1, 16, true, 0}, AttnCase{48, 2, 2, 64, false, 16},
        AttnCase{33, 8, 2, 256, true, 0}}) {
    AttentionParams p;
    p.qHeads = c.hq;
    p.kvHeads = c.hkv;
    p.headDim = c.d;
    p.causal = c.causal;
    p.segment = c.segment;
    int64_t qw = c.hq * c.d, kw = c.hkv * c.d;
    Vec q = randn(c.s * qw, 40), k = randn(c.s * kw, 41),
        v = randn(c.s * kw, 42);
    std::string name = "attention d=" + std::to_string(c.d);
    compare(
        name + " forward",
        {floats(q, {c.s, qw}), floats(k, {c.s, kw}), floats(v, {c.s, kw}),
         floats(Vec(c.s * qw), {c.s, qw}), stats(Vec(c.s * c.hq), {c.s, c.hq})},
        [&](Kernels &kk, std::vector<TensorView> &x) {
          return kk.attentionForward(p, x[0], x[1], x[2], x[3], x[4]);
        },
        {3, 4}, GetParam(), 1e-4, 3e-2);
    // The backward reads the reference forward's out and lse.
    Vec out(c.s * qw), lse(c.s * c.hq);
    auto cpu = createCpuKernels();
    ASSERT_OK(cpu->attentionForward(p, view(q, {c.s, qw}), view(k, {c.s, kw}),
                                    view(v, {c.s, kw}), view(out, {c.s, qw}),
                                    view(lse, {c.s, c.hq})));
    size_t ws = std::max(cpu->attentionBackwardWorkspaceBytes(p, c.s),
                         size_t(c.s * c.hq * 4));
    compare(
        name + " backward",
        {floats(q, {c.s, qw}), floats(k, {c.s, kw}), floats(v, {c.s, kw}),
         floats(out, {c.s, qw}), stats(lse, {c.s, c.hq}),
         floats(randn(c.s * qw, 43), {c.s, qw}),
         floats(Vec(c.s * qw), {c.s, qw}), floats(Vec(c.s * kw), {c.s, kw}),
         floats(Vec(c.s * kw), {c.s, kw}),
         stats(Vec(ws / 4), {int64_t(ws / 4)})},
        [&](Kernels &kk, std::vector<TensorView> &x) {
          return kk.attentionBackward(p, x[0], x[1], x[2], x[3], x[4], x[5],
                                      x[6], x[7], x[8],
                                      Workspace{x[9].data, x[9].bytes()});
        },
        {6, 7, 8}, GetParam(), 1e-4, 3e-2);
  }
}

TEST_P(CudaKernels, AttentionBlocks) {
  REQUIRE_GPU();
  // A query block at positions [40, 72) against a key block at [8, 48):
  // causal masking cuts through the block.
  AttentionParams p;
  p.qHeads = 4;
  p.kvHeads = 2;
  p.headDim = 64;
  p.causal = true;
  int64_t sq = 32, sk = 40, qw = 256, kw = 128;
  Vec q = randn(sq * qw, 50), k = randn(sk * kw, 51), v = randn(sk * kw, 52);
  compare(
      "attention_block_forward",
      {floats(q, {sq, qw}), floats(k, {sk, kw}), floats(v, {sk, kw}),
       floats(Vec(sq * qw), {sq, qw}), stats(Vec(sq * 4), {sq, 4})},
      [&](Kernels &kk, std::vector<TensorView> &x) {
        return kk.attentionBlockForward(p, 40, 8, x[0], x[1], x[2], x[3], x[4]);
      },
      {3, 4}, GetParam(), 1e-4, 3e-2);
  Vec out(sq * qw), lse(sq * 4), bout = randn(sq * qw, 53), blse(sq * 4);
  for (size_t i = 0; i < blse.size(); ++i)
    blse[i] = i % 7 == 0 ? -INFINITY : 0.3f * float(i % 5);
  auto cpu = createCpuKernels();
  ASSERT_OK(cpu->attentionBlockForward(
      p, 40, 8, view(q, {sq, qw}), view(k, {sk, kw}), view(v, {sk, kw}),
      view(out, {sq, qw}), view(lse, {sq, 4})));
  compare(
      "attention_merge",
      {floats(out, {sq, qw}), stats(lse, {sq, 4}), floats(bout, {sq, qw}),
       stats(blse, {sq, 4})},
      [](Kernels &kk, std::vector<TensorView> &x) {
        return kk.attentionMerge(x[0], x[1], x[2], x[3]);
      },
      {0, 1}, GetParam());
  compare(
      "attention_block_backward",
      {floats(q, {sq, qw}), floats(k, {sk, kw}), floats(v, {sk, kw}),
       floats(out, {sq, qw}), stats(lse, {sq, 4}),
       floats(randn(sq * qw, 54), {sq, qw}),
       floats(randn(sq * qw, 55), {sq, qw}),
       floats(randn(sk * kw, 56), {sk, kw}),
       floats(randn(sk * kw, 57), {sk, kw}), stats(Vec(sq * 4), {sq * 4})},
      [&](Kernels &kk, std::vector<TensorView> &x) {
        size_t need = kk.attentionBackwardWorkspaceBytes(p, sq);
        if (x[9].bytes() < need)
          return rt::invalidArgument("test workspace too small");
        return kk.attentionBlockBackward(p, 40, 8, x[0], x[1], x[2], x[3], x[4],
                                         x[5], x[6], x[7], x[8],
                                         Workspace{x[9].data, x[9].bytes()});
      },
      {6, 7, 8}, GetParam(), 1e-4, 3e-2);
}

TEST_P(CudaKernels, Rope) {
  REQUIRE_GPU();
  int64_t s = 40, heads = 3, d = 64;
  Vec x = randn(s * heads * d, 60);
  compare(
      "rope_forward",
      {floats(x, {s, heads * d}), floats(Vec(x.size()), {s, heads * d})},
      [&](Kernels &k, std::vector<TensorView> &v) {
        return k.ropeForward(v[0], v[1], heads, d, 4096, 10000.0f);
      },
      {1}, GetParam());
  compare(
      "rope_backward",
      {floats(x, {s, heads * d}), floats(Vec(x.size()), {s, heads * d})},
      [&](Kernels &k, std::vector<TensorView> &v) {
        return k.ropeBackward(v[0], v[1], heads, d, 7, 500000.0f);
      },
      {1}, GetParam());
}

TEST_P(CudaKernels, EmbeddingAndMergeRows) {
  REQUIRE_GPU();
  int64_t t = 50, h = 24, v0 = 10, v1 = 40;
  std::vector<int32_t> ids(t);
  for (int64_t i = 0; i < t; ++i)
    ids[i] = int32_t((i * 7) % 50); // repeats, some outside [v0, v1)
  compare(
      "embedding_forward",
      {ints(ids, {t}), floats(randn((v1 - v0) * h, 61), {v1 - v0, h}),
       floats(Vec(t * h), {t, h})},
      [&](Kernels &k, std::vector<TensorView> &v) {
        return k.embeddingForward(v[0], v[1], v[2], v0, v1);
      },
      {2}, GetParam());
  compare(
      "embedding_backward",
      {ints(ids, {t}), floats(randn(t * h, 62), {t, h}),
       floats(randn((v1 - v0) * h, 63), {v1 - v0, h})},
      [&](Kernels &k, std::vector<TensorView> &v) {
        return k.embeddingBackward(v[0], v[1], v[2], v0, v1);
      },
      {2}, GetParam());
  std::vector<int32_t> tokens(t, 5);
  int64_t n = 0;
  for (int64_t i = 3; i < t; i += 4, ++n)
    tokens[i] = 1; // placeholder
  compare(
      "merge_rows_forward",
      {floats(randn(t * h, 64), {t, h}), ints(tokens, {t}),
       floats(randn(n * h, 65), {n, h}), floats(Vec(t * h), {t, h})},
      [](Kernels &k, std::vector<TensorView> &v) {
        return k.mergeRowsForward(v[0], v[1], 1, v[2], v[3]);
      },
      {3}, GetParam());
  compare(
      "merge_rows_backward",
      {floats(randn(t * h, 66), {t, h}), ints(tokens, {t}),
       floats(Vec(t * h), {t, h}), floats(Vec(n * h), {n, h})},
      [](Kernels &k, std::vector<TensorView> &v) {
        return k.mergeRowsBackward(v[0], v[1], 1, v[2], v[3]);
      },
      {2, 3}, GetParam());
  // A placeholder count that does not match the source rows is an error.
  rt::Status s;
  runCuda(
      {floats(randn(t * h, 64), {t, h}), ints(tokens, {t}),
       floats(randn((n - 1) * h, 65), {n - 1, h}), floats(Vec(t * h), {t, h})},
      [](Kernels &k, std::vector<TensorView> &v) {
        return k.mergeRowsForward(v[0], v[1], 1, v[2], v[3]);
      },
      GetParam(), &s);
  expectError(s, {"merge_rows_forward", "placeholders"});
}

TEST_P(CudaKernels, PatchEmbed) {
  REQUIRE_GPU();
  PatchEmbedParams p;
  p.patch = 4;
  p.classTokens = 1;
  int64_t n = 3, c = 3, hw = 8, hid = 20;
  int64_t tokens = 1 + (hw / 4) * (hw / 4), cpp = c * 16;
  Vec pixels = randn(n * c * hw * hw, 70);
  auto cpu = createCpuKernels();
  TensorView pv = view(pixels, {n, c, hw, hw});
  int64_t ws =
      int64_t(cpu->patchEmbedWorkspaceBytes(p, pv) / 4 + n * tokens * cpp);
  compare(
      "patch_embed_forward",
      {floats(pixels, {n, c, hw, hw}), floats(randn(cpp * hid, 71), {cpp, hid}),
       floats(randn(hid, 72), {hid}),
       floats(randn(tokens * hid, 73), {tokens, hid}),
       floats(randn(hid, 74), {1, hid}),
       floats(Vec(n * tokens * hid), {n * tokens, hid}), stats(Vec(ws), {ws})},
      [&](Kernels &k, std::vector<TensorView> &v) {
        return k.patchEmbedForward(p, v[0], v[1], v[2], v[3], v[4], v[5],
                                   Workspace{v[6].data, v[6].bytes()});
      },
      {5}, GetParam());
  compare(
      "patch_embed_backward",
      {floats(pixels, {n, c, hw, hw}),
       floats(randn(n * tokens * hid, 75), {n * tokens, hid}),
       floats(randn(cpp * hid, 76), {cpp, hid}), floats(randn(hid, 77), {hid}),
       floats(randn(tokens * hid, 78), {tokens, hid}),
       floats(randn(hid, 79), {1, hid}), stats(Vec(ws), {ws})},
      [&](Kernels &k, std::vector<TensorView> &v) {
        return k.patchEmbedBackward(p, v[0], v[1], v[2], v[3], v[4], v[5],
                                    Workspace{v[6].data, v[6].bytes()});
      },
      {2, 3, 4, 5}, GetParam());
}

TEST_P(CudaKernels, CrossEntropy) {
  REQUIRE_GPU();
  int64_t t = 30, v = 500;
  Vec logits = randn(t * v, 80, 3.0f);
  std::vector<int32_t> labels(t);
  for (int64_t i = 0; i < t; ++i)
    labels[i] = i % 6 == 0 ? -100 : int32_t((i * 37) % v);
  compare(
      "cross_entropy_forward",
      {floats(logits, {t, v}), ints(labels, {t}), stats(Vec(1), {1}),
       ints({0}, {1}), stats(Vec(t), {t})},
      [](Kernels &k, std::vector<TensorView> &x) {
        return k.crossEntropyForward(x[0], x[1], x[2], x[3], x[4]);
      },
      {2, 3, 4}, GetParam());
  Vec lossSum(1), lse(t);
  std::vector<int32_t> count(1);
  auto cpu = createCpuKernels();
  ASSERT_OK(cpu->crossEntropyForward(view(logits, {t, v}), view(labels, {t}),
                                     view(lossSum, {1}), view(count, {1}),
                                     view(lse, {t})));
  // A vocabulary shard [100, 350) with the global lse.
  Vec shard(t * 250);
  for (int64_t r = 0; r < t; ++r)
    for (int64_t c = 0; c < 250; ++c)
      shard[r * 250 + c] = logits[r * v + 100 + c];
  compare(
      "cross_entropy_backward",
      {floats(shard, {t, 250}), ints(labels, {t}), stats(lse, {t}),
       floats(Vec(t * 250), {t, 250})},
      [](Kernels &k, std::vector<TensorView> &x) {
        return k.crossEntropyBackward(x[0], x[1], x[2], 100, 0.25f, x[3]);
      },
      {3}, GetParam());
  compare(
      "cross_entropy vocabulary-parallel steps",
      {floats(shard, {t, 250}), ints(labels, {t}), stats(Vec(t), {t}),
       stats(Vec(t), {t}), stats(Vec(t), {t})},
      [](Kernels &k, std::vector<TensorView> &x) {
        MIMO_RETURN_IF_ERROR(k.crossEntropyLocalMax(x[0], x[2]));
        MIMO_RETURN_IF_ERROR(k.crossEntropyLocalSumExp(x[0], x[2], x[3]));
        return k.crossEntropyTargetLogit(x[0], x[1], 100, x[4]);
      },
      {2, 3, 4}, GetParam());
  Vec gmax = randn(t, 81), sumExp(t, 3.5f), target = randn(t, 82);
  compare(
      "cross_entropy_combine",
      {stats(gmax, {t}), stats(sumExp, {t}), stats(target, {t}),
       ints(labels, {t}), stats(Vec(1), {1}), ints({0}, {1}),
       stats(Vec(t), {t})},
      [](Kernels &k, std::vector<TensorView> &x) {
        return k.crossEntropyCombine(x[0], x[1], x[2], x[3], x[4], x[5], x[6]);
      },
      {4, 5, 6}, GetParam());
  // A label outside the vocabulary is an error naming the row.
  labels[7] = int32_t(v);
  rt::Status s;
  runCuda(
      {floats(logits, {t, v}), ints(labels, {t}), stats(Vec(1), {1}),
       ints({0}, {1}), stats(Vec(t), {t})},
      [](Kernels &k, std::vector<TensorView> &x) {
        return k.crossEntropyForward(x[0], x[1], x[2], x[3], x[4]);
      },
      GetParam(), &s);
  expectError(s, {"cross_entropy_forward", "labels", "500", "row 7"});
}

TEST_P(CudaKernels, ElementwiseReductionsAndAdam) {
  REQUIRE_GPU();
  int64_t n = 20000;
  Vec a = randn(n, 90), b = randn(n, 91);
  compare(
      "add", {floats(a, {n}), floats(b, {n}), floats(Vec(n), {n})},
      [](Kernels &k, std::vector<TensorView> &v) {
        return k.add(v[0], v[1], v[2]);
      },
      {2}, GetParam());
  compare(
      "scale", {floats(a, {n}), floats(Vec(n), {n})},
      [](Kernels &k, std::vector<TensorView> &v) {
        return k.scale(v[0], -0.75f, v[1]);
      },
      {1}, GetParam());
  compare(
      "sum_squares", {floats(a, {n}), stats({2.5f}, {1})},
      [](Kernels &k, std::vector<TensorView> &v) {
        return k.sumSquares(v[0], v[1], true);
      },
      {1}, GetParam(), 1e-5, 1e-5);
  AdamParams p;
  p.lr = 1e-2f;
  p.weightDecay = 0.1f;
  p.step = 3;
  p.gradScale = 0.5f;
  for (bool decoupled : {true, false}) {
    p.decoupledWeightDecay = decoupled;
    Vec v = randn(n, 94);
    for (float &x : v)
      x = x * x;
    // Master weights and moments stay f32; the gradient takes the type.
    std::vector<Arg> args = {stats(randn(n, 92), {n}), floats(b, {n}),
                             stats(randn(n, 93), {n}), stats(v, {n})};
    compare(
        "adam_step", args,
        [&](Kernels &k, std::vector<TensorView> &x) {
          return k.adamStep(p, x[0], x[1], x[2], x[3]);
        },
        {0, 2, 3}, GetParam(), 1e-5, 1e-5);
  }
}

TEST_P(CudaKernels, ErrorsNameTheArgument) {
  REQUIRE_GPU();
  rt::Status s;
  runCuda(
      {floats(randn(12, 1), {3, 4}), floats(randn(10, 2), {5, 2}),
       floats(Vec(6), {3, 2})},
      [](Kernels &k, std::vector<TensorView> &v) {
        return k.gemm(false, false, 1.0f, v[0], v[1], 0.0f, v[2]);
      },
      GetParam(), &s);
  expectError(s, {"gemm", "'b'"});
  runCuda(
      {ints({1, 2}, {2}), floats(randn(4, 1), {2, 2})},
      [](Kernels &k, std::vector<TensorView> &v) {
        return k.geluForward(v[0], v[1]);
      },
      GetParam(), &s);
  expectError(s, {"gelu_forward", "'x'", "f32 or bf16"});
}

} // namespace
} // namespace mimo::kernels::test
