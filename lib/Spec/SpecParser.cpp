//===- SpecParser.cpp - Parse and validate a v1 model spec ----------------===//
//
// Every error names the JSON path of the field, what was expected and what
// was found. All field errors are collected; cross-field rules run only
// when the fields themselves are sound.
//
//===----------------------------------------------------------------------===//

#include "JsonObject.h"
#include "mimo/Spec/Spec.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

using json = nlohmann::json;

namespace mimo::spec {
namespace {

// Limits past which a size is a typo rather than a model.
constexpr int64_t kMaxLayers = 1000;
constexpr int64_t kMaxHidden = 1 << 17;
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxVocab = 10'000'000;
constexpr int64_t kMaxSeqLen = 1 << 22;
constexpr int64_t kMaxImageSize = 16384;
constexpr int64_t kMaxBatch = 10'000'000;
constexpr int64_t kMaxItems = 4096;

std::string describe(const json &v) {
  switch (v.type()) {
  case json::value_t::null:
    return "null";
  case json::value_t::boolean:
    return v.get<bool>() ? "true" : "false";
  case json::value_t::string:
    return "\"" + v.get<std::string>() + "\"";
  case json::value_t::array:
    return "an array";
  case json::value_t::object:
    return "an object";
  default:
    return v.dump();
  }
}

/// Reads the fields of one JSON object at `path`, remembering which keys it
/// read so unknown keys can be reported.
class ObjectReader {
public:
  ObjectReader(const json &obj, std::string path,
               std::vector<SpecError> &errors)
      : obj_(obj), path_(std::move(path)), errors_(errors) {}

  std::string at(const std::string &key) const {
    return path_.empty() ? key : path_ + "." + key;
  }
  void error(const std::string &key, const std::string &message) {
    errors_.push_back({at(key), message});
  }
  bool has(const std::string &key) {
    known_.insert(key);
    return obj_.contains(key);
  }
  const json *get(const std::string &key, bool required) {
    known_.insert(key);
    auto it = obj_.find(key);
    if (it == obj_.end()) {
      if (required)
        error(key, "missing required field");
      return nullptr;
    }
    return &*it;
  }

  /// An integer in [lo, hi].
  std::optional<int64_t> integer(const std::string &key, bool required,
                                 int64_t lo, int64_t hi) {
    const json *v = get(key, required);
    if (!v)
      return std::nullopt;
    if (!v->is_number_integer()) {
      std::string what = lo >= 1 ? "a positive integer" : "an integer";
      error(key, "expected " + what + ", got " + describe(*v));
      return std::nullopt;
    }
    int64_t x = v->get<int64_t>();
    if (x < lo || x > hi) {
      std::ostringstream os;
      if (x < lo)
        os << "expected "
           << (lo == 1 ? "a positive integer"
                       : "an integer >= " + std::to_string(lo))
           << ", got " << x;
      else
        os << "expected at most " << hi << ", got " << x;
      error(key, os.str());
      return std::nullopt;
    }
    return x;
  }

  /// A number in [lo, hi] (or (lo, hi] when `openLow`).
  std::optional<double> number(const std::string &key, bool required, double lo,
                               double hi, bool openLow) {
    const json *v = get(key, required);
    if (!v)
      return std::nullopt;
    if (!v->is_number()) {
      error(key, "expected a number, got " + describe(*v));
      return std::nullopt;
    }
    double x = v->get<double>();
    if (x < lo || (openLow && x == lo) || x > hi) {
      std::ostringstream os;
      os << "expected a number in " << (openLow ? "(" : "[") << lo << ", " << hi
         << "], got " << x;
      error(key, os.str());
      return std::nullopt;
    }
    return x;
  }

