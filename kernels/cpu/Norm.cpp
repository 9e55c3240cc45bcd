//===- Norm.cpp - LayerNorm and RMSNorm -----------------------------------===//
//
// Row statistics accumulate in double. Parameter gradients are reduced over
// rows in row order by column blocks, so they do not depend on the number of
// threads.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"

#include <algorithm>
#include <cmath>

namespace mimo::kernels::cpu {
namespace {

constexpr int64_t kColBlock = 256;

// For each column block, for r in rows order: fn(r, c0, c1).
template <typename F> void columnBlocks(int64_t cols, F &&fn) {
  parallelFor((cols + kColBlock - 1) / kColBlock, [&](int64_t blk) {
    int64_t c0 = blk * kColBlock;
    fn(c0, std::min(cols, c0 + kColBlock));
  });
}

} // namespace

Status CpuKernels::layerNormForward(const TensorView &x,
                                    const TensorView &gamma,
                                    const TensorView &beta, float eps,
                                    const TensorView &y, const TensorView &mean,
                                    const TensorView &rstd) {
  const char *K = "layer_norm_forward";
  MIMO_RETURN_IF_ERROR(checkTensor(K, "x", x, DType::F32, {kAny, kAny}));
  int64_t t = x.dim(0), h = x.dim(1);
  MIMO_RETURN_IF_ERROR(checkTensor(K, "gamma", gamma, DType::F32, {h}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "beta", beta, DType::F32, {h}));
  MIMO_RETURN_IF_ERROR(checkLike(K, "y", y, "x", x));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "mean", mean, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "rstd", rstd, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(checkThat(h > 0, K, "hidden size must be positive"));
  const float *xp = x.f32(), *g = gamma.f32(), *b = beta.f32();
  float *yp = y.f32(), *mp = mean.f32(), *rp = rstd.f32();
  parallelFor(t, [&](int64_t r) {
    const float *xr = xp + r * h;
    double s = 0.0;
    for (int64_t c = 0; c < h; ++c)
      s += xr[c];
    double mu = s / double(h);
    double v = 0.0;
    for (int64_t c = 0; c < h; ++c) {
      double d = xr[c] - mu;
      v += d * d;
    }
    double rs = 1.0 / std::sqrt(v / double(h) + double(eps));
    float muf = float(mu), rsf = float(rs);
    float *yr = yp + r * h;
    for (int64_t c = 0; c < h; ++c)
      yr[c] = (xr[c] - muf) * rsf * g[c] + b[c];
    mp[r] = muf;
    rp[r] = rsf;
  });
  return Status::success();
}

Status CpuKernels::layerNormBackward(
    const TensorView &x, const TensorView &gamma, const TensorView &mean,
    const TensorView &rstd, const TensorView &dy, const TensorView &dx,
    const TensorView &dgamma, const TensorView &dbeta) {
  const char *K = "layer_norm_backward";
  MIMO_RETURN_IF_ERROR(checkTensor(K, "x", x, DType::F32, {kAny, kAny}));
  int64_t t = x.dim(0), h = x.dim(1);
  MIMO_RETURN_IF_ERROR(checkTensor(K, "gamma", gamma, DType::F32, {h}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "mean", mean, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "rstd", rstd, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dy", dy, "x", x));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dx", dx, "x", x));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "dgamma", dgamma, DType::F32, {h}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "dbeta", dbeta, DType::F32, {h}));
  const float *xp = x.f32(), *g = gamma.f32(), *mp = mean.f32(),
              *rp = rstd.f32(), *gy = dy.f32();
  float *dxp = dx.f32(), *dg = dgamma.f32(), *db = dbeta.f32();
  // Parameter gradients first: dx may alias dy.
  columnBlocks(h, [&](int64_t c0, int64_t c1) {
    for (int64_t r = 0; r < t; ++r) {
      const float *xr = xp + r * h, *gr = gy + r * h;
      for (int64_t c = c0; c < c1; ++c) {
        float xhat = (xr[c] - mp[r]) * rp[r];
        dg[c] += gr[c] * xhat;
        db[c] += gr[c];
      }
    }
  });
  parallelFor(t, [&](int64_t r) {
    const float *xr = xp + r * h, *gr = gy + r * h;
    double sg = 0.0, sgx = 0.0;
    for (int64_t c = 0; c < h; ++c) {
      double gg = double(gr[c]) * g[c];
      double xhat = double(xr[c] - mp[r]) * rp[r];
      sg += gg;
      sgx += gg * xhat;
    }
    float mg = float(sg / double(h)), mgx = float(sgx / double(h));
    float *dr = dxp + r * h;
    for (int64_t c = 0; c < h; ++c) {
      float xhat = (xr[c] - mp[r]) * rp[r];
      dr[c] = rp[r] * (gr[c] * g[c] - mg - xhat * mgx);
    }
  });
  return Status::success();
}

