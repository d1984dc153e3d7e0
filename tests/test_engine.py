"""The prediction engine (models/engine.py) on the tiny model, CPU: continuous refill and tail compaction give each
prompt exactly the answer it gets alone; the memory sizing rule; the fallback for what the engine does not do.
Equality with LLaMA-Factory's do_predict is in test_batch_generate.py (it needs do_predict's own rows)."""

from __future__ import annotations

import pytest

from qwen_recipes.errors import DataError
from qwen_recipes.eval import prediction as bg
from qwen_recipes.models import engine as E
from qwen_recipes.models import slots as S

STOP = 2  # the tiny tokenizer's <|im_end|> (also its eos)


@pytest.fixture(scope="module")
def model(tiny_model):
    """The tiny model in float32 with its stop row scaled, so that answers stop at many different lengths."""
    import torch
    from transformers import AutoModelForCausalLM

    m = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).eval()
    with torch.no_grad():
        m.lm_head.weight[STOP] *= 1.6
    return m


def prompts(n: int, seed: int = 0) -> list[list[int]]:
    import torch

    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(3, 90, (n,), generator=gen).tolist()
    return [torch.randint(3, 1500, (k,), generator=gen).tolist() for k in lengths]


def long_prompts(n: int, seed: int) -> list[list[int]]:
    """Prompts of 200 to 300 tokens: with 24 new tokens the cache is longer than the shortest attended length (256),
    so decode steps read part of the cache (a view with the cache's strides) and, later, all of it."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    return [torch.randint(3, 1500, (k,), generator=gen).tolist() for k in torch.randint(200, 300, (n,), generator=gen)]


def alone(model, ps: list[list[int]], max_new: int) -> list[list[int]]:
    """Each prompt on its own through model.generate: no padding, no neighbours."""
    return [bg.generate(model, [p], pad_token_id=0, stop_ids=[STOP], batch_size=1, max_new_tokens=max_new).tokens[0]
            for p in ps]


def test_refill_and_compaction_give_each_prompt_its_own_answer(model):
    ps = prompts(24)
    eng = E.Engine(model, [STOP], max_slots=16)
    done: list[int] = []
    gen = eng.generate(ps, 40, advance=done.append)
    assert gen.tokens == alone(model, ps, 40)
    lengths = [len(t) for t in gen.tokens]
    assert min(lengths) < 10 and max(lengths) == 40, f"both stop paths must be exercised: {lengths}"
    assert all(t[-1] == STOP for t in gen.tokens if len(t) < 40)
    stats = gen.stats
    # 24 prompts in 16 slots: 8 prompts can only run in slots that others left, and the tail ran on 8 slots.
    assert stats.slots == 16 and stats.compactions >= 1 and len(done) == 24
    assert gen.generated_tokens == sum(lengths) == stats.busy_slot_steps + len(ps)  # prefill gives each its 1st token
    assert stats.prefill_tokens == sum(map(len, ps)) and not stats.cuda_graphs


def test_one_slot_and_first_token_budget(model):
    ps = prompts(5, seed=1)
    assert E.Engine(model, [STOP], max_slots=1).generate(ps, 12).tokens == alone(model, ps, 12)
    one = E.Engine(model, [STOP]).generate(ps, 1)
    assert [len(t) for t in one.tokens] == [1] * 5 and one.stats.steps == 0


def test_ignore_stop_and_observer_see_every_step(model):
    ps = prompts(6, seed=2)
    seen: dict[int, int] = {}

    def observer(seqs, logits):
        assert logits.shape == (len(seqs), model.config.vocab_size)
        for s in seqs:
            seen[s] = seen.get(s, 0) + 1

    gen = E.Engine(model, [STOP]).generate(ps, 20, observer=observer, ignore_stop=True)
    assert [len(t) for t in gen.tokens] == [20] * 6 and seen == dict.fromkeys(range(6), 20)


def test_memory_plan_rule():
    gib = 2**30
    # 10 GiB free, 1 GiB workspace: 0.9 * 10 - 1 = 8 GiB of cache; 0.5 GiB per slot -> 16 slots.
    plan = S.plan_slots(100, cache_len=1024, kv_per_token=gib // 2048, free_bytes=10 * gib, workspace_bytes=gib)
    assert plan["slots"] == 16 and plan["fit"] == 16
    assert S.plan_slots(5, 1024, gib // 2048, 10 * gib, gib)["slots"] == 5  # never more slots than prompts
    assert S.plan_slots(10**6, 16, 1, 10 * gib, gib, max_slots=256)["slots"] == 256
    with pytest.raises(DataError, match="field 'cutoff_len': not enough GPU memory for one sequence of 1024 tokens"):
        S.plan_slots(1, 1024, gib // 256, gib, gib // 2)


def test_kv_bytes_and_length_buckets(model):
    cfg = model.config
    head_dim = cfg.hidden_size // cfg.num_attention_heads
    assert S.kv_bytes_per_token(cfg, 2) == 2 * cfg.num_hidden_layers * cfg.num_key_value_heads * head_dim * 2
    assert [S.length_bucket(n, 4096) for n in (1, 256, 257, 300, 1000, 1025, 5000)] == [
        256, 256, 320, 320, 1024, 1280, 4096]
    for n in range(1, 4000, 37):  # never below n, never more than 25% above it (beyond the 256 floor)
        b = S.length_bucket(n, 8192)
        assert n <= b <= max(256, n * 1.25)


def test_tail_widths_shrink_by_quarters_in_multiples_of_eight():
    assert S.tail_widths(256) == [256, 192, 144, 112, 88, 72, 56, 48, 40, 32, 24, 16, 8]
    assert S.tail_widths(8) == [8] and S.tail_widths(5) == [5] and S.tail_widths(9) == [9, 8]
    for slots in (9, 16, 100, 136, 255):
        widths = S.tail_widths(slots)
        assert widths[0] == slots and widths[-1] == S.MIN_GRAPH_SLOTS
        assert all(b < a and b % 8 == 0 and b >= 0.75 * a - 8 for a, b in zip(widths, widths[1:], strict=False))


def test_what_the_engine_does_not_do_falls_back_to_generate(model):
    """A repetition penalty, or a model that is not Qwen2-architecture: model.generate, said in one line."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    notes: list[str] = []
    ps = prompts(3, seed=3)
    gen = bg.generate_answers(model, ps, pad_token_id=0, stop_ids=[STOP], max_new_tokens=8, repetition_penalty=1.2,
                              log=notes.append)
    assert gen.stats is None and "repetition_penalty" in notes[0]
    llama = LlamaForCausalLM(LlamaConfig(vocab_size=2048, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                                         num_attention_heads=2, num_key_value_heads=2)).to(torch.float32).eval()
    with pytest.raises(E.EngineUnsupported, match="Qwen2-architecture"):
        E.Engine(llama, [STOP])
    gen = bg.generate_answers(llama, ps, pad_token_id=0, stop_ids=[STOP], max_new_tokens=4, log=notes.append)
    assert gen.stats is None and "'llama'" in notes[-1] and all(len(t) <= 4 for t in gen.tokens)
    with pytest.raises(ValueError, match="engine must be one of"):
        bg.generate_answers(model, ps, pad_token_id=0, stop_ids=[STOP], max_new_tokens=4, engine="vllm")


