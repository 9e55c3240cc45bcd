//===- Attention.cpp - Memory-efficient attention -------------------------===//
//
// Flash-attention style: the forward walks key blocks with an online softmax
// and saves only the output and the per-row log-sum-exp; the backward
// recomputes probabilities from the saved lse. Under causal and segment
// masks the keys a query sees (and the queries a key is seen by) form one
// contiguous range of global positions, so masking is range clipping.
//
// Backward work is split so that every output row is written by one task:
// one pass over (query head, query row) for dq, one over (kv head, key row)
// for dk and dv (which sums over the query heads of its group). The results
// therefore do not depend on the number of threads.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace mimo::kernels::cpu {
namespace {

constexpr int64_t kKeyBlock = 64;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

struct Dims {
  int64_t sq, sk, hq, hkv, d, group;
  float scale;
};

Status validate(const char *K, const AttentionParams &p, const TensorView &q,
                const TensorView &k, const TensorView &v, bool sameLength,
                Dims &dims) {
  MIMO_RETURN_IF_ERROR(checkThat(
      p.qHeads > 0 && p.kvHeads > 0 && p.headDim > 0, K,
      "heads and head dim must be positive, found "
      "qHeads=" +
          std::to_string(p.qHeads) + " kvHeads=" + std::to_string(p.kvHeads) +
          " headDim=" + std::to_string(p.headDim)));
  MIMO_RETURN_IF_ERROR(checkThat(p.qHeads % p.kvHeads == 0, K,
                                 "query heads (" + std::to_string(p.qHeads) +
                                     ") must be divisible by kv heads (" +
                                     std::to_string(p.kvHeads) + ")"));
  MIMO_RETURN_IF_ERROR(
      checkThat(p.segment >= 0, K,
                "segment must be >= 0, found " + std::to_string(p.segment)));
  MIMO_RETURN_IF_ERROR(
      checkTensor(K, "q", q, DType::F32, {kAny, p.qHeads * p.headDim}));
  int64_t sq = q.dim(0);
  MIMO_RETURN_IF_ERROR(checkTensor(
      K, "k", k, DType::F32, {sameLength ? sq : kAny, p.kvHeads * p.headDim}));
  MIMO_RETURN_IF_ERROR(checkLike(K, "v", v, "k", k));
  dims.sq = sq;
  dims.sk = k.dim(0);
  dims.hq = p.qHeads;
  dims.hkv = p.kvHeads;
  dims.d = p.headDim;
  dims.group = p.qHeads / p.kvHeads;
  dims.scale = p.scale != 0.0f ? p.scale : 1.0f / std::sqrt(float(p.headDim));
  return Status::success();
}

Status checkOffsets(const char *K, int64_t qOffset, int64_t kOffset) {
  return checkThat(
      qOffset >= 0 && kOffset >= 0, K,
      "positions must be >= 0, found qOffset=" + std::to_string(qOffset) +
          " kOffset=" + std::to_string(kOffset));
}

// Local key rows [lo, hi) visible from global query position qpos.
void keyRange(const AttentionParams &p, int64_t qpos, int64_t kOffset,
              int64_t sk, int64_t &lo, int64_t &hi) {
  int64_t glo = kOffset, ghi = kOffset + sk;
  if (p.causal)
    ghi = std::min(ghi, qpos + 1);
  if (p.segment > 0) {
    int64_t s0 = (qpos / p.segment) * p.segment;
    glo = std::max(glo, s0);
    ghi = std::min(ghi, s0 + p.segment);
  }
  lo = glo - kOffset;
  hi = std::max(lo, ghi - kOffset);
}

// Local query rows [lo, hi) that see global key position kpos.
void queryRange(const AttentionParams &p, int64_t kpos, int64_t qOffset,
                int64_t sq, int64_t &lo, int64_t &hi) {
  int64_t glo = qOffset, ghi = qOffset + sq;
  if (p.causal)
    glo = std::max(glo, kpos);
  if (p.segment > 0) {
    int64_t s0 = (kpos / p.segment) * p.segment;
    glo = std::max(glo, s0);
    ghi = std::min(ghi, s0 + p.segment);
  }
  lo = glo - qOffset;
  hi = std::max(lo, ghi - qOffset);
}

inline float dot(const float *a, const float *b, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i)
    s += a[i] * b[i];
  return s;
}

