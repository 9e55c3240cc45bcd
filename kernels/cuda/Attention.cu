//===- Attention.cu - Memory-efficient attention on the GPU ---------------===//
//
// Flash-attention style, f32 arithmetic on f32 or bf16 tensors. A group of
// G threads owns one row (query row in the forward and the dq pass, key row
// in the dk/dv pass), each thread 32 of its head dims (G = 1, 2, 4, 8 for
// head dims up to 32, 64, 128, 256); dot products reduce across the group
// with shuffles. Key (or query) tiles are staged in shared memory as f32.
// The forward keeps a running max, sum and output per row (online softmax)
// and saves only the output and the log-sum-exp; no S x S matrix exists.
//
// The backward recomputes probabilities from the saved lse in two passes,
// one writing dq (a thread group per query row) and one writing dk and dv
// (a thread group per key row, summing over the query heads of its kv
// group), so every output element has one writer: deterministic, no atomics.
// Masks use global positions (qOffset, kOffset), so ring attention's blocks
// and the whole-sequence call share the kernels; tiles that a causal or
// segment mask hides entirely are skipped.
//
//===----------------------------------------------------------------------===//

#include "CudaKernels.h"

#include <cmath>
#include <string>

namespace mimo::kernels::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kDimsPerThread = 32;

struct Shape {
  int64_t sq, sk, hq, hkv, d, group;
  int64_t qOffset, kOffset;
  bool causal;
  int64_t segment;
  float scale;
};

__device__ __forceinline__ bool visible(const Shape &s, int64_t qpos,
                                        int64_t kpos) {
  if (s.causal && kpos > qpos)
    return false;
  if (s.segment > 0 && qpos / s.segment != kpos / s.segment)
    return false;
  return true;
}

template <int G> __device__ __forceinline__ float groupSum(float v) {
  for (int o = G / 2; o > 0; o >>= 1)
    v += __shfl_xor_sync(0xffffffffu, v, o, G);
  return v;
}

/// Keys [lo, hi) (local rows) that queries at global positions [qlo, qhi]
/// can see.
__device__ void keyWindow(const Shape &s, int64_t qlo, int64_t qhi, int64_t &lo,
                          int64_t &hi) {
  int64_t glo = s.kOffset, ghi = s.kOffset + s.sk;
  if (s.causal)
    ghi = min(ghi, qhi + 1);
  if (s.segment > 0) {
    glo = max(glo, (qlo / s.segment) * s.segment);
    ghi = min(ghi, (qhi / s.segment + 1) * s.segment);
  }
  lo = glo - s.kOffset;
  hi = max(lo, ghi - s.kOffset);
}

/// Queries [lo, hi) (local rows) that see some key at global positions
/// [klo, khi].
__device__ void queryWindow(const Shape &s, int64_t klo, int64_t khi,
                            int64_t &lo, int64_t &hi) {
  int64_t glo = s.qOffset, ghi = s.qOffset + s.sq;
  if (s.causal)
    glo = max(glo, klo);
  if (s.segment > 0) {
    glo = max(glo, (klo / s.segment) * s.segment);
    ghi = min(ghi, (khi / s.segment + 1) * s.segment);
  }
  lo = glo - s.qOffset;
  hi = max(lo, ghi - s.qOffset);
}

/// Loads rows [r0, r0 + n) of head `head` of x [rows, heads * d] into
/// tile [n][d] (zeros past the end).
__device__ void loadTile(Elems x, int64_t rows, int64_t heads, int64_t head,
                         int64_t d, int64_t r0, int n, float *tile) {
  for (int64_t e = threadIdx.x; e < int64_t(n) * d; e += blockDim.x) {
    int64_t r = r0 + e / d, c = e % d;
    tile[e] = r < rows ? x.get((r * heads + head) * d + c) : 0.0f;
  }
}

