//===- Elementwise.cu - Norms, activations, RoPE, embeddings, Adam --------===//
//
// Row kernels (norms) give one block to a row and reduce with a fixed tree;
// parameter gradients that sum over rows (dgamma, dbeta) take per-chunk
// partials and add them in chunk order, so every result is deterministic.
// The embedding backward gives each thread one hidden column and walks the
// tokens in order, so repeated ids add up in the CPU's order.
//
//===----------------------------------------------------------------------===//

#include "CudaKernels.h"

#include <cmath>
#include <string>

namespace mimo::kernels::cuda {
namespace {

constexpr int kRowThreads = 256;

//===--- Norms ------------------------------------------------------------===//

__global__ void layerNormFwd(Elems x, Elems gamma, Elems beta, float eps,
                             int64_t h, Elems y, float *mean, float *rstd) {
  __shared__ float red[32];
  int64_t row = blockIdx.x;
  int64_t base = row * h;
  float s = 0.0f;
  for (int64_t c = threadIdx.x; c < h; c += blockDim.x)
    s += x.get(base + c);
  float mu = blockSum(s, red) / float(h);
  float v = 0.0f;
  for (int64_t c = threadIdx.x; c < h; c += blockDim.x) {
    float d = x.get(base + c) - mu;
    v += d * d;
  }
  float rs = rsqrtf(blockSum(v, red) / float(h) + eps);
  for (int64_t c = threadIdx.x; c < h; c += blockDim.x)
    y.set(base + c, (x.get(base + c) - mu) * rs * gamma.get(c) + beta.get(c));
  if (threadIdx.x == 0) {
    mean[row] = mu;
    rstd[row] = rs;
  }
}

/// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma; with
/// `mean` null (RMSNorm) xhat = x * rstd and the mean(g) term is dropped.
__global__ void normBwdInput(Elems x, Elems gamma, const float *mean,
                             const float *rstd, Elems dy, int64_t h, Elems dx) {
  __shared__ float red[32];
  int64_t row = blockIdx.x;
  int64_t base = row * h;
  float mu = mean ? mean[row] : 0.0f, rs = rstd[row];
  float sg = 0.0f, sgx = 0.0f;
  for (int64_t c = threadIdx.x; c < h; c += blockDim.x) {
    float g = dy.get(base + c) * gamma.get(c);
    float xh = (x.get(base + c) - mu) * rs;
    sg += g;
    sgx += g * xh;
  }
  float meanG = mean ? blockSum(sg, red) / float(h) : 0.0f;
  float meanGX = blockSum(sgx, red) / float(h);
  for (int64_t c = threadIdx.x; c < h; c += blockDim.x) {
    float g = dy.get(base + c) * gamma.get(c);
    float xh = (x.get(base + c) - mu) * rs;
    dx.set(base + c, rs * (g - meanG - xh * meanGX));
  }
}

/// Per chunk of rows: partialGamma[chunk, c] = sum dy * xhat,
/// partialBeta[chunk, c] = sum dy (when non-null).
__global__ void normBwdParamPartials(Elems x, const float *mean,
                                     const float *rstd, Elems dy, int64_t t,
                                     int64_t h, float *partialGamma,
                                     float *partialBeta) {
  int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t chunk = blockIdx.y;
  if (c >= h)
    return;
  int64_t r0 = chunk * kColumnChunk, r1 = min(t, r0 + kColumnChunk);
  float sg = 0.0f, sb = 0.0f;
  for (int64_t r = r0; r < r1; ++r) {
    float d = dy.get(r * h + c);
    float xh = (x.get(r * h + c) - (mean ? mean[r] : 0.0f)) * rstd[r];
    sg += d * xh;
    sb += d;
  }
  partialGamma[chunk * h + c] = sg;
  if (partialBeta)
    partialBeta[chunk * h + c] = sb;
}

__global__ void rmsNormFwd(Elems x, Elems gamma, float eps, int64_t h, Elems y,
                           float *rstd) {
  __shared__ float red[32];
  int64_t row = blockIdx.x;
  int64_t base = row * h;
  float s = 0.0f;
  for (int64_t c = threadIdx.x; c < h; c += blockDim.x) {
    float v = x.get(base + c);
    s += v * v;
  }
  float rs = rsqrtf(blockSum(s, red) / float(h) + eps);
  for (int64_t c = threadIdx.x; c < h; c += blockDim.x)
    y.set(base + c, x.get(base + c) * rs * gamma.get(c));
  if (threadIdx.x == 0)
    rstd[row] = rs;
}

//===--- Activations ------------------------------------------------------===//

constexpr float kGeluC0 = 0.7978845608028654f; // sqrt(2 / pi)
constexpr float kGeluC1 = 0.044715f;

__global__ void geluFwd(Elems x, Elems y, int64_t n) {
  MIMO_CUDA_GRID_STRIDE(i, n) {
    float v = x.get(i);
    float t = tanhf(kGeluC0 * (v + kGeluC1 * v * v * v));
    y.set(i, 0.5f * v * (1.0f + t));
  }
}

__global__ void geluBwd(Elems x, Elems dy, Elems dx, int64_t n) {
  MIMO_CUDA_GRID_STRIDE(i, n) {
    float v = x.get(i);
    float t = tanhf(kGeluC0 * (v + kGeluC1 * v * v * v));
    float d = 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * kGeluC0 *
                                      (1.0f + 3.0f * kGeluC1 * v * v);
    dx.set(i, dy.get(i) * d);
  }
}

__global__ void swigluFwd(Elems gate, Elems up, Elems out, int64_t n) {
  MIMO_CUDA_GRID_STRIDE(i, n) {
    float g = gate.get(i);
    float sig = 1.0f / (1.0f + expf(-g));
    out.set(i, g * sig * up.get(i));
  }
}

__global__ void swigluBwd(Elems gate, Elems up, Elems dout, Elems dgate,
                          Elems dup, int64_t n) {
  MIMO_CUDA_GRID_STRIDE(i, n) {
    float g = gate.get(i), u = up.get(i), d = dout.get(i);
    float sig = 1.0f / (1.0f + expf(-g));
    float silu = g * sig;
    dgate.set(i, d * u * (sig + silu * (1.0f - sig)));
    dup.set(i, d * silu);
  }
}

//===--- RoPE ---------------------------------------------------------------//

/// One thread per (row, head, i < D/2); angles in double as on the CPU.
__global__ void ropeKernel(Elems x, Elems y, int64_t s, int64_t heads,
                           int64_t d, int64_t pos0, double theta, float sign) {
  int64_t half = d / 2;
  MIMO_CUDA_GRID_STRIDE(idx, s * heads * half) {
    int64_t i = idx % half;
    int64_t hrow = idx / half; // row * heads + head
    int64_t row = hrow / heads;
    double invFreq = pow(theta, -2.0 * double(i) / double(d));
    double a = double(pos0 + row) * invFreq;
    float cs = float(cos(a)), sn = sign * float(sin(a));
    int64_t base = hrow * d;
    float x0 = x.get(base + i), x1 = x.get(base + i + half);
    y.set(base + i, x0 * cs - x1 * sn);
    y.set(base + i + half, x1 * cs + x0 * sn);
  }
}

//===--- Embeddings ---------------------------------------------------------//

__global__ void embeddingFwd(const int32_t *ids, Elems table, Elems out,
                             int64_t t, int64_t h, int64_t v0, int64_t v1) {
  MIMO_CUDA_GRID_STRIDE(i, t * h) {
    int64_t row = i / h, c = i % h;
    int64_t id = ids[row];
    out.set(i, id >= v0 && id < v1 ? table.get((id - v0) * h + c) : 0.0f);
  }
}

__global__ void embeddingBwd(const int32_t *ids, Elems dout, Elems dtable,
                             int64_t t, int64_t h, int64_t v0, int64_t v1) {
  MIMO_CUDA_GRID_STRIDE(c, h) {
    for (int64_t row = 0; row < t; ++row) {
      int64_t id = ids[row];
      if (id >= v0 && id < v1)
        dtable.add((id - v0) * h + c, dout.get(row * h + c));
    }
  }
}

/// index[t] = the source row placed at token t (in order), or -1; *total =
/// the number of placeholders. One block of 1024 threads, each scanning a
/// contiguous range.
__global__ void placeholderIndex(const int32_t *ids, int64_t t,
                                 int64_t placeholder, int64_t *index,
                                 int64_t *total) {
  __shared__ int64_t counts[1024];
  int64_t per = (t + blockDim.x - 1) / blockDim.x;
  int64_t r0 = threadIdx.x * per, r1 = min(t, r0 + per);
  int64_t n = 0;
  for (int64_t r = r0; r < r1; ++r)
    n += int64_t(ids[r]) == placeholder;
  counts[threadIdx.x] = n;
  __syncthreads();
  if (threadIdx.x == 0) {
    int64_t run = 0;
    for (unsigned i = 0; i < blockDim.x; ++i) {
      int64_t c = counts[i];
      counts[i] = run;
      run += c;
    }
    *total = run;
  }
  __syncthreads();
  int64_t next = counts[threadIdx.x];
  for (int64_t r = r0; r < r1; ++r)
    index[r] = int64_t(ids[r]) == placeholder ? next++ : -1;
}

__global__ void mergeFwd(Elems text, const int64_t *index, Elems source,
                         Elems out, int64_t t, int64_t h) {
  MIMO_CUDA_GRID_STRIDE(i, t * h) {
    int64_t src = index[i / h];
    out.set(i, src >= 0 ? source.get(src * h + i % h) : text.get(i));
  }
}

__global__ void mergeBwd(Elems dout, const int64_t *index, Elems dtext,
                         Elems dsource, int64_t t, int64_t h) {
  MIMO_CUDA_GRID_STRIDE(i, t * h) {
    int64_t src = index[i / h];
    float d = dout.get(i);
    if (src >= 0) {
      dsource.set(src * h + i % h, d);
      dtext.set(i, 0.0f);
    } else {
      dtext.set(i, d);
    }
  }
}

//===--- Elementwise and reductions -------------------------------------===//

__global__ void addKernel(Elems a, Elems b, Elems out, int64_t n) {
  MIMO_CUDA_GRID_STRIDE(i, n) { out.set(i, a.get(i) + b.get(i)); }
}

__global__ void scaleKernel(Elems x, float alpha, Elems out, int64_t n) {
  MIMO_CUDA_GRID_STRIDE(i, n) { out.set(i, alpha * x.get(i)); }
}

__global__ void convertKernel(Elems x, Elems y, int64_t n) {
  MIMO_CUDA_GRID_STRIDE(i, n) { y.set(i, x.get(i)); }
}

constexpr int64_t kSquaresChunk = 8192;

/// partial[block] = sum of squares of chunk `block` (fixed tree).
__global__ void squaresPartial(Elems x, int64_t n, double *partial) {
  __shared__ float red[32];
  int64_t c0 = int64_t(blockIdx.x) * kSquaresChunk;
  int64_t c1 = min(n, c0 + kSquaresChunk);
  float s = 0.0f;
  for (int64_t i = c0 + threadIdx.x; i < c1; i += blockDim.x) {
    float v = x.get(i);
    s += v * v;
  }
  s = blockSum(s, red);
  if (threadIdx.x == 0)
    partial[blockIdx.x] = double(s);
}

/// out[0] (+)= the partials added in order by one thread.
__global__ void squaresTotal(const double *partial, int64_t chunks, float *out,
                             bool accumulate) {
  if (threadIdx.x != 0 || blockIdx.x != 0)
    return;
  double s = accumulate ? double(out[0]) : 0.0;
  for (int64_t i = 0; i < chunks; ++i)
    s += partial[i];
  out[0] = float(s);
}

__global__ void adamKernel(Elems w, Elems g, Elems m, Elems v, int64_t n,
                           float lr, float b1, float b2, float eps, float wd,
                           float gs, float c1, float c2, bool decoupled) {
  MIMO_CUDA_GRID_STRIDE(i, n) {
    float wi = w.get(i);
    float gi = gs * g.get(i);
    if (!decoupled)
      gi += wd * wi;
    float mi = b1 * m.get(i) + (1.0f - b1) * gi;
    float vi = b2 * v.get(i) + (1.0f - b2) * gi * gi;
    m.set(i, mi);
    v.set(i, vi);
    float update = (mi / c1) / (sqrtf(vi / c2) + eps);
    if (decoupled)
      update += wd * wi;
    w.set(i, wi - lr * update);
  }
}

Status checkRows(const char *K, const TensorView &x, int64_t &t, int64_t &h) {
  MIMO_RETURN_IF_ERROR(checkFloat(K, "x", x, {kAny, kAny}));
  t = x.dim(0);
  h = x.dim(1);
  return cpu::checkThat(h > 0, K, "hidden size must be positive");
}

} // namespace

Status CudaKernels::layerNormForward(const TensorView &x,
                                     const TensorView &gamma,
                                     const TensorView &beta, float eps,
                                     const TensorView &y,
                                     const TensorView &mean,
                                     const TensorView &rstd) {
  const char *K = "layer_norm_forward";
  int64_t t, h;
  MIMO_RETURN_IF_ERROR(checkRows(K, x, t, h));
  MIMO_RETURN_IF_ERROR(checkFloat(K, "gamma", gamma, {h}));
  MIMO_RETURN_IF_ERROR(checkFloat(K, "beta", beta, {h}));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "y", y, "x", x));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "mean", mean, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "rstd", rstd, DType::F32, {t}));
  if (t == 0)
    return Status::success();
  layerNormFwd<<<unsigned(t), kRowThreads, 0, stream_>>>(
      elems(x), elems(gamma), elems(beta), eps, h, elems(y), mean.f32(),
      rstd.f32());
  return launched(K);
}