void forwardBlock(const AttentionParams &p, const Dims &dm, int64_t qOffset,
                  int64_t kOffset, const float *q, const float *k,
                  const float *v, float *out, float *lse) {
  const int64_t qStride = dm.hq * dm.d, kStride = dm.hkv * dm.d, d = dm.d;
  parallelFor(dm.sq * dm.hq, [&](int64_t task) {
    int64_t i = task / dm.hq, h = task % dm.hq, g = h / dm.group;
    const float *qi = q + i * qStride + h * d;
    float *oi = out + i * qStride + h * d;
    int64_t lo, hi;
    keyRange(p, qOffset + i, kOffset, dm.sk, lo, hi);
    std::fill(oi, oi + d, 0.0f);
    if (lo >= hi) {
      lse[i * dm.hq + h] = kNegInf;
      return;
    }
    float s[kKeyBlock];
    float m = kNegInf, l = 0.0f;
    for (int64_t j0 = lo; j0 < hi; j0 += kKeyBlock) {
      int64_t n = std::min(kKeyBlock, hi - j0);
      float bm = kNegInf;
      for (int64_t jj = 0; jj < n; ++jj) {
        s[jj] = dm.scale * dot(qi, k + (j0 + jj) * kStride + g * d, d);
        bm = std::max(bm, s[jj]);
      }
      float mNew = std::max(m, bm);
      float corr = std::exp(m - mNew); // 0 on the first block
      l *= corr;
      for (int64_t c = 0; c < d; ++c)
        oi[c] *= corr;
      for (int64_t jj = 0; jj < n; ++jj) {
        float pj = std::exp(s[jj] - mNew);
        l += pj;
        const float *vj = v + (j0 + jj) * kStride + g * d;
        for (int64_t c = 0; c < d; ++c)
          oi[c] += pj * vj[c];
      }
      m = mNew;
    }
    float inv = 1.0f / l;
    for (int64_t c = 0; c < d; ++c)
      oi[c] *= inv;
    lse[i * dm.hq + h] = m + std::log(l);
  });
}

// Accumulates this key block's contribution to dq, dk, dv. delta [sq, hq]
// holds rowsum(dout * out) per query row and head.
void backwardBlock(const AttentionParams &p, const Dims &dm, int64_t qOffset,
                   int64_t kOffset, const float *q, const float *k,
                   const float *v, const float *lse, const float *dout,
                   const float *delta, float *dq, float *dk, float *dv) {
  const int64_t qStride = dm.hq * dm.d, kStride = dm.hkv * dm.d, d = dm.d;
  const float scale = dm.scale;
  // dq: one task per (query row, query head).
  parallelFor(dm.sq * dm.hq, [&](int64_t task) {
    int64_t i = task / dm.hq, h = task % dm.hq, g = h / dm.group;
    int64_t lo, hi;
    keyRange(p, qOffset + i, kOffset, dm.sk, lo, hi);
    const float *qi = q + i * qStride + h * d;
    const float *gi = dout + i * qStride + h * d;
    float *dqi = dq + i * qStride + h * d;
    float l = lse[i * dm.hq + h], de = delta[i * dm.hq + h];
    for (int64_t j = lo; j < hi; ++j) {
      const float *kj = k + j * kStride + g * d;
      const float *vj = v + j * kStride + g * d;
      float pj = std::exp(scale * dot(qi, kj, d) - l);
      float ds = pj * (dot(gi, vj, d) - de) * scale;
      for (int64_t c = 0; c < d; ++c)
        dqi[c] += ds * kj[c];
    }
  });
  // dk, dv: one task per (key row, kv head), summing over its query heads.
  parallelFor(dm.sk * dm.hkv, [&](int64_t task) {
    int64_t j = task / dm.hkv, g = task % dm.hkv;
    int64_t lo, hi;
    queryRange(p, kOffset + j, qOffset, dm.sq, lo, hi);
    const float *kj = k + j * kStride + g * d;
    const float *vj = v + j * kStride + g * d;
    float *dkj = dk + j * kStride + g * d;
    float *dvj = dv + j * kStride + g * d;
    for (int64_t h = g * dm.group; h < (g + 1) * dm.group; ++h) {
      for (int64_t i = lo; i < hi; ++i) {
        const float *qi = q + i * qStride + h * d;
        const float *gi = dout + i * qStride + h * d;
        float pj = std::exp(scale * dot(qi, kj, d) - lse[i * dm.hq + h]);
        float ds = pj * (dot(gi, vj, d) - delta[i * dm.hq + h]) * scale;
        for (int64_t c = 0; c < d; ++c) {
          dvj[c] += pj * gi[c];
          dkj[c] += ds * qi[c];
        }
      }
    }
  });
}

