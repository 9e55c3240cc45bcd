//===- Check.cpp - Argument validation for the CPU kernels ----------------===//

#include "Check.h"

namespace mimo::kernels::cpu {
namespace {

std::string expectation(DType dtype, std::initializer_list<int64_t> dims) {
  std::string s = dtypeName(dtype);
  s += '[';
  bool first = true;
  for (int64_t d : dims) {
    if (!first)
      s += ", ";
    first = false;
    s += d == kAny ? std::string("?") : std::to_string(d);
  }
  s += ']';
  return s;
}

Status mismatch(const char *kernel, const char *arg, const std::string &want,
                const std::string &found, const char *why = nullptr) {
  std::string m = std::string(kernel) + ": argument '" + arg + "': ";
  if (why)
    m += std::string(why) + ", ";
  m += "expected " + want + ", found " + found;
  return rt::invalidArgument(m);
}

} // namespace

Status checkTensor(const char *kernel, const char *arg, const TensorView &t,
                   DType dtype, std::initializer_list<int64_t> dims) {
  std::string want = expectation(dtype, dims);
  if (!t.defined())
    return mismatch(kernel, arg, want, "none", "missing");
  if (t.dtype != dtype) {
    bool supported = t.dtype == DType::F32 || t.dtype == DType::I32;
    return mismatch(kernel, arg, want, t.str(),
                    supported ? "wrong dtype"
                              : "dtype not supported by the cpu kernels");
  }
  if (t.rank != int(dims.size()))
    return mismatch(kernel, arg, want, t.str(), "wrong rank");
  int i = 0;
  for (int64_t d : dims) {
    if (t.shape[i] < 0 || (d != kAny && t.shape[i] != d))
      return mismatch(kernel, arg, want, t.str(), "wrong shape");
    ++i;
  }
  return Status::success();
}

Status checkDType(const char *kernel, const char *arg, const TensorView &t,
                  DType dtype) {
  std::string want = std::string(dtypeName(dtype)) + "[...]";
  if (!t.defined())
    return mismatch(kernel, arg, want, "none", "missing");
  if (t.rank < 0)
    return mismatch(kernel, arg, want, t.str(), "too many dimensions");
  if (t.dtype != dtype)
    return mismatch(kernel, arg, want, t.str(),
                    t.dtype == DType::F32 || t.dtype == DType::I32
                        ? "wrong dtype"
                        : "dtype not supported by the cpu kernels");
  for (int i = 0; i < t.rank; ++i)
    if (t.shape[i] < 0)
      return mismatch(kernel, arg, want, t.str(), "negative dimension");
  return Status::success();
}

Status checkOptional(const char *kernel, const char *arg, const TensorView &t,
                     DType dtype, std::initializer_list<int64_t> dims) {
  if (!t.defined())
    return Status::success();
  return checkTensor(kernel, arg, t, dtype, dims);
}

Status checkLike(const char *kernel, const char *arg, const TensorView &t,
                 const char *refArg, const TensorView &ref) {
  std::string want = ref.str() + " like '" + refArg + "'";
  if (!t.defined())
    return mismatch(kernel, arg, want, "none", "missing");
  bool same = t.dtype == ref.dtype && t.rank == ref.rank;
  for (int i = 0; same && i < t.rank; ++i)
    same = t.shape[i] == ref.shape[i];
  if (!same)
    return mismatch(kernel, arg, want, t.str(), "wrong shape");
  return Status::success();
}

Status checkThat(bool cond, const char *kernel, const std::string &message) {
  if (cond)
    return Status::success();
  return rt::invalidArgument(std::string(kernel) + ": " + message);
}

Status checkWorkspace(const char *kernel, const Workspace &ws, size_t needed) {
  if (needed == 0 || (ws.data && ws.bytes >= needed))
    return Status::success();
  return rt::invalidArgument(std::string(kernel) +
                             ": argument 'workspace': expected at least " +
                             std::to_string(needed) + " bytes, found " +
                             std::to_string(ws.data ? ws.bytes : 0));
}

} // namespace mimo::kernels::cpu
