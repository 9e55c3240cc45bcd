//===- TrainerEmitter.cpp - mimort programs to trainer executables --------===//

#include "mimo/Target/TrainerEmitter.h"

#include "mimo/Conversion/Passes.h"
#include "mimo/Dialect/Mimort/MimortOps.h"

#include "mlir/Dialect/EmitC/IR/EmitC.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/Cpp/CppEmitter.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Regex.h"

#ifndef MIMO_SOURCE_DIR
#error "MIMO_SOURCE_DIR must name the repository root"
#endif

using namespace mlir;
using llvm::Error;
using llvm::StringRef;

namespace mimo {

namespace {

Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

//===----------------------------------------------------------------------===//
// Readable variable names
//===----------------------------------------------------------------------===//

bool isCppKeyword(StringRef s) {
  static const llvm::StringSet<> keywords = {
      "alignas",   "auto",     "bool",      "break",    "case",     "char",
      "class",     "const",    "continue",  "default",  "delete",   "do",
      "double",    "else",     "enum",      "explicit", "extern",   "false",
      "float",     "for",      "friend",    "goto",     "if",       "inline",
      "int",       "long",     "namespace", "new",      "operator", "private",
      "protected", "public",   "register",  "return",   "short",    "signed",
      "sizeof",    "static",   "struct",    "switch",   "template", "this",
      "throw",     "true",     "try",       "typedef",  "union",    "unsigned",
      "using",     "virtual",  "void",      "volatile", "while",    "mimo",
      "std",       "describe", "init",      "step",     "desc"};
  return keywords.contains(s);
}

std::string identifierFrom(StringRef text) {
  std::string id;
  for (char c : text)
    id += (isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  if (id.empty() || isdigit(static_cast<unsigned char>(id[0])) ||
      isCppKeyword(id))
    id = "b_" + id;
  return id;
}

/// Renames the emitter's v<N> variables where their definition says what
/// they are: views of declared buffers take the buffer's name, slices and
/// reshapes their source's, the describe() argument is `desc`. Names are
/// unique per function; everything else keeps its v<N>.
std::string nameVariables(StringRef cpp) {
  llvm::Regex bufferDef("^ *mimo::kernels::TensorView (v[0-9]+) = "
                        "mimo::program::buffer\\(\"([^\"]*)\"\\);");
  llvm::Regex derivedDef("^ *mimo::kernels::TensorView (v[0-9]+) = "
                         "mimo::program::(slice|reshape)\\(([A-Za-z_0-9]+),");
  llvm::Regex absentDef(
      "^ *mimo::kernels::TensorView (v[0-9]+) = mimo::program::absent\\(\\);");
  llvm::Regex coordDef(
      "^ *int64_t (v[0-9]+) = mimo::program::gridCoord\\(\"([^\"]*)\", "
      "mimo::rt::GridDim::([A-Z]+)\\);");
  llvm::Regex describeDef(
      "^void describe\\(mimo::program::ProgramDesc\\* (v[0-9]+)\\)");

  SmallVector<StringRef> lines;
  cpp.split(lines, '\n');
  // Identifiers the emitter wrote (outside string literals): a chosen name
  // must not collide with any of them (loop variables, v<N>, callees).
  llvm::StringSet<> taken;
  for (StringRef line : lines) {
    for (size_t i = 0; i < line.size();) {
      char c = line[i];
      if (c == '"') {
        size_t j = line.find('"', i + 1);
        i = j == StringRef::npos ? line.size() : j + 1;
      } else if (isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t j = i;
        while (j < line.size() &&
               (isalnum(static_cast<unsigned char>(line[j])) || line[j] == '_'))
          ++j;
        taken.insert(line.substr(i, j - i));
        i = j;
      } else {
        ++i;
      }
    }
  }
  llvm::StringMap<std::string> names;
  llvm::StringSet<> used;
  std::string out;
  auto define = [&](StringRef var, std::string base) {
    while (taken.contains(base))
      base += "_";
    std::string name = base;
    for (int n = 2; used.contains(name) || taken.contains(name); ++n)
      name = base + "_" + std::to_string(n);
    used.insert(name);
    names[var] = name;
  };
  for (StringRef line : lines) {
    // A new function starts at column 0 with a parameter list and a brace.
    if (!line.empty() && line[0] != ' ' && line.ends_with("{") &&
        line.contains('(')) {
      names.clear();
      used.clear();
    }
    SmallVector<StringRef> m;
    if (describeDef.match(line, &m)) {
      define(m[1], "desc");
    } else if (bufferDef.match(line, &m)) {
      define(m[1], identifierFrom(m[2]));
    } else if (derivedDef.match(line, &m)) {
      auto src = names.find(m[3]);
      std::string base = src != names.end() ? src->second : m[3].str();
      define(m[1], base + (m[2] == "slice" ? "_i" : "_view"));
    } else if (absentDef.match(line, &m)) {
      define(m[1], "none");
    } else if (coordDef.match(line, &m)) {
      define(m[1],
             identifierFrom(m[2]) + "_" + StringRef(m[3]).lower() + "_rank");
    }
    // Substitute every known variable on the line.
    std::string done;
    auto isIdent = [](char c) {
      return isalnum(static_cast<unsigned char>(c)) || c == '_';
    };
    for (size_t i = 0; i < line.size();) {
      if (line[i] == 'v' && (i == 0 || !isIdent(line[i - 1]))) {
        size_t j = i + 1;
        while (j < line.size() && isdigit(static_cast<unsigned char>(line[j])))
          ++j;
        if (j > i + 1 && (j == line.size() || !isIdent(line[j]))) {
          auto it = names.find(line.substr(i, j - i));
          done += it != names.end() ? it->second : line.substr(i, j - i).str();
          i = j;
          continue;
        }
      }
      // Skip string literals: buffer names are not variables.
      if (line[i] == '"') {
        size_t j = line.find('"', i + 1);
        j = j == StringRef::npos ? line.size() : j + 1;
        done += line.substr(i, j - i);
        i = j;
        continue;
      }
      done += line[i++];
    }
    out += done + "\n";
  }
  if (!out.empty())
    out.pop_back();
  return out;
}

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

Error writeFile(const llvm::Twine &path, StringRef text) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path.str(), ec);
  if (ec)
    return makeError(path + ": cannot write: " + ec.message());
  os << text;
  os.close();
  if (os.has_error())
    return makeError(path + ": cannot write: " + os.error().message());
  return Error::success();
}

/// Copies `from` into `to` recursively, leaving out directories named in
/// `skip` (tests, benchmarks).
Error copyTree(StringRef from, StringRef to, ArrayRef<StringRef> skip) {
  if (std::error_code ec = llvm::sys::fs::create_directories(to))
    return makeError(to + ": cannot create: " + ec.message());
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(from, ec), end; it != end && !ec;
       it.increment(ec)) {
    StringRef name = llvm::sys::path::filename(it->path());
    SmallString<256> target(to);
    llvm::sys::path::append(target, name);
    if (it->type() == llvm::sys::fs::file_type::directory_file) {
      if (llvm::is_contained(skip, name))
        continue;
      if (Error err = copyTree(it->path(), target, skip))
        return err;
    } else if (std::error_code cec =
                   llvm::sys::fs::copy_file(it->path(), target)) {
      return makeError(it->path() + ": cannot copy: " + cec.message());
    }
  }
  if (ec)
    return makeError(from + ": cannot list: " + ec.message());
  return Error::success();
}