void computeDelta(const Dims &dm, const float *out, const float *dout,
                  float *delta) {
  parallelFor(dm.sq * dm.hq, [&](int64_t task) {
    int64_t i = task / dm.hq, h = task % dm.hq;
    int64_t off = i * dm.hq * dm.d + h * dm.d;
    double s = 0.0;
    for (int64_t c = 0; c < dm.d; ++c)
      s += double(out[off + c]) * dout[off + c];
    delta[task] = float(s);
  });
}

} // namespace

Status CpuKernels::attentionForward(const AttentionParams &p,
                                    const TensorView &q, const TensorView &k,
                                    const TensorView &v, const TensorView &out,
                                    const TensorView &lse) {
  const char *K = "attention_forward";
  Dims dm;
  MIMO_RETURN_IF_ERROR(validate(K, p, q, k, v, /*sameLength=*/true, dm));
  MIMO_RETURN_IF_ERROR(checkLike(K, "out", out, "q", q));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "lse", lse, DType::F32, {dm.sq, dm.hq}));
  forwardBlock(p, dm, 0, 0, q.f32(), k.f32(), v.f32(), out.f32(), lse.f32());
  return Status::success();
}

size_t CpuKernels::attentionBackwardWorkspaceBytes(const AttentionParams &p,
                                                   int64_t queries) const {
  return size_t(std::max<int64_t>(0, queries * p.qHeads)) * sizeof(float);
}

Status CpuKernels::attentionBackward(
    const AttentionParams &p, const TensorView &q, const TensorView &k,
    const TensorView &v, const TensorView &out, const TensorView &lse,
    const TensorView &dout, const TensorView &dq, const TensorView &dk,
    const TensorView &dv, const Workspace &workspace) {
  const char *K = "attention_backward";
  Dims dm;
  MIMO_RETURN_IF_ERROR(validate(K, p, q, k, v, /*sameLength=*/true, dm));
  MIMO_RETURN_IF_ERROR(checkLike(K, "out", out, "q", q));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "lse", lse, DType::F32, {dm.sq, dm.hq}));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dout", dout, "q", q));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dq", dq, "q", q));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dk", dk, "k", k));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dv", dv, "v", v));
  MIMO_RETURN_IF_ERROR(
      checkWorkspace(K, workspace, attentionBackwardWorkspaceBytes(p, dm.sq)));
  std::fill(dq.f32(), dq.f32() + dq.numel(), 0.0f);
  std::fill(dk.f32(), dk.f32() + dk.numel(), 0.0f);
  std::fill(dv.f32(), dv.f32() + dv.numel(), 0.0f);
  float *delta = static_cast<float *>(workspace.data);
  computeDelta(dm, out.f32(), dout.f32(), delta);
  backwardBlock(p, dm, 0, 0, q.f32(), k.f32(), v.f32(), lse.f32(), dout.f32(),
                delta, dq.f32(), dk.f32(), dv.f32());
  return Status::success();
}