template <int G, int BN>
__global__ void __launch_bounds__(kThreads)
    forwardKernel(Shape s, Elems q, Elems k, Elems v, Elems out, float *lse) {
  extern __shared__ float smem[];
  float *kt = smem, *vt = smem + BN * s.d;
  constexpr int R = kThreads / G;
  const int g = threadIdx.x % G;
  const int64_t i = int64_t(blockIdx.x) * R + threadIdx.x / G;
  const int64_t h = blockIdx.y, kvh = h / s.group;
  const bool live = i < s.sq;
  const int64_t qpos = s.qOffset + i;
  const int64_t d0 = int64_t(g) * kDimsPerThread;

  float qr[kDimsPerThread], acc[kDimsPerThread];
#pragma unroll
  for (int j = 0; j < kDimsPerThread; ++j) {
    int64_t d = d0 + j;
    qr[j] = live && d < s.d ? q.get((i * s.hq + h) * s.d + d) : 0.0f;
    acc[j] = 0.0f;
  }
  float m = -INFINITY, l = 0.0f;

  int64_t qlo = s.qOffset + int64_t(blockIdx.x) * R;
  int64_t qhi = min(s.qOffset + s.sq - 1, qlo + R - 1);
  int64_t lo, hi;
  keyWindow(s, qlo, qhi, lo, hi);
  for (int64_t j0 = lo; j0 < hi; j0 += BN) {
    __syncthreads();
    loadTile(k, s.sk, s.hkv, kvh, s.d, j0, BN, kt);
    loadTile(v, s.sk, s.hkv, kvh, s.d, j0, BN, vt);
    __syncthreads();
    float sc[BN];
    float tileMax = -INFINITY;
#pragma unroll
    for (int jj = 0; jj < BN; ++jj) {
      float dot = 0.0f;
#pragma unroll
      for (int j = 0; j < kDimsPerThread; ++j)
        if (d0 + j < s.d)
          dot += qr[j] * kt[jj * s.d + d0 + j];
      dot = groupSum<G>(dot) * s.scale;
      int64_t key = j0 + jj;
      bool ok = live && key < hi && visible(s, qpos, s.kOffset + key);
      sc[jj] = ok ? dot : -INFINITY;
      tileMax = fmaxf(tileMax, sc[jj]);
    }
    float mNew = fmaxf(m, tileMax);
    if (mNew == -INFINITY)
      continue;
    float corr = expf(m - mNew); // 0 when m is -inf
    l *= corr;
#pragma unroll
    for (int j = 0; j < kDimsPerThread; ++j)
      acc[j] *= corr;
#pragma unroll
    for (int jj = 0; jj < BN; ++jj) {
      float p = expf(sc[jj] - mNew);
      l += p;
#pragma unroll
      for (int j = 0; j < kDimsPerThread; ++j)
        if (d0 + j < s.d)
          acc[j] += p * vt[jj * s.d + d0 + j];
    }
    m = mNew;
  }
  if (!live)
    return;
  float inv = l > 0.0f ? 1.0f / l : 0.0f;
#pragma unroll
  for (int j = 0; j < kDimsPerThread; ++j)
    if (d0 + j < s.d)
      out.set((i * s.hq + h) * s.d + d0 + j, acc[j] * inv);
  if (g == 0)
    lse[i * s.hq + h] = l > 0.0f ? m + logf(l) : -INFINITY;
}

/// delta[i, h] = sum_d dout * out (the softmax backward's row term).
__global__ void deltaKernel(Elems out, Elems dout, int64_t rows, int64_t d,
                            float *delta) {
  MIMO_CUDA_GRID_STRIDE(r, rows) {
    float s = 0.0f;
    for (int64_t c = 0; c < d; ++c)
      s += out.get(r * d + c) * dout.get(r * d + c);
    delta[r] = s;
  }
}

