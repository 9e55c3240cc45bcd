//===- SpecTest.cpp - Spec validation and import --------------------------===//

#include "mimo/Spec/Spec.h"
#include "mimo/Dialect/Mimo/MimoOps.h"
#include "mimo/Spec/SpecImport.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <string>

using json = nlohmann::json;
using namespace mimo;

namespace {

json tinySpec() {
  return json::parse(R"({
    "mimo_spec": 1, "name": "tiny",
    "modules": [
      {"name": "vision", "kind": "vit", "layers": 2, "hidden": 64, "heads": 4,
       "ffn_hidden": 256, "activation": "gelu", "norm": "layernorm",
       "image_size": 32, "patch_size": 8, "channels": 3},
      {"name": "projector", "kind": "mlp", "input": "vision", "output": "llm",
       "layers": 2, "hidden": 128, "activation": "gelu"},
      {"name": "llm", "kind": "decoder", "layers": 4, "hidden": 128,
       "heads": 8, "kv_heads": 4, "ffn_hidden": 256, "activation": "swiglu",
       "norm": "rmsnorm", "position": "rope", "vocab": 512,
       "tie_embeddings": false}
    ],
    "data": {"seq_len": 128, "images_per_sample": 2},
    "training": {"global_batch_size": 8, "precision": "fp32",
                 "optimizer": {"kind": "adamw", "lr": 0.001, "beta1": 0.9,
                               "beta2": 0.95, "eps": 1e-8,
                               "weight_decay": 0.01, "grad_clip": 1.0},
                 "seed": 1234}
  })");
}

std::string errorsOf(const json &spec) {
  std::vector<spec::SpecError> errors;
  std::optional<spec::Spec> s = spec::parseSpec(spec.dump(), {}, errors);
  std::string out;
  for (const spec::SpecError &e : errors)
    out += e.path + ": " + e.message + "\n";
  if (s && !errors.empty())
    out += "(parse returned a spec despite errors)\n";
  return out;
}

TEST(SpecTest, TinySpecIsValid) { EXPECT_EQ(errorsOf(tinySpec()), ""); }

struct BadSpec {
  const char *name;
  std::function<void(json &)> mutate;
  const char *expected; ///< a substring of the reported errors
};

