//===- KernelBench.cpp - Every CPU kernel at a few sizes ------------------===//

#include "BenchUtil.h"

namespace mimo::kernels::bench {
namespace {

// Rows x hidden for the row-wise kernels.
void rowShapes(benchmark::internal::Benchmark *b) {
  b->ArgNames({"T", "H"});
  b->Args({512, 1024});
  b->Args({2048, 4096});
  b->UseRealTime();
}

void BM_LayerNormForward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), h = state.range(1);
  Vec x = randn(t * h, 1), g = randn(h, 2), b = randn(h, 3), y(t * h), m(t),
      r(t);
  for (auto _ : state)
    check(state, K->layerNormForward(view(x, {t, h}), view(g, {h}),
                                     view(b, {h}), 1e-5f, view(y, {t, h}),
                                     view(m, {t}), view(r, {t})));
  rates(state, 0, 8.0 * t * h);
}
BENCHMARK(BM_LayerNormForward)->Apply(rowShapes);

void BM_LayerNormBackward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), h = state.range(1);
  Vec x = randn(t * h, 1), g = randn(h, 2), b = randn(h, 3), y(t * h), m(t),
      r(t), dy = randn(t * h, 4), dx(t * h), dg(h), db(h);
  check(state,
        K->layerNormForward(view(x, {t, h}), view(g, {h}), view(b, {h}), 1e-5f,
                            view(y, {t, h}), view(m, {t}), view(r, {t})));
  for (auto _ : state)
    check(state,
          K->layerNormBackward(view(x, {t, h}), view(g, {h}), view(m, {t}),
                               view(r, {t}), view(dy, {t, h}), view(dx, {t, h}),
                               view(dg, {h}), view(db, {h})));
  rates(state, 0, 12.0 * t * h);
}
BENCHMARK(BM_LayerNormBackward)->Apply(rowShapes);

void BM_RmsNormForward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), h = state.range(1);
  Vec x = randn(t * h, 1), g = randn(h, 2), y(t * h), r(t);
  for (auto _ : state)
    check(state, K->rmsNormForward(view(x, {t, h}), view(g, {h}), 1e-5f,
                                   view(y, {t, h}), view(r, {t})));
  rates(state, 0, 8.0 * t * h);
}
BENCHMARK(BM_RmsNormForward)->Apply(rowShapes);

void BM_RmsNormBackward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), h = state.range(1);
  Vec x = randn(t * h, 1), g = randn(h, 2), y(t * h), r(t),
      dy = randn(t * h, 4), dx(t * h), dg(h);
  check(state, K->rmsNormForward(view(x, {t, h}), view(g, {h}), 1e-5f,
                                 view(y, {t, h}), view(r, {t})));
  for (auto _ : state)
    check(state, K->rmsNormBackward(view(x, {t, h}), view(g, {h}), view(r, {t}),
                                    view(dy, {t, h}), view(dx, {t, h}),
                                    view(dg, {h})));
  rates(state, 0, 12.0 * t * h);
}
BENCHMARK(BM_RmsNormBackward)->Apply(rowShapes);

void BM_GeluForward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), h = state.range(1);
  Vec x = randn(t * h, 1), y(t * h);
  for (auto _ : state)
    check(state, K->geluForward(view(x, {t, h}), view(y, {t, h})));
  rates(state, 0, 8.0 * t * h);
}
BENCHMARK(BM_GeluForward)->Apply(rowShapes);

void BM_GeluBackward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), h = state.range(1);
  Vec x = randn(t * h, 1), dy = randn(t * h, 2), dx(t * h);
  for (auto _ : state)
    check(state,
          K->geluBackward(view(x, {t, h}), view(dy, {t, h}), view(dx, {t, h})));
  rates(state, 0, 12.0 * t * h);
}
BENCHMARK(BM_GeluBackward)->Apply(rowShapes);

void BM_SwigluForward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), h = state.range(1);
  Vec g = randn(t * h, 1), u = randn(t * h, 2), o(t * h);
  for (auto _ : state)
    check(state,
          K->swigluForward(view(g, {t, h}), view(u, {t, h}), view(o, {t, h})));
  rates(state, 0, 12.0 * t * h);
}
BENCHMARK(BM_SwigluForward)->Apply(rowShapes);

