//===- MimoDialect.td - The mimo graph dialect -------------*- tablegen -*-===//

#ifndef MIMO_DIALECT_MIMODIALECT_TD
#define MIMO_DIALECT_MIMODIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Mimo_Dialect : Dialect {
  let name = "mimo";
  let cppNamespace = "::mimo";
  let summary = "A multimodal (encoder + projector + LLM) training graph";
  let description = [{
    The `mimo` dialect describes one multimodal model for training: a
    `mimo.model` holds modules (encoders, their projectors and one LLM), each
    a function over per-sample tensors; repeated transformer layers are a
    `mimo.stack` whose body is one layer. Mid-level ops (`mimo.linear`,
    `mimo.attention`, norms, activations, embeddings, `mimo.merge_modalities`,
    `mimo.cross_entropy`) carry their tensor-parallel role, and every op
    describes its cost (parameters, FLOPs, bytes, saved activations) through
    `MimoCostOpInterface`, which the planner reads. Parallel plans are
    attributes: `#mimo.plan` on the model, `#mimo.parallel` on each module.

    Tensors are per sample: an encoder sees `[images * tokens_per_image,
    hidden]`, the LLM `[seq_len, hidden]`. Micro-batching is a property of the
    plan, not of the graph.
  }];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

class Mimo_Op<string mnemonic, list<Trait> traits = []>
    : Op<Mimo_Dialect, mnemonic, traits>;

class Mimo_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Mimo_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

#endif // MIMO_DIALECT_MIMODIALECT_TD