std::string cmakeQuote(StringRef s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '$')
      out += '\\';
    out += c;
  }
  return out;
}

std::string cmakeListsText(StringRef programName, StringRef sourceDirDefault,
                           StringRef device) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "# Trainer for the mimort program '" << programName
     << "', emitted by mimoc.\n"
        "# Builds with CMake and a C++17 compiler; no MLIR/LLVM needed:\n"
        "#   cmake -S . -B build -G Ninja && cmake --build build\n"
        "# -DMIMO_SOURCE_DIR=<mimo checkout> points at runtime/ and kernels/;\n"
        "# -DMIMO_PREBUILT_DIR=<dir with libmimo_program> links an already\n"
        "# built support library instead of building them.\n"
        "cmake_minimum_required(VERSION 3.20)\n"
        "project(mimo_trainer LANGUAGES CXX)\n"
        "set(CMAKE_CXX_STANDARD 17)\n"
        "set(CMAKE_CXX_STANDARD_REQUIRED ON)\n"
        "if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)\n"
        "  set(CMAKE_BUILD_TYPE Release CACHE STRING \"Build type\" FORCE)\n"
        "endif()\n"
        "find_program(MIMO_TRAINER_CCACHE ccache)\n"
        "if(MIMO_TRAINER_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)\n"
        "  set(CMAKE_CXX_COMPILER_LAUNCHER ${MIMO_TRAINER_CCACHE})\n"
        "endif()\n\n"
        "set(MIMO_SOURCE_DIR \""
     << sourceDirDefault
     << "\" CACHE PATH\n"
        "    \"mimo sources holding runtime/ and kernels/\")\n"
        "# A program built for --device cuda needs the CUDA kernels and the\n"
        "# NCCL communicator (nvcc, cuBLAS, NCCL); a CPU one leaves them out.\n"
        "set(MIMO_ENABLE_CUDA "
     << (device == "cuda" ? "ON" : "OFF")
     << " CACHE BOOL \"Build the CUDA backend\")\n"
        "set(MIMO_PREBUILT_DIR \"\" CACHE PATH\n"
        "    \"directory holding a built libmimo_program (empty: build "
        "it)\")\n\n"
        "if(MIMO_PREBUILT_DIR)\n"
        "  find_library(MIMO_PROGRAM_LIBRARY mimo_program PATHS "
        "${MIMO_PREBUILT_DIR}\n"
        "               NO_DEFAULT_PATH NO_CACHE REQUIRED)\n"
        "  add_library(mimo_program SHARED IMPORTED)\n"
        "  set_target_properties(mimo_program PROPERTIES\n"
        "    IMPORTED_LOCATION ${MIMO_PROGRAM_LIBRARY}\n"
        "    INTERFACE_INCLUDE_DIRECTORIES "
        "\"${MIMO_SOURCE_DIR}/runtime/program/include;"
        "${MIMO_SOURCE_DIR}/runtime/include;"
        "${MIMO_SOURCE_DIR}/kernels/include\")\n"
        "  # The headers' hash, which the library compares with its own.\n"
        "  include(${MIMO_SOURCE_DIR}/runtime/program/cmake/ProgramAbi.cmake)\n"
        "  mimo_program_abi(MIMO_PROGRAM_ABI_HASH ${MIMO_SOURCE_DIR})\n"
        "  set_property(TARGET mimo_program PROPERTY "
        "INTERFACE_COMPILE_DEFINITIONS\n"
        "    MIMO_PROGRAM_ABI=\"${MIMO_PROGRAM_ABI_HASH}\")\n"
        "else()\n"
        "  set(MIMO_RUNTIME_BUILD_TESTS OFF)\n"
        "  set(MIMO_KERNELS_BUILD_TESTS OFF)\n"
        "  set(MIMO_KERNELS_BUILD_BENCHMARKS OFF)\n"
        "  add_subdirectory(${MIMO_SOURCE_DIR}/runtime mimo-runtime)\n"
        "  add_subdirectory(${MIMO_SOURCE_DIR}/kernels mimo-kernels)\n"
        "  add_subdirectory(${MIMO_SOURCE_DIR}/runtime/program mimo-program)\n"
        "endif()\n\n"
        "add_executable(trainer main.cpp program.cpp)\n"
        "target_link_libraries(trainer PRIVATE mimo_program)\n";
  return s;
}