Status CudaKernels::layerNormBackward(
    const TensorView &x, const TensorView &gamma, const TensorView &mean,
    const TensorView &rstd, const TensorView &dy, const TensorView &dx,
    const TensorView &dgamma, const TensorView &dbeta) {
  const char *K = "layer_norm_backward";
  int64_t t, h;
  MIMO_RETURN_IF_ERROR(checkRows(K, x, t, h));
  MIMO_RETURN_IF_ERROR(checkFloat(K, "gamma", gamma, {h}));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "mean", mean, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "rstd", rstd, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "dy", dy, "x", x));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "dx", dx, "x", x));
  MIMO_RETURN_IF_ERROR(checkFloat(K, "dgamma", dgamma, {h}));
  MIMO_RETURN_IF_ERROR(checkFloat(K, "dbeta", dbeta, {h}));
  if (t == 0)
    return Status::success();
  // Parameter gradients first: dx may alias dy.
  int64_t chunks = (t + kColumnChunk - 1) / kColumnChunk;
  Scratch scratch(stream_);
  void *pg = nullptr, *pb = nullptr;
  MIMO_RETURN_IF_ERROR(scratch.allocate(K, chunks * h * sizeof(float), &pg));
  MIMO_RETURN_IF_ERROR(scratch.allocate(K, chunks * h * sizeof(float), &pb));
  normBwdParamPartials<<<dim3(unsigned((h + 255) / 256), unsigned(chunks)), 256,
                         0, stream_>>>(elems(x), mean.f32(), rstd.f32(),
                                       elems(dy), t, h, (float *)pg,
                                       (float *)pb);
  MIMO_RETURN_IF_ERROR(launched(K));
  MIMO_RETURN_IF_ERROR(
      sumPartials(stream_, K, (float *)pg, chunks, h, elems(dgamma), true));
  MIMO_RETURN_IF_ERROR(
      sumPartials(stream_, K, (float *)pb, chunks, h, elems(dbeta), true));
  normBwdInput<<<unsigned(t), kRowThreads, 0, stream_>>>(
      elems(x), elems(gamma), mean.f32(), rstd.f32(), elems(dy), h, elems(dx));
  return launched(K);
}

