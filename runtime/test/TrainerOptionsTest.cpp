//===- TrainerOptionsTest.cpp ---------------------------------------------===//

#include "mimo/runtime/TrainerOptions.h"
#include "TestUtil.h"

#include <vector>

using namespace mimo::rt;

namespace {
StatusOr<TrainerOptions> parse(std::vector<const char *> args,
                               TrainerOptions defaults = {}) {
  args.insert(args.begin(), "trainer");
  return parseTrainerOptions(static_cast<int>(args.size()), args.data(),
                             defaults);
}
std::string error(std::vector<const char *> args) {
  auto r = parse(std::move(args));
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.status().message();
}
} // namespace

TEST(TrainerOptions, ParsesEveryFlag) {
  auto o = parse({"--steps", "20", "--data", "/d", "--save", "/ck",
                  "--save-every=5", "--load", "/old", "--log-every", "2",
                  "--json-log", "log.jsonl", "--seed", "18446744073709551615"});
  ASSERT_TRUE(o.ok()) << o.status().toString();
  EXPECT_EQ(o->steps, 20);
  EXPECT_EQ(o->dataDir, "/d");
  EXPECT_EQ(o->saveDir, "/ck");
  EXPECT_EQ(o->saveEvery, 5);
  EXPECT_EQ(o->loadDir, "/old");
  EXPECT_EQ(o->logEvery, 2);
  EXPECT_EQ(o->jsonLog, "log.jsonl");
  EXPECT_EQ(o->seed, 18446744073709551615ull);
  EXPECT_TRUE(o->seedGiven);
  EXPECT_FALSE(o->help);
}

TEST(TrainerOptions, DefaultsComeFromTheBuild) {
  TrainerOptions d;
  d.steps = 7;
  d.seed = 99;
  auto o = parse({}, d);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->steps, 7);
  EXPECT_EQ(o->seed, 99u);
  EXPECT_FALSE(o->seedGiven);
  EXPECT_TRUE(parse({"--help"})->help);
}

TEST(TrainerOptions, ErrorsNameFlagAndValue) {
  EXPECT_EQ(error({"--steps", "ten"}),
            "--steps: expected an integer >= 0, got 'ten'");
  EXPECT_EQ(error({"--steps", "-3"}),
            "--steps: expected an integer >= 0, got '-3'");
  EXPECT_EQ(error({"--log-every=0"}),
            "--log-every: expected an integer >= 1, got '0'");
  EXPECT_EQ(error({"--seed", "-1"}),
            "--seed: expected an unsigned 64-bit integer, got '-1'");
  EXPECT_EQ(error({"--steps"}), "--steps: missing value");
  EXPECT_EQ(error({"--stepz", "3"}), "unknown flag '--stepz' (see --help)");
  EXPECT_EQ(error({"extra"}), "unexpected argument 'extra' (see --help)");
  EXPECT_EQ(error({"--save-every", "3"}),
            "--save-every: 3 given without --save DIR");
  EXPECT_EQ(error({"--data="}), "--data: expected a path, got ''");
}

TEST(TrainerOptions, KeepLastAndMemoryLimit) {
  auto o =
      parse({"--save", "/ck", "--keep-last", "3", "--memory-limit", "80GiB"});
  ASSERT_TRUE(o.ok()) << o.status().toString();
  EXPECT_EQ(o->keepLast, 3);
  EXPECT_EQ(o->memoryLimit, 80ull << 30);
  EXPECT_EQ(parse({"--memory-limit=4096"})->memoryLimit, 4096u);
  EXPECT_EQ(parse({"--memory-limit", "512KiB"})->memoryLimit, 512u << 10);
  EXPECT_EQ(parse({"--memory-limit", "2MiB"})->memoryLimit, 2u << 20);
  EXPECT_EQ(error({"--keep-last", "2"}),
            "--keep-last: 2 given without --save DIR");
  EXPECT_EQ(error({"--keep-last", "-1"}),
            "--keep-last: expected an integer >= 0, got '-1'");
  for (const char *bad : {"0", "-5", "12TB", "GiB", "1.5GiB", ""})
    EXPECT_EQ(error({"--memory-limit", bad}),
              std::string("--memory-limit: expected a positive size in bytes "
                          "(optionally with KiB, MiB or GiB), got '") +
                  bad + "'");
}

TEST(TrainerOptions, UsageListsEveryFlag) {
  std::string u = trainerUsage("trainer");
  for (const char *f :
       {"--steps", "--data", "--save", "--save-every", "--load", "--keep-last",
        "--log-every", "--json-log", "--seed", "--memory-limit", "--help"})
    EXPECT_NE(u.find(f), std::string::npos) << f;
}

TEST(TrainerOptionsDeathTest, BadFlagExitsWithStatusOne) {
  const char *argv[] = {"trainer", "--steps", "x", nullptr};
  EXPECT_EXIT(parseTrainerOptionsOrExit(3, const_cast<char **>(argv)),
              ::testing::ExitedWithCode(1), "trainer: --steps: .*'x'");
  const char *help[] = {"trainer", "--help", nullptr};
  EXPECT_EXIT(parseTrainerOptionsOrExit(2, const_cast<char **>(help)),
              ::testing::ExitedWithCode(0), "");
}
