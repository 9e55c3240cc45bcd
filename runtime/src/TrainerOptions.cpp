//===- TrainerOptions.cpp - The trainer's command line --------------------===//

#include "mimo/runtime/TrainerOptions.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace mimo::rt {

namespace {
Status parseInt(const std::string &flag, const std::string &value,
                std::int64_t minimum, std::int64_t &out) {
  errno = 0;
  char *end = nullptr;
  long long v = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno == ERANGE || v < minimum)
    return invalidArgument(flag + ": expected an integer >= " +
                           std::to_string(minimum) + ", got '" + value + "'");
  out = v;
  return Status::success();
}

Status parseSeed(const std::string &flag, const std::string &value,
                 std::uint64_t &out) {
  errno = 0;
  char *end = nullptr;
  unsigned long long v = std::strtoull(value.c_str(), &end, 10);
  if (value.empty() || value[0] == '-' || *end != '\0' || errno == ERANGE)
    return invalidArgument(flag +
                           ": expected an unsigned 64-bit integer, "
                           "got '" +
                           value + "'");
  out = v;
  return Status::success();
}
/// Bytes with an optional binary suffix: 1048576, 512KiB, 64MiB, 80GiB.
Status parseBytes(const std::string &flag, const std::string &value,
                  std::uint64_t &out) {
  errno = 0;
  char *end = nullptr;
  unsigned long long v = std::strtoull(value.c_str(), &end, 10);
  std::string suffix = end ? end : "";
  std::uint64_t scale = suffix.empty()    ? 1
                        : suffix == "KiB" ? 1ull << 10
                        : suffix == "MiB" ? 1ull << 20
                        : suffix == "GiB" ? 1ull << 30
                                          : 0;
  if (value.empty() || value[0] == '-' || end == value.c_str() ||
      errno == ERANGE || scale == 0 || v == 0 || v > ~0ull / scale)
    return invalidArgument(flag +
                           ": expected a positive size in bytes (optionally "
                           "with KiB, MiB or GiB), got '" +
                           value + "'");
  out = v * scale;
  return Status::success();
}
} // namespace

std::string trainerUsage(const std::string &program) {
  return "usage: " + program +
         " [--steps N] [--data DIR] [--save DIR] [--save-every N]\n"
         "       [--load DIR] [--keep-last N] [--log-every N] [--json-log "
         "FILE]\n"
         "       [--seed S] [--memory-limit SIZE]\n"
         "\n"
         "  --steps N        training steps to run\n"
         "  --data DIR       directory of .safetensors shards (default: "
         "synthetic data from the seed)\n"
         "  --save DIR       write checkpoints under DIR\n"
         "  --save-every N   checkpoint every N steps (0: after the last "
         "step only)\n"
         "  --load DIR       resume from the checkpoint in DIR (or the newest "
         "complete one under it)\n"
         "  --keep-last N    keep only the newest N checkpoints under --save "
         "(0: all)\n"
         "  --log-every N    print a step line every N steps\n"
         "  --json-log FILE  write one JSON object per step to FILE\n"
         "  --seed S         override the spec's seed\n"
         "  --memory-limit SIZE  device memory this rank may use (bytes, or "
         "KiB/MiB/GiB)\n"
         "  --help           show this message\n";
}

StatusOr<TrainerOptions> parseTrainerOptions(int argc, const char *const *argv,
                                             TrainerOptions opts) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      opts.help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0)
      return invalidArgument("unexpected argument '" + arg + "' (see --help)");
    std::string flag = arg, value;
    bool hasValue = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      hasValue = true;
    }
    static const char *const kFlags[] = {
        "--steps",     "--data",        "--save",     "--save-every",
        "--load",      "--log-every",   "--json-log", "--seed",
        "--keep-last", "--memory-limit"};
    bool known = false;
    for (const char *f : kFlags)
      known |= flag == f;
    if (!known)
      return invalidArgument("unknown flag '" + flag + "' (see --help)");
    if (!hasValue) {
      if (i + 1 >= argc)
        return invalidArgument(flag + ": missing value");
      value = argv[++i];
    }
    if (flag == "--steps") {
      MIMO_RETURN_IF_ERROR(parseInt(flag, value, 0, opts.steps));
    } else if (flag == "--save-every") {
      MIMO_RETURN_IF_ERROR(parseInt(flag, value, 0, opts.saveEvery));
    } else if (flag == "--keep-last") {
      MIMO_RETURN_IF_ERROR(parseInt(flag, value, 0, opts.keepLast));
    } else if (flag == "--memory-limit") {
      MIMO_RETURN_IF_ERROR(parseBytes(flag, value, opts.memoryLimit));
    } else if (flag == "--log-every") {
      MIMO_RETURN_IF_ERROR(parseInt(flag, value, 1, opts.logEvery));
    } else if (flag == "--seed") {
      MIMO_RETURN_IF_ERROR(parseSeed(flag, value, opts.seed));
      opts.seedGiven = true;
    } else {
      if (value.empty())
        return invalidArgument(flag + ": expected a path, got ''");
      if (flag == "--data")
        opts.dataDir = value;
      else if (flag == "--save")
        opts.saveDir = value;
      else if (flag == "--load")
        opts.loadDir = value;
      else
        opts.jsonLog = value;
    }
  }
  if (opts.saveEvery > 0 && opts.saveDir.empty() && !opts.help)
    return invalidArgument("--save-every: " + std::to_string(opts.saveEvery) +
                           " given without --save DIR");
  if (opts.keepLast > 0 && opts.saveDir.empty() && !opts.help)
    return invalidArgument("--keep-last: " + std::to_string(opts.keepLast) +
                           " given without --save DIR");
  return opts;
}

TrainerOptions parseTrainerOptionsOrExit(int argc, char **argv,
                                         TrainerOptions defaults) {
  std::string program = argc > 0 ? argv[0] : "trainer";
  StatusOr<TrainerOptions> opts = parseTrainerOptions(argc, argv, defaults);
  if (!opts.ok()) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(),
                 opts.status().message().c_str());
    std::exit(1);
  }
  if (opts->help) {
    std::fputs(trainerUsage(program).c_str(), stdout);
    std::exit(0);
  }
  return *opts;
}

} // namespace mimo::rt