Status CudaKernels::rmsNormForward(const TensorView &x, const TensorView &gamma,
                                   float eps, const TensorView &y,
                                   const TensorView &rstd) {
  const char *K = "rms_norm_forward";
  int64_t t, h;
  MIMO_RETURN_IF_ERROR(checkRows(K, x, t, h));
  MIMO_RETURN_IF_ERROR(checkFloat(K, "gamma", gamma, {h}));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "y", y, "x", x));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "rstd", rstd, DType::F32, {t}));
  if (t == 0)
    return Status::success();
  rmsNormFwd<<<unsigned(t), kRowThreads, 0, stream_>>>(
      elems(x), elems(gamma), eps, h, elems(y), rstd.f32());
  return launched(K);
}

Status CudaKernels::rmsNormBackward(const TensorView &x,
                                    const TensorView &gamma,
                                    const TensorView &rstd,
                                    const TensorView &dy, const TensorView &dx,
                                    const TensorView &dgamma) {
  const char *K = "rms_norm_backward";
  int64_t t, h;
  MIMO_RETURN_IF_ERROR(checkRows(K, x, t, h));
  MIMO_RETURN_IF_ERROR(checkFloat(K, "gamma", gamma, {h}));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "rstd", rstd, DType::F32, {t}));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "dy", dy, "x", x));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "dx", dx, "x", x));
  MIMO_RETURN_IF_ERROR(checkFloat(K, "dgamma", dgamma, {h}));
  if (t == 0)
    return Status::success();
  int64_t chunks = (t + kColumnChunk - 1) / kColumnChunk;
  Scratch scratch(stream_);
  void *pg = nullptr;
  MIMO_RETURN_IF_ERROR(scratch.allocate(K, chunks * h * sizeof(float), &pg));
  normBwdParamPartials<<<dim3(unsigned((h + 255) / 256), unsigned(chunks)), 256,
                         0, stream_>>>(elems(x), nullptr, rstd.f32(), elems(dy),
                                       t, h, (float *)pg, nullptr);
  MIMO_RETURN_IF_ERROR(launched(K));
  MIMO_RETURN_IF_ERROR(
      sumPartials(stream_, K, (float *)pg, chunks, h, elems(dgamma), true));
  normBwdInput<<<unsigned(t), kRowThreads, 0, stream_>>>(
      elems(x), elems(gamma), nullptr, rstd.f32(), elems(dy), h, elems(dx));
  return launched(K);
}