const char *kMainCpp =
    "// The trainer's entry point: the generated program (program.cpp) run by\n"
    "// the runtime's trainer main (command line, world, loop, logs,\n"
    "// checkpoints).\n"
    "#include \"mimo/program/Program.h\"\n\n"
    "mimo::program::Program mimoProgram();\n\n"
    "int main(int argc, char **argv) {\n"
    "  return mimo::program::trainerMain(argc, argv, mimoProgram);\n"
    "}\n";

//===----------------------------------------------------------------------===//
// Running the build
//===----------------------------------------------------------------------===//

std::string tailOf(StringRef path, size_t bytes) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return "";
  StringRef text = (*buffer)->getBuffer();
  return text.substr(text.size() > bytes ? text.size() - bytes : 0).str();
}

Error run(StringRef program, ArrayRef<std::string> args, StringRef logPath) {
  SmallVector<StringRef> argv{program};
  for (const std::string &a : args)
    argv.push_back(a);
  std::optional<StringRef> redirects[] = {std::nullopt, logPath, logPath};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(program, argv, std::nullopt, redirects, 0,
                                     0, &message);
  if (rc == 0)
    return Error::success();
  std::string command;
  for (StringRef a : argv)
    command += (command.empty() ? "" : " ") + a.str();
  return makeError("`" + command + "` failed" +
                   (message.empty() ? "" : " (" + message + ")") + "; " +
                   logPath + " ends with:\n" + tailOf(logPath, 3000));
}

} // namespace