template <int G, int BN>
__global__ void __launch_bounds__(kThreads)
    dqKernel(Shape s, Elems q, Elems k, Elems v, const float *lse,
             const float *delta, Elems dout, Elems dq) {
  extern __shared__ float smem[];
  float *kt = smem, *vt = smem + BN * s.d;
  constexpr int R = kThreads / G;
  const int g = threadIdx.x % G;
  const int64_t i = int64_t(blockIdx.x) * R + threadIdx.x / G;
  const int64_t h = blockIdx.y, kvh = h / s.group;
  const bool live = i < s.sq;
  const int64_t qpos = s.qOffset + i;
  const int64_t d0 = int64_t(g) * kDimsPerThread;
  const float rowLse = live ? lse[i * s.hq + h] : -INFINITY;
  const float rowDelta = live ? delta[i * s.hq + h] : 0.0f;

  float qr[kDimsPerThread], dor[kDimsPerThread], acc[kDimsPerThread];
#pragma unroll
  for (int j = 0; j < kDimsPerThread; ++j) {
    int64_t d = d0 + j;
    bool in = live && d < s.d;
    qr[j] = in ? q.get((i * s.hq + h) * s.d + d) : 0.0f;
    dor[j] = in ? dout.get((i * s.hq + h) * s.d + d) : 0.0f;
    acc[j] = 0.0f;
  }
  int64_t qlo = s.qOffset + int64_t(blockIdx.x) * R;
  int64_t qhi = min(s.qOffset + s.sq - 1, qlo + R - 1);
  int64_t lo, hi;
  keyWindow(s, qlo, qhi, lo, hi);
  for (int64_t j0 = lo; j0 < hi; j0 += BN) {
    __syncthreads();
    loadTile(k, s.sk, s.hkv, kvh, s.d, j0, BN, kt);
    loadTile(v, s.sk, s.hkv, kvh, s.d, j0, BN, vt);
    __syncthreads();
#pragma unroll 4
    for (int jj = 0; jj < BN; ++jj) {
      float dot = 0.0f, dp = 0.0f;
#pragma unroll
      for (int j = 0; j < kDimsPerThread; ++j)
        if (d0 + j < s.d) {
          dot += qr[j] * kt[jj * s.d + d0 + j];
          dp += dor[j] * vt[jj * s.d + d0 + j];
        }
      dot = groupSum<G>(dot) * s.scale;
      dp = groupSum<G>(dp);
      int64_t key = j0 + jj;
      bool ok = live && key < hi && rowLse != -INFINITY &&
                visible(s, qpos, s.kOffset + key);
      float p = ok ? expf(dot - rowLse) : 0.0f;
      float ds = p * (dp - rowDelta) * s.scale;
#pragma unroll
      for (int j = 0; j < kDimsPerThread; ++j)
        if (d0 + j < s.d)
          acc[j] += ds * kt[jj * s.d + d0 + j];
    }
  }
  if (!live)
    return;
#pragma unroll
  for (int j = 0; j < kDimsPerThread; ++j)
    if (d0 + j < s.d)
      dq.add((i * s.hq + h) * s.d + d0 + j, acc[j]);
}