def test_running_out_of_gpu_memory_is_one_line_naming_the_option(model, monkeypatch):
    import torch

    def oom(*_args, **_kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(E.Engine, "generate", oom)
    with pytest.raises(DataError, match="field '--max-slots': the GPU ran out of memory with up to 64 sequences"):
        bg.generate_answers(model, prompts(2), pad_token_id=0, stop_ids=[STOP], max_new_tokens=4, max_slots=64)


def test_refill_waits_for_a_sixteenth_of_the_slots(model, monkeypatch):
    """32 slots, 48 prompts: the 16 left over go in in rounds of at least 32 // 16 = 2 (or the rest of the queue),
    so at most 8 refill rounds; refilling at every free slot gives the same answers in more rounds."""
    ps = prompts(48, seed=4)
    waited = E.Engine(model, [STOP], max_slots=32).generate(ps, 30)
    monkeypatch.setattr(E, "REFILL_SHARE", 10**6)  # a threshold of one slot
    eager = E.Engine(model, [STOP], max_slots=32).generate(ps, 30)
    assert waited.tokens == eager.tokens == alone(model, ps, 30)
    assert 1 <= waited.stats.refills <= 8 < eager.stats.refills


def test_fused_functions_are_the_modules_arithmetic(model):
    """Eager, kernels.py computes exactly what Qwen2's RMSNorm and MLP modules compute (bit for bit)."""
    import torch

    from qwen_recipes.models.kernels import Kernels

    k, layer = Kernels(compiled=False), model.model.layers[0]
    x, d = torch.randn(3, 5, model.config.hidden_size), torch.randn(3, 5, model.config.hidden_size)
    norm = layer.input_layernorm
    with torch.no_grad():
        assert torch.equal(k.rms_norm(x, norm.weight, norm.variance_epsilon), norm(x))
        added, normed = k.add_rms_norm(x, d, norm.weight, norm.variance_epsilon)
        assert torch.equal(added, x + d) and torch.equal(normed, norm(x + d))
        mlp = layer.mlp
        assert torch.equal(mlp.down_proj(k.silu_mul(mlp.gate_proj(x), mlp.up_proj(x))), mlp(x))


@pytest.mark.filterwarnings("ignore:.*flex_attention.*:UserWarning")
@pytest.mark.parametrize("attention", ["sdpa", "flex"])
def test_compiled_functions_trace_whole_and_the_warm_up_leaves_nothing_to_compile(model, attention):
    """torch.compile's tracing (Dynamo, fullgraph, dynamic shapes) with its eager backend: the fused functions trace
    without a graph break at every call site, the engine's warm-up traces them all, so no compilation happens inside
    a timed run, and the answers are those of the uncompiled engine (with SDPA, or FlexAttention whose block mask is
    built inside the traced function)."""
    from torch._dynamo.utils import counters

    ps = prompts(12, seed=5) + long_prompts(8, seed=5)
    eng = E.Engine(model, [STOP], max_slots=8, compiled=True, compile_backend="eager", attention=attention)
    assert eng.kernels.compiled and eng.kernels.compile_seconds > 0
    graphs = counters["stats"]["unique_graphs"]
    gen = eng.generate(ps, 24)
    assert counters["stats"]["unique_graphs"] == graphs, "a compilation happened inside generate"
    assert gen.stats.compiled and gen.tokens == E.Engine(model, [STOP], max_slots=8).generate(ps, 24).tokens


def test_a_compile_failure_runs_eagerly_with_one_line(model, monkeypatch):
    import torch

    def broken(fn, **_kwargs):
        def run(*_args, **_kw):
            raise RuntimeError("Inductor: no working C++ compiler\ndetails")
        return run

    monkeypatch.setattr(torch, "compile", broken)
    notes: list[str] = []
    ps = prompts(4, seed=6)
    eng = E.Engine(model, [STOP], compiled=True, log=notes.append)
    assert not eng.kernels.compiled and notes == [
        "note: torch.compile of the engine's fused functions failed (Inductor: no working C++ compiler); running them "
        "eagerly"]
    assert eng.generate(ps, 10).tokens == alone(model, ps, 10)


@pytest.mark.filterwarnings("ignore:.*flex_attention.*:UserWarning")
def test_flex_decode_attention_reads_each_slot_to_its_own_position(model):
    """kernels.flex_decode against attention written out (fp32): slots at positions inside, at the edge of and past
    a 128-position block; then the engine with it gives the answers of its SDPA path."""
    import torch

    from qwen_recipes.models.kernels import flex_block_mask, flex_decode

    gen = torch.Generator().manual_seed(7)
    slots, heads, kv_heads, dim, length = 5, 8, 2, 16, 320
    q = torch.randn(slots, heads, 1, dim, generator=gen)
    k, v = torch.randn(2, slots, kv_heads, length, dim, generator=gen)
    pos = torch.tensor([0, 5, 127, 128, 319])
    scores = torch.einsum("skgd,skld->skgl", q.view(slots, kv_heads, heads // kv_heads, dim), k) * 0.25
    visible = torch.arange(length)[None, :] <= pos[:, None]
    scores = scores.masked_fill(~visible[:, None, None, :], float("-inf"))
    expected = torch.einsum("skgl,skld->skgd", scores.softmax(-1), v).reshape(slots, heads, 1, dim)
    assert torch.allclose(flex_decode(q, k, v, pos, 0.25), expected, atol=1e-5)
    # The blocks the compiled kernel reads (eager FlexAttention applies only the per-position mask): a slot's own.
    blocks = flex_block_mask(pos, length).to_dense()[:, 0, 0].tolist()
    assert blocks == [[1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 1]]

    ps = prompts(6, seed=8) + long_prompts(6, seed=8)
    flex = E.Engine(model, [STOP], max_slots=8, attention="flex").generate(ps, 24)
    assert flex.tokens == E.Engine(model, [STOP], max_slots=8).generate(ps, 24).tokens
    with pytest.raises(ValueError, match="attention must be one of bmm, sdpa, flex"):
        E.Engine(model, [STOP], attention="paged")