void BM_SwigluBackward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), h = state.range(1);
  Vec g = randn(t * h, 1), u = randn(t * h, 2), d = randn(t * h, 3), dg(t * h),
      du(t * h);
  for (auto _ : state)
    check(state,
          K->swigluBackward(view(g, {t, h}), view(u, {t, h}), view(d, {t, h}),
                            view(dg, {t, h}), view(du, {t, h})));
  rates(state, 0, 20.0 * t * h);
}
BENCHMARK(BM_SwigluBackward)->Apply(rowShapes);

// Attention: S tokens, 8 query heads of 64, kv heads from the arg, causal.
void attnShapes(benchmark::internal::Benchmark *b) {
  b->ArgNames({"S", "Hkv"});
  b->Args({256, 8});
  b->Args({512, 8});
  b->Args({512, 2});
  b->Unit(benchmark::kMillisecond);
  b->UseRealTime();
}

struct AttnData {
  AttentionParams p;
  int64_t s, qw, kw;
  Vec q, k, v, out, lse, dout, dq, dk, dv;
  std::vector<char> ws;
  AttnData(Kernels &K, int64_t s, int64_t hkv)
      : p{8, hkv, 64, true, 0, 0.0f}, s(s), qw(8 * 64), kw(hkv * 64),
        q(randn(s * qw, 1)), k(randn(s * kw, 2)), v(randn(s * kw, 3)),
        out(s * qw), lse(s * 8), dout(randn(s * qw, 4)), dq(s * qw), dk(s * kw),
        dv(s * kw), ws(K.attentionBackwardWorkspaceBytes(p, s)) {}
  // Causal: half the score matrix.
  double flops(double perPair) const { return perPair * 8.0 * s * s / 2 * 64; }
};

void BM_AttentionForward(benchmark::State &state) {
  auto K = createCpuKernels();
  AttnData a(*K, state.range(0), state.range(1));
  for (auto _ : state)
    check(state,
          K->attentionForward(a.p, view(a.q, {a.s, a.qw}),
                              view(a.k, {a.s, a.kw}), view(a.v, {a.s, a.kw}),
                              view(a.out, {a.s, a.qw}), view(a.lse, {a.s, 8})));
  rates(state, a.flops(4), 0);
}
BENCHMARK(BM_AttentionForward)->Apply(attnShapes);

void BM_AttentionBackward(benchmark::State &state) {
  auto K = createCpuKernels();
  AttnData a(*K, state.range(0), state.range(1));
  check(state,
        K->attentionForward(a.p, view(a.q, {a.s, a.qw}), view(a.k, {a.s, a.kw}),
                            view(a.v, {a.s, a.kw}), view(a.out, {a.s, a.qw}),
                            view(a.lse, {a.s, 8})));
  for (auto _ : state)
    check(state,
          K->attentionBackward(
              a.p, view(a.q, {a.s, a.qw}), view(a.k, {a.s, a.kw}),
              view(a.v, {a.s, a.kw}), view(a.out, {a.s, a.qw}),
              view(a.lse, {a.s, 8}), view(a.dout, {a.s, a.qw}),
              view(a.dq, {a.s, a.qw}), view(a.dk, {a.s, a.kw}),
              view(a.dv, {a.s, a.kw}), Workspace{a.ws.data(), a.ws.size()}));
  // Textbook count (scores, dP, dS·K, dS^T·Q, P^T·dO), not the recompute.
  rates(state, a.flops(10), 0);
}
BENCHMARK(BM_AttentionBackward)->Apply(attnShapes);

// Ring step: one key block's partial result folded into a running one.
void BM_AttentionBlockForwardMerge(benchmark::State &state) {
  auto K = createCpuKernels();
  AttnData a(*K, state.range(0), state.range(1));
  Vec bo(a.s * a.qw), bl(a.s * 8);
  std::fill(a.lse.begin(), a.lse.end(), 0.0f);
  for (auto _ : state) {
    check(state, K->attentionBlockForward(
                     a.p, a.s, 0, view(a.q, {a.s, a.qw}),
                     view(a.k, {a.s, a.kw}), view(a.v, {a.s, a.kw}),
                     view(bo, {a.s, a.qw}), view(bl, {a.s, 8})));
    check(state,
          K->attentionMerge(view(a.out, {a.s, a.qw}), view(a.lse, {a.s, 8}),
                            view(bo, {a.s, a.qw}), view(bl, {a.s, 8})));
  }
  rates(state, a.flops(8), 0); // a full (unmasked) block
}
BENCHMARK(BM_AttentionBlockForwardMerge)->Apply(attnShapes);