Status CudaKernels::geluForward(const TensorView &x, const TensorView &y) {
  const char *K = "gelu_forward";
  MIMO_RETURN_IF_ERROR(checkAnyFloat(K, "x", x));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "y", y, "x", x));
  int64_t n = x.numel();
  geluFwd<<<gridFor(n), 256, 0, stream_>>>(elems(x), elems(y), n);
  return launched(K);
}

Status CudaKernels::geluBackward(const TensorView &x, const TensorView &dy,
                                 const TensorView &dx) {
  const char *K = "gelu_backward";
  MIMO_RETURN_IF_ERROR(checkAnyFloat(K, "x", x));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "dy", dy, "x", x));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "dx", dx, "x", x));
  int64_t n = x.numel();
  geluBwd<<<gridFor(n), 256, 0, stream_>>>(elems(x), elems(dy), elems(dx), n);
  return launched(K);
}

Status CudaKernels::swigluForward(const TensorView &gate, const TensorView &up,
                                  const TensorView &out) {
  const char *K = "swiglu_forward";
  MIMO_RETURN_IF_ERROR(checkAnyFloat(K, "gate", gate));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "up", up, "gate", gate));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "out", out, "gate", gate));
  int64_t n = gate.numel();
  swigluFwd<<<gridFor(n), 256, 0, stream_>>>(elems(gate), elems(up), elems(out),
                                             n);
  return launched(K);
}

