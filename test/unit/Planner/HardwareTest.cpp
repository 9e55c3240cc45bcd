//===- HardwareTest.cpp - Hardware files, calibration, clusters -----------===//

#include "mimo/Planner/Hardware.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

using namespace mimo::planner;

namespace {

std::string writeTemp(const std::string &name, const std::string &text) {
  std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(Hardware, BuiltinsLoad) {
  std::vector<std::string> names = builtinHardwareNames();
  for (const char *n : {"cpu", "h100-sxm", "h200"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  Hardware hw;
  std::string err;
  ASSERT_TRUE(loadHardware("h100-sxm", hw, err)) << err;
  EXPECT_EQ(hw.name, "h100-sxm");
  EXPECT_DOUBLE_EQ(hw.peakBf16Flops, 989e12);
  EXPECT_DOUBLE_EQ(hw.hbmBandwidth, 3350e9);
  ASSERT_TRUE(loadHardware("h200", hw, err)) << err;
  EXPECT_GT(hw.hbmBytes, 130.0 * (1 << 30));
  ASSERT_TRUE(loadHardware("cpu", hw, err)) << err;
  EXPECT_DOUBLE_EQ(hw.peakFlops(4), hw.peakFp32Flops);
}

TEST(Hardware, FileMatchesBuiltin) {
  Hardware a, b;
  std::string err;
  ASSERT_TRUE(loadHardware("h100-sxm", a, err)) << err;
  ASSERT_TRUE(
      loadHardware(std::string(MIMO_HARDWARE_DIR) + "/h100-sxm.json", b, err))
      << err;
  EXPECT_EQ(hardwareToJson(a), hardwareToJson(b));
}

TEST(Hardware, GemmEfficiencySteps) {
  Hardware hw;
  std::string err;
  ASSERT_TRUE(loadHardware("h100-sxm", hw, err)) << err;
  // The top step is the measured ~800 of 989 TFLOP/s for 8192^3.
  double big = 2.0 * 8192.0 * 8192.0 * 8192.0;
  EXPECT_NEAR(hw.gemmEfficiency(big, 8192) * 989, 800, 2);
  // Calculon's steps: 0.9/0.95 and 0.6/0.95 of the top one.
  EXPECT_NEAR(hw.gemmEfficiency(20e9, 4096) / hw.gemmEfficiency(big, 8192),
              0.9 / 0.95, 0.01);
  EXPECT_NEAR(hw.gemmEfficiency(2e9, 4096) / hw.gemmEfficiency(big, 8192),
              0.6 / 0.95, 0.01);
  // A dimension below the tile width costs in proportion.
  EXPECT_NEAR(hw.gemmEfficiency(big, 64), hw.gemmEfficiency(big, 8192) / 2,
              1e-9);
}

TEST(Hardware, CalibrationOverrides) {
  Hardware hw;
  std::string err;
  ASSERT_TRUE(loadHardware("h100-sxm", hw, err)) << err;
  std::string path =
      writeTemp("calib.json", R"({"hbm_gb_per_s": 3000, "gemm_efficiency":
        [{"min_gflops": 0, "efficiency": 0.53}]})");
  ASSERT_TRUE(applyCalibrationFile(path, hw, err)) << err;
  EXPECT_DOUBLE_EQ(hw.hbmBandwidth, 3000e9);
  EXPECT_DOUBLE_EQ(hw.gemmEfficiency(1e12, 8192), 0.53);
  EXPECT_DOUBLE_EQ(hw.peakBf16Flops, 989e12); // untouched
}

TEST(Hardware, CalibrationErrorsNameFileFieldValue) {
  Hardware hw;
  std::string err;
  ASSERT_TRUE(loadHardware("h100-sxm", hw, err)) << err;
  Hardware before = hw;
  EXPECT_FALSE(applyCalibrationText(R"({"hbm_speed": 1})", "c.json", hw, err));
  EXPECT_NE(err.find("c.json"), std::string::npos) << err;
  EXPECT_NE(err.find("hbm_speed"), std::string::npos) << err;
  EXPECT_NE(err.find("unknown field"), std::string::npos) << err;
  EXPECT_FALSE(
      applyCalibrationText(R"({"hbm_gb_per_s": "fast"})", "c.json", hw, err));
  EXPECT_NE(err.find("hbm_gb_per_s"), std::string::npos) << err;
  EXPECT_NE(err.find("\"fast\""), std::string::npos) << err;
  EXPECT_FALSE(
      applyCalibrationText(R"({"nvlink_gb_per_s": -5})", "c.json", hw, err));
  EXPECT_NE(err.find("nvlink_gb_per_s"), std::string::npos) << err;
  EXPECT_NE(err.find("-5"), std::string::npos) << err;
  EXPECT_FALSE(
      applyCalibrationText(R"({"hbm_efficiency": 1.5})", "c.json", hw, err));
  EXPECT_NE(err.find("hbm_efficiency"), std::string::npos) << err;
  EXPECT_FALSE(applyCalibrationText("{not json", "c.json", hw, err));
  EXPECT_NE(err.find("c.json"), std::string::npos) << err;
  // A failed calibration changes nothing.
  EXPECT_EQ(hardwareToJson(hw), hardwareToJson(before));
}

TEST(Hardware, ShippedExamplesLoad) {
  Cluster c;
  std::string err;
  ASSERT_TRUE(loadClusterFile(
      std::string(MIMO_HARDWARE_DIR) + "/clusters/64xh100.json", c, err))
      << err;
  EXPECT_EQ(c.gpus, 64);
  ASSERT_TRUE(applyCalibrationFile(std::string(MIMO_HARDWARE_DIR) +
                                       "/calibration/h100-example.json",
                                   c.hardware, err))
      << err;
  EXPECT_DOUBLE_EQ(c.hardware.hbmEfficiency, 0.88);
}

TEST(Hardware, UnknownNameSaysWhatExists) {
  Hardware hw;
  std::string err;
  EXPECT_FALSE(loadHardware("tpu-v9", hw, err));
  EXPECT_NE(err.find("tpu-v9"), std::string::npos) << err;
  EXPECT_NE(err.find("h100-sxm"), std::string::npos) << err;
}

TEST(Hardware, MissingFieldInFullDescription) {
  Hardware hw;
  std::string err;
  EXPECT_FALSE(parseHardware(R"({"name": "x", "peak_bf16_tflops": 1})",
                             "x.json", hw, err));
  EXPECT_NE(err.find("missing required field"), std::string::npos) << err;
}

TEST(Hardware, ClusterFile) {
  std::string path =
      writeTemp("cluster.json",
                R"({"hardware": "h200", "gpus": 64, "gpus_per_node": 8})");
  Cluster c;
  std::string err;
  ASSERT_TRUE(loadClusterFile(path, c, err)) << err;
  EXPECT_EQ(c.gpus, 64);
  EXPECT_EQ(c.gpusPerNode, 8);
  EXPECT_EQ(c.hardware.name, "h200");
  std::string bad =
      writeTemp("cluster-bad.json", R"({"hardware": "h200", "gpus": 0})");
  EXPECT_FALSE(loadClusterFile(bad, c, err));
  EXPECT_NE(err.find("gpus"), std::string::npos) << err;
}

} // namespace