void BM_RopeForward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t s = state.range(0), h = state.range(1) / 128;
  Vec x = randn(s * h * 128, 1);
  for (auto _ : state)
    check(state, K->ropeForward(view(x, {s, h * 128}), view(x, {s, h * 128}), h,
                                128, 0, 10000.0f));
  rates(state, 0, 8.0 * s * h * 128);
}
BENCHMARK(BM_RopeForward)->Apply(rowShapes);

void BM_RopeBackward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t s = state.range(0), h = state.range(1) / 128;
  Vec x = randn(s * h * 128, 1);
  for (auto _ : state)
    check(state, K->ropeBackward(view(x, {s, h * 128}), view(x, {s, h * 128}),
                                 h, 128, 0, 10000.0f));
  rates(state, 0, 8.0 * s * h * 128);
}
BENCHMARK(BM_RopeBackward)->Apply(rowShapes);

void vocabShapes(benchmark::internal::Benchmark *b) {
  b->ArgNames({"T", "V"});
  b->Args({512, 8192});
  b->Args({1024, 32000});
  b->Unit(benchmark::kMillisecond);
  b->UseRealTime();
}

std::vector<int32_t> ids(int64_t t, int64_t v) {
  std::vector<int32_t> r(t);
  std::mt19937 gen(5);
  for (auto &x : r)
    x = int32_t(gen() % uint32_t(v));
  return r;
}

void BM_EmbeddingForward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), v = state.range(1), h = 1024;
  auto id = ids(t, v);
  Vec table = randn(v * h, 1), out(t * h);
  for (auto _ : state)
    check(state, K->embeddingForward(view(id, {t}), view(table, {v, h}),
                                     view(out, {t, h}), 0, v));
  rates(state, 0, 8.0 * t * h);
}
BENCHMARK(BM_EmbeddingForward)->Apply(vocabShapes);

void BM_EmbeddingBackward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), v = state.range(1), h = 1024;
  auto id = ids(t, v);
  Vec dtable(v * h, 0.0f), dout = randn(t * h, 2);
  for (auto _ : state)
    check(state, K->embeddingBackward(view(id, {t}), view(dout, {t, h}),
                                      view(dtable, {v, h}), 0, v));
  rates(state, 0, 12.0 * t * h);
}
BENCHMARK(BM_EmbeddingBackward)->Apply(vocabShapes);

void BM_CrossEntropyForward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), v = state.range(1);
  auto lab = ids(t, v);
  std::vector<int32_t> count(1);
  Vec logits = randn(t * v, 1), loss(1), lse(t);
  for (auto _ : state)
    check(state, K->crossEntropyForward(view(logits, {t, v}), view(lab, {t}),
                                        view(loss, {1}), view(count, {1}),
                                        view(lse, {t})));
  rates(state, 0, 4.0 * t * v);
}
BENCHMARK(BM_CrossEntropyForward)->Apply(vocabShapes);

void BM_CrossEntropyBackward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), v = state.range(1);
  auto lab = ids(t, v);
  std::vector<int32_t> count(1);
  Vec logits = randn(t * v, 1), loss(1), lse(t), d(t * v);
  check(state, K->crossEntropyForward(view(logits, {t, v}), view(lab, {t}),
                                      view(loss, {1}), view(count, {1}),
                                      view(lse, {t})));
  for (auto _ : state)
    check(state, K->crossEntropyBackward(view(logits, {t, v}), view(lab, {t}),
                                         view(lse, {t}), 0, 1.0f / float(t),
                                         view(d, {t, v})));
  rates(state, 0, 8.0 * t * v);
}
BENCHMARK(BM_CrossEntropyBackward)->Apply(vocabShapes);

// The per-rank work of the vocabulary-parallel forward (collectives aside).
void BM_CrossEntropyVocabParallelSteps(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t t = state.range(0), v = state.range(1);
  auto lab = ids(t, v);
  std::vector<int32_t> count(1);
  Vec logits = randn(t * v, 1), m(t), se(t), tg(t), loss(1), lse(t);
  for (auto _ : state) {
    check(state, K->crossEntropyLocalMax(view(logits, {t, v}), view(m, {t})));
    check(state, K->crossEntropyLocalSumExp(view(logits, {t, v}), view(m, {t}),
                                            view(se, {t})));
    check(state, K->crossEntropyTargetLogit(view(logits, {t, v}),
                                            view(lab, {t}), 0, view(tg, {t})));
    check(state, K->crossEntropyCombine(
                     view(m, {t}), view(se, {t}), view(tg, {t}), view(lab, {t}),
                     view(loss, {1}), view(count, {1}), view(lse, {t})));
  }
  rates(state, 0, 8.0 * t * v);
}
BENCHMARK(BM_CrossEntropyVocabParallelSteps)->Apply(vocabShapes);