Status CpuKernels::rmsNormForward(const TensorView &x, const TensorView &gamma,
                                  float eps, const TensorView &y,
                                  const TensorView &rstd) {
  const char *K = "rms_norm_forward";
  MIMO_RETURN_IF_ERROR(checkTensor(K, "x", x, DType::F32, {kAny, kAny}));
  int64_t t = x.dim(0), h = x.dim(1);
  MIMO_RETURN_IF_ERROR(checkTensor(K, "gamma", gamma, DType::F32, {h}));
  MIMO_RETURN_IF_ERROR(checkLike(K, "y", y, "x", x));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "rstd", rstd, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(checkThat(h > 0, K, "hidden size must be positive"));
  const float *xp = x.f32(), *g = gamma.f32();
  float *yp = y.f32(), *rp = rstd.f32();
  parallelFor(t, [&](int64_t r) {
    const float *xr = xp + r * h;
    double s = 0.0;
    for (int64_t c = 0; c < h; ++c)
      s += double(xr[c]) * xr[c];
    float rs = float(1.0 / std::sqrt(s / double(h) + double(eps)));
    float *yr = yp + r * h;
    for (int64_t c = 0; c < h; ++c)
      yr[c] = xr[c] * rs * g[c];
    rp[r] = rs;
  });
  return Status::success();
}

Status CpuKernels::rmsNormBackward(const TensorView &x, const TensorView &gamma,
                                   const TensorView &rstd, const TensorView &dy,
                                   const TensorView &dx,
                                   const TensorView &dgamma) {
  const char *K = "rms_norm_backward";
  MIMO_RETURN_IF_ERROR(checkTensor(K, "x", x, DType::F32, {kAny, kAny}));
  int64_t t = x.dim(0), h = x.dim(1);
  MIMO_RETURN_IF_ERROR(checkTensor(K, "gamma", gamma, DType::F32, {h}));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "rstd", rstd, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dy", dy, "x", x));
  MIMO_RETURN_IF_ERROR(checkLike(K, "dx", dx, "x", x));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "dgamma", dgamma, DType::F32, {h}));
  const float *xp = x.f32(), *g = gamma.f32(), *rp = rstd.f32(), *gy = dy.f32();
  float *dxp = dx.f32(), *dg = dgamma.f32();
  columnBlocks(h, [&](int64_t c0, int64_t c1) {
    for (int64_t r = 0; r < t; ++r) {
      const float *xr = xp + r * h, *gr = gy + r * h;
      for (int64_t c = c0; c < c1; ++c)
        dg[c] += gr[c] * xr[c] * rp[r];
    }
  });
  parallelFor(t, [&](int64_t r) {
    const float *xr = xp + r * h, *gr = gy + r * h;
    double sgx = 0.0;
    for (int64_t c = 0; c < h; ++c)
      sgx += double(gr[c]) * g[c] * (double(xr[c]) * rp[r]);
    float mgx = float(sgx / double(h));
    float *dr = dxp + r * h;
    for (int64_t c = 0; c < h; ++c)
      dr[c] = rp[r] * (gr[c] * g[c] - xr[c] * rp[r] * mgx);
  });
  return Status::success();
}

} // namespace mimo::kernels::cpu
