//===- TestUtil.h - Helpers shared by the runtime tests ---------*- C++ -*-===//

#ifndef MIMO_RUNTIME_TEST_TESTUTIL_H
#define MIMO_RUNTIME_TEST_TESTUTIL_H

#include "mimo/runtime/Status.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#define ASSERT_OK(expr)                                                        \
  do {                                                                         \
    ::mimo::rt::Status s_ = (expr);                                            \
    ASSERT_TRUE(s_.ok()) << s_.toString();                                     \
  } while (0)
#define EXPECT_OK(expr)                                                        \
  do {                                                                         \
    ::mimo::rt::Status s_ = (expr);                                            \
    EXPECT_TRUE(s_.ok()) << s_.toString();                                     \
  } while (0)

namespace mimo::rt::test {

/// A fresh directory removed when the object dies.
class TempDir {
public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "mimo-rt-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string &path() const { return path_; }
  std::string file(const std::string &name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

inline std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

} // namespace mimo::rt::test

#endif // MIMO_RUNTIME_TEST_TESTUTIL_H
