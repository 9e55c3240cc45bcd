// RUN: mimo-opt %s -split-input-file -verify-diagnostics
//
// One case per verifier rule of the mimo dialect: each message states the
// rule and the value found.

// expected-error @+1 {{tp must be at least 1, got 0}}
func.func @attr() attributes {p = #mimo.parallel<tp = 0, cp = 1, pp = 1, dp = 1>} {
  return
}

// -----

// expected-error @+1 {{dp must be at least 1, got -2}}
func.func @attr() attributes {p = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = -2>} {
  return
}

// -----

// expected-error @+1 {{recompute layers must be at least 1, got 0}}
func.func @attr() attributes {p = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 1, recompute = layers(0)>} {
  return
}

// -----

// expected-error @+1 {{sequence parallelism needs tensor parallelism (tp = 1)}}
func.func @attr() attributes {p = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 1, sequence_parallel>} {
  return
}

// -----

// expected-error @+1 {{rank offset must be non-negative, got -4}}
func.func @attr() attributes {p = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 1, offset = -4>} {
  return
}

// -----

// expected-error @+1 {{unknown key 'ep' in #mimo.parallel}}
func.func @attr() attributes {p = #mimo.parallel<tp = 1, ep = 2>} {
  return
}

// -----

// expected-error @+1 {{'tp' given twice}}
func.func @attr() attributes {p = #mimo.parallel<tp = 1, tp = 2>} {
  return
}

// -----

// expected-error @+1 {{unknown recompute kind 'half' (expected none, selective, full or layers(N))}}
func.func @attr() attributes {p = #mimo.parallel<tp = 1, recompute = half>} {
  return
}

// -----

// expected-error @+1 {{unknown offload target 'weights' (expected activations, params or optimizer)}}
func.func @attr() attributes {p = #mimo.parallel<tp = 1, offload = [weights]>} {
  return
}

// -----

// expected-error @+1 {{world size must be at least 1, got 0}}
func.func @attr() attributes {p = #mimo.plan<colocated, world = 0, micro_batch_size = 1>} {
  return
}

// -----

// expected-error @+1 {{micro-batch size must be at least 1, got 0}}
func.func @attr() attributes {p = #mimo.plan<colocated, world = 4, micro_batch_size = 0>} {
  return
}

// -----

// expected-error @+1 {{virtual stages must be at least 1, got 0}}
func.func @attr() attributes {p = #mimo.plan<colocated, world = 4, micro_batch_size = 1, virtual_stages = 0>} {
  return
}

// -----

// expected-error @+1 {{unknown layout 'striped' (expected homogeneous, colocated or disaggregated)}}
func.func @attr() attributes {p = #mimo.plan<striped, world = 4>} {
  return
}

// -----

// expected-error @+1 {{unknown key 'gpus' in #mimo.plan}}
func.func @attr() attributes {p = #mimo.plan<colocated, world = 4, gpus = 4>} {
  return
}

// -----

// expected-error @+1 {{precision must be bf16, fp16 or fp32, got 'fp8'}}
mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp8", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

// expected-error @+1 {{seq_len must be at least 1, got 0}}
mimo.model @m attributes {seq_len = 0 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

// expected-error @+1 {{global_batch_size must be at least 1, got 0}}
mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 0 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

// expected-error @+1 {{images_per_sample must be non-negative, got -1}}
mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = -1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  // expected-error @+1 {{cannot appear in a mimo.model; only mimo.module, mimo.bridge and shard.grid ops can}}
  func.func private @stray()
}

// -----

// expected-error @+1 {{model must have exactly one llm module, found 2}}
mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module llm @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@llm]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  // expected-error @+1 {{projector 'proj' input @llm is not an encoder module of this model}}
mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@llm]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  // expected-error @+1 {{projector 'proj' takes (tensor<4x4xf32>) but encoder 'enc' returns (tensor<4x8xf32>)}}
mimo.module projector @proj(%x: tensor<4x4xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    %c = mimo.param "c" : tensor<4x8xf32>
    mimo.return %c : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  // expected-error @+1 {{llm takes 2 arguments, expected ids, labels and one per input (3)}}
mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  // expected-error @+1 {{llm input @enc is not a projector module of this model}}
mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@enc]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  // expected-error @+1 {{llm argument 2 has type 'tensor<4x4xf32>' but projector 'proj' returns (tensor<4x8xf32>)}}
mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x4xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

// expected-error @+1 {{image tokens (4) exceed seq_len (2)}}
mimo.model @m attributes {seq_len = 2 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<2xi32>, %labels: tensor<2xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}, plan = #mimo.plan<colocated, world = 4, micro_batch_size = 1>} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 4>} {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  // expected-error @+1 {{module 'proj' has no #mimo.parallel while the model has a plan}}
mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 6 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}, plan = #mimo.plan<colocated, world = 4, micro_batch_size = 1>} {
  // expected-error @+1 {{global batch size (6) must be divisible by micro-batch size (1) x dp (4) of module 'enc'}}
mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 4>} {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}, plan = #mimo.plan<colocated, world = 4, micro_batch_size = 1>} {
  // expected-error @+1 {{module 'enc' grid spans ranks [0, 2) (tp*cp*pp*dp = 2), expected all 4 ranks in a colocated layout}}
mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 2>} {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}, plan = #mimo.plan<homogeneous, world = 4, micro_batch_size = 1>} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 4>} {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  // expected-error @+1 {{module 'proj' grid [tp 2, cp 1, pp 1, dp 2] differs from the first module's in a homogeneous layout}}
mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc], parallel = #mimo.parallel<tp = 2, cp = 1, pp = 1, dp = 2>} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}, plan = #mimo.plan<disaggregated, world = 4, micro_batch_size = 1>} {
  // expected-error @+1 {{module 'enc' grid spans ranks [3, 5), beyond the world size 4}}
mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 2, offset = 3>} {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}, plan = #mimo.plan<disaggregated, world = 4, micro_batch_size = 1>} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 2>} {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc], parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 2>} {
    mimo.return %x : tensor<4x8xf32>
  }
  // expected-error @+1 {{modules 'enc' and 'llm' overlap on ranks [1, 2) in a disaggregated layout}}
mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj], parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 2, offset = 1>} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  // expected-error @+1 {{encoder 'enc' must not name inputs, got 1}}
mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> attributes {inputs = [@proj]} {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  // expected-error @+1 {{projector 'proj' must name exactly one input encoder, got 0}}
mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
}

// -----