template <int G, int BN>
__global__ void __launch_bounds__(kThreads)
    dkvKernel(Shape s, Elems q, Elems k, Elems v, const float *lse,
              const float *delta, Elems dout, Elems dk, Elems dv) {
  extern __shared__ float smem[];
  float *qt = smem, *dot_ = smem + BN * s.d;
  float *lt = smem + 2 * BN * s.d, *dt = lt + BN;
  constexpr int R = kThreads / G;
  const int g = threadIdx.x % G;
  const int64_t j = int64_t(blockIdx.x) * R + threadIdx.x / G;
  const int64_t kvh = blockIdx.y;
  const bool live = j < s.sk;
  const int64_t kpos = s.kOffset + j;
  const int64_t d0 = int64_t(g) * kDimsPerThread;

  float kr[kDimsPerThread], vr[kDimsPerThread], dka[kDimsPerThread],
      dva[kDimsPerThread];
#pragma unroll
  for (int c = 0; c < kDimsPerThread; ++c) {
    int64_t d = d0 + c;
    bool in = live && d < s.d;
    kr[c] = in ? k.get((j * s.hkv + kvh) * s.d + d) : 0.0f;
    vr[c] = in ? v.get((j * s.hkv + kvh) * s.d + d) : 0.0f;
    dka[c] = 0.0f;
    dva[c] = 0.0f;
  }
  int64_t klo = s.kOffset + int64_t(blockIdx.x) * R;
  int64_t khi = min(s.kOffset + s.sk - 1, klo + R - 1);
  int64_t lo, hi;
  queryWindow(s, klo, khi, lo, hi);
  for (int64_t t = 0; t < s.group; ++t) {
    const int64_t h = kvh * s.group + t;
    for (int64_t i0 = lo; i0 < hi; i0 += BN) {
      __syncthreads();
      loadTile(q, s.sq, s.hq, h, s.d, i0, BN, qt);
      loadTile(dout, s.sq, s.hq, h, s.d, i0, BN, dot_);
      for (int r = threadIdx.x; r < BN; r += blockDim.x) {
        bool in = i0 + r < hi;
        lt[r] = in ? lse[(i0 + r) * s.hq + h] : -INFINITY;
        dt[r] = in ? delta[(i0 + r) * s.hq + h] : 0.0f;
      }
      __syncthreads();
#pragma unroll 4
      for (int ii = 0; ii < BN; ++ii) {
        float sdot = 0.0f, dp = 0.0f;
#pragma unroll
        for (int c = 0; c < kDimsPerThread; ++c)
          if (d0 + c < s.d) {
            sdot += qt[ii * s.d + d0 + c] * kr[c];
            dp += dot_[ii * s.d + d0 + c] * vr[c];
          }
        sdot = groupSum<G>(sdot) * s.scale;
        dp = groupSum<G>(dp);
        float rowLse = lt[ii];
        bool ok = live && rowLse != -INFINITY &&
                  visible(s, s.qOffset + i0 + ii, kpos);
        float p = ok ? expf(sdot - rowLse) : 0.0f;
        float ds = p * (dp - dt[ii]) * s.scale;
#pragma unroll
        for (int c = 0; c < kDimsPerThread; ++c)
          if (d0 + c < s.d) {
            dva[c] += p * dot_[ii * s.d + d0 + c];
            dka[c] += ds * qt[ii * s.d + d0 + c];
          }
      }
    }
  }
  if (!live)
    return;
#pragma unroll
  for (int c = 0; c < kDimsPerThread; ++c)
    if (d0 + c < s.d) {
      dk.add((j * s.hkv + kvh) * s.d + d0 + c, dka[c]);
      dv.add((j * s.hkv + kvh) * s.d + d0 + c, dva[c]);
    }
}

__global__ void mergeKernel(Elems out, float *lse, Elems blockOut,
                            const float *blockLse, int64_t rows, int64_t d) {
  MIMO_CUDA_GRID_STRIDE(r, rows) {
    float l1 = lse[r], l2 = blockLse[r];
    if (l2 == -INFINITY)
      continue;
    float w1 = 0.0f, w2 = 1.0f, lNew = l2;
    if (l1 != -INFINITY) {
      float mx = fmaxf(l1, l2);
      lNew = mx + logf(expf(l1 - mx) + expf(l2 - mx));
      w1 = expf(l1 - lNew);
      w2 = expf(l2 - lNew);
    }
    for (int64_t c = 0; c < d; ++c)
      out.set(r * d + c,
              w1 * out.get(r * d + c) + w2 * blockOut.get(r * d + c));
    lse[r] = lNew;
  }
}

//===--- Host side ----------------------------------------------------------//