// ViT-style images: N images of 224x224x3, patch 14 or 16, hidden 1024.
void patchShapes(benchmark::internal::Benchmark *b) {
  b->ArgNames({"N", "patch"});
  b->Args({4, 16});
  b->Args({4, 14});
  b->Unit(benchmark::kMillisecond);
  b->UseRealTime();
}

void BM_PatchEmbedForward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t n = state.range(0), p = state.range(1), hid = 1024, c = 3, s = 224;
  int64_t tok = 1 + (s / p) * (s / p), cpp = c * p * p;
  Vec pix = randn(n * c * s * s, 1), w = randn(cpp * hid, 2), b(hid),
      pos = randn(tok * hid, 3), cls = randn(hid, 4), out(n * tok * hid);
  PatchEmbedParams pp{p, 1};
  std::vector<char> ws(
      K->patchEmbedWorkspaceBytes(pp, view(pix, {n, c, s, s})));
  for (auto _ : state)
    check(state,
          K->patchEmbedForward(pp, view(pix, {n, c, s, s}), view(w, {cpp, hid}),
                               view(b, {hid}), view(pos, {tok, hid}),
                               view(cls, {1, hid}), view(out, {n * tok, hid}),
                               Workspace{ws.data(), ws.size()}));
  rates(state, 2.0 * n * (tok - 1) * cpp * hid, 0);
}
BENCHMARK(BM_PatchEmbedForward)->Apply(patchShapes);

void BM_PatchEmbedBackward(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t n = state.range(0), p = state.range(1), hid = 1024, c = 3, s = 224;
  int64_t tok = 1 + (s / p) * (s / p), cpp = c * p * p;
  Vec pix = randn(n * c * s * s, 1), dout = randn(n * tok * hid, 2),
      dw(cpp * hid), db(hid), dpos(tok * hid), dcls(hid);
  PatchEmbedParams pp{p, 1};
  std::vector<char> ws(
      K->patchEmbedWorkspaceBytes(pp, view(pix, {n, c, s, s})));
  for (auto _ : state)
    check(state,
          K->patchEmbedBackward(
              pp, view(pix, {n, c, s, s}), view(dout, {n * tok, hid}),
              view(dw, {cpp, hid}), view(db, {hid}), view(dpos, {tok, hid}),
              view(dcls, {1, hid}), Workspace{ws.data(), ws.size()}));
  rates(state, 2.0 * n * (tok - 1) * cpp * hid, 0);
}
BENCHMARK(BM_PatchEmbedBackward)->Apply(patchShapes);

void flatShapes(benchmark::internal::Benchmark *b) {
  b->ArgName("N");
  b->Arg(1 << 20);
  b->Arg(1 << 24);
  b->UseRealTime();
}

void BM_Add(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t n = state.range(0);
  Vec a = randn(n, 1), b = randn(n, 2);
  for (auto _ : state)
    check(state, K->add(view(a, {n}), view(b, {n}), view(a, {n})));
  rates(state, 0, 12.0 * n);
}
BENCHMARK(BM_Add)->Apply(flatShapes);

void BM_Scale(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t n = state.range(0);
  Vec a = randn(n, 1);
  for (auto _ : state)
    check(state, K->scale(view(a, {n}), 1.0f, view(a, {n})));
  rates(state, 0, 8.0 * n);
}
BENCHMARK(BM_Scale)->Apply(flatShapes);

void BM_SumSquares(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t n = state.range(0);
  Vec a = randn(n, 1), out(1);
  for (auto _ : state)
    check(state, K->sumSquares(view(a, {n}), view(out, {1}), false));
  rates(state, 0, 4.0 * n);
}
BENCHMARK(BM_SumSquares)->Apply(flatShapes);

void BM_AdamWStep(benchmark::State &state) {
  auto K = createCpuKernels();
  int64_t n = state.range(0);
  Vec w = randn(n, 1), g = randn(n, 2), m(n, 0.0f), v(n, 0.0f);
  AdamParams p;
  p.weightDecay = 0.1f;
  for (auto _ : state) {
    check(state, K->adamStep(p, view(w, {n}), view(g, {n}), view(m, {n}),
                             view(v, {n})));
    ++p.step;
  }
  rates(state, 0, 28.0 * n);
}
BENCHMARK(BM_AdamWStep)->Apply(flatShapes);

} // namespace
} // namespace mimo::kernels::bench