  std::optional<std::string> string(const std::string &key, bool required) {
    const json *v = get(key, required);
    if (!v)
      return std::nullopt;
    if (!v->is_string()) {
      error(key, "expected a string, got " + describe(*v));
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  std::optional<std::string>
  choice(const std::string &key, bool required,
         std::initializer_list<const char *> options) {
    std::optional<std::string> s = string(key, required);
    if (!s)
      return std::nullopt;
    for (const char *o : options)
      if (*s == o)
        return s;
    std::string list;
    for (const char *o : options)
      list += std::string(list.empty() ? "" : " | ") + o;
    error(key, "expected one of " + list + ", got \"" + *s + "\"");
    return std::nullopt;
  }

  std::optional<bool> boolean(const std::string &key, bool required) {
    const json *v = get(key, required);
    if (!v)
      return std::nullopt;
    if (!v->is_boolean()) {
      error(key, "expected true or false, got " + describe(*v));
      return std::nullopt;
    }
    return v->get<bool>();
  }

  /// Reports every key that no reader asked for.
  void rejectUnknown() {
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      if (known_.count(it.key()))
        continue;
      std::string list;
      for (const std::string &k : known_)
        list += (list.empty() ? "" : ", ") + k;
      error(it.key(), "unknown field (expected one of: " + list + ")");
    }
  }

private:
  const json &obj_;
  std::string path_;
  std::vector<SpecError> &errors_;
  std::set<std::string> known_;
};

bool isIdentifier(const std::string &s) {
  if (s.empty() || s.size() > 64)
    return false;
  if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_'))
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           c == '-' || c == '.';
  });
}

template <typename T> void assign(T &slot, const std::optional<T> &v) {
  if (v)
    slot = *v;
}

void readAttentionShape(ObjectReader &r, ModuleSpec &m) {
  assign(m.layers, r.integer("layers", true, 1, kMaxLayers));
  assign(m.hidden, r.integer("hidden", true, 1, kMaxHidden));
  assign(m.heads, r.integer("heads", true, 1, kMaxHeads));
  m.kvHeads = m.heads;
  assign(m.kvHeads, r.integer("kv_heads", false, 1, kMaxHeads));
  assign(m.ffnHidden, r.integer("ffn_hidden", true, 1, 4 * kMaxHidden));
  assign(m.activation, r.choice("activation", true, {"gelu", "swiglu"}));
  assign(m.norm, r.choice("norm", true, {"layernorm", "rmsnorm"}));
  assign(m.normEps, r.number("norm_eps", false, 0.0, 1.0, true));
}

/// Rules that relate fields of one module; `path` is "modules[i]".
void checkAttentionShape(const ModuleSpec &m, const std::string &path,
                         std::vector<SpecError> &errors) {
  if (m.hidden % m.heads != 0)
    errors.push_back({path + ".hidden", "expected a multiple of heads (" +
                                            std::to_string(m.heads) +
                                            "), got " +
                                            std::to_string(m.hidden)});
  else if (m.heads % m.kvHeads != 0)
    errors.push_back({path + ".kv_heads", "expected a divisor of heads (" +
                                              std::to_string(m.heads) +
                                              "), got " +
                                              std::to_string(m.kvHeads)});
}

ModuleSpec readModule(const json &obj, const std::string &path,
                      const Spec &spec, std::vector<SpecError> &errors) {
  ModuleSpec m;
  ObjectReader r(obj, path, errors);
  size_t before = errors.size();
  std::optional<std::string> name = r.string("name", true);
  if (name && !isIdentifier(*name))
    r.error("name", "expected an identifier (letters, digits, _ - .; "
                    "starting with a letter), got \"" +
                        *name + "\"");
  else
    assign(m.name, name);
  std::optional<std::string> kind =
      r.choice("kind", true, {"vit", "mlp", "decoder"});
  if (!kind) {
    // Without a kind the other fields cannot be checked; do not report them
    // as unknown either.
    return m;
  }
  if (*kind == "vit") {
    m.kind = ModuleKindSpec::Vit;
    readAttentionShape(r, m);
    assign(m.imageSize, r.integer("image_size", true, 1, kMaxImageSize));
    assign(m.patchSize, r.integer("patch_size", true, 1, kMaxImageSize));
    assign(m.channels, r.integer("channels", false, 1, 64));
    assign(m.classTokens, r.integer("class_tokens", false, 0, 64));
    assign(m.bias, r.boolean("bias", false));
    m.itemsPerSample = spec.imagesPerSample;
    assign(m.itemsPerSample,
           r.integer("items_per_sample", false, 1, kMaxItems));
    if (errors.size() == before) {
      checkAttentionShape(m, path, errors);
      if (m.imageSize % m.patchSize != 0)
        errors.push_back(
            {path + ".image_size", "expected a multiple of patch_size (" +
                                       std::to_string(m.patchSize) + "), got " +
                                       std::to_string(m.imageSize)});
    }
  } else if (*kind == "mlp") {
    m.kind = ModuleKindSpec::Mlp;
    assign(m.input, r.string("input", true));
    assign(m.output, r.string("output", true));
    assign(m.layers, r.integer("layers", true, 1, 16));
    assign(m.hidden, r.integer("hidden", true, 1, kMaxHidden));
    assign(m.activation, r.choice("activation", true, {"gelu", "swiglu"}));
    assign(m.bias, r.boolean("bias", false));
    assign(m.placeholderId, r.integer("placeholder_id", false, 0, kMaxVocab));
  } else {
    m.kind = ModuleKindSpec::Decoder;
    readAttentionShape(r, m);
    assign(m.position, r.choice("position", true, {"rope", "learned"}));
    assign(m.ropeTheta, r.number("rope_theta", false, 0.0, 1e9, true));
    assign(m.vocab, r.integer("vocab", true, 2, kMaxVocab));
    assign(m.tieEmbeddings, r.boolean("tie_embeddings", false));
    m.bias = false;
    assign(m.bias, r.boolean("bias", false));
    if (errors.size() == before) {
      checkAttentionShape(m, path, errors);
      if (m.position == "rope" && (m.hidden / m.heads) % 2 != 0)
        errors.push_back(
            {path + ".heads", "expected heads giving an even head dim for rope "
                              "(hidden / heads = " +
                                  std::to_string(m.hidden / m.heads) + ")"});
    }
  }
  r.rejectUnknown();
  return m;
}

/// Rules across modules: names, wiring, token budget.
void checkModel(Spec &spec, std::vector<SpecError> &errors) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < spec.modules.size(); ++i) {
    std::string path = "modules[" + std::to_string(i) + "]";
    const ModuleSpec &m = spec.modules[i];
    if (!index.emplace(m.name, i).second)
      errors.push_back(
          {path + ".name",
           "expected a unique module name, got \"" + m.name + "\" again"});
  }
  size_t decoders = 0;
  for (const ModuleSpec &m : spec.modules)
    decoders += m.kind == ModuleKindSpec::Decoder;
  if (decoders != 1) {
    errors.push_back({"modules", "expected exactly one module of kind "
                                 "\"decoder\", got " +
                                     std::to_string(decoders)});
    return;
  }
  std::map<std::string, int> projectorsOf;
  int64_t encoderTokens = 0;
  for (size_t i = 0; i < spec.modules.size(); ++i) {
    ModuleSpec &m = spec.modules[i];
    std::string path = "modules[" + std::to_string(i) + "]";
    if (m.kind != ModuleKindSpec::Mlp)
      continue;
    auto in = index.find(m.input);
    if (in == index.end())
      errors.push_back({path + ".input", "expected the name of a vit module, "
                                         "got \"" +
                                             m.input + "\" (no such module)"});
    else if (spec.modules[in->second].kind != ModuleKindSpec::Vit)
      errors.push_back({path + ".input", "expected the name of a vit module, "
                                         "got \"" +
                                             m.input + "\""});
    else {
      ++projectorsOf[m.input];
      const ModuleSpec &enc = spec.modules[in->second];
      encoderTokens += enc.itemsPerSample * enc.tokensPerItem();
    }
    auto out = index.find(m.output);
    if (out == index.end() ||
        spec.modules[out->second].kind != ModuleKindSpec::Decoder)
      errors.push_back({path + ".output",
                        "expected the name of the decoder module, got \"" +
                            m.output + "\"" +
                            (out == index.end() ? " (no such module)" : "")});
  }
  const ModuleSpec *llm = nullptr;
  for (const ModuleSpec &m : spec.modules)
    if (m.kind == ModuleKindSpec::Decoder)
      llm = &m;
  // Placeholder ids default to the top of the vocabulary, one per projector.
  int64_t next = llm->vocab - 1;
  std::set<int64_t> used;
  for (size_t i = 0; i < spec.modules.size(); ++i) {
    ModuleSpec &m = spec.modules[i];
    if (m.kind != ModuleKindSpec::Mlp)
      continue;
    std::string path = "modules[" + std::to_string(i) + "]";
    if (m.placeholderId < 0) {
      while (used.count(next))
        --next;
      m.placeholderId = next--;
    }
    if (m.placeholderId >= llm->vocab)
      errors.push_back({path + ".placeholder_id",
                        "expected a token id below the vocabulary size (" +
                            std::to_string(llm->vocab) + "), got " +
                            std::to_string(m.placeholderId)});
    if (!used.insert(m.placeholderId).second)
      errors.push_back({path + ".placeholder_id",
                        "expected an id no other projector uses, got " +
                            std::to_string(m.placeholderId)});
  }
  for (size_t i = 0; i < spec.modules.size(); ++i) {
    const ModuleSpec &m = spec.modules[i];
    if (m.kind == ModuleKindSpec::Vit && projectorsOf[m.name] != 1)
      errors.push_back({"modules[" + std::to_string(i) + "].name",
                        "expected exactly one mlp projector with input \"" +
                            m.name + "\", got " +
                            std::to_string(projectorsOf[m.name])});
  }
  if (encoderTokens > spec.seqLen) {
    errors.push_back(
        {"data.images_per_sample", "expected the encoder tokens per sample (" +
                                       std::to_string(encoderTokens) +
                                       ") to fit in data.seq_len (" +
                                       std::to_string(spec.seqLen) + ")"});
  }
}

} // namespace

