//===- HfImport.cpp - Hugging Face LLaVA-style config.json to a spec ------===//
//
// Reads `vision_config` (a CLIP-style ViT) and `text_config` (a Llama-style
// decoder) of a LLaVA config and writes the equivalent v1 spec:
//  - the ViT runs up to `vision_feature_layer` (-2 by default, as LLaVA
//    takes the penultimate layer's hidden states), pre-norm LayerNorm, GELU
//    (quick_gelu is costed as gelu), learned positions;
//  - `vision_feature_select_strategy` "default" drops the class token before
//    the projector, so the spec has no class token ("full" keeps one);
//  - the projector is LLaVA's 2-layer GELU MLP into the text hidden size;
//  - silu text activations become swiglu, rms_norm_eps selects rmsnorm.
//
//===----------------------------------------------------------------------===//

#include "JsonObject.h"
#include "mimo/Spec/Spec.h"

#include <nlohmann/json.hpp>

using json = nlohmann::json;

namespace mimo::spec {
namespace {

struct Reader {
  const json &obj;
  std::string path;
  std::vector<SpecError> &errors;

  std::optional<int64_t> integer(const char *key, bool required,
                                 int64_t lo = 1) {
    auto it = obj.find(key);
    std::string at = path + "." + key;
    if (it == obj.end() || it->is_null()) {
      if (required)
        errors.push_back({at, "missing required field"});
      return std::nullopt;
    }
    if (!it->is_number_integer() || it->get<int64_t>() < lo) {
      errors.push_back({at, "expected an integer >= " + std::to_string(lo) +
                                ", got " + it->dump()});
      return std::nullopt;
    }
    return it->get<int64_t>();
  }
  std::optional<double> number(const char *key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
      return std::nullopt;
    if (!it->is_number()) {
      errors.push_back(
          {path + "." + key, "expected a number, got " + it->dump()});
      return std::nullopt;
    }
    return it->get<double>();
  }
  std::optional<std::string> string(const char *key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
      return std::nullopt;
    if (!it->is_string()) {
      errors.push_back(
          {path + "." + key, "expected a string, got " + it->dump()});
      return std::nullopt;
    }
    return it->get<std::string>();
  }
  std::optional<bool> boolean(const char *key) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
      return std::nullopt;
    if (!it->is_boolean()) {
      errors.push_back(
          {path + "." + key, "expected true or false, got " + it->dump()});
      return std::nullopt;
    }
    return it->get<bool>();
  }
};

} // namespace

