// RUN: rm -rf %t && mimoc build-mimort %S/../e2e/tiny-lm.mlir --emit=cpp -o %t
// RUN: FileCheck %s --check-prefix=CMAKE < %t/CMakeLists.txt
// RUN: FileCheck %s --check-prefix=MAIN < %t/main.cpp
// RUN: FileCheck %s --check-prefix=PROGRAM < %t/program.cpp
// RUN: mimoc build-mimort %S/../e2e/tiny-lm.mlir --emit=program | FileCheck %s --check-prefix=PROGRAM
// RUN: c++ -std=c++17 -Wall -Wextra -Werror -fsyntax-only -I%mimo_src/runtime/program/include -I%mimo_src/runtime/include -I%mimo_src/kernels/include %t/program.cpp %t/main.cpp
// RUN: rm -rf %t.copy && mimoc build-mimort %S/../e2e/tiny-lm.mlir --emit=cpp --copy-sources -o %t.copy
// RUN: FileCheck %s --check-prefix=COPY < %t.copy/CMakeLists.txt
// RUN: test -f %t.copy/mimo/runtime/program/src/TrainerMain.cpp
// RUN: test -f %t.copy/mimo/kernels/include/mimo/kernels/Kernels.h
// RUN: not test -e %t.copy/mimo/runtime/test
// RUN: not mimoc build-mimort %s --emit=cpp 2>&1 | FileCheck %s --check-prefix=NO-OUTPUT
//
// The source folder of a trainer: a CMake project without MLIR that builds
// `trainer` from program.cpp and main.cpp against the runtime and kernels.

// CMAKE: cmake_minimum_required(VERSION 3.20)
// CMAKE: set(MIMO_SOURCE_DIR "{{.+}}" CACHE PATH
// CMAKE: if(MIMO_PREBUILT_DIR)
// CMAKE:   add_library(mimo_program SHARED IMPORTED)
// CMAKE:   include(${MIMO_SOURCE_DIR}/runtime/program/cmake/ProgramAbi.cmake)
// CMAKE:   INTERFACE_COMPILE_DEFINITIONS
// CMAKE-NEXT: MIMO_PROGRAM_ABI="${MIMO_PROGRAM_ABI_HASH}")
// CMAKE: else()
// CMAKE:   add_subdirectory(${MIMO_SOURCE_DIR}/runtime mimo-runtime)
// CMAKE:   add_subdirectory(${MIMO_SOURCE_DIR}/kernels mimo-kernels)
// CMAKE:   add_subdirectory(${MIMO_SOURCE_DIR}/runtime/program mimo-program)
// CMAKE: add_executable(trainer main.cpp program.cpp)
// CMAKE: target_link_libraries(trainer PRIVATE mimo_program)

// MAIN: #include "mimo/program/Program.h"
// MAIN: return mimo::program::trainerMain(argc, argv, mimoProgram);

// Variables holding declared buffers carry the buffers' names.
// PROGRAM: void describe(mimo::program::ProgramDesc* desc) {
// PROGRAM-NEXT: mimo::program::setProgram(desc, "tiny_lm", 1, 4718592.0);
// PROGRAM: mimo::program::addBuffer(desc, "w1", mimo::rt::MemoryCategory::Params, mimo::kernels::DType::F32, {2, 32, 64});
// PROGRAM: mimo::program::setData(desc, "llm", 4, 16, 64, 63, 0, 0, 3, 1, 4);
// PROGRAM: void init() {
// PROGRAM: mimo::kernels::TensorView w1 = mimo::program::buffer("w1");
// PROGRAM-NEXT: mimo::program::initNormal(w1, "w1", 0.02f, {{v[0-9]+}}, 64);
// PROGRAM: float step(int64_t [[STEP:v[0-9]+]]) {
// PROGRAM: mimo::program::nextBatch(ids, labels);
// PROGRAM: for (size_t [[L:i[0-9]+]] =
// PROGRAM: mimo::kernels::TensorView [[XL:x_i_[0-9]+]] = mimo::program::slice(x, [[L]]);
// PROGRAM: mimo::program::callKernel("rms_norm_forward", &mimo::kernels::Kernels::rmsNormForward, [[XL]], norm1_i, {{v[0-9]+}}, n1_i, rstd1_i);
// PROGRAM: mimo::program::adamParams(0.01f, 0.9f, 0.95f, 1e-08f, 0.01f, true, [[STEP]], {{v[0-9]+}});
// PROGRAM: mimo::program::Program mimoProgram() {

// COPY: set(MIMO_SOURCE_DIR "${CMAKE_CURRENT_SOURCE_DIR}/mimo" CACHE PATH

// NO-OUTPUT: mimoc build-mimort: -o is required
mimort.program @p {world_size = 1 : i64, flops_per_step = 0.0 : f64, init = @init, step = @step}
func.func @init() {
  return
}
func.func @step(%s: i64) -> f32 {
  %c = arith.constant 0.0 : f32
  return %c : f32
}