bool parseJsonObject(const std::string &text, json &out,
                     std::vector<SpecError> &errors) {
  try {
    out = json::parse(text);
  } catch (const json::exception &e) {
    // parse_error: "[json.exception.parse_error.101] parse error at line 3,
    // column 5: ..."; out_of_range: "[json.exception.out_of_range.406]
    // number overflow parsing '1e999'". Drop the library's tag.
    std::string what = e.what();
    auto pos = what.find("] ");
    if (what.rfind("[json.exception.", 0) == 0 && pos != std::string::npos)
      what = what.substr(pos + 2);
    errors.push_back({"", "invalid JSON: " + what});
    return false;
  }
  if (!out.is_object()) {
    errors.push_back({"", "expected a JSON object, got " + describe(out)});
    return false;
  }
  return true;
}

std::optional<Spec> parseSpec(const std::string &text,
                              const ImportOptions &options,
                              std::vector<SpecError> &errors) {
  json root;
  if (!parseJsonObject(text, root, errors))
    return std::nullopt;
  Spec spec;
  ObjectReader top(root, "", errors);
  std::optional<int64_t> version = top.integer("mimo_spec", true, 0, 1 << 20);
  if (version && *version != 1) {
    top.error("mimo_spec", "expected 1, got " + std::to_string(*version));
    return std::nullopt;
  }
  std::optional<std::string> name = top.string("name", true);
  if (name && !isIdentifier(*name))
    top.error("name", "expected an identifier (letters, digits, _ - .; "
                      "starting with a letter), got \"" +
                          *name + "\"");
  else
    assign(spec.name, name);

  if (const json *data = top.get("data", true)) {
    if (!data->is_object()) {
      top.error("data", "expected an object, got " + describe(*data));
    } else {
      ObjectReader r(*data, "data", errors);
      assign(spec.seqLen, r.integer("seq_len", true, 1, kMaxSeqLen));
      assign(spec.imagesPerSample,
             r.integer("images_per_sample", true, 0, kMaxItems));
      r.rejectUnknown();
    }
  }
  if (const json *training = top.get("training", true)) {
    if (!training->is_object()) {
      top.error("training", "expected an object, got " + describe(*training));
    } else {
      ObjectReader r(*training, "training", errors);
      assign(spec.globalBatchSize,
             r.integer("global_batch_size", true, 1, kMaxBatch));
      assign(spec.precision,
             r.choice("precision", true, {"bf16", "fp16", "fp32"}));
      assign(spec.seed, r.integer("seed", false, 0, INT64_MAX));
      if (const json *opt = r.get("optimizer", true)) {
        if (!opt->is_object()) {
          r.error("optimizer", "expected an object, got " + describe(*opt));
        } else {
          ObjectReader o(*opt, "training.optimizer", errors);
          OptimizerSpec &os = spec.optimizer;
          assign(os.kind, o.choice("kind", true, {"adam", "adamw"}));
          assign(os.lr, o.number("lr", true, 0.0, 10.0, true));
          assign(os.beta1, o.number("beta1", false, 0.0, 0.999999, false));
          assign(os.beta2, o.number("beta2", false, 0.0, 0.999999, false));
          assign(os.eps, o.number("eps", false, 0.0, 1.0, true));
          assign(os.weightDecay,
                 o.number("weight_decay", false, 0.0, 10.0, false));
          assign(os.gradClip, o.number("grad_clip", false, 0.0, 1e6, false));
          o.rejectUnknown();
        }
      }
      r.rejectUnknown();
    }
  }
  if (options.seqLen)
    spec.seqLen = *options.seqLen;
  if (options.globalBatchSize)
    spec.globalBatchSize = *options.globalBatchSize;

  if (const json *mods = top.get("modules", true)) {
    if (!mods->is_array() || mods->empty()) {
      top.error("modules", "expected a non-empty array of modules, got " +
                               describe(*mods));
    } else {
      for (size_t i = 0; i < mods->size(); ++i) {
        std::string path = "modules[" + std::to_string(i) + "]";
        const json &m = (*mods)[i];
        if (!m.is_object()) {
          errors.push_back({path, "expected an object, got " + describe(m)});
          continue;
        }
        spec.modules.push_back(readModule(m, path, spec, errors));
      }
    }
  }
  top.rejectUnknown();
  if (!errors.empty())
    return std::nullopt;
  checkModel(spec, errors);
  if (!errors.empty())
    return std::nullopt;
  return spec;
}

