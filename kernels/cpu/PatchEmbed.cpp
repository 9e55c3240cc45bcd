//===- PatchEmbed.cpp - Image patches to tokens ---------------------------===//
//
// Per image: unfold p x p patches into the workspace [P, C*p*p] (channel
// major: c, then row, then column inside the patch), one sgemm against
// w [C*p*p, hidden] straight into the image's token rows, then class tokens
// and the position table. No OpenMP here: idle OpenMP threads spin and
// would take cores from the BLAS threads of the sgemm calls.
//
//===----------------------------------------------------------------------===//

#include "CpuKernels.h"

#include <algorithm>
#include <string>

namespace mimo::kernels::cpu {
namespace {

struct Geometry {
  int64_t n, c, h, w, p, gh, gw, patches, cpp, cls, tokens;
};

Status geometry(const char *K, const PatchEmbedParams &pp,
                const TensorView &pixels, Geometry &g) {
  MIMO_RETURN_IF_ERROR(checkThat(pp.patch > 0, K,
                                 "patch size must be positive, found " +
                                     std::to_string(pp.patch)));
  MIMO_RETURN_IF_ERROR(checkThat(pp.classTokens >= 0, K,
                                 "class tokens must be >= 0, found " +
                                     std::to_string(pp.classTokens)));
  MIMO_RETURN_IF_ERROR(
      checkTensor(K, "pixels", pixels, DType::F32, {kAny, kAny, kAny, kAny}));
  g.n = pixels.dim(0);
  g.c = pixels.dim(1);
  g.h = pixels.dim(2);
  g.w = pixels.dim(3);
  g.p = pp.patch;
  MIMO_RETURN_IF_ERROR(checkThat(
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

void unfold(const Geometry &g, const float *img, float *cols) {
  for (int64_t pi = 0; pi < g.patches; ++pi) {
    int64_t py = pi / g.gw, px = pi % g.gw;
    float *row = cols + pi * g.cpp;
    for (int64_t c = 0; c < g.c; ++c)
      for (int64_t dy = 0; dy < g.p; ++dy) {
        const float *src = img + (c * g.h + py * g.p + dy) * g.w + px * g.p;
        std::copy(src, src + g.p, row + (c * g.p + dy) * g.p);
      }
  }
}

} // namespace

size_t CpuKernels::patchEmbedWorkspaceBytes(const PatchEmbedParams &p,
                                            const TensorView &pixels) const {
  Geometry g;
  if (!geometry("patch_embed", p, pixels, g).ok())
    return 0;
  return size_t(g.patches * g.cpp) * sizeof(float);
}

Status CpuKernels::patchEmbedForward(
    const PatchEmbedParams &p, const TensorView &pixels, const TensorView &w,
    const TensorView &b, const TensorView &pos, const TensorView &cls,
    const TensorView &out, const Workspace &workspace) {
  const char *K = "patch_embed_forward";
  Geometry g;
  MIMO_RETURN_IF_ERROR(geometry(K, p, pixels, g));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "w", w, DType::F32, {g.cpp, kAny}));
  int64_t hid = w.dim(1);
  MIMO_RETURN_IF_ERROR(checkOptional(K, "b", b, DType::F32, {hid}));
  MIMO_RETURN_IF_ERROR(
      checkOptional(K, "pos", pos, DType::F32, {g.tokens, hid}));
  if (g.cls > 0)
    MIMO_RETURN_IF_ERROR(checkTensor(K, "cls", cls, DType::F32, {g.cls, hid}));
  else
    MIMO_RETURN_IF_ERROR(checkThat(!cls.defined(), K,
                                   "argument 'cls': expected none with 0 class "
                                   "tokens, found " +
                                       cls.str()));
  MIMO_RETURN_IF_ERROR(
      checkTensor(K, "out", out, DType::F32, {g.n * g.tokens, hid}));
  MIMO_RETURN_IF_ERROR(
      checkWorkspace(K, workspace, patchEmbedWorkspaceBytes(p, pixels)));
  float *cols = static_cast<float *>(workspace.data);
  for (int64_t n = 0; n < g.n; ++n) {
    float *tok = out.f32() + n * g.tokens * hid;
    float *patchTok = tok + g.cls * hid;
    unfold(g, pixels.f32() + n * g.c * g.h * g.w, cols);
    // Plain loops around the sgemm: see linearForward.
    if (b.defined())
      for (int64_t r = 0; r < g.patches; ++r)
        std::copy(b.f32(), b.f32() + hid, patchTok + r * hid);
    sgemmRowMajor(false, false, g.patches, hid, g.cpp, 1.0f, cols, w.f32(),
                  b.defined() ? 1.0f : 0.0f, patchTok);
    if (g.cls > 0)
      std::copy(cls.f32(), cls.f32() + g.cls * hid, tok);
    if (pos.defined()) {
      const float *pp = pos.f32();
      for (int64_t r = 0; r < g.tokens; ++r)
        for (int64_t c = 0; c < hid; ++c)
          tok[r * hid + c] += pp[r * hid + c];
    }
  }
  return Status::success();
}

Status CpuKernels::patchEmbedBackward(
    const PatchEmbedParams &p, const TensorView &pixels, const TensorView &dout,
    const TensorView &dw, const TensorView &db, const TensorView &dpos,
    const TensorView &dcls, const Workspace &workspace) {
  const char *K = "patch_embed_backward";
  Geometry g;
  MIMO_RETURN_IF_ERROR(geometry(K, p, pixels, g));
  MIMO_RETURN_IF_ERROR(checkTensor(K, "dw", dw, DType::F32, {g.cpp, kAny}));
  int64_t hid = dw.dim(1);
  MIMO_RETURN_IF_ERROR(
      checkTensor(K, "dout", dout, DType::F32, {g.n * g.tokens, hid}));
  MIMO_RETURN_IF_ERROR(checkOptional(K, "db", db, DType::F32, {hid}));
  MIMO_RETURN_IF_ERROR(
      checkOptional(K, "dpos", dpos, DType::F32, {g.tokens, hid}));
  if (g.cls > 0)
    MIMO_RETURN_IF_ERROR(
        checkOptional(K, "dcls", dcls, DType::F32, {g.cls, hid}));
  else
    MIMO_RETURN_IF_ERROR(checkThat(!dcls.defined(), K,
                                   "argument 'dcls': expected none with 0 "
                                   "class tokens, found " +
                                       dcls.str()));
  MIMO_RETURN_IF_ERROR(
      checkWorkspace(K, workspace, patchEmbedWorkspaceBytes(p, pixels)));
  float *cols = static_cast<float *>(workspace.data);
  for (int64_t n = 0; n < g.n; ++n) {
    const float *tok = dout.f32() + n * g.tokens * hid;
    const float *patchTok = tok + g.cls * hid;
    unfold(g, pixels.f32() + n * g.c * g.h * g.w, cols);
    // dW [cpp, hid] += cols^T [cpp, P] @ dtok [P, hid]
    sgemmRowMajor(true, false, g.cpp, hid, g.patches, 1.0f, cols, patchTok,
                  1.0f, dw.f32());
    // Column sums in token order.
    {
      int64_t c0 = 0, c1 = hid;
      if (db.defined())
        for (int64_t r = 0; r < g.patches; ++r)
          for (int64_t c = c0; c < c1; ++c)
            db.f32()[c] += patchTok[r * hid + c];
      if (dpos.defined())
        for (int64_t r = 0; r < g.tokens; ++r)
          for (int64_t c = c0; c < c1; ++c)
            dpos.f32()[r * hid + c] += tok[r * hid + c];
      if (dcls.defined())
        for (int64_t r = 0; r < g.cls; ++r)
          for (int64_t c = c0; c < c1; ++c)
            dcls.f32()[r * hid + c] += tok[r * hid + c];
    }
  }
  return Status::success();
}

} // namespace mimo::kernels::cpu