// expected-error @+1 {{unknown module kind 'decoder' (expected encoder, projector or llm)}}
mimo.module decoder @x() {
  mimo.return
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  // expected-error @+1 {{entry block arguments (tensor<4xi32>) do not match the module signature (tensor<8xi32>)}}
  "mimo.module"() <{sym_name = "llm", function_type = (tensor<8xi32>) -> (), kind = #mimo.module_kind<llm>}> ({
  ^bb0(%a: tensor<4xi32>):
    mimo.return
  }) : () -> ()
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  // expected-error @+1 {{layers (3) must be divisible by pipeline-parallel size (2)}}
mimo.module llm @llm(%x: tensor<8x16xf32>) -> () attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 2, dp = 1>} {
    %h = mimo.stack 3 (%x) : tensor<8x16xf32> -> tensor<8x16xf32> {
    ^bb0(%a: tensor<8x16xf32>):
      mimo.yield %a : tensor<8x16xf32>
    }
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  // expected-error @+1 {{recompute layers (4) exceed the layers per pipeline stage (3)}}
mimo.module llm @llm(%x: tensor<8x16xf32>) -> () attributes {parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 1, recompute = layers(4)>} {
    %h = mimo.stack 3 (%x) : tensor<8x16xf32> -> tensor<8x16xf32> {
    ^bb0(%a: tensor<8x16xf32>):
      mimo.yield %a : tensor<8x16xf32>
    }
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module llm @llm(%x: tensor<8x16xf32>) -> () attributes {parallel = #mimo.parallel<tp = 3, cp = 1, pp = 1, dp = 1>} {
    // expected-error @+1 {{heads (4) must be divisible by tensor-parallel size (3)}}
    %o = mimo.attention %x, %x, %x {heads = 4 : i64, kv_heads = 4 : i64} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module llm @llm(%x: tensor<8x16xf32>, %k: tensor<8x4xf32>) -> () attributes {parallel = #mimo.parallel<tp = 4, cp = 1, pp = 1, dp = 1>} {
    // expected-error @+1 {{kv_heads (2) must be divisible by tensor-parallel size (4)}}
    %o = mimo.attention %x, %k, %k {heads = 8 : i64, kv_heads = 2 : i64} : (tensor<8x16xf32>, tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x16xf32>
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module llm @llm(%x: tensor<8x16xf32>) -> () attributes {parallel = #mimo.parallel<tp = 1, cp = 8, pp = 1, dp = 1>} {
    // expected-error @+1 {{tokens (8) must be divisible by 2 x context-parallel size (8)}}
    %o = mimo.attention %x, %x, %x {heads = 4 : i64, kv_heads = 4 : i64, causal} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module llm @llm(%x: tensor<8x16xf32>, %i: tensor<8xi32>) -> () attributes {parallel = #mimo.parallel<tp = 3, cp = 1, pp = 1, dp = 1>} {
    %t = mimo.param "t" : tensor<8x16xf32>
    // expected-error @+1 {{vocabulary (8) must be divisible by tensor-parallel size (3)}}
    %e = mimo.embedding %i, %t {parallel = #mimo.tp_split<vocab>} : (tensor<8xi32>, tensor<8x16xf32>) -> tensor<8x16xf32>
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module llm @llm(%x: tensor<8x16xf32>) -> () attributes {parallel = #mimo.parallel<tp = 3, cp = 1, pp = 1, dp = 1>} {
    %w = mimo.param "w" : tensor<16x16xf32>
    // expected-error @+1 {{output features (16) must be divisible by tensor-parallel size (3)}}
    %y = mimo.linear %x, %w {parallel = #mimo.tp_split<column>} : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module llm @llm(%x: tensor<8x16xf32>) -> () attributes {parallel = #mimo.parallel<tp = 3, cp = 1, pp = 1, dp = 1>} {
    %w = mimo.param "w" : tensor<16x16xf32>
    // expected-error @+1 {{input features (16) must be divisible by tensor-parallel size (3)}}
    %y = mimo.linear %x, %w {parallel = #mimo.tp_split<row>} : (tensor<8x16xf32>, tensor<16x16xf32>) -> tensor<8x16xf32>
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module llm @llm(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
    // expected-error @+1 {{returns () but module 'llm' declares (tensor<8x16xf32>)}}
    mimo.return
  }
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{count must be at least 1, got 0}}
  %h = mimo.stack 0 (%x) : tensor<8x16xf32> -> tensor<8x16xf32> {
  ^bb0(%a: tensor<8x16xf32>):
    mimo.yield %a : tensor<8x16xf32>
  }
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{results (tensor<8x8xf32>) must match the carried values (tensor<8x16xf32>)}}
  %h = mimo.stack 1 (%x) : tensor<8x16xf32> -> tensor<8x8xf32> {
  ^bb0(%a: tensor<8x16xf32>):
    %c = mimo.param "c" : tensor<8x8xf32>
    mimo.yield %c : tensor<8x8xf32>
  }
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{layer arguments (tensor<8x8xf32>) must match the carried values and xs slices (tensor<8x16xf32>)}}
  %h = mimo.stack 1 (%x) : tensor<8x16xf32> -> tensor<8x16xf32> {
  ^bb0(%a: tensor<8x8xf32>):
    mimo.yield %x : tensor<8x16xf32>
  }
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %h = mimo.stack 1 (%x) : tensor<8x16xf32> -> tensor<8x16xf32> {
  ^bb0(%a: tensor<8x16xf32>):
    %c = mimo.param "c" : tensor<8x8xf32>
    // expected-error @+1 {{yields (tensor<8x8xf32>) but the stack carries and collects (tensor<8x16xf32>)}}
    mimo.yield %c : tensor<8x8xf32>
  }
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{name must not be empty}}
  %w = mimo.param "" : tensor<4xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{must have a static shape, got 'tensor<?xf32>'}}
  %w = mimo.param "w" : tensor<?xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{std given for init zeros; only normal takes a std}}
  %w = mimo.param "w" init = <zeros> {std = 1.0 : f64} : tensor<4xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{std must be positive, got -1}}
  %w = mimo.param "w" {std = -1.0 : f64} : tensor<4xf32>
  return
}

// -----

func.func @f(%v: tensor<16xf32>) {
  %w = mimo.param "w" : tensor<16x4xf32>
  // expected-error @+1 {{input must be rank 2, got 'tensor<16xf32>'}}
  %y = mimo.linear %v, %w : (tensor<16xf32>, tensor<16x4xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %w = mimo.param "w" : tensor<16xf32>
  // expected-error @+1 {{weight must be rank 2, got 'tensor<16xf32>'}}
  %y = mimo.linear %x, %w : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %w = mimo.param "w" : tensor<16x4xbf16>
  // expected-error @+1 {{float operands and results must share one element type, got 'f32' and 'bf16'}}
  %y = mimo.linear %x, %w : (tensor<8x16xf32>, tensor<16x4xbf16>) -> tensor<8x4xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %w = mimo.param "w" : tensor<12x4xf32>
  // expected-error @+1 {{input features (16) must equal the weight's input features (12)}}
  %y = mimo.linear %x, %w : (tensor<8x16xf32>, tensor<12x4xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %w = mimo.param "w" : tensor<16x4xf32>
  %b = mimo.param "b" : tensor<5xf32>
  // expected-error @+1 {{bias must have shape 4, got 'tensor<5xf32>'}}
  %y = mimo.linear %x, %w, %b : (tensor<8x16xf32>, tensor<16x4xf32>, tensor<5xf32>) -> tensor<8x4xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %w = mimo.param "w" : tensor<16x4xf32>
  // expected-error @+1 {{result must have shape 8x4, got 'tensor<8x5xf32>'}}
  %y = mimo.linear %x, %w : (tensor<8x16xf32>, tensor<16x4xf32>) -> tensor<8x5xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %w = mimo.param "w" : tensor<4x16xf32>
  // expected-error @+1 {{result must have shape 8x4, got 'tensor<8x16xf32>'}}
  %y = mimo.linear %x, %w {transpose_weight} : (tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{heads must be at least 1, got 0}}
  %o = mimo.attention %x, %x, %x {heads = 0 : i64, kv_heads = 1 : i64} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{kv_heads must be at least 1, got 0}}
  %o = mimo.attention %x, %x, %x {heads = 4 : i64, kv_heads = 0 : i64} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{heads (4) must be divisible by kv_heads (3)}}
  %o = mimo.attention %x, %x, %x {heads = 4 : i64, kv_heads = 3 : i64} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{query width (16) must be divisible by heads (3)}}
  %o = mimo.attention %x, %x, %x {heads = 3 : i64, kv_heads = 1 : i64} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{key must have shape 8x8, got 'tensor<8x16xf32>'}}
  %o = mimo.attention %x, %x, %x {heads = 4 : i64, kv_heads = 2 : i64} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{result must have shape 8x16, got 'tensor<8x8xf32>'}}
  %o = mimo.attention %x, %x, %x {heads = 4 : i64, kv_heads = 4 : i64} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{segment must be non-negative, got -2}}
  %o = mimo.attention %x, %x, %x {heads = 4 : i64, kv_heads = 4 : i64, segment = -2 : i64} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{tokens (8) must be divisible by segment (3)}}
  %o = mimo.attention %x, %x, %x {heads = 4 : i64, kv_heads = 4 : i64, segment = 3 : i64} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{rope_theta must be positive, got 0}}
  %o = mimo.attention %x, %x, %x {heads = 4 : i64, kv_heads = 4 : i64, rope_theta = 0.0 : f64} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%x: tensor<8x15xf32>) {
  // expected-error @+1 {{rotary embeddings need an even head dim, got 5}}
  %o = mimo.attention %x, %x, %x {heads = 3 : i64, kv_heads = 3 : i64, rope_theta = 1.0e4 : f64} : (tensor<8x15xf32>, tensor<8x15xf32>, tensor<8x15xf32>) -> tensor<8x15xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %g = mimo.param "g" : tensor<8xf32>
  %b = mimo.param "b" : tensor<16xf32>
  // expected-error @+1 {{gamma must have shape 16, got 'tensor<8xf32>'}}
  %y = mimo.layer_norm %x, %g, %b : (tensor<8x16xf32>, tensor<8xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %g = mimo.param "g" : tensor<16xf32>
  %b = mimo.param "b" : tensor<4xf32>
  // expected-error @+1 {{beta must have shape 16, got 'tensor<4xf32>'}}
  %y = mimo.layer_norm %x, %g, %b : (tensor<8x16xf32>, tensor<16xf32>, tensor<4xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %g = mimo.param "g" : tensor<16xf32>
  // expected-error @+1 {{eps must be positive, got 0}}
  %y = mimo.rms_norm %x, %g {eps = 0.0 : f64} : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %g = mimo.param "g" : tensor<16xf32>
  // expected-error @+1 {{result type 'tensor<4x16xf32>' must equal the input type 'tensor<8x16xf32>'}}
  %y = mimo.rms_norm %x, %g : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @f(%i: tensor<8xi32>) {
  %t = mimo.param "t" : tensor<32x16xf32>
  // expected-error @+1 {{parallel must be none or vocab, got column}}
  %e = mimo.embedding %i, %t {parallel = #mimo.tp_split<column>} : (tensor<8xi32>, tensor<32x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%i: tensor<8xi32>) {
  %t = mimo.param "t" : tensor<32x16xf32>
  // expected-error @+1 {{result must have shape 8x16, got 'tensor<8x8xf32>'}}
  %e = mimo.embedding %i, %t : (tensor<8xi32>, tensor<32x16xf32>) -> tensor<8x8xf32>
  return
}

// -----

func.func @f(%p: tensor<1x1x4x4xf32>) {
  %w = mimo.param "w" : tensor<4x8xf32>
  %b = mimo.param "b" : tensor<8xf32>
  %pos = mimo.param "pos" : tensor<4x8xf32>
  // expected-error @+1 {{patch_size must be at least 1, got 0}}
  %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 0 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%p: tensor<1x1x4x4xf32>) {
  %w = mimo.param "w" : tensor<4x8xf32>
  %b = mimo.param "b" : tensor<8xf32>
  %pos = mimo.param "pos" : tensor<4x8xf32>
  // expected-error @+1 {{image size 4x4 must be divisible by patch_size (3)}}
  %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 3 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%p: tensor<1x1x4x4xf32>) {
  %w = mimo.param "w" : tensor<6x8xf32>
  %b = mimo.param "b" : tensor<8xf32>
  %pos = mimo.param "pos" : tensor<4x8xf32>
  // expected-error @+1 {{weight must have shape 4x8, got 'tensor<6x8xf32>'}}
  %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<6x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%p: tensor<1x1x4x4xf32>) {
  %w = mimo.param "w" : tensor<4x8xf32>
  %b = mimo.param "b" : tensor<8xf32>
  %pos = mimo.param "pos" : tensor<5x8xf32>
  // expected-error @+1 {{positions must have shape 4x8, got 'tensor<5x8xf32>'}}
  %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<5x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%p: tensor<1x1x4x4xf32>) {
  %w = mimo.param "w" : tensor<4x8xf32>
  %b = mimo.param "b" : tensor<8xf32>
  %pos = mimo.param "pos" : tensor<5x8xf32>
  %c = mimo.param "c" : tensor<1x4xf32>
  // expected-error @+1 {{class_tokens must have shape 1x8, got 'tensor<1x4xf32>'}}
  %x = mimo.patch_embed %p, %w, %b, %pos, %c {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<5x8xf32>, tensor<1x4xf32>) -> tensor<5x8xf32>
  return
}

// -----

func.func @f(%p: tensor<2x1x4x4xf32>) {
  %w = mimo.param "w" : tensor<4x8xf32>
  %b = mimo.param "b" : tensor<8xf32>
  %pos = mimo.param "pos" : tensor<4x8xf32>
  // expected-error @+1 {{result must have shape 8x8, got 'tensor<4x8xf32>'}}
  %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<2x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%p: tensor<4x4xf32>) {
  %w = mimo.param "w" : tensor<4x8xf32>
  %b = mimo.param "b" : tensor<8xf32>
  %pos = mimo.param "pos" : tensor<4x8xf32>
  // expected-error @+1 {{pixels must be rank 4, got 'tensor<4x4xf32>'}}
  %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%t: tensor<8x16xf32>, %i: tensor<4xi32>, %s: tensor<4x16xf32>) {
  // expected-error @+1 {{ids must have shape 8, got 'tensor<4xi32>'}}
  %m = mimo.merge_modalities %t, %i, %s {placeholder_ids = array<i64: 63>} : (tensor<8x16xf32>, tensor<4xi32>, tensor<4x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%t: tensor<8x16xf32>, %i: tensor<8xi32>, %s: tensor<4x16xf32>) {
  // expected-error @+1 {{placeholder_ids has 2 entries but there are 1 sources}}
  %m = mimo.merge_modalities %t, %i, %s {placeholder_ids = array<i64: 62, 63>} : (tensor<8x16xf32>, tensor<8xi32>, tensor<4x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%t: tensor<8x16xf32>, %i: tensor<8xi32>, %s: tensor<4x16xf32>) {
  // expected-error @+1 {{placeholder id 63 used twice}}
  %m = mimo.merge_modalities %t, %i, %s, %s {placeholder_ids = array<i64: 63, 63>} : (tensor<8x16xf32>, tensor<8xi32>, tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%t: tensor<8x16xf32>, %i: tensor<8xi32>, %s: tensor<4x8xf32>) {
  // expected-error @+1 {{source 0 hidden size (8) must equal the text hidden size (16)}}
  %m = mimo.merge_modalities %t, %i, %s {placeholder_ids = array<i64: 63>} : (tensor<8x16xf32>, tensor<8xi32>, tensor<4x8xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%t: tensor<8x16xf32>, %i: tensor<8xi32>, %s: tensor<12x16xf32>) {
  // expected-error @+1 {{encoder tokens (12) exceed the sequence length (8)}}
  %m = mimo.merge_modalities %t, %i, %s {placeholder_ids = array<i64: 63>} : (tensor<8x16xf32>, tensor<8xi32>, tensor<12x16xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @f(%t: tensor<8x16xf32>, %i: tensor<8xi32>, %s: tensor<4x16xf32>) {
  // expected-error @+1 {{result type 'tensor<8x8xf32>' must equal the text type 'tensor<8x16xf32>'}}
  %m = mimo.merge_modalities %t, %i, %s {placeholder_ids = array<i64: 63>} : (tensor<8x16xf32>, tensor<8xi32>, tensor<4x16xf32>) -> tensor<8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>, %i: tensor<8xi32>) {
  // expected-error @+1 {{parallel must be none or vocab, got row}}
  %l, %c = mimo.cross_entropy %x, %i {parallel = #mimo.tp_split<row>} : (tensor<8x16xf32>, tensor<8xi32>) -> (tensor<f32>, tensor<f32>)
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>, %i: tensor<4xi32>) {
  // expected-error @+1 {{labels must have shape 8, got 'tensor<4xi32>'}}
  %l, %c = mimo.cross_entropy %x, %i : (tensor<8x16xf32>, tensor<4xi32>) -> (tensor<f32>, tensor<f32>)
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %w = mimo.param "w" : tensor<3x16x16xf32>
  // expected-error @+1 {{xs operand 0 must have a leading dimension of count (2), got 'tensor<3x16x16xf32>'}}
  %h = mimo.stack 2 (%x) xs(%w : tensor<3x16x16xf32>) : tensor<8x16xf32> -> tensor<8x16xf32> {
  ^bb0(%a: tensor<8x16xf32>, %wi: tensor<16x16xf32>):
    mimo.yield %a : tensor<8x16xf32>
  }
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{collected result 0 must have a leading dimension of count (2), got 'tensor<3x8x16xf32>'}}
  %h, %all = mimo.stack 2 (%x) : tensor<8x16xf32> -> tensor<8x16xf32>, tensor<3x8x16xf32> {
  ^bb0(%a: tensor<8x16xf32>):
    mimo.yield %a, %a : tensor<8x16xf32>, tensor<8x16xf32>
  }
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{lse must have shape 8x4, got 'tensor<8x2xf32>'}}
  %o, %l = mimo.attention %x, %x, %x {heads = 4 : i64, kv_heads = 4 : i64} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> (tensor<8x16xf32>, tensor<8x2xf32>)
  return
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  // expected-error @+1 {{backward module 'enc_grad' must name exactly one forward module, got 2}}
mimo.module backward @enc_grad(%g: tensor<4x8xf32>) -> () attributes {inputs = [@enc, @proj]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  // expected-error @+1 {{backward module 'enc_grad' runs on its forward module's grid and takes no #mimo.parallel}}
mimo.module backward @enc_grad(%g: tensor<4x8xf32>) -> () attributes {inputs = [@enc], parallel = #mimo.parallel<tp = 1, cp = 1, pp = 1, dp = 1>} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  // expected-error @+1 {{residuals (1) must be between 0 and the number of results (0)}}
mimo.module backward @enc_grad(%g: tensor<4x8xf32>) -> () attributes {inputs = [@enc], residuals = 1} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  // expected-error @+1 {{backward module 'enc_grad' input @nothing is not a forward module of this model}}
mimo.module backward @enc_grad(%g: tensor<4x8xf32>) -> () attributes {inputs = [@nothing]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  // expected-error @+1 {{backward module 'enc_grad' takes (tensor<4x4xf32>), expected the output gradients and residuals of 'enc' (tensor<4x8xf32>)}}
mimo.module backward @enc_grad(%g: tensor<4x4xf32>) -> () attributes {inputs = [@enc]} {
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  // expected-error @+1 {{backward module 'enc_grad' returns (tensor<4x8xf32>), expected the gradients of 'enc' inputs ()}}
mimo.module backward @enc_grad(%g: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    %z = mimo.param "w" : tensor<4x8xf32>
    mimo.return %z : tensor<4x8xf32>
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  mimo.module backward @enc_grad(%g: tensor<4x8xf32>) -> () attributes {inputs = [@enc]} {
    // expected-error @+1 {{names parameter 'nope', which module 'enc' does not declare}}
    %p = mimo.param "nope" : tensor<4x8xf32>
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  mimo.module backward @enc_grad(%g: tensor<4x8xf32>) -> () attributes {inputs = [@enc]} {
    // expected-error @+1 {{parameter 'w' of 'enc' has type 'tensor<4x8xf32>', got 'tensor<8x4xf32>'}}
    %p = mimo.param "w" : tensor<8x4xf32>
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  mimo.module backward @enc_grad(%g: tensor<4x8xf32>) -> () attributes {inputs = [@enc]} {
    // expected-error @+1 {{parameter 'b' of 'enc' has type 'tensor<8xf32>', got 'tensor<4x8xf32>'}}
    mimo.param_grad "b", %g : tensor<4x8xf32>
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  mimo.module backward @g1(%g: tensor<4x8xf32>) attributes {inputs = [@enc]} {
    mimo.return
  }
  // expected-error @+1 {{module 'enc' has more than one backward module}}
  mimo.module backward @g2(%g: tensor<4x8xf32>) attributes {inputs = [@enc]} {
    mimo.return
  }
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %w = mimo.param "w" : tensor<16x4xf32>
  // expected-error @+1 {{grad must have shape 8x4, got 'tensor<8x16xf32>'}}
  %dx, %dw = mimo.linear_grad %x, %x, %w : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<16x4xf32>) -> (tensor<8x16xf32>, tensor<16x4xf32>)
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %w = mimo.param "w" : tensor<16x16xf32>
  // expected-error @+1 {{weight_grad must have type 'tensor<16x16xf32>', got 'tensor<16x8xf32>'}}
  %dx, %dw = mimo.linear_grad %x, %x, %w : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<16x16xf32>) -> (tensor<8x16xf32>, tensor<16x8xf32>)
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %w = mimo.param "w" : tensor<16x16xf32>
  // expected-error @+1 {{bias_grad must be present exactly when has_bias is set}}
  %dx, %dw = mimo.linear_grad %x, %x, %w {has_bias} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<16x16xf32>) -> (tensor<8x16xf32>, tensor<16x16xf32>)
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{lse must have shape 8x4, got 'tensor<8x16xf32>'}}
  %dq, %dk, %dv = mimo.attention_grad %x, %x, %x, %x, %x, %x {heads = 4 : i64, kv_heads = 4 : i64} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>)
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %g = mimo.param "g" : tensor<16xf32>
  // expected-error @+1 {{beta_grad must have type 'tensor<16xf32>', got 'tensor<8xf32>'}}
  %dx, %dg, %db = mimo.layer_norm_grad %x, %x, %g : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<16xf32>) -> (tensor<8x16xf32>, tensor<16xf32>, tensor<8xf32>)
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %g = mimo.param "g" : tensor<16xf32>
  // expected-error @+1 {{input_grad must have type 'tensor<8x16xf32>', got 'tensor<4x16xf32>'}}
  %dx, %dg = mimo.rms_norm_grad %x, %x, %g : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<16xf32>) -> (tensor<4x16xf32>, tensor<16xf32>)
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>, %i: tensor<8xi32>) {
  // expected-error @+1 {{grad must have shape 8x32, got 'tensor<8x16xf32>'}}
  %dt = mimo.embedding_grad %x, %i : (tensor<8x16xf32>, tensor<8xi32>) -> tensor<64x32xf32>
  return
}

// -----

func.func @f(%g: tensor<4x8xf32>, %p: tensor<1x1x4x4xf32>) {
  // expected-error @+1 {{positions_grad must have shape 4x8, got 'tensor<5x8xf32>'}}
  %dw, %db, %dp = mimo.patch_embed_grad %g, %p {patch_size = 2 : i64} : (tensor<4x8xf32>, tensor<1x1x4x4xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<5x8xf32>)
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>, %i: tensor<8xi32>) {
  // expected-error @+1 {{placeholder_ids has 2 entries but there are 1 source gradients}}
  %dt, %ds = mimo.merge_modalities_grad %x, %i {placeholder_ids = array<i64: 1, 2>} : (tensor<8x16xf32>, tensor<8xi32>) -> (tensor<8x16xf32>, tensor<4x16xf32>)
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>, %i: tensor<8xi32>) {
  // expected-error @+1 {{source gradient 0 hidden size (8) must equal the sequence hidden size (16)}}
  %dt, %ds = mimo.merge_modalities_grad %x, %i {placeholder_ids = array<i64: 1>} : (tensor<8x16xf32>, tensor<8xi32>) -> (tensor<8x16xf32>, tensor<4x8xf32>)
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>, %i: tensor<8xi32>, %s: tensor<f32>) {
  // expected-error @+1 {{logits_grad must have type 'tensor<8x16xf32>', got 'tensor<8x8xf32>'}}
  %dl = mimo.cross_entropy_grad %x, %i, %s : (tensor<8x16xf32>, tensor<8xi32>, tensor<f32>) -> tensor<8x8xf32>
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  // expected-error @+1 {{expects parent op 'mimo.stack'}}
  %r = mimo.recompute(%x : tensor<8x16xf32>) : tensor<8x16xf32> {
  ^bb0(%a: tensor<8x16xf32>):
    mimo.yield %a : tensor<8x16xf32>
  }
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %h = mimo.stack 2 (%x) : tensor<8x16xf32> -> tensor<8x16xf32> {
  ^bb0(%a: tensor<8x16xf32>):
    // expected-error @+1 {{saved values are only read with `layers`; without it every layer recomputes}}
    %r = mimo.recompute(%a : tensor<8x16xf32>) saved(%a : tensor<8x16xf32>) : tensor<8x16xf32> {
    ^bb0(%b: tensor<8x16xf32>):
      mimo.yield %b : tensor<8x16xf32>
    }
    mimo.yield %r : tensor<8x16xf32>
  }
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %h = mimo.stack 2 (%x) : tensor<8x16xf32> -> tensor<8x16xf32> {
  ^bb0(%a: tensor<8x16xf32>):
    // expected-error @+1 {{layers must be in [1, 2] (the enclosing stack's count), got 3}}
    %r = mimo.recompute layers 3 (%a : tensor<8x16xf32>) saved(%a : tensor<8x16xf32>) : tensor<8x16xf32> {
    ^bb0(%b: tensor<8x16xf32>):
      mimo.yield %b : tensor<8x16xf32>
    }
    mimo.yield %r : tensor<8x16xf32>
  }
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %h = mimo.stack 2 (%x) : tensor<8x16xf32> -> tensor<8x16xf32> {
  ^bb0(%a: tensor<8x16xf32>):
    // expected-error @+1 {{saved values () must match the results (tensor<8x16xf32>)}}
    %r = mimo.recompute layers 1 (%a : tensor<8x16xf32>) : tensor<8x16xf32> {
    ^bb0(%b: tensor<8x16xf32>):
      mimo.yield %b : tensor<8x16xf32>
    }
    mimo.yield %r : tensor<8x16xf32>
  }
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %h = mimo.stack 2 (%x) : tensor<8x16xf32> -> tensor<8x16xf32> {
  ^bb0(%a: tensor<8x16xf32>):
    // expected-error @+1 {{region arguments (tensor<8x8xf32>) must match the inputs (tensor<8x16xf32>)}}
    %r = mimo.recompute(%a : tensor<8x16xf32>) : tensor<8x16xf32> {
    ^bb0(%b: tensor<8x8xf32>):
      %c = mimo.param "c" : tensor<8x16xf32>
      mimo.yield %c : tensor<8x16xf32>
    }
    mimo.yield %r : tensor<8x16xf32>
  }
  return
}

// -----

func.func @f(%x: tensor<8x16xf32>) {
  %h = mimo.stack 2 (%x) : tensor<8x16xf32> -> tensor<8x16xf32> {
  ^bb0(%a: tensor<8x16xf32>):
    %r = mimo.recompute(%a : tensor<8x16xf32>) : tensor<8x16xf32> {
    ^bb0(%b: tensor<8x16xf32>):
      %g = mimo.param "g" : tensor<16xf32>
      // expected-error @+1 {{yields (tensor<16xf32>) but the recompute region returns (tensor<8x16xf32>)}}
      mimo.yield %g : tensor<16xf32>
    }
    mimo.yield %r : tensor<8x16xf32>
  }
  return
}

// -----

// A bridge's kind must fit the grids: fan_in needs a finer source dp.
mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  // expected-error @+1 {{'mimo.bridge' op fan_in needs source dp = factor x target dp, factor > 1 (source dp = 1, target dp = 1, factor = 2)}}
  mimo.bridge fan_in @proj to @llm factor 2
}

// -----

// fan_out needs a finer target dp.
mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  // expected-error @+1 {{'mimo.bridge' op fan_out needs target dp = factor x source dp, factor > 1 (source dp = 1, target dp = 1, factor = 2)}}
  mimo.bridge fan_out @proj to @llm factor 2
}

// -----

// equal moves nothing between dp sizes.
mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  // expected-error @+1 {{'mimo.bridge' op equal needs the same dp and factor 1 (source dp = 1, target dp = 1, factor = 3)}}
  mimo.bridge equal @proj to @llm factor 3
}

// -----

// Leaders join disjoint rank spans only.
mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  // expected-error @+1 {{'mimo.bridge' op leaders needs the disaggregated layout and factor 1 (source dp = 1, target dp = 1, factor = 1)}}
  mimo.bridge leaders @proj to @llm factor 1
}

// -----

// A bridge starts at a projector.
mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  // expected-error @+1 {{'mimo.bridge' op source @enc must name a projector module}}
  mimo.bridge equal @enc to @llm factor 1
}

// -----

// A bridge ends at the LLM.
mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module encoder @enc(%p: tensor<1x1x4x4xf32>) -> tensor<4x8xf32> {
    %w = mimo.param "w" : tensor<4x8xf32>
    %b = mimo.param "b" : tensor<8xf32>
    %pos = mimo.param "pos" : tensor<4x8xf32>
    %x = mimo.patch_embed %p, %w, %b, %pos {patch_size = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module projector @proj(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {inputs = [@enc]} {
    mimo.return %x : tensor<4x8xf32>
  }
  mimo.module llm @llm(%ids: tensor<8xi32>, %labels: tensor<8xi32>, %img: tensor<4x8xf32>) attributes {inputs = [@proj]} {
    mimo.return
  }
  // expected-error @+1 {{'mimo.bridge' op target @proj must name the LLM module}}
  mimo.bridge equal @proj to @proj factor 1
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module llm @llm(%x: tensor<7x16xf32>) -> () {
    // expected-error @+1 {{context_parallel = 2 needs two equal chunks of tokens per rank, got 7 tokens}}
    %o = mimo.attention %x, %x, %x {heads = 4 : i64, kv_heads = 4 : i64, causal, context_parallel = 2 : i64} : (tensor<7x16xf32>, tensor<7x16xf32>, tensor<7x16xf32>) -> tensor<7x16xf32>
    mimo.return
  }
}

// -----

mimo.model @m attributes {seq_len = 8 : i64, images_per_sample = 1 : i64, global_batch_size = 4 : i64, seed = 0 : i64, precision = "fp32", optimizer = {}} {
  mimo.module llm @llm(%x: tensor<8x16xf32>) -> () {
    // expected-error @+1 {{context_parallel must be at least 1, got 0}}
    %o = mimo.attention %x, %x, %x {heads = 4 : i64, kv_heads = 4 : i64, context_parallel = 0 : i64} : (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
    mimo.return
  }
}

// -----

func.func @context_slice_cp(%x: tensor<8x4xf32>) {
  // expected-error @+1 {{'mimo.context_slice' op cp must be at least 2, got 1}}
  %y = mimo.context_slice %x {grid = @g, cp = 1 : i64} : tensor<8x4xf32> -> tensor<8x4xf32>
  return
}

// -----

func.func @context_slice_chunks(%x: tensor<6x4xf32>) {
  // expected-error @+1 {{'mimo.context_slice' op the input's 6 tokens do not split into 2 * cp = 4 equal chunks}}
  %y = mimo.context_slice %x {grid = @g, cp = 2 : i64} : tensor<6x4xf32> -> tensor<3x4xf32>
  return
}

// -----

func.func @context_slice_rows(%x: tensor<8x4xf32>) {
  // expected-error @+1 {{'mimo.context_slice' op result has 2 rows; this rank's chunks of 8 tokens over cp = 2 are 4}}
  %y = mimo.context_slice %x {grid = @g, cp = 2 : i64} : tensor<8x4xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @context_slice_width(%x: tensor<8xi32>) {
  // expected-error @+1 {{'mimo.context_slice' op result 'tensor<4xf32>' must be input 'tensor<8xi32>' with fewer rows}}
  %y = mimo.context_slice %x {grid = @g, cp = 2 : i64} : tensor<8xi32> -> tensor<4xf32>
  return
}

// -----

func.func @context_pad_rows(%x: tensor<4x4xf32>) {
  // expected-error @+1 {{'mimo.context_pad' op input has 4 rows; this rank's chunks of 16 tokens over cp = 2 are 8}}
  %y = mimo.context_pad %x {grid = @g, cp = 2 : i64} : tensor<4x4xf32> -> tensor<16x4xf32>
  return
}