Status CudaKernels::swigluBackward(const TensorView &gate, const TensorView &up,
                                   const TensorView &dout,
                                   const TensorView &dgate,
                                   const TensorView &dup) {
  const char *K = "swiglu_backward";
  MIMO_RETURN_IF_ERROR(checkAnyFloat(K, "gate", gate));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "up", up, "gate", gate));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "dout", dout, "gate", gate));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "dgate", dgate, "gate", gate));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "dup", dup, "gate", gate));
  int64_t n = gate.numel();
  swigluBwd<<<gridFor(n), 256, 0, stream_>>>(
      elems(gate), elems(up), elems(dout), elems(dgate), elems(dup), n);
  return launched(K);
}

namespace {
Status checkRope(const char *K, const TensorView &x, const char *xName,
                 const TensorView &y, const char *yName, int64_t heads,
                 int64_t headDim, int64_t pos0, float theta) {
  MIMO_RETURN_IF_ERROR(cpu::checkThat(
      heads > 0 && headDim > 0 && headDim % 2 == 0, K,
      "heads must be positive and the head dim positive and even, found "
      "heads=" +
          std::to_string(heads) + " headDim=" + std::to_string(headDim)));
  MIMO_RETURN_IF_ERROR(cpu::checkThat(
      pos0 >= 0, K, "pos0 must be >= 0, found " + std::to_string(pos0)));
  MIMO_RETURN_IF_ERROR(
      cpu::checkThat(theta > 0.0f, K,
                     "theta must be positive, found " + std::to_string(theta)));
  MIMO_RETURN_IF_ERROR(checkFloat(K, xName, x, {kAny, heads * headDim}));
  return checkShapeLike(K, yName, y, xName, x);
}
} // namespace