// Each case breaks one rule; the message must name the field path, what
// was expected and what was found.
const BadSpec kBadSpecs[] = {
    {"wrong version", [](json &j) { j["mimo_spec"] = 2; },
     "mimo_spec: expected 1, got 2"},
    {"missing version", [](json &j) { j.erase("mimo_spec"); },
     "mimo_spec: missing required field"},
    {"unknown top-level field", [](json &j) { j["modles"] = json::array(); },
     "modles: unknown field"},
    {"name not a string", [](json &j) { j["name"] = 3; },
     "name: expected a string, got 3"},
    {"name not an identifier", [](json &j) { j["name"] = "my model"; },
     "name: expected an identifier"},
    {"modules empty", [](json &j) { j["modules"] = json::array(); },
     "modules: expected a non-empty array of modules"},
    {"module not an object", [](json &j) { j["modules"][1] = 7; },
     "modules[1]: expected an object, got 7"},
    {"unknown module kind", [](json &j) { j["modules"][0]["kind"] = "cnn"; },
     "modules[0].kind: expected one of vit | mlp | decoder, got \"cnn\""},
    {"unknown module field", [](json &j) { j["modules"][2]["hiden"] = 128; },
     "modules[2].hiden: unknown field"},
    {"negative heads", [](json &j) { j["modules"][2]["heads"] = -3; },
     "modules[2].heads: expected a positive integer, got -3"},
    {"zero layers", [](json &j) { j["modules"][0]["layers"] = 0; },
     "modules[0].layers: expected a positive integer, got 0"},
    {"absurd layers", [](json &j) { j["modules"][2]["layers"] = 100000; },
     "modules[2].layers: expected at most 1000, got 100000"},
    {"layers as string", [](json &j) { j["modules"][2]["layers"] = "4"; },
     "modules[2].layers: expected a positive integer, got \"4\""},
    {"fractional hidden", [](json &j) { j["modules"][2]["hidden"] = 127.5; },
     "modules[2].hidden: expected a positive integer, got 127.5"},
    {"hidden not divisible by heads",
     [](json &j) { j["modules"][2]["hidden"] = 100; },
     "modules[2].hidden: expected a multiple of heads (8), got 100"},
    {"heads not divisible by kv_heads",
     [](json &j) { j["modules"][2]["kv_heads"] = 3; },
     "modules[2].kv_heads: expected a divisor of heads (8), got 3"},
    {"odd head dim with rope",
     [](json &j) {
       j["modules"][2]["hidden"] = 120;
       j["modules"][2]["heads"] = 8;
       j["modules"][2]["kv_heads"] = 8;
     },
     "modules[2].heads: expected heads giving an even head dim for rope"},
    {"image not divisible by patch",
     [](json &j) { j["modules"][0]["image_size"] = 30; },
     "modules[0].image_size: expected a multiple of patch_size (8), got 30"},
    {"unknown activation",
     [](json &j) { j["modules"][0]["activation"] = "relu"; },
     "modules[0].activation: expected one of gelu | swiglu, got \"relu\""},
    {"unknown norm", [](json &j) { j["modules"][2]["norm"] = "batchnorm"; },
     "modules[2].norm: expected one of layernorm | rmsnorm"},
    {"unknown position", [](json &j) { j["modules"][2]["position"] = "alibi"; },
     "modules[2].position: expected one of rope | learned, got \"alibi\""},
    {"missing vocab", [](json &j) { j["modules"][2].erase("vocab"); },
     "modules[2].vocab: missing required field"},
    {"tie_embeddings not a bool",
     [](json &j) { j["modules"][2]["tie_embeddings"] = "yes"; },
     "modules[2].tie_embeddings: expected true or false, got \"yes\""},
    {"projector input missing module",
     [](json &j) { j["modules"][1]["input"] = "audio"; },
     "modules[1].input: expected the name of a vit module, got \"audio\" (no "
     "such module)"},
    {"projector input not an encoder",
     [](json &j) { j["modules"][1]["input"] = "llm"; },
     "modules[1].input: expected the name of a vit module, got \"llm\""},
    {"projector output not the decoder",
     [](json &j) { j["modules"][1]["output"] = "vision"; },
     "modules[1].output: expected the name of the decoder module, got "
     "\"vision\""},
    {"duplicate module name",
     [](json &j) { j["modules"][1]["name"] = "vision"; },
     "modules[1].name: expected a unique module name, got \"vision\" again"},
    {"two decoders",
     [](json &j) {
       json second = j["modules"][2];
       second["name"] = "llm2";
       j["modules"].push_back(second);
     },
     "modules: expected exactly one module of kind \"decoder\", got 2"},
    {"encoder without projector",
     [](json &j) { j["modules"].erase(j["modules"].begin() + 1); },
     "modules[0].name: expected exactly one mlp projector with input "
     "\"vision\", got 0"},
    {"vision tokens exceed seq_len",
     [](json &j) { j["data"]["images_per_sample"] = 9; },
     "data.images_per_sample: expected the encoder tokens per sample (144) to "
     "fit in data.seq_len (128)"},
    {"seq_len zero", [](json &j) { j["data"]["seq_len"] = 0; },
     "data.seq_len: expected a positive integer, got 0"},
    {"data not an object", [](json &j) { j["data"] = json::array(); },
     "data: expected an object, got an array"},
    {"unknown data field", [](json &j) { j["data"]["tokens"] = 3; },
     "data.tokens: unknown field"},
    {"negative batch", [](json &j) { j["training"]["global_batch_size"] = -8; },
     "training.global_batch_size: expected a positive integer, got -8"},
    {"unknown precision", [](json &j) { j["training"]["precision"] = "fp8"; },
     "training.precision: expected one of bf16 | fp16 | fp32, got \"fp8\""},
    {"unknown optimizer",
     [](json &j) { j["training"]["optimizer"]["kind"] = "sgd"; },
     "training.optimizer.kind: expected one of adam | adamw, got \"sgd\""},
    {"negative learning rate",
     [](json &j) { j["training"]["optimizer"]["lr"] = -0.1; },
     "training.optimizer.lr: expected a number in (0, 10], got -0.1"},
    {"beta out of range",
     [](json &j) { j["training"]["optimizer"]["beta2"] = 1.5; },
     "training.optimizer.beta2: expected a number in [0, 0.999999], got 1.5"},
    {"placeholder outside vocab",
     [](json &j) { j["modules"][1]["placeholder_id"] = 600; },
     "modules[1].placeholder_id: expected a token id below the vocabulary "
     "size (512), got 600"},
    {"not JSON", nullptr, "invalid JSON"},
};

TEST(SpecTest, BadSpecsNameFieldExpectedAndFound) {
  int checked = 0;
  for (const BadSpec &c : kBadSpecs) {
    std::string errors;
    if (c.mutate) {
      json j = tinySpec();
      c.mutate(j);
      errors = errorsOf(j);
    } else {
      std::vector<spec::SpecError> e;
      EXPECT_FALSE(spec::parseSpec("{\"mimo_spec\": 1,", {}, e));
      for (const spec::SpecError &x : e)
        errors += x.path + ": " + x.message + "\n";
    }
    EXPECT_NE(errors.find(c.expected), std::string::npos)
        << c.name << ": expected \"" << c.expected << "\" in:\n"
        << errors;
    ++checked;
  }
  EXPECT_GE(checked, 25);
}

