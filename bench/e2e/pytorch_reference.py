#!/usr/bin/env python3
"""A mimo model spec as plain PyTorch, for side-by-side throughput runs.

The same modules, shapes and data sizes as the trainer `mimoc build` makes
from the spec (docs/spec.md, "From spec to IR"): each ViT is a patch
embedding with learned positions (and optional class tokens), pre-norm
layers whose bidirectional attention stays inside each image, and a final
norm; each projector its linears with GELU or SwiGLU between them; the
decoder an embedding whose placeholder positions take the projected image
tokens, pre-norm causal layers (RoPE, grouped-query attention), a final
norm, the LM head and the cross-entropy over the text tokens. Training as
the spec says: bf16 autocast over fp32 parameters (or fp32), fused AdamW or
Adam, global-norm clipping, gradient accumulation over micro-batches.

Prints one JSON object: step_ms (median after --warmup), tokens_per_s,
peak_memory_bytes (torch.cuda.max_memory_allocated), losses.

  python3 bench/e2e/pytorch_reference.py --spec examples/vit1b-llm7b.json \\
      --seq 4096 --gbs 8 --micro-batch 1 --steps 10
"""

import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def norm(kind, width, eps):
    return nn.LayerNorm(width, eps=eps) if kind == "layernorm" else \
        nn.RMSNorm(width, eps=eps)


class FeedForward(nn.Module):
    def __init__(self, width, inner, out, activation, bias):
        super().__init__()
        self.swiglu = activation == "swiglu"
        self.fc1 = nn.Linear(width, inner, bias=bias)
        if self.swiglu:
            self.gate = nn.Linear(width, inner, bias=bias)
        self.fc2 = nn.Linear(inner, out, bias=bias)

    def forward(self, x):
        h = F.silu(self.gate(x)) * self.fc1(x) if self.swiglu else \
            F.gelu(self.fc1(x), approximate="tanh")
        return self.fc2(h)


def rope(x, theta):
    # x [B, H, S, D]; rotate pairs (2i, 2i+1) by position * theta^(-2i/D).
    s, d = x.shape[-2], x.shape[-1]
    inv = theta ** (-torch.arange(0, d, 2, device=x.device,
                                  dtype=torch.float32) / d)
    ang = torch.arange(s, device=x.device, dtype=torch.float32)[:, None] * inv
    cos, sin = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos),
                       dim=-1).flatten(-2)