Status CpuKernels::attentionBlockForward(
    const AttentionParams &p, int64_t qOffset, int64_t kOffset,
    const TensorView &q, const TensorView &k, const TensorView &v,
    const TensorView &out, const TensorView &lse) {
  const char *K = "attention_block_forward";
  Dims dm;
  MIMO_RETURN_IF_ERROR(validate(K, p, q, k, v, /*sameLength=*/false, dm));
  MIMO_RETURN_IF_ERROR(checkOffsets(K, qOffset, kOffset));
  MIMO_RETURN_IF_ERROR(checkLike(K, "out", out, "q", q));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "lse", lse, DType::F32, {dm.sq, dm.hq}));
  forwardBlock(p, dm, qOffset, kOffset, q.f32(), k.f32(), v.f32(), out.f32(),
               lse.f32());
  return Status::success();
}

Status CpuKernels::attentionMerge(const TensorView &out, const TensorView &lse,
                                  const TensorView &blockOut,
                                  const TensorView &blockLse) {
  const char *K = "attention_merge";
  MIMO_RETURN_IF_ERROR(checkTensor(K, "lse", lse, DType::F32, {kAny, kAny}));
  int64_t s = lse.dim(0), h = lse.dim(1);
  MIMO_RETURN_IF_ERROR(checkTensor(K, "out", out, DType::F32, {s, kAny}));
  MIMO_RETURN_IF_ERROR(
      checkThat(h > 0 && out.dim(1) % h == 0, K,
                "argument 'out': width (" + std::to_string(out.dim(1)) +
                    ") must be a multiple of the heads in 'lse' (" +
                    std::to_string(h) + ")"));
  MIMO_RETURN_IF_ERROR(checkLike(K, "blockOut", blockOut, "out", out));
  MIMO_RETURN_IF_ERROR(checkLike(K, "blockLse", blockLse, "lse", lse));
  int64_t d = out.dim(1) / h;
  float *o = out.f32(), *l = lse.f32();
  const float *bo = blockOut.f32(), *bl = blockLse.f32();
  parallelFor(s * h, [&](int64_t task) {
    float l1 = l[task], l2 = bl[task];
    if (l2 == kNegInf)
      return;
    float *oi = o + task * d;
    const float *bi = bo + task * d;
    if (l1 == kNegInf) {
      std::copy(bi, bi + d, oi);
      l[task] = l2;
      return;
    }
    float m = std::max(l1, l2);
    float ln = m + std::log(std::exp(l1 - m) + std::exp(l2 - m));
    float w1 = std::exp(l1 - ln), w2 = std::exp(l2 - ln);
    for (int64_t c = 0; c < d; ++c)
      oi[c] = w1 * oi[c] + w2 * bi[c];
    l[task] = ln;
  });
  return Status::success();
}

Status CpuKernels::attentionBlockBackward(
    const AttentionParams &p, int64_t qOffset, int64_t kOffset,
    const TensorView &q, const TensorView &k, const TensorView &v,
    const TensorView &out, const TensorView &lse, const TensorView &dout,
    const TensorView &dq, const TensorView &dk, const TensorView &dv,
    const Workspace &workspace) {
  const char *K = "attention_block_backward";
  Dims dm;
  MIMO_RETURN_IF_ERROR(validate(K, p, q, k, v, /*sameLength=*/false, dm));
  MIMO_RETURN_IF_ERROR(checkOffsets(K, qOffset, kOffset));
  MIMO_RETURN_IF_ERROR(checkLike(K, "out", out, "q", q));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "lse", lse, DType::F32, {dm.sq, dm.hq}));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dout", dout, "q", q));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dq", dq, "q", q));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dk", dk, "k", k));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dv", dv, "v", v));
  MIMO_RETURN_IF_ERROR(
      checkWorkspace(K, workspace, attentionBackwardWorkspaceBytes(p, dm.sq)));
  float *delta = static_cast<float *>(workspace.data);
  computeDelta(dm, out.f32(), dout.f32(), delta);
  backwardBlock(p, dm, qOffset, kOffset, q.f32(), k.f32(), v.f32(), lse.f32(),
                dout.f32(), delta, dq.f32(), dk.f32(), dv.f32());
  return Status::success();
}

} // namespace mimo::kernels::cpu
