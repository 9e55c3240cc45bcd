//===- PatchEmbed.cu - Image patches to tokens on the GPU -----------------===//
//
// Unfold every image's p x p patches into the workspace [N * P, C*p*p]
// (channel major, as on the CPU) in the weights' element type, then one
// cuBLASLt matmul (per image when class tokens sit between the images'
// patch rows) straight into the token rows, then class tokens and the
// position table. The backward unfolds again (in the gradient's type) and
// accumulates dW with matmuls, db, dpos and dcls with ordered sums.
//
//===----------------------------------------------------------------------===//

#include "CudaKernels.h"

#include <string>

namespace mimo::kernels::cuda {
namespace {

struct Geometry {
  int64_t n, c, h, w, p, gh, gw, patches, cpp, cls, tokens;
};

Status geometry(const char *K, const PatchEmbedParams &pp,
                const TensorView &pixels, Geometry &g) {
  MIMO_RETURN_IF_ERROR(cpu::checkThat(pp.patch > 0, K,
                                      "patch size must be positive, found " +
                                          std::to_string(pp.patch)));
  MIMO_RETURN_IF_ERROR(cpu::checkThat(pp.classTokens >= 0, K,
                                      "class tokens must be >= 0, found " +
                                          std::to_string(pp.classTokens)));
  MIMO_RETURN_IF_ERROR(
      checkFloat(K, "pixels", pixels, {kAny, kAny, kAny, kAny}));
  g.n = pixels.dim(0);
  g.c = pixels.dim(1);
  g.h = pixels.dim(2);
  g.w = pixels.dim(3);
  g.p = pp.patch;
  MIMO_RETURN_IF_ERROR(cpu::checkThat(
      g.h % g.p == 0 && g.w % g.p == 0, K,
      "argument 'pixels': height and width must be multiples of the patch "
      "size " +
          std::to_string(g.p) + ", found " + pixels.str()));
  g.gh = g.h / g.p;
  g.gw = g.w / g.p;
  g.patches = g.gh * g.gw;
  g.cpp = g.c * g.p * g.p;
  g.cls = pp.classTokens;
  g.tokens = g.cls + g.patches;
  return Status::success();
}

__global__ void unfoldKernel(Elems pixels, Geometry g, Elems cols) {
  MIMO_CUDA_GRID_STRIDE(i, g.n * g.patches * g.cpp) {
    int64_t e = i % g.cpp, np = i / g.cpp;
    int64_t n = np / g.patches, pi = np % g.patches;
    int64_t py = pi / g.gw, px = pi % g.gw;
    int64_t c = e / (g.p * g.p), rem = e % (g.p * g.p);
    int64_t dy = rem / g.p, dx = rem % g.p;
    cols.set(i, pixels.get(((n * g.c + c) * g.h + py * g.p + dy) * g.w +
                           px * g.p + dx));
  }
}

/// Class-token rows get cls (+ pos); patch rows get + pos.
__global__ void tokensKernel(Geometry g, int64_t hid, Elems cls, Elems pos,
                             Elems out) {
  MIMO_CUDA_GRID_STRIDE(i, g.n * g.tokens * hid) {
    int64_t c = i % hid, r = (i / hid) % g.tokens;
    float add = pos.defined() ? pos.get(r * hid + c) : 0.0f;
    if (r < g.cls)
      out.set(i, cls.get(r * hid + c) + add);
    else if (pos.defined())
      out.set(i, out.get(i) + add);
  }
}

/// db[c] += sum over images and patch rows; one thread per column, in token
/// order.
__global__ void biasGradKernel(Geometry g, int64_t hid, Elems dout, Elems db) {
  MIMO_CUDA_GRID_STRIDE(c, hid) {
    float s = 0.0f;
    for (int64_t n = 0; n < g.n; ++n)
      for (int64_t r = g.cls; r < g.tokens; ++r)
        s += dout.get((n * g.tokens + r) * hid + c);
    db.set(c, db.get(c) + s);
  }
}

/// dst[r, c] += sum over images of dout[n, r, c] for r < rows.
__global__ void tokenGradKernel(Geometry g, int64_t hid, int64_t rows,
                                Elems dout, Elems dst) {
  MIMO_CUDA_GRID_STRIDE(i, rows * hid) {
    float s = 0.0f;
    for (int64_t n = 0; n < g.n; ++n)
      s += dout.get(n * g.tokens * hid + i);
    dst.set(i, dst.get(i) + s);
  }
}

TensorView rowsOf(const TensorView &t, int64_t row0, int64_t rows,
                  int64_t cols) {
  char *base =
      static_cast<char *>(t.data) + size_t(row0 * cols) * dtypeSize(t.dtype);
  return TensorView(base, t.dtype, {rows, cols});
}

} // namespace

size_t CudaKernels::patchEmbedWorkspaceBytes(const PatchEmbedParams &p,
                                             const TensorView &pixels) const {
  Geometry g;
  if (!geometry("patch_embed", p, pixels, g).ok())
    return 0;
  // Sized for f32 columns; bf16 columns use half of it.
  return size_t(g.n * g.patches * g.cpp) * sizeof(float);
}

Status CudaKernels::patchEmbedForward(
    const PatchEmbedParams &p, const TensorView &pixels, const TensorView &w,
    const TensorView &b, const TensorView &pos, const TensorView &cls,
    const TensorView &out, const Workspace &workspace) {
  const char *K = "patch_embed_forward";
  Geometry g;
  MIMO_RETURN_IF_ERROR(geometry(K, p, pixels, g));
  MIMO_RETURN_IF_ERROR(checkFloat(K, "w", w, {g.cpp, kAny}));
  int64_t hid = w.dim(1);
  MIMO_RETURN_IF_ERROR(checkOptionalFloat(K, "b", b, {hid}));
  MIMO_RETURN_IF_ERROR(checkOptionalFloat(K, "pos", pos, {g.tokens, hid}));
  if (g.cls > 0)
    MIMO_RETURN_IF_ERROR(checkFloat(K, "cls", cls, {g.cls, hid}));
  else
    MIMO_RETURN_IF_ERROR(cpu::checkThat(
        !cls.defined(), K,
        "argument 'cls': expected none with 0 class tokens, found " +
            cls.str()));
  MIMO_RETURN_IF_ERROR(checkFloat(K, "out", out, {g.n * g.tokens, hid}));
  MIMO_RETURN_IF_ERROR(
      cpu::checkWorkspace(K, workspace, patchEmbedWorkspaceBytes(p, pixels)));
  TensorView cols(workspace.data, w.dtype, {g.n * g.patches, g.cpp});
  int64_t total = g.n * g.patches * g.cpp;
  unfoldKernel<<<gridFor(total), 256, 0, stream_>>>(elems(pixels), g,
                                                    elems(cols));
  MIMO_RETURN_IF_ERROR(launched(K));
  if (g.cls == 0) {
    MIMO_RETURN_IF_ERROR(matmul(K, false, false, g.n * g.patches, hid, g.cpp,
                                1.0f, cols, w, 0.0f, out, b));
  } else {
    for (int64_t n = 0; n < g.n; ++n)
      MIMO_RETURN_IF_ERROR(
          matmul(K, false, false, g.patches, hid, g.cpp, 1.0f,
                 rowsOf(cols, n * g.patches, g.patches, g.cpp), w, 0.0f,
                 rowsOf(out, n * g.tokens + g.cls, g.patches, hid), b));
  }
  if (g.cls > 0 || pos.defined()) {
    tokensKernel<<<gridFor(g.n * g.tokens * hid), 256, 0, stream_>>>(
        g, hid, elems(cls), elems(pos), elems(out));
    MIMO_RETURN_IF_ERROR(launched(K));
  }
  return Status::success();
}

Status CudaKernels::patchEmbedBackward(
    const PatchEmbedParams &p, const TensorView &pixels, const TensorView &dout,
    const TensorView &dw, const TensorView &db, const TensorView &dpos,
    const TensorView &dcls, const Workspace &workspace) {
  const char *K = "patch_embed_backward";
  Geometry g;
  MIMO_RETURN_IF_ERROR(geometry(K, p, pixels, g));
  MIMO_RETURN_IF_ERROR(checkFloat(K, "dw", dw, {g.cpp, kAny}));
  int64_t hid = dw.dim(1);
  MIMO_RETURN_IF_ERROR(checkFloat(K, "dout", dout, {g.n * g.tokens, hid}));
  MIMO_RETURN_IF_ERROR(checkOptionalFloat(K, "db", db, {hid}));
  MIMO_RETURN_IF_ERROR(checkOptionalFloat(K, "dpos", dpos, {g.tokens, hid}));
  if (g.cls > 0)
    MIMO_RETURN_IF_ERROR(checkOptionalFloat(K, "dcls", dcls, {g.cls, hid}));
  else
    MIMO_RETURN_IF_ERROR(cpu::checkThat(
        !dcls.defined(), K,
        "argument 'dcls': expected none with 0 class tokens, found " +
            dcls.str()));
  MIMO_RETURN_IF_ERROR(
      cpu::checkWorkspace(K, workspace, patchEmbedWorkspaceBytes(p, pixels)));
  TensorView cols(workspace.data, dout.dtype, {g.n * g.patches, g.cpp});
  int64_t total = g.n * g.patches * g.cpp;
  unfoldKernel<<<gridFor(total), 256, 0, stream_>>>(elems(pixels), g,
                                                    elems(cols));
  MIMO_RETURN_IF_ERROR(launched(K));
  // dW [cpp, hid] += cols^T [cpp, P] @ dtok [P, hid], image by image when
  // class-token rows interleave.
  if (g.cls == 0) {
    MIMO_RETURN_IF_ERROR(matmul(K, true, false, g.cpp, hid, g.n * g.patches,
                                1.0f, cols, dout, 1.0f, dw));
  } else {
    for (int64_t n = 0; n < g.n; ++n)
      MIMO_RETURN_IF_ERROR(
          matmul(K, true, false, g.cpp, hid, g.patches, 1.0f,
                 rowsOf(cols, n * g.patches, g.patches, g.cpp),
                 rowsOf(dout, n * g.tokens + g.cls, g.patches, hid), 1.0f, dw));
  }
  if (db.defined()) {
    biasGradKernel<<<gridFor(hid), 256, 0, stream_>>>(g, hid, elems(dout),
                                                      elems(db));
    MIMO_RETURN_IF_ERROR(launched(K));
  }
  if (dpos.defined()) {
    tokenGradKernel<<<gridFor(g.tokens * hid), 256, 0, stream_>>>(
        g, hid, g.tokens, elems(dout), elems(dpos));
    MIMO_RETURN_IF_ERROR(launched(K));
  }
  if (dcls.defined()) {
    tokenGradKernel<<<gridFor(g.cls * hid), 256, 0, stream_>>>(
        g, hid, g.cls, elems(dout), elems(dcls));
    MIMO_RETURN_IF_ERROR(launched(K));
  }
  return Status::success();
}

} // namespace mimo::kernels::cuda