TEST(SpecTest, ImportErrorsArePrefixedWithTheFileName) {
  json j = tinySpec();
  j["modules"][2]["heads"] = -3;
  mlir::MLIRContext ctx;
  std::string err;
  llvm::raw_string_ostream os(err);
  EXPECT_FALSE(spec::importSpecText(j.dump(), "model.json", ctx, {}, os));
  EXPECT_EQ(err, "model.json: modules[2].heads: expected a positive integer, "
                 "got -3\n");
}

TEST(SpecTest, OverridesApplyBeforeValidation) {
  spec::ImportOptions o;
  o.seqLen = 64; // 2 images x 16 tokens still fit
  o.globalBatchSize = 32;
  std::vector<spec::SpecError> errors;
  std::optional<spec::Spec> s = spec::parseSpec(tinySpec().dump(), o, errors);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->seqLen, 64);
  EXPECT_EQ(s->globalBatchSize, 32);
  o.seqLen = 16;
  EXPECT_FALSE(spec::parseSpec(tinySpec().dump(), o, errors));
}

TEST(SpecTest, WrittenSpecParsesBackIdentically) {
  std::vector<spec::SpecError> errors;
  std::optional<spec::Spec> s = spec::parseSpec(tinySpec().dump(), {}, errors);
  ASSERT_TRUE(s);
  std::string once = spec::writeSpec(*s);
  std::optional<spec::Spec> again = spec::parseSpec(once, {}, errors);
  ASSERT_TRUE(again) << once;
  EXPECT_EQ(spec::writeSpec(*again), once);
}

TEST(SpecTest, EveryExampleImportsAndVerifies) {
  std::error_code ec;
  int count = 0;
  for (llvm::sys::fs::directory_iterator it(MIMO_EXAMPLES_DIR, ec), end;
       it != end && !ec; it.increment(ec)) {
    if (!llvm::StringRef(it->path()).ends_with(".json"))
      continue;
    mlir::MLIRContext ctx;
    std::string err;
    llvm::raw_string_ostream os(err);
    auto module = spec::importSpecFile(it->path(), ctx, {}, os);
    EXPECT_TRUE(module) << it->path() << ": " << err;
    ++count;
  }
  EXPECT_GE(count, 10);
}

const char *kLlavaConfig = R"({
  "architectures": ["LlavaForConditionalGeneration"],
  "model_type": "llava",
  "image_token_index": 32000,
  "projector_hidden_act": "gelu",
  "vision_feature_layer": -2,
  "vision_feature_select_strategy": "default",
  "vision_config": {
    "model_type": "clip_vision_model", "hidden_size": 1024,
    "intermediate_size": 4096, "num_hidden_layers": 24,
    "num_attention_heads": 16, "image_size": 336, "patch_size": 14,
    "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5
  },
  "text_config": {
    "model_type": "llama", "hidden_size": 4096, "intermediate_size": 11008,
    "num_hidden_layers": 32, "num_attention_heads": 32,
    "num_key_value_heads": 32, "vocab_size": 32064, "hidden_act": "silu",
    "rms_norm_eps": 1e-5, "max_position_embeddings": 4096,
    "tie_word_embeddings": false, "rope_theta": 10000.0
  }
})";

TEST(SpecTest, LlavaConfigBecomesClipPlusLlama) {
  std::vector<spec::SpecError> errors;
  spec::HfImportOptions o;
  o.name = "llava-1.5-7b";
  std::optional<spec::Spec> s = spec::importHfConfig(kLlavaConfig, o, errors);
  ASSERT_TRUE(s) << (errors.empty() ? "" : errors[0].message);
  const spec::ModuleSpec *vit = s->find("vision");
  const spec::ModuleSpec *llm = s->find("llm");
  ASSERT_TRUE(vit && llm);
  EXPECT_EQ(vit->layers, 23); // penultimate layer's features
  EXPECT_EQ(vit->tokensPerItem(), 576);
  EXPECT_EQ(llm->activation, "swiglu");
  EXPECT_EQ(llm->norm, "rmsnorm");
  EXPECT_EQ(llm->vocab, 32064);
  EXPECT_EQ(s->find("projector")->placeholderId, 32000);
  EXPECT_EQ(s->seqLen, 4096);
}

TEST(SpecTest, LlavaConfigErrorsNameTheField) {
  json j = json::parse(kLlavaConfig);
  j["text_config"]["hidden_act"] = "relu";
  j["vision_config"].erase("patch_size");
  std::vector<spec::SpecError> errors;
  EXPECT_FALSE(spec::importHfConfig(j.dump(), {}, errors));
  std::string all;
  for (auto &e : errors)
    all += e.path + ": " + e.message + "\n";
  EXPECT_NE(all.find("text_config.hidden_act: expected silu or gelu, got "
                     "\"relu\""),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("vision_config.patch_size: missing required field"),
            std::string::npos)
      << all;
}

} // namespace