Status validate(const char *K, const AttentionParams &p, const TensorView &q,
                const TensorView &k, const TensorView &v, bool sameLength,
                int64_t qOffset, int64_t kOffset, Shape &s) {
  MIMO_RETURN_IF_ERROR(cpu::checkThat(
      p.qHeads > 0 && p.kvHeads > 0 && p.headDim > 0, K,
      "heads and head dim must be positive, found qHeads=" +
          std::to_string(p.qHeads) + " kvHeads=" + std::to_string(p.kvHeads) +
          " headDim=" + std::to_string(p.headDim)));
  MIMO_RETURN_IF_ERROR(cpu::checkThat(p.qHeads % p.kvHeads == 0, K,
                                      "query heads (" +
                                          std::to_string(p.qHeads) +
                                          ") must be divisible by kv heads (" +
                                          std::to_string(p.kvHeads) + ")"));
  MIMO_RETURN_IF_ERROR(
      cpu::checkThat(p.headDim <= 256, K,
                     "the cuda kernels support head dims up to 256, found " +
                         std::to_string(p.headDim)));
  MIMO_RETURN_IF_ERROR(cpu::checkThat(p.segment >= 0, K,
                                      "segment must be >= 0, found " +
                                          std::to_string(p.segment)));
  MIMO_RETURN_IF_ERROR(cpu::checkThat(
      qOffset >= 0 && kOffset >= 0, K,
      "positions must be >= 0, found qOffset=" + std::to_string(qOffset) +
          " kOffset=" + std::to_string(kOffset)));
  MIMO_RETURN_IF_ERROR(checkFloat(K, "q", q, {kAny, p.qHeads * p.headDim}));
  int64_t sq = q.dim(0);
  MIMO_RETURN_IF_ERROR(
      checkFloat(K, "k", k, {sameLength ? sq : kAny, p.kvHeads * p.headDim}));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "v", v, "k", k));
  s.sq = sq;
  s.sk = k.dim(0);
  s.hq = p.qHeads;
  s.hkv = p.kvHeads;
  s.d = p.headDim;
  s.group = p.qHeads / p.kvHeads;
  s.qOffset = qOffset;
  s.kOffset = kOffset;
  s.causal = p.causal;
  s.segment = p.segment;
  s.scale = p.scale != 0.0f ? p.scale : 1.0f / std::sqrt(float(p.headDim));
  return Status::success();
}

int groupFor(int64_t d) { return d <= 32 ? 1 : d <= 64 ? 2 : d <= 128 ? 4 : 8; }

template <int G> constexpr int tileFor() { return G == 8 ? 16 : 32; }

template <int G>
Status launchForward(cudaStream_t stream, const Shape &s, const TensorView &q,
                     const TensorView &k, const TensorView &v,
                     const TensorView &out, const TensorView &lse) {
  constexpr int BN = tileFor<G>();
  constexpr int R = kThreads / G;
  dim3 grid(unsigned((s.sq + R - 1) / R), unsigned(s.hq));
  size_t shared = size_t(2 * BN * s.d) * sizeof(float);
  forwardKernel<G, BN><<<grid, kThreads, shared, stream>>>(
      s, elems(q), elems(k), elems(v), elems(out), lse.f32());
  return launched("attention_forward");
}

template <int G>
Status launchBackward(cudaStream_t stream, const Shape &s, const TensorView &q,
                      const TensorView &k, const TensorView &v,
                      const float *lse, const float *delta,
                      const TensorView &dout, const TensorView &dq,
                      const TensorView &dk, const TensorView &dv) {
  constexpr int BN = tileFor<G>();
  constexpr int R = kThreads / G;
  size_t shared = size_t(2 * BN * s.d) * sizeof(float);
  if (s.sq > 0)
    dqKernel<G, BN><<<dim3(unsigned((s.sq + R - 1) / R), unsigned(s.hq)),
                      kThreads, shared, stream>>>(
        s, elems(q), elems(k), elems(v), lse, delta, elems(dout), elems(dq));
  MIMO_RETURN_IF_ERROR(launched("attention_backward (dq)"));
  if (s.sk > 0)
    dkvKernel<G, BN><<<dim3(unsigned((s.sk + R - 1) / R), unsigned(s.hkv)),
                       kThreads, shared + 2 * BN * sizeof(float), stream>>>(
        s, elems(q), elems(k), elems(v), lse, delta, elems(dout), elems(dk),
        elems(dv));
  return launched("attention_backward (dk, dv)");
}