//===----------------------------------------------------------------------===//
// API
//===----------------------------------------------------------------------===//

std::string defaultMimoSourceDir() { return MIMO_SOURCE_DIR; }

bool isPrebuiltCurrent(StringRef prebuiltDir, StringRef mimoSourceDir) {
  std::string source =
      mimoSourceDir.empty() ? defaultMimoSourceDir() : mimoSourceDir.str();
  llvm::sys::fs::file_status lib;
  bool found = false;
  for (const char *name : {"libmimo_program.so", "libmimo_program.dylib"}) {
    SmallString<256> path(prebuiltDir);
    llvm::sys::path::append(path, name);
    if (!llvm::sys::fs::status(path, lib) && llvm::sys::fs::exists(lib)) {
      found = true;
      break;
    }
  }
  if (!found)
    return false;
  for (StringRef include :
       {"runtime/include", "kernels/include", "runtime/program/include"}) {
    SmallString<256> dir(source);
    llvm::sys::path::append(dir, include);
    std::error_code ec;
    for (llvm::sys::fs::recursive_directory_iterator it(dir, ec), end;
         it != end && !ec; it.increment(ec)) {
      llvm::sys::fs::file_status header;
      if (!llvm::sys::fs::status(it->path(), header) &&
          header.type() == llvm::sys::fs::file_type::regular_file &&
          header.getLastModificationTime() > lib.getLastModificationTime())
        return false;
    }
  }
  return true;
}

Error emitProgramCpp(ModuleOp mimortModule, llvm::raw_ostream &os) {
  OwningOpRef<ModuleOp> module(cast<ModuleOp>(mimortModule->clone()));
  MLIRContext *ctx = module->getContext();
  ctx->getOrLoadDialect<emitc::EmitCDialect>();
  PassManager pm(ctx, ModuleOp::getOperationName());
  pm.addPass(createConvertMimortToEmitC());
  if (failed(pm.run(*module)))
    return makeError("convert-mimort-to-emitc failed");
  std::string cpp;
  llvm::raw_string_ostream buffer(cpp);
  if (failed(emitc::translateToCpp(*module, buffer)))
    return makeError("translation of the EmitC program to C++ failed");
  os << "// Generated by mimoc from a mimort program; do not edit.\n"
     << nameVariables(cpp) << "\n";
  return Error::success();
}