std::string writeSpec(const Spec &spec) {
  using ojson = nlohmann::ordered_json;
  ojson root = ojson::object();
  root["mimo_spec"] = 1;
  root["name"] = spec.name;
  ojson mods = ojson::array();
  for (const ModuleSpec &m : spec.modules) {
    ojson j = ojson::object();
    j["name"] = m.name;
    switch (m.kind) {
    case ModuleKindSpec::Vit:
      j["kind"] = "vit";
      break;
    case ModuleKindSpec::Mlp:
      j["kind"] = "mlp";
      break;
    case ModuleKindSpec::Decoder:
      j["kind"] = "decoder";
      break;
    }
    if (m.kind == ModuleKindSpec::Mlp) {
      j["input"] = m.input;
      j["output"] = m.output;
      j["layers"] = m.layers;
      j["hidden"] = m.hidden;
      j["activation"] = m.activation;
      if (m.placeholderId >= 0)
        j["placeholder_id"] = m.placeholderId;
    } else {
      j["layers"] = m.layers;
      j["hidden"] = m.hidden;
      j["heads"] = m.heads;
      j["kv_heads"] = m.kvHeads;
      j["ffn_hidden"] = m.ffnHidden;
      j["activation"] = m.activation;
      j["norm"] = m.norm;
      j["norm_eps"] = m.normEps;
      j["bias"] = m.bias;
    }
    if (m.kind == ModuleKindSpec::Vit) {
      j["image_size"] = m.imageSize;
      j["patch_size"] = m.patchSize;
      j["channels"] = m.channels;
      j["class_tokens"] = m.classTokens;
    }
    if (m.kind == ModuleKindSpec::Decoder) {
      j["position"] = m.position;
      if (m.position == "rope")
        j["rope_theta"] = m.ropeTheta;
      j["vocab"] = m.vocab;
      j["tie_embeddings"] = m.tieEmbeddings;
    }
    mods.push_back(std::move(j));
  }
  root["modules"] = std::move(mods);
  root["data"] = {{"seq_len", spec.seqLen},
                  {"images_per_sample", spec.imagesPerSample}};
  const OptimizerSpec &o = spec.optimizer;
  root["training"] = {{"global_batch_size", spec.globalBatchSize},
                      {"precision", spec.precision},
                      {"optimizer",
                       {{"kind", o.kind},
                        {"lr", o.lr},
                        {"beta1", o.beta1},
                        {"beta2", o.beta2},
                        {"eps", o.eps},
                        {"weight_decay", o.weightDecay},
                        {"grad_clip", o.gradClip}}},
                      {"seed", spec.seed}};
  return root.dump(2) + "\n";
}

} // namespace mimo::spec