Status forward(cudaStream_t stream, const Shape &s, const TensorView &q,
               const TensorView &k, const TensorView &v, const TensorView &out,
               const TensorView &lse) {
  if (s.sq == 0)
    return Status::success();
  switch (groupFor(s.d)) {
  case 1:
    return launchForward<1>(stream, s, q, k, v, out, lse);
  case 2:
    return launchForward<2>(stream, s, q, k, v, out, lse);
  case 4:
    return launchForward<4>(stream, s, q, k, v, out, lse);
  default:
    return launchForward<8>(stream, s, q, k, v, out, lse);
  }
}

/// dq, dk, dv accumulated; `delta` is scratch of sq * hq floats.
Status backward(cudaStream_t stream, const char *K, const Shape &s,
                const TensorView &q, const TensorView &k, const TensorView &v,
                const TensorView &out, const TensorView &lse,
                const TensorView &dout, const TensorView &dq,
                const TensorView &dk, const TensorView &dv, float *delta) {
  if (s.sq > 0) {
    deltaKernel<<<gridFor(s.sq * s.hq), 256, 0, stream>>>(
        elems(out), elems(dout), s.sq * s.hq, s.d, delta);
    MIMO_RETURN_IF_ERROR(launched(K));
  }
  switch (groupFor(s.d)) {
  case 1:
    return launchBackward<1>(stream, s, q, k, v, lse.f32(), delta, dout, dq, dk,
                             dv);
  case 2:
    return launchBackward<2>(stream, s, q, k, v, lse.f32(), delta, dout, dq, dk,
                             dv);
  case 4:
    return launchBackward<4>(stream, s, q, k, v, lse.f32(), delta, dout, dq, dk,
                             dv);
  default:
    return launchBackward<8>(stream, s, q, k, v, lse.f32(), delta, dout, dq, dk,
                             dv);
  }
}

Status checkOutputs(const char *K, const Shape &s, const TensorView &q,
                    const TensorView &out, const TensorView &lse) {
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "out", out, "q", q));
  return cpu::checkTensor(K, "lse", lse, DType::F32, {s.sq, s.hq});
}

Status checkGradients(const char *K, const TensorView &q, const TensorView &k,
                      const TensorView &v, const TensorView &dout,
                      const TensorView &dq, const TensorView &dk,
                      const TensorView &dv) {
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "dout", dout, "q", q));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "dq", dq, "q", q));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "dk", dk, "k", k));
  return checkShapeLike(K, "dv", dv, "v", v);
}

} // namespace

Status CudaKernels::attentionForward(const AttentionParams &p,
                                     const TensorView &q, const TensorView &k,
                                     const TensorView &v, const TensorView &out,
                                     const TensorView &lse) {
  const char *K = "attention_forward";
  Shape s;
  MIMO_RETURN_IF_ERROR(validate(K, p, q, k, v, true, 0, 0, s));
  MIMO_RETURN_IF_ERROR(checkOutputs(K, s, q, out, lse));
  return forward(stream_, s, q, k, v, out, lse);
}

size_t CudaKernels::attentionBackwardWorkspaceBytes(const AttentionParams &p,
                                                    int64_t queries) const {
  if (queries <= 0 || p.qHeads <= 0)
    return 0;
  return size_t(queries * p.qHeads) * sizeof(float);
}