Error emitTrainerSource(ModuleOp mimortModule, StringRef dir,
                        const TrainerSourceOptions &options) {
  auto programs = llvm::to_vector(mimortModule.getOps<mimort::ProgramOp>());
  if (programs.size() != 1)
    return makeError("expected exactly one mimort.program in the module");
  std::string cpp;
  llvm::raw_string_ostream cppStream(cpp);
  if (Error err = emitProgramCpp(mimortModule, cppStream))
    return err;
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return makeError(dir + ": cannot create: " + ec.message());

  std::string sourceDir = options.mimoSourceDir.empty() ? defaultMimoSourceDir()
                                                        : options.mimoSourceDir;
  std::string sourceDirDefault = cmakeQuote(sourceDir);
  if (options.copySources) {
    SmallString<256> copy(dir);
    llvm::sys::path::append(copy, "mimo");
    for (StringRef part : {"runtime", "kernels"}) {
      SmallString<256> from(sourceDir), to(copy);
      llvm::sys::path::append(from, part);
      llvm::sys::path::append(to, part);
      if (Error err = copyTree(from, to, {"test", "bench"}))
        return err;
    }
    sourceDirDefault = "${CMAKE_CURRENT_SOURCE_DIR}/mimo";
  }
  if (Error err = writeFile(dir + "/program.cpp", cpp))
    return err;
  if (Error err = writeFile(dir + "/main.cpp", kMainCpp))
    return err;
  return writeFile(dir + "/CMakeLists.txt",
                   cmakeListsText(programs.front().getSymName(),
                                  sourceDirDefault,
                                  programs.front().getDevice()));
}

Error buildTrainer(StringRef dir, StringRef output,
                   const BuildOptions &options) {
  auto cmake = llvm::sys::findProgramByName("cmake");
  if (!cmake)
    return makeError("cmake not found on PATH; it is needed to build the "
                     "trainer (or build " +
                     dir + " by hand)");
  SmallString<256> buildDir(dir);
  llvm::sys::path::append(buildDir, "build");
  if (std::error_code ec = llvm::sys::fs::create_directories(buildDir))
    return makeError(buildDir + ": cannot create: " + ec.message());

  std::vector<std::string> configure = {
      "-S", dir.str(), "-B", buildDir.str().str(),
      "-DCMAKE_BUILD_TYPE=" + options.buildType};
  if (llvm::sys::findProgramByName("ninja")) {
    configure.push_back("-G");
    configure.push_back("Ninja");
  }
  if (!options.prebuiltDir.empty())
    configure.push_back("-DMIMO_PREBUILT_DIR=" + options.prebuiltDir);
  if (Error err = run(*cmake, configure, (buildDir + "/configure.log").str()))
    return err;

  std::vector<std::string> build = {"--build", buildDir.str().str(), "--target",
                                    "trainer"};
  if (options.jobs > 0) {
    build.push_back("-j");
    build.push_back(std::to_string(options.jobs));
  }
  if (Error err = run(*cmake, build, (buildDir + "/build.log").str()))
    return err;

  SmallString<256> built(buildDir);
  llvm::sys::path::append(built, "trainer");
  SmallString<256> outputDir(output);
  llvm::sys::path::remove_filename(outputDir);
  if (!outputDir.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
      return makeError(outputDir + ": cannot create: " + ec.message());
  if (std::error_code ec = llvm::sys::fs::copy_file(built, output))
    return makeError(output + ": cannot write: " + ec.message());
  if (std::error_code ec = llvm::sys::fs::setPermissions(
          output, llvm::sys::fs::all_read | llvm::sys::fs::all_exe |
                      llvm::sys::fs::owner_write))
    return makeError(output + ": cannot make executable: " + ec.message());
  return Error::success();
}

} // namespace mimo