Status CudaKernels::ropeForward(const TensorView &x, const TensorView &y,
                                int64_t heads, int64_t headDim, int64_t pos0,
                                float theta) {
  const char *K = "rope_forward";
  MIMO_RETURN_IF_ERROR(
      checkRope(K, x, "x", y, "y", heads, headDim, pos0, theta));
  int64_t n = x.dim(0) * heads * (headDim / 2);
  ropeKernel<<<gridFor(n), 256, 0, stream_>>>(
      elems(x), elems(y), x.dim(0), heads, headDim, pos0, double(theta), 1.0f);
  return launched(K);
}

Status CudaKernels::ropeBackward(const TensorView &dy, const TensorView &dx,
                                 int64_t heads, int64_t headDim, int64_t pos0,
                                 float theta) {
  const char *K = "rope_backward";
  MIMO_RETURN_IF_ERROR(
      checkRope(K, dy, "dy", dx, "dx", heads, headDim, pos0, theta));
  int64_t n = dy.dim(0) * heads * (headDim / 2);
  ropeKernel<<<gridFor(n), 256, 0, stream_>>>(elems(dy), elems(dx), dy.dim(0),
                                              heads, headDim, pos0,
                                              double(theta), -1.0f);
  return launched(K);
}

namespace {
Status checkEmbedding(const char *K, const TensorView &ids,
                      const TensorView &table, const char *tableName,
                      int64_t v0, int64_t v1) {
  MIMO_RETURN_IF_ERROR(
      cpu::checkThat(0 <= v0 && v0 <= v1, K,
                     "vocabulary range must satisfy 0 <= v0 <= v1, found [" +
                         std::to_string(v0) + ", " + std::to_string(v1) + ")"));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "ids", ids, DType::I32, {kAny}));
  return checkFloat(K, tableName, table, {v1 - v0, kAny});
}
} // namespace

Status CudaKernels::embeddingForward(const TensorView &ids,
                                     const TensorView &table,
                                     const TensorView &out, int64_t v0,
                                     int64_t v1) {
  const char *K = "embedding_forward";
  MIMO_RETURN_IF_ERROR(checkEmbedding(K, ids, table, "table", v0, v1));
  int64_t t = ids.dim(0), h = table.dim(1);
  MIMO_RETURN_IF_ERROR(checkFloat(K, "out", out, {t, h}));
  embeddingFwd<<<gridFor(t * h), 256, 0, stream_>>>(ids.i32(), elems(table),
                                                    elems(out), t, h, v0, v1);
  return launched(K);
}