std::optional<Spec> importHfConfig(const std::string &text,
                                   const HfImportOptions &options,
                                   std::vector<SpecError> &errors) {
  json root;
  if (!parseJsonObject(text, root, errors))
    return std::nullopt;
  for (const char *key : {"vision_config", "text_config"}) {
    if (!root.contains(key) || !root[key].is_object()) {
      errors.push_back({key, "expected an object (a LLaVA-style config has "
                             "vision_config and text_config)"});
    }
  }
  if (!errors.empty())
    return std::nullopt;
  Reader top{root, "", errors};
  top.path = "";
  Reader vision{root["vision_config"], "vision_config", errors};
  Reader textCfg{root["text_config"], "text_config", errors};

  Spec spec;
  ModuleSpec vit, proj, llm;
  vit.kind = ModuleKindSpec::Vit;
  vit.name = "vision";
  int64_t vitLayers = vision.integer("num_hidden_layers", true).value_or(0);
  vit.hidden = vision.integer("hidden_size", true).value_or(0);
  vit.heads = vision.integer("num_attention_heads", true).value_or(0);
  vit.kvHeads = vit.heads;
  vit.ffnHidden = vision.integer("intermediate_size", true).value_or(0);
  vit.imageSize = vision.integer("image_size", true).value_or(0);
  vit.patchSize = vision.integer("patch_size", true).value_or(0);
  vit.channels = vision.integer("num_channels", false).value_or(3);
  vit.normEps = vision.number("layer_norm_eps").value_or(1e-5);
  vit.activation = "gelu";
  vit.norm = "layernorm";
  vit.bias = true;
  // LLaVA reads hidden_states[vision_feature_layer]; index 0 is the
  // embedding output, so -2 means the first L-1 layers run.
  auto featureIt = root.find("vision_feature_layer");
  int64_t featureLayer = -2;
  if (featureIt != root.end()) {
    if (featureIt->is_number_integer())
      featureLayer = featureIt->get<int64_t>();
    else
      errors.push_back({"vision_feature_layer",
                        "expected an integer, got " + featureIt->dump()});
  }
  vit.layers = featureLayer < 0 ? vitLayers + 1 + featureLayer : featureLayer;
  if (vitLayers > 0 && (vit.layers < 1 || vit.layers > vitLayers))
    errors.push_back({"vision_feature_layer",
                      "expected a layer of the " + std::to_string(vitLayers) +
                          "-layer vision tower, got " +
                          std::to_string(featureLayer)});
  std::string strategy =
      top.string("vision_feature_select_strategy").value_or("default");
  if (strategy != "default" && strategy != "full")
    errors.push_back(
        {"vision_feature_select_strategy",
         "expected \"default\" or \"full\", got \"" + strategy + "\""});
  vit.classTokens = strategy == "full" ? 1 : 0;
  vit.itemsPerSample = options.imagesPerSample;

  llm.kind = ModuleKindSpec::Decoder;
  llm.name = "llm";
  llm.layers = textCfg.integer("num_hidden_layers", true).value_or(0);
  llm.hidden = textCfg.integer("hidden_size", true).value_or(0);
  llm.heads = textCfg.integer("num_attention_heads", true).value_or(0);
  llm.kvHeads =
      textCfg.integer("num_key_value_heads", false).value_or(llm.heads);
  llm.ffnHidden = textCfg.integer("intermediate_size", true).value_or(0);
  llm.vocab = textCfg.integer("vocab_size", true, 2).value_or(0);
  std::string act = textCfg.string("hidden_act").value_or("silu");
  if (act == "silu" || act == "swish")
    llm.activation = "swiglu";
  else if (act == "gelu" || act == "gelu_new" || act == "gelu_pytorch_tanh")
    llm.activation = "gelu";
  else
    errors.push_back({"text_config.hidden_act",
                      "expected silu or gelu, got \"" + act + "\""});
  if (std::optional<double> eps = textCfg.number("rms_norm_eps")) {
    llm.norm = "rmsnorm";
    llm.normEps = *eps;
  } else {
    llm.norm = "layernorm";
    llm.normEps = textCfg.number("layer_norm_eps").value_or(1e-5);
  }
  llm.position = "rope";
  llm.ropeTheta = textCfg.number("rope_theta").value_or(10000.0);
  llm.tieEmbeddings = textCfg.boolean("tie_word_embeddings").value_or(false);
  llm.bias = false;
  int64_t maxPositions =
      textCfg.integer("max_position_embeddings", false).value_or(4096);

  proj.kind = ModuleKindSpec::Mlp;
  proj.name = "projector";
  proj.input = vit.name;
  proj.output = llm.name;
  proj.layers = 2;
  proj.hidden = llm.hidden;
  proj.activation = "gelu";
  std::string projAct = top.string("projector_hidden_act").value_or("gelu");
  if (projAct != "gelu")
    errors.push_back(
        {"projector_hidden_act", "expected \"gelu\", got \"" + projAct + "\""});
  if (std::optional<int64_t> id = top.integer("image_token_index", false, 0))
    proj.placeholderId = *id;
  if (!errors.empty())
    return std::nullopt;

  spec.name = options.name.empty() ? "llava" : options.name;
  spec.modules = {vit, proj, llm};
  spec.seqLen = options.seqLen > 0 ? options.seqLen : maxPositions;
  spec.imagesPerSample = options.imagesPerSample;
  spec.globalBatchSize = options.globalBatchSize;
  spec.precision = "bf16";
  // The result must pass the same validation as a hand-written spec.
  std::vector<SpecError> check;
  std::optional<Spec> valid = parseSpec(writeSpec(spec), {}, check);
  if (!valid) {
    for (SpecError &e : check)
      errors.push_back({"(converted spec) " + e.path, e.message});
    return std::nullopt;
  }
  return valid;
}

} // namespace mimo::spec