class Layer(nn.Module):
    def __init__(self, m, causal):
        super().__init__()
        h, heads = m["hidden"], m["heads"]
        kv = m.get("kv_heads", heads)
        bias = m.get("bias", m["kind"] == "vit")
        eps = m.get("norm_eps", 1e-5)
        self.heads, self.kv, self.dim = heads, kv, h // heads
        self.causal = causal
        self.rope = m.get("position") == "rope"
        self.theta = m.get("rope_theta", 10000.0)
        self.n1 = norm(m["norm"], h, eps)
        self.q = nn.Linear(h, h, bias=bias)
        self.k = nn.Linear(h, kv * self.dim, bias=bias)
        self.v = nn.Linear(h, kv * self.dim, bias=bias)
        self.o = nn.Linear(h, h, bias=bias)
        self.n2 = norm(m["norm"], h, eps)
        self.ffn = FeedForward(h, m["ffn_hidden"], h, m["activation"], bias)

    def forward(self, x, segment=0):
        b, s, h = x.shape
        y = self.n1(x)
        if segment:  # attention inside each image: images become the batch
            y = y.reshape(b * (s // segment), segment, h)
        bb, ss = y.shape[0], y.shape[1]
        q = self.q(y).view(bb, ss, self.heads, self.dim).transpose(1, 2)
        k = self.k(y).view(bb, ss, self.kv, self.dim).transpose(1, 2)
        v = self.v(y).view(bb, ss, self.kv, self.dim).transpose(1, 2)
        if self.rope:
            q, k = rope(q, self.theta), rope(k, self.theta)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal,
                                           enable_gqa=self.kv != self.heads)
        a = a.transpose(1, 2).reshape(b, s, h)
        x = x + self.o(a)
        return x + self.ffn(self.n2(x))


class Vit(nn.Module):
    def __init__(self, m, items):
        super().__init__()
        c, p = m.get("channels", 3), m["patch_size"]
        self.patch, self.items = p, items
        self.cls = m.get("class_tokens", 0)
        self.per_image = (m["image_size"] // p) ** 2 + self.cls
        self.embed = nn.Linear(c * p * p, m["hidden"], bias=m.get("bias", True))
        self.pos = nn.Parameter(torch.zeros(self.per_image, m["hidden"]))
        if self.cls:
            self.cls_tok = nn.Parameter(torch.zeros(self.cls, m["hidden"]))
        self.layers = nn.ModuleList(Layer(m, False)
                                    for _ in range(m["layers"]))
        self.final = norm(m["norm"], m["hidden"], m.get("norm_eps", 1e-5))

    def forward(self, pixels):  # [B, items, C, H, W]
        b = pixels.shape[0]
        x = pixels.flatten(0, 1)
        p = self.patch
        x = x.unfold(2, p, p).unfold(3, p, p)  # [N, C, h, w, p, p]
        x = x.permute(0, 2, 3, 1, 4, 5).flatten(3).flatten(1, 2)
        x = self.embed(x)
        if self.cls:
            x = torch.cat([self.cls_tok.expand(x.shape[0], -1, -1), x], 1)
        x = (x + self.pos).reshape(b, self.items * self.per_image, -1)
        for layer in self.layers:
            x = layer(x, segment=self.per_image)
        return self.final(x)


class Decoder(nn.Module):
    def __init__(self, m, seq):
        super().__init__()
        self.embed = nn.Embedding(m["vocab"], m["hidden"])
        self.pos = nn.Parameter(torch.zeros(seq, m["hidden"])) \
            if m["position"] == "learned" else None
        self.layers = nn.ModuleList(Layer(m, True) for _ in range(m["layers"]))
        self.final = norm(m["norm"], m["hidden"], m.get("norm_eps", 1e-5))
        self.tied = m.get("tie_embeddings", False)
        if not self.tied:
            self.head = nn.Linear(m["hidden"], m["vocab"], bias=False)

    def forward(self, ids, image_tokens, labels):
        x = self.embed(ids)
        # The projected image tokens fill the first positions (their
        # placeholders), the text follows.
        n = image_tokens.shape[1]
        x = torch.cat([image_tokens.to(x.dtype), x[:, n:]], 1)
        if self.pos is not None:
            x = x + self.pos
        for layer in self.layers:
            x = layer(x)
        x = self.final(x)
        w = self.embed.weight if self.tied else self.head.weight
        logits = F.linear(x[:, n:], w)
        return F.cross_entropy(logits.flatten(0, 1).float(), labels[:, n:]
                               .flatten(), reduction="sum")


class Model(nn.Module):
    def __init__(self, spec, seq):
        super().__init__()
        mods = {m["name"]: m for m in spec["modules"]}
        images = spec["data"]["images_per_sample"]
        self.encoders = nn.ModuleDict()
        self.projectors = nn.ModuleDict()
        self.inputs = {}
        llm = next(m for m in spec["modules"] if m["kind"] == "decoder")
        for m in spec["modules"]:
            if m["kind"] == "vit":
                self.encoders[m["name"]] = Vit(
                    m, m.get("items_per_sample", images))
        for m in spec["modules"]:
            if m["kind"] == "mlp":
                enc = mods[m["input"]]
                layers, act = m["layers"], m["activation"]
                dims = [enc["hidden"]] + [m["hidden"]] * (layers - 1) + \
                    [llm["hidden"]]
                seq_layers = []
                for i in range(layers):
                    seq_layers.append(nn.Linear(dims[i], dims[i + 1],
                                                bias=m.get("bias", True)))
                    if i + 1 < layers:
                        seq_layers.append(nn.GELU(approximate="tanh")
                                          if act == "gelu" else nn.SiLU())
                self.projectors[m["name"]] = nn.Sequential(*seq_layers)
                self.inputs[m["name"]] = m["input"]
        self.llm = Decoder(llm, seq)

    def forward(self, pixels, ids, labels):
        tokens = []
        for name, proj in self.projectors.items():
            enc = self.inputs[name]
            tokens.append(proj(self.encoders[enc](pixels[enc])))
        return self.llm(ids, torch.cat(tokens, 1), labels)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True)
    ap.add_argument("--seq", type=int, help="override data.seq_len")
    ap.add_argument("--gbs", type=int, help="override global_batch_size")
    ap.add_argument("--micro-batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--compile", action="store_true", help="torch.compile")
    a = ap.parse_args()
    spec = json.load(open(a.spec))
    seq = a.seq or spec["data"]["seq_len"]
    gbs = a.gbs or spec["training"]["global_batch_size"]
    if gbs % a.micro_batch:
        raise SystemExit(f"--micro-batch {a.micro_batch} does not divide "
                         f"the global batch {gbs}")
    tr = spec["training"]
    opt = tr["optimizer"]
    dev = torch.device("cuda")
    torch.manual_seed(tr.get("seed", 1234))
    model = Model(spec, seq).to(dev)
    if a.compile:
        model = torch.compile(model)
    cls = torch.optim.AdamW if opt["kind"] == "adamw" else torch.optim.Adam
    optim = cls(model.parameters(), lr=opt["lr"],
                betas=(opt["beta1"], opt["beta2"]), eps=opt["eps"],
                weight_decay=opt["weight_decay"], fused=True)
    bf16 = tr["precision"] == "bf16"
    mods = {m["name"]: m for m in spec["modules"]}
    vocab = next(m for m in spec["modules"] if m["kind"] == "decoder")["vocab"]
    mb = a.micro_batch

    def batch():
        pixels = {}
        for name, enc in (model.encoders.items() if not a.compile else
                          model._orig_mod.encoders.items()):
            m = mods[name]
            pixels[name] = torch.randn(mb, enc.items, m.get("channels", 3),
                                       m["image_size"], m["image_size"],
                                       device=dev)
        ids = torch.randint(0, vocab - 8, (mb, seq), device=dev)
        return pixels, ids, torch.roll(ids, -1, 1)

    data = [batch() for _ in range(gbs // mb)]
    times, losses = [], []
    for step in range(a.steps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        total = 0.0
        for pixels, ids, labels in data:
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
                loss = model(pixels, ids, labels)
            loss.backward()
            total += loss.detach()
        if opt.get("grad_clip", 0) > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(),
                                           opt["grad_clip"])
        optim.step()
        optim.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1e3)
        losses.append(float(total))
    step_ms = statistics.median(times[a.warmup:] or times)
    print(json.dumps({
        "step_ms": step_ms,
        "tokens_per_s": gbs * seq / (step_ms / 1e3),
        "peak_memory_bytes": torch.cuda.max_memory_allocated(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "losses": losses,
        "torch": torch.__version__}))


if __name__ == "__main__":
    main()