Status CudaKernels::embeddingBackward(const TensorView &ids,
                                      const TensorView &dout,
                                      const TensorView &dtable, int64_t v0,
                                      int64_t v1) {
  const char *K = "embedding_backward";
  MIMO_RETURN_IF_ERROR(checkEmbedding(K, ids, dtable, "dtable", v0, v1));
  int64_t t = ids.dim(0), h = dtable.dim(1);
  MIMO_RETURN_IF_ERROR(checkFloat(K, "dout", dout, {t, h}));
  embeddingBwd<<<gridFor(h, 128), 128, 0, stream_>>>(
      ids.i32(), elems(dout), elems(dtable), t, h, v0, v1);
  return launched(K);
}

namespace {
/// Validates shapes, builds the placeholder index (scratch) and checks the
/// placeholder count against the source rows (reads it back: synchronizes).
Status mergeIndex(const char *K, cudaStream_t stream, Scratch &scratch,
                  const TensorView &seq, const char *seqName,
                  const TensorView &ids, int64_t placeholderId,
                  const TensorView &source, const char *sourceName,
                  int64_t **index) {
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "ids", ids, DType::I32, {kAny}));
  int64_t t = ids.dim(0);
  MIMO_RETURN_IF_ERROR(checkFloat(K, seqName, seq, {t, kAny}));
  int64_t h = seq.dim(1);
  MIMO_RETURN_IF_ERROR(checkFloat(K, sourceName, source, {kAny, h}));
  void *idx = nullptr, *total = nullptr;
  MIMO_RETURN_IF_ERROR(scratch.allocate(K, size_t(t) * sizeof(int64_t), &idx));
  MIMO_RETURN_IF_ERROR(scratch.allocate(K, sizeof(int64_t), &total));
  placeholderIndex<<<1, 1024, 0, stream>>>(ids.i32(), t, placeholderId,
                                           (int64_t *)idx, (int64_t *)total);
  MIMO_RETURN_IF_ERROR(launched(K));
  int64_t n = 0;
  MIMO_RETURN_IF_ERROR(cudaStatus(
      cudaMemcpyAsync(&n, total, sizeof(n), cudaMemcpyDeviceToHost, stream), K,
      "reading the placeholder count"));
  MIMO_RETURN_IF_ERROR(
      cudaStatus(cudaStreamSynchronize(stream), K, "cudaStreamSynchronize"));
  MIMO_RETURN_IF_ERROR(cpu::checkThat(
      n == source.dim(0), K,
      std::string(sourceName) + " has " + std::to_string(source.dim(0)) +
          " rows but ids hold " + std::to_string(n) + " placeholders (id " +
          std::to_string(placeholderId) + ")"));
  *index = (int64_t *)idx;
  return Status::success();
}
} // namespace

Status CudaKernels::mergeRowsForward(const TensorView &text,
                                     const TensorView &ids,
                                     int64_t placeholderId,
                                     const TensorView &source,
                                     const TensorView &out) {
  const char *K = "merge_rows_forward";
  Scratch scratch(stream_);
  int64_t *index = nullptr;
  MIMO_RETURN_IF_ERROR(mergeIndex(K, stream_, scratch, text, "text", ids,
                                  placeholderId, source, "source", &index));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "out", out, "text", text));
  int64_t t = text.dim(0), h = text.dim(1);
  mergeFwd<<<gridFor(t * h), 256, 0, stream_>>>(
      elems(text), index, elems(source), elems(out), t, h);
  return launched(K);
}

Status CudaKernels::mergeRowsBackward(const TensorView &dout,
                                      const TensorView &ids,
                                      int64_t placeholderId,
                                      const TensorView &dtext,
                                      const TensorView &dsource) {
  const char *K = "merge_rows_backward";
  Scratch scratch(stream_);
  int64_t *index = nullptr;
  MIMO_RETURN_IF_ERROR(mergeIndex(K, stream_, scratch, dout, "dout", ids,
                                  placeholderId, dsource, "dsource", &index));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "dtext", dtext, "dout", dout));
  int64_t t = dout.dim(0), h = dout.dim(1);
  mergeBwd<<<gridFor(t * h), 256, 0, stream_>>>(
      elems(dout), index, elems(dtext), elems(dsource), t, h);
  return launched(K);
}