Status CudaKernels::attentionBackward(
    const AttentionParams &p, const TensorView &q, const TensorView &k,
    const TensorView &v, const TensorView &out, const TensorView &lse,
    const TensorView &dout, const TensorView &dq, const TensorView &dk,
    const TensorView &dv, const Workspace &workspace) {
  const char *K = "attention_backward";
  Shape s;
  MIMO_RETURN_IF_ERROR(validate(K, p, q, k, v, true, 0, 0, s));
  MIMO_RETURN_IF_ERROR(checkOutputs(K, s, q, out, lse));
  MIMO_RETURN_IF_ERROR(checkGradients(K, q, k, v, dout, dq, dk, dv));
  MIMO_RETURN_IF_ERROR(cpu::checkWorkspace(
      K, workspace, attentionBackwardWorkspaceBytes(p, s.sq)));
  for (const TensorView *g : {&dq, &dk, &dv})
    MIMO_RETURN_IF_ERROR(cudaStatus(
        cudaMemsetAsync(g->data, 0, g->bytes(), stream_), K, "zeroing"));
  return backward(stream_, K, s, q, k, v, out, lse, dout, dq, dk, dv,
                  static_cast<float *>(workspace.data));
}

Status CudaKernels::attentionBlockForward(
    const AttentionParams &p, int64_t qOffset, int64_t kOffset,
    const TensorView &q, const TensorView &k, const TensorView &v,
    const TensorView &out, const TensorView &lse) {
  const char *K = "attention_block_forward";
  Shape s;
  MIMO_RETURN_IF_ERROR(validate(K, p, q, k, v, false, qOffset, kOffset, s));
  MIMO_RETURN_IF_ERROR(checkOutputs(K, s, q, out, lse));
  return forward(stream_, s, q, k, v, out, lse);
}

Status CudaKernels::attentionMerge(const TensorView &out, const TensorView &lse,
                                   const TensorView &blockOut,
                                   const TensorView &blockLse) {
  const char *K = "attention_merge";
  MIMO_RETURN_IF_ERROR(
      cpu::checkTensor(K, "lse", lse, DType::F32, {kAny, kAny}));
  int64_t rows = lse.dim(0), heads = lse.dim(1);
  MIMO_RETURN_IF_ERROR(checkFloat(K, "out", out, {rows, kAny}));
  MIMO_RETURN_IF_ERROR(cpu::checkThat(
      heads > 0 && out.dim(1) % heads == 0, K,
      "argument 'out': its row length " + std::to_string(out.dim(1)) +
          " is not a multiple of the " + std::to_string(heads) + " heads"));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "blockOut", blockOut, "out", out));
  MIMO_RETURN_IF_ERROR(
      cpu::checkTensor(K, "blockLse", blockLse, DType::F32, {rows, heads}));
  int64_t d = heads > 0 ? out.dim(1) / heads : 0;
  mergeKernel<<<gridFor(rows * heads), 256, 0, stream_>>>(
      elems(out), lse.f32(), elems(blockOut), blockLse.f32(), rows * heads, d);
  return launched(K);
}

Status CudaKernels::attentionBlockBackward(
    const AttentionParams &p, int64_t qOffset, int64_t kOffset,
    const TensorView &q, const TensorView &k, const TensorView &v,
    const TensorView &out, const TensorView &lse, const TensorView &dout,
    const TensorView &dq, const TensorView &dk, const TensorView &dv,
    const Workspace &workspace) {
  const char *K = "attention_block_backward";
  Shape s;
  MIMO_RETURN_IF_ERROR(validate(K, p, q, k, v, false, qOffset, kOffset, s));
  MIMO_RETURN_IF_ERROR(checkOutputs(K, s, q, out, lse));
  MIMO_RETURN_IF_ERROR(checkGradients(K, q, k, v, dout, dq, dk, dv));
  MIMO_RETURN_IF_ERROR(cpu::checkWorkspace(
      K, workspace, attentionBackwardWorkspaceBytes(p, s.sq)));
  return backward(stream_, K, s, q, k, v, out, lse, dout, dq, dk, dv,
                  static_cast<float *>(workspace.data));
}

} // namespace mimo::kernels::cuda
