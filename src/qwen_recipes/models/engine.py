"""Greedy prediction that keeps the GPU busy: a slot KV cache, continuous refill, decode steps as CUDA graphs.

Why not ``model.generate``: its eager decode step is bound by kernel launches (112 ms per step for a 7B on an H200,
where the weights take 3.2 ms to stream), and a batch waits for its longest member. Why not transformers' static cache
with a compiled step: one write position for the whole batch, so a finished row cannot take the next prompt. Why not
transformers' continuous batching (``generate_batch``): eager, it gave 209 / 541 generated tokens/s on an H200 for a
7B at 32 / 128 sequences (measured 2026-12-01, before this engine), against 12,705 for this engine on PsyQA
(``benchmarks/results/h200_predict_qwen2.5-7b.md``); its CUDA-graph mode is a row of the 1.5B prediction suite,
which has not run yet.

How it works:

* **Slots.** Each decoder layer gets a key and a value cache of ``[slots, kv_heads, cache_len, head_dim]``;
  ``cache_len`` is the longest prompt plus ``max_new_tokens``, and the number of slots is sized from the free memory
  (``plan_slots``), never from ``per_device_eval_batch_size``.
* **Prefill.** Prompts are taken longest first (so similar lengths share a forward and the largest memory need shows
  at once), right-padded in groups of at most ``prefill_tokens`` tokens, run with causal SDPA, and their keys and
  values copied into free slots.
* **Decode.** One step advances every slot by one token at the slot's own position: the new key/value is written at
  that position and attention reads positions up to it. The ``G`` query heads that share a key/value head are SDPA's
  query rows, so no key or value is ever repeated in memory. On a GPU, each (slots, cache-length bucket) step is
  captured once as a CUDA graph and replayed: one launch per step instead of ~1,000. Norms, rotary embedding, the
  softmax and the MLP's gate are ``kernels.py``'s fused functions, compiled there.
* **Refill.** Stopped slots (a stop id, or ``max_new_tokens``) take the next prompts once 1/16 of them are free, so
  no batch waits for its longest member. When the queue is empty, the busy slots move to the front and a smaller
  graph runs the tail (``tail_widths``: steps of 3/4, so at most a quarter of a tail step is spent on finished
  sequences; halves wasted up to half, 2026-12-01's PsyQA run spent a third of its slot-steps idle).

The projections (with their LoRA and 4-bit layers), embedding and ``lm_head`` are the model's own modules: a 4-bit
base with an unmerged adapter decodes exactly the weights that LLaMA-Factory's ``do_predict`` decodes. Only
Qwen2-architecture models (Qwen2, Qwen2.5, the tiny model) with full attention are handled; ``EngineUnsupported``
says why otherwise, and the caller falls back to ``generate``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from qwen_recipes.errors import DataError
from qwen_recipes.models.architectures import Shape
from qwen_recipes.models.kernels import Kernels
from qwen_recipes.models.slots import MAX_SLOTS, free_memory, kv_bytes_per_token, length_bucket, plan_slots, round_up, tail_widths

PREFILL_TOKENS = 8192  # padded tokens per prefill forward: enough to fill the GPU, small enough for its activations
# Refill waits until 1/16 of the slots are free (or the queue is shorter). Replaying the output lengths of the 7B
# PsyQA run of 2026-12-02 (16 of its 60 s in prefill): refilling at every free slot takes 372 prefill forwards,
# waiting for 16 free slots 46, for 1.4% more decode steps; the next run counted 28 refill rounds.
REFILL_SHARE = 16
ATTENTION = ("bmm", "sdpa", "flex")  # decode attention: batched matmuls, SDPA with a mask, FlexAttention

Observer = Callable[[list[int], Any], None]  # (sequence indices, their logits [n, vocab]) after every forward


class EngineUnsupported(ValueError):
    """The model or the request is outside what the engine does; the message says which."""


@dataclass
class EngineStats:
    """What a run did, for throughput and decode-ceiling figures."""

    slots: int
    cache_len: int
    cuda_graphs: bool
    kv_bytes_per_token: int
    weight_bytes_per_step: int  # bytes a decode step must stream besides the KV cache (all weights but the embedding)
    steps: int = 0
    busy_slot_steps: int = 0  # sum over steps of busy slots
    kv_tokens_read: int = 0  # sum over steps and busy slots of the cached tokens attended to (what an ideal kernel reads)
    prefill_tokens: int = 0
    prefill_seconds: float = 0.0
    decode_seconds: float = 0.0
    graphs_captured: int = 0
    compactions: int = 0
    refills: int = 0  # prefill rounds after the first (each one or more forwards)
    compiled: bool = False  # the fused functions ran compiled (kernels.py)
    compile_seconds: float = 0.0  # compiling them, before the run (not in its seconds; ~20 s for a 7B, cold cache)
    plan: dict[str, Any] = field(default_factory=dict)


@dataclass
class Generation:
    """Generated token ids in input order, and how long generation took (model loading excluded)."""

    tokens: list[list[int]]
    seconds: float
    generated_tokens: int
    stats: EngineStats | None = None


def weight_bytes_per_step(model: Any) -> int:
    """Bytes of weights one decode step streams: every parameter but the embedding table (a step reads one row of
    it), unless ``lm_head`` shares it."""
    embed, _, _, _, lm_head, _ = decoder_parts(model)
    embed_bytes = embed.weight.numel() * embed.weight.element_size()
    tied = lm_head.weight.data_ptr() == embed.weight.data_ptr()
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    return total - (0 if tied else embed_bytes)


def decoder_parts(model: Any) -> tuple[Any, Any, Any, Any, Any, Any]:
    """(embed_tokens, layers, norm, rotary_emb, lm_head, config) of a Qwen2ForCausalLM, bare or under a PeftModel."""
    from peft import PeftModel

    base = model.get_base_model() if isinstance(model, PeftModel) else model
    config = base.config
    if getattr(config, "model_type", None) != "qwen2":
        raise EngineUnsupported(f"the engine decodes Qwen2-architecture models, not {config.model_type!r}")
    if "sliding_attention" in (getattr(config, "layer_types", None) or []):
        raise EngineUnsupported("sliding-window attention layers are not supported by the engine")
    inner = base.model
    return inner.embed_tokens, inner.layers, inner.norm, inner.rotary_emb, base.lm_head, config


class Engine:
    """Greedy decoding of many prompts with one model; ``generate`` may be called again with other prompts."""

    def __init__(self, model: Any, stop_ids: Sequence[int], *, cuda_graphs: bool | None = None,
                 memory_limit: int | None = None, max_slots: int = MAX_SLOTS, prefill_tokens: int = PREFILL_TOKENS,
                 compiled: bool | None = None, compile_backend: str = "inductor", attention: str | None = None,
                 log: Callable[[str], None] = print) -> None:
        import torch

        self.model = model
        self.embed, self.layers, self.norm, self.rotary, self.lm_head, self.config = decoder_parts(model)
        self.device = self.embed.weight.device
        self.dtype = self.embed.weight.dtype
        cfg = self.config
        shape = Shape.from_config(cfg)
        self.heads, self.kv_heads, self.head_dim = shape.heads, shape.kv_heads, shape.head_dim
        self.group = self.heads // self.kv_heads
        if getattr(cfg, "hidden_act", "silu") != "silu":
            raise EngineUnsupported(f"the engine's MLP is SiLU-gated, not {cfg.hidden_act!r}")
        self.eps = float(cfg.rms_norm_eps)
        self.stop_ids = set(stop_ids)
        self.cuda_graphs = self.device.type == "cuda" if cuda_graphs is None else cuda_graphs
        self.memory_limit, self.max_slots, self.prefill_tokens, self.log = memory_limit, max_slots, prefill_tokens, log
        self.element_size = torch.tensor([], dtype=self.dtype).element_size()
        self.kv_per_token = kv_bytes_per_token(cfg, self.element_size)
        self.weight_bytes = weight_bytes_per_step(model)
        self._graphs: dict[tuple[int, int], Any] = {}
        self._pool = None
        self._cache: tuple[list[Any], list[Any]] | None = None
        # Decode attention: on a GPU two batched matmuls (scores in fp32) beat SDPA, whose cuDNN kernel for 7 query
        # rows took 4.2 ms per step at 256 slots x 768 positions on an H200 (2.7 TB/s); bmm's fp32 output is CUDA-only.
        # "flex" (kernels.flex_decode, each slot reads to its own position) measured 3.9x slower (kernels.py says why).
        self.attention = attention or ("bmm" if self.device.type == "cuda" else "sdpa")
        if self.attention not in ATTENTION:
            raise ValueError(f"attention must be one of {', '.join(ATTENTION)}, got {self.attention!r}")
        # Fused elementwise functions, compiled where the step is a CUDA graph (kernels.py says why).
        self.kernels = Kernels(self.cuda_graphs if compiled is None else compiled, log=log, backend=compile_backend)
        self._warm()

    # ---- memory -------------------------------------------------------------------------------------------------
    def _workspace_bytes(self, slots: int, prefill_tokens: int) -> int:
        cfg, elem = self.config, self.element_size
        activations = prefill_tokens * (6 * cfg.hidden_size + 3 * cfg.intermediate_size) * elem
        dequantized = 2 * cfg.hidden_size * cfg.intermediate_size * elem  # a 4-bit layer dequantizes its weight per call
        logits = slots * cfg.vocab_size * (elem + 4) + 256 * 2**20
        return activations + dequantized + logits

    def _allocate(self, n_prompts: int, cache_len: int, prefill_tokens: int) -> dict[str, Any]:
        import torch

        self._release()
        if self.device.type == "cuda":
            free = free_memory(self.device, self.memory_limit)
            plan = plan_slots(n_prompts, cache_len, self.kv_per_token, free,
                              self._workspace_bytes(min(n_prompts, self.max_slots), prefill_tokens), self.max_slots)
        else:
            plan = {"slots": int(min(n_prompts, self.max_slots))}
        slots = plan["slots"]
        shape = (slots, self.kv_heads, cache_len, self.head_dim)
        kw = {"dtype": self.dtype, "device": self.device}
        self._cache = ([torch.zeros(shape, **kw) for _ in self.layers], [torch.zeros(shape, **kw) for _ in self.layers])
        self.tok = torch.zeros(slots, dtype=torch.long, device=self.device)
        self.pos = torch.zeros(slots, dtype=torch.long, device=self.device)
        self.next = torch.zeros(slots, dtype=torch.long, device=self.device)
        self.logits = torch.zeros(slots, self.config.vocab_size, **kw)
        self.arange = torch.arange(cache_len, device=self.device)
        # Row of (slot, kv head, position 0) in a cache viewed as [slots * kv_heads * cache_len, head_dim].
        self.row_base = torch.arange(slots * self.kv_heads, device=self.device) * cache_len
        self.cache_len, self.slots = cache_len, slots
        return plan

    def _release(self) -> None:
        self._graphs.clear()
        self._pool = None  # a pool outlives its graphs only at the allocator's peril (an internal assert)
        self._cache = None
        if self.device.type == "cuda":
            import torch

            torch.cuda.empty_cache()

    def _warm(self) -> None:
        """Compile the fused functions at their own call sites before anything is timed. Dynamo compiles a function
        again for a size of one (one prompt, one position, one slot), for a cache view shorter than the cache (other
        strides) and, by default, when sizes that were equal at the first call differ later; in the first PsyQA run
        with compiled functions (2026-12-02) prefill took 14.4 of 45 s, about 3x what its forwards take warm. So every
        (one, many) x (one, many) case of the (prompts or slots, positions) dimensions, and decode steps over part of
        the cache and all of it, are traced here, with duck sizing off."""
        import torch
        from torch.fx.experimental import _config as fx_config

        if not self.kernels.compiled:
            return
        t0 = time.perf_counter()
        try:
            self._allocate(3, 320, 64)
            with torch.no_grad(), fx_config.patch(use_duck_shape=False):
                for group in ([[1, 2, 3], [4, 5]], [[1, 2, 3]], [[1], [2]], [[1]]):
                    self._prefill(group, list(range(len(group))))
                for slots in (1, 2):
                    for length in (256, 320):
                        self._step(slots, length)
        except (DataError, torch.OutOfMemoryError):
            raise  # not a compiler's failure: the caller says what to change
        except Exception as err:  # noqa: BLE001 - Inductor raises many kinds; eager is always right
            self.kernels.disable(str(err))
            if self.attention == "flex" and self.device.type == "cuda":
                self.log("note: decode attention back to batched matmuls (FlexAttention is slow uncompiled)")
                self.attention = "bmm"
        finally:
            self._release()
        self.kernels.compile_seconds = time.perf_counter() - t0
        if self.kernels.compile_seconds > 1:
            self.log(f"compiled the engine's fused functions in {self.kernels.compile_seconds:.0f} s (once per process)")

    # ---- forward passes -----------------------------------------------------------------------------------------
    def _prefill(self, prompts: Sequence[Sequence[int]], slots: Sequence[int]) -> Any:
        """Run right-padded prompts, store their keys/values in ``slots``; logits at each prompt's last token."""
        import torch
        import torch.nn.functional as F

        g, width = len(prompts), max(len(p) for p in prompts)
        ids = torch.zeros((g, width), dtype=torch.long)
        for i, p in enumerate(prompts):
            ids[i, : len(p)] = torch.tensor(list(p), dtype=torch.long)
        ids = ids.to(self.device)
        positions = torch.arange(width, device=self.device)[None, :].expand(g, width)
        index = torch.tensor(list(slots), device=self.device)
        keys, values = self._cache
        x = self.embed(ids)
        cos, sin = self.rotary(x, positions)
        h = self.kernels.rms_norm(x, self.layers[0].input_layernorm.weight, self.eps)
        for li, layer in enumerate(self.layers):
            attn = layer.self_attn
            q = attn.q_proj(h).view(g, width, self.heads, self.head_dim).transpose(1, 2)
            k = attn.k_proj(h).view(g, width, self.kv_heads, self.head_dim).transpose(1, 2)
            v = attn.v_proj(h).view(g, width, self.kv_heads, self.head_dim).transpose(1, 2)
            q, k = self.kernels.rotary(q, k, cos, sin)
            # Padding beyond a prompt is overwritten before decode attends to it; slots are unique, so index_copy_ is
            # deterministic with torch's default kernel (its deterministic one sorts the indices first).
            with _nondeterministic_ok():
                keys[li][:, :, :width].index_copy_(0, index, k)
                values[li][:, :, :width].index_copy_(0, index, v)
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=attn.scaling, enable_gqa=True)
            x, h = self._mlp(li, x, attn.o_proj(o.transpose(1, 2).reshape(g, width, self.heads * self.head_dim)))
        last = torch.tensor([len(p) - 1 for p in prompts], device=self.device)
        return self.lm_head(h[torch.arange(g, device=self.device), last])

    def _mlp(self, li: int, x: Any, attention: Any) -> tuple[Any, Any]:
        """Layer ``li`` after its attention: the residual stream and the normed input of the next layer (or of
        ``lm_head``): ``x += attention; x += mlp(norm(x))``, each residual add fused into the norm after it."""
        layer, k = self.layers[li], self.kernels
        x, h = k.add_rms_norm(x, attention, layer.post_attention_layernorm.weight, self.eps)
        mlp = layer.mlp
        delta = mlp.down_proj(k.silu_mul(mlp.gate_proj(h), mlp.up_proj(h)))
        following = self.layers[li + 1].input_layernorm if li + 1 < len(self.layers) else self.norm
        return k.add_rms_norm(x, delta, following.weight, self.eps)

    def _step(self, slots: int, length: int) -> None:
        """One decode token for slots ``[0, slots)``: reads ``self.tok``/``self.pos``, writes ``self.logits`` and
        ``self.next``. Allocates nothing outside the step, so it can be captured as a CUDA graph."""
        import torch.nn.functional as F

        tok, pos = self.tok[:slots], self.pos[:slots]
        keys, values = self._cache
        x = self.embed(tok[:, None])
        cos, sin = self.rotary(x, pos[:, None])
        mask = (self.arange[:length][None, :] <= pos[:, None])[:, None, None, :]  # [slots, 1, 1, length]
        rows = self.row_base[: slots * self.kv_heads] + pos.repeat_interleave(self.kv_heads)
        h = self.kernels.rms_norm(x, self.layers[0].input_layernorm.weight, self.eps)
        for li, layer in enumerate(self.layers):
            attn = layer.self_attn
            q = attn.q_proj(h).view(slots, 1, self.heads, self.head_dim).transpose(1, 2)
            k = attn.k_proj(h).view(slots, 1, self.kv_heads, self.head_dim).transpose(1, 2)
            v = attn.v_proj(h).view(slots, 1, self.kv_heads, self.head_dim)
            q, k = self.kernels.rotary(q, k, cos, sin)
            flat = (-1, self.head_dim)
            # Indices are unique (one position per slot and head), so index_copy_ is deterministic even where torch's
            # deterministic mode would pick a slower implementation that a CUDA graph cannot capture.
            with _nondeterministic_ok():
                keys[li].view(flat).index_copy_(0, rows, k.reshape(flat))
                values[li].view(flat).index_copy_(0, rows, v.reshape(flat))
            kc, vc = keys[li][:slots, :, :length], values[li][:slots, :, :length]
            if self.attention == "flex":
                o = self.kernels.flex_decode(q, kc, vc, pos, attn.scaling)
            else:
                q = q.reshape(slots, self.kv_heads, self.group, self.head_dim)  # a kv head's query heads as query rows
                if self.attention == "bmm":
                    o = self._bmm_attention(q, kc, vc, mask, attn.scaling)
                else:
                    o = F.scaled_dot_product_attention(q, kc, vc, attn_mask=mask, scale=attn.scaling)
            x, h = self._mlp(li, x, attn.o_proj(o.reshape(slots, 1, self.heads * self.head_dim)))
        logits = self.lm_head(h)[:, 0]
        self.logits[:slots].copy_(logits)
        self.next[:slots].copy_(logits.argmax(-1))

    def _bmm_attention(self, q: Any, k: Any, v: Any, mask: Any, scale: float) -> Any:
        """Decode attention as two batched matmuls (a kv head's query heads are the rows) and the fused softmax."""
        import torch

        s, h, g, d = q.shape
        length = k.shape[2]
        scores = torch.bmm(q.reshape(s * h, g, d), k.reshape(s * h, length, d).transpose(1, 2), out_dtype=torch.float32)
        p = self.kernels.masked_softmax(scores.view(s, h, g, length), mask, scale, v.dtype)
        return torch.bmm(p.view(s * h, g, length), v.reshape(s * h, length, d)).view(s, h, g, d)

    def _run_step(self, slots: int, length: int, stats: EngineStats) -> None:
        """One decode step: the captured graph of (slots, length), captured on first use; eager without graphs."""
        import torch

        if not self.cuda_graphs:
            self._step(slots, length)
            return
        graph = self._graphs.get((slots, length))
        if graph is None:
            # Warm-up and capture run the very step about to be replayed: they write the same keys/values at the same
            # positions, so they change nothing the replay does not write again.
            try:
                side = torch.cuda.Stream(self.device)
                side.wait_stream(torch.cuda.current_stream(self.device))
                with torch.cuda.stream(side):
                    self._step(slots, length)
                torch.cuda.current_stream(self.device).wait_stream(side)
                if self._pool is None:
                    self._pool = torch.cuda.graph_pool_handle()
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph, pool=self._pool):
                    self._step(slots, length)
            except RuntimeError as err:  # a layer that cannot be captured: decode eagerly, slower but the same
                self.log(f"note: CUDA graph capture failed ({str(err).splitlines()[0]}); decoding without graphs")
                self.cuda_graphs = False
                self._graphs.clear()
                stats.cuda_graphs = False
                self._step(slots, length)
                return
            self._graphs[(slots, length)] = graph
            stats.graphs_captured += 1
        graph.replay()

    def _compact(self, busy: list[int]) -> None:
        """Move the caches of ``busy`` slots to slots ``0..len(busy)-1`` (a smaller graph then runs the tail)."""
        import torch

        src = torch.tensor(busy, device=self.device)
        for cache in self._cache:
            for layer_cache in cache:
                layer_cache[: len(busy)] = layer_cache[src]

    # ---- the scheduler ------------------------------------------------------------------------------------------
    def generate(self, prompts: Sequence[Sequence[int]], max_new_tokens: int, *,
                 advance: Callable[[int], None] | None = None, observer: Observer | None = None,
                 ignore_stop: bool = False) -> Generation:
        """Greedy continuations of ``prompts`` (each ends at its first stop id, kept, or after ``max_new_tokens``),
        in input order. ``observer`` sees every step's logits (benchmark calibration); ``ignore_stop`` runs every
        sequence to its budget."""
        import torch

        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
        if any(len(p) == 0 for p in prompts):
            raise ValueError("an empty prompt cannot be decoded")
        n = len(prompts)
        if n == 0:
            return Generation([], 0.0, 0)
        longest = max(len(p) for p in prompts)
        cache_len = round_up(longest + max_new_tokens, 64)
        prefill_tokens = max(self.prefill_tokens, longest)
        plan = self._allocate(n, cache_len, prefill_tokens)
        stats = EngineStats(self.slots, cache_len, self.cuda_graphs, self.kv_per_token, self.weight_bytes, plan=plan,
                            compiled=self.kernels.compiled, compile_seconds=self.kernels.compile_seconds)
        sizes = tail_widths(self.slots)

        queue = deque(sorted(range(n), key=lambda i: -len(prompts[i])))
        seq = [-1] * self.slots  # prompt index held by each slot
        cached = [0] * self.slots  # tokens in each slot's cache
        last = [0] * self.slots  # each slot's newest token (not yet in its cache)
        out: list[list[int]] = [[] for _ in range(n)]
        width = self.slots  # slots the decode step runs over
        generated = 0

        def finish_if_done(s: int, token: int) -> None:
            i = seq[s]
            out[i].append(token)
            if (token in self.stop_ids and not ignore_stop) or len(out[i]) >= max_new_tokens:
                seq[s] = -1
                if advance:
                    advance(1)

        start = time.perf_counter()
        with torch.no_grad():
            while True:
                free = [s for s in range(width) if seq[s] < 0]
                if free and queue and len(free) >= min(max(1, width // REFILL_SHARE), len(queue)):
                    stats.refills += stats.prefill_tokens > 0
                    t0 = time.perf_counter()
                    take = [queue.popleft() for _ in range(min(len(free), len(queue)))]
                    i = 0
                    while i < len(take):
                        group = take[i: i + max(1, prefill_tokens // len(prompts[take[i]]))]
                        slots = free[i: i + len(group)]
                        logits = self._prefill([prompts[j] for j in group], slots)
                        if observer:
                            observer(list(group), logits)
                        for s, j, token in zip(slots, group, logits.argmax(-1).tolist(), strict=True):
                            seq[s], cached[s], last[s] = j, len(prompts[j]), token
                            stats.prefill_tokens += len(prompts[j])
                            generated += 1
                            finish_if_done(s, token)
                        i += len(group)
                    if self.device.type == "cuda":
                        torch.cuda.synchronize(self.device)
                    stats.prefill_seconds += time.perf_counter() - t0
                busy = [s for s in range(width) if seq[s] >= 0]
                if not busy:
                    if queue:
                        continue
                    break
                if not queue and width > sizes[-1]:
                    new_width = min(w for w in sizes if w >= len(busy))
                    if new_width < width:
                        self._compact(busy)
                        for dst, src in enumerate(busy):
                            seq[dst], cached[dst], last[dst] = seq[src], cached[src], last[src]
                        for s in range(len(busy), width):
                            seq[s] = -1
                        width, busy = new_width, list(range(len(busy)))
                        stats.compactions += 1
                t0 = time.perf_counter()
                length = length_bucket(max(cached[s] for s in busy) + 1, cache_len)
                tokens = [last[s] if seq[s] >= 0 else 0 for s in range(width)]
                positions = [cached[s] if seq[s] >= 0 else 0 for s in range(width)]
                self.tok[:width].copy_(torch.tensor(tokens), non_blocking=True)
                self.pos[:width].copy_(torch.tensor(positions), non_blocking=True)
                self._run_step(width, length, stats)
                if observer:
                    observer([seq[s] for s in busy], self.logits[busy])
                nxt = self.next[:width].tolist()  # the one sync per step: which slots stopped
                stats.steps += 1
                stats.busy_slot_steps += len(busy)
                stats.kv_tokens_read += sum(cached[s] + 1 for s in busy)
                for s in busy:
                    cached[s] += 1
                    last[s] = nxt[s]
                    generated += 1
                    finish_if_done(s, nxt[s])
                stats.decode_seconds += time.perf_counter() - t0
        seconds = time.perf_counter() - start
        self._release()
        return Generation(out, seconds, generated, stats)


class _nondeterministic_ok:
    """Lets one block use torch's default kernels while deterministic algorithms are switched on."""

    def __enter__(self) -> None:
        import torch

        self.was = torch.are_deterministic_algorithms_enabled()
        self.warn = torch.is_deterministic_algorithms_warn_only_enabled()
        if self.was:
            torch.use_deterministic_algorithms(False)

    def __exit__(self, *exc: object) -> None:
        import torch

        if self.was:
            torch.use_deterministic_algorithms(True, warn_only=self.warn)