Status CudaKernels::add(const TensorView &a, const TensorView &b,
                        const TensorView &out) {
  const char *K = "add";
  MIMO_RETURN_IF_ERROR(checkAnyFloat(K, "a", a));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "b", b, "a", a));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "out", out, "a", a));
  int64_t n = a.numel();
  addKernel<<<gridFor(n), 256, 0, stream_>>>(elems(a), elems(b), elems(out), n);
  return launched(K);
}

Status CudaKernels::scale(const TensorView &x, float alpha,
                          const TensorView &out) {
  const char *K = "scale";
  MIMO_RETURN_IF_ERROR(checkAnyFloat(K, "x", x));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "out", out, "x", x));
  int64_t n = x.numel();
  scaleKernel<<<gridFor(n), 256, 0, stream_>>>(elems(x), alpha, elems(out), n);
  return launched(K);
}

Status CudaKernels::convert(const TensorView &x, const TensorView &y) {
  const char *K = "convert";
  MIMO_RETURN_IF_ERROR(checkAnyFloat(K, "x", x));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "y", y, "x", x));
  int64_t n = x.numel();
  if (x.dtype == y.dtype)
    return x.data == y.data
               ? Status::success()
               : cudaStatus(cudaMemcpyAsync(y.data, x.data, x.bytes(),
                                            cudaMemcpyDeviceToDevice, stream_),
                            K, "cudaMemcpyAsync");
  convertKernel<<<gridFor(n), 256, 0, stream_>>>(elems(x), elems(y), n);
  return launched(K);
}

Status CudaKernels::sumSquares(const TensorView &x, const TensorView &out,
                               bool accumulate) {
  const char *K = "sum_squares";
  MIMO_RETURN_IF_ERROR(checkAnyFloat(K, "x", x));
  MIMO_RETURN_IF_ERROR(cpu::checkTensor(K, "out", out, DType::F32, {1}));
  int64_t n = x.numel();
  int64_t chunks = (n + kSquaresChunk - 1) / kSquaresChunk;
  Scratch scratch(stream_);
  void *partial = nullptr;
  MIMO_RETURN_IF_ERROR(scratch.allocate(
      K, size_t(std::max<int64_t>(chunks, 1)) * sizeof(double), &partial));
  if (chunks > 0) {
    squaresPartial<<<unsigned(chunks), 256, 0, stream_>>>(elems(x), n,
                                                          (double *)partial);
    MIMO_RETURN_IF_ERROR(launched(K));
  }
  squaresTotal<<<1, 32, 0, stream_>>>((const double *)partial, chunks,
                                      out.f32(), accumulate);
  return launched(K);
}

Status CudaKernels::adamStep(const AdamParams &p, const TensorView &param,
                             const TensorView &grad, const TensorView &m,
                             const TensorView &v) {
  const char *K = "adam_step";
  MIMO_RETURN_IF_ERROR(checkAnyFloat(K, "param", param));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "grad", grad, "param", param));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "m", m, "param", param));
  MIMO_RETURN_IF_ERROR(checkShapeLike(K, "v", v, "param", param));
  MIMO_RETURN_IF_ERROR(cpu::checkThat(p.step >= 1, K,
                                      "step must be >= 1 (1-based), found " +
                                          std::to_string(p.step)));
  MIMO_RETURN_IF_ERROR(cpu::checkThat(
      p.beta1 >= 0.0f && p.beta1 < 1.0f && p.beta2 >= 0.0f && p.beta2 < 1.0f, K,
      "betas must be in [0, 1), found beta1=" + std::to_string(p.beta1) +
          " beta2=" + std::to_string(p.beta2)));
  const float c1 = float(1.0 - std::pow(double(p.beta1), double(p.step)));
  const float c2 = float(1.0 - std::pow(double(p.beta2), double(p.step)));
  int64_t n = param.numel();
  adamKernel<<<gridFor(n), 256, 0, stream_>>>(
      elems(param), elems(grad), elems(m), elems(v), n, p.lr, p.beta1, p.beta2,
      p.eps, p.weightDecay, p.gradScale, c1, c2, p.decoupledWeightDecay);
  return launched(K);
}

} // namespace mimo::kernels::cuda
