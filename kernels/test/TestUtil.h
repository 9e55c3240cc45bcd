//===- TestUtil.h - Helpers for the kernel tests ----------------*- C++ -*-===//
//
// Random inputs, closeness against double-precision naive references, and a
// central finite-difference check of a backward on random directions: for
// L(x) = <r, f(x)> with a fixed random r, the analytic directional
// derivative <dL/dx, u> must match (L(x + eps u) - L(x - eps u)) / (2 eps).
//
//===----------------------------------------------------------------------===//

#ifndef MIMO_KERNELS_TEST_TESTUTIL_H
#define MIMO_KERNELS_TEST_TESTUTIL_H

#include "mimo/kernels/Kernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace mimo::kernels::test {

#define EXPECT_OK(expr)                                                        \
  do {                                                                         \
    ::mimo::rt::Status s_ = (expr);                                            \
    EXPECT_TRUE(s_.ok()) << s_.toString();                                     \
  } while (0)
#define ASSERT_OK(expr)                                                        \
  do {                                                                         \
    ::mimo::rt::Status s_ = (expr);                                            \
    ASSERT_TRUE(s_.ok()) << s_.toString();                                     \
  } while (0)

using Vec = std::vector<float>;
using DVec = std::vector<double>;

inline Vec randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  Vec v(n);
  for (float &x : v)
    x = dist(gen);
  return v;
}

inline TensorView view(Vec &v, std::initializer_list<int64_t> dims) {
  return TensorView::f32(v.data(), dims);
}
inline TensorView view(std::vector<int32_t> &v,
                       std::initializer_list<int64_t> dims) {
  return TensorView::i32(v.data(), dims);
}

/// max |got - want| <= rtol * max |want| (relative to the tensor's scale).
inline void expectClose(const Vec &got, const DVec &want, double rtol,
                        const std::string &what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double maxWant = 0.0, maxErr = 0.0;
  size_t at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    maxWant = std::max(maxWant, std::fabs(want[i]));
    double e = std::fabs(double(got[i]) - want[i]);
    if (e > maxErr) {
      maxErr = e;
      at = i;
    }
  }
  EXPECT_LE(maxErr, rtol * std::max(maxWant, 1e-30))
      << what << ": worst at " << at << " got " << got[at] << " want "
      << want[at] << " (max |want| " << maxWant << ")";
}

inline void expectClose(const Vec &got, const Vec &want, double rtol,
                        const std::string &what) {
  expectClose(got, DVec(want.begin(), want.end()), rtol, what);
}

/// <r, out> in double.
inline double project(const Vec &out, const Vec &r) {
  double s = 0.0;
  for (size_t i = 0; i < out.size(); ++i)
    s += double(out[i]) * r[i];
  return s;
}

/// Finite-difference check of `grad` = dL/dx, where loss() evaluates L at
/// the current contents of x (float forward, eps 1e-3, 1e-2 relative).
inline void gradCheck(const std::string &what, Vec &x, const Vec &grad,
                      const std::function<double()> &loss, uint32_t seed = 99,
                      int directions = 3, float eps = 1e-3f,
                      double rtol = 1e-2) {
  ASSERT_EQ(x.size(), grad.size()) << what;
  double gnorm = 0.0;
  for (float g : grad)
    gnorm += double(g) * g;
  gnorm = std::sqrt(gnorm);
  Vec saved = x;
  for (int d = 0; d < directions; ++d) {
    Vec u = randn(x.size(), seed + 7919u * uint32_t(d));
    double analytic = 0.0, unorm = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
      analytic += double(grad[i]) * u[i];
      unorm += double(u[i]) * u[i];
    }
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = saved[i] + eps * u[i];
    double lp = loss();
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = saved[i] - eps * u[i];
    double lm = loss();
    x = saved;
    double fd = (lp - lm) / (2.0 * double(eps));
    // Floor the scale so a direction nearly orthogonal to the gradient does
    // not demand more than float finite differences can give.
    double ref = std::max(std::fabs(analytic),
                          0.1 * gnorm * std::sqrt(unorm / double(x.size())));
    EXPECT_LE(std::fabs(fd - analytic), rtol * std::max(ref, 1e-6))
        << what << " direction " << d << ": finite difference " << fd
        << " vs analytic " << analytic;
  }
}

inline Vec minus(const Vec &a, const Vec &b) {
  Vec r(a.size());
  for (size_t i = 0; i < a.size(); ++i)
    r[i] = a[i] - b[i];
  return r;
}

/// Expects a failed Status whose message mentions every given piece.
inline void expectError(const rt::Status &s,
                        std::initializer_list<const char *> pieces) {
  ASSERT_FALSE(s.ok()) << "expected an error";
  EXPECT_EQ(s.code(), rt::StatusCode::InvalidArgument) << s.toString();
  for (const char *p : pieces)
    EXPECT_NE(s.message().find(p), std::string::npos)
        << "'" << p << "' not in: " << s.message();
}

} // namespace mimo::kernels::test

#endif // MIMO_KERNELS_TEST_TESTUTIL_H
