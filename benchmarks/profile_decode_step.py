"""Where one prefill forward and one decode step of the prediction engine spend their time, on a Qwen2.5-7B shape
with random bf16 weights built on the GPU (no files, about a second): the engine's fused functions compiled vs eager,
with torch's deterministic algorithms on and off; a CUDA kernel table (torch.profiler) for the compiled,
deterministic case; then the same with FlexAttention decode attention (``attention="flex"``). Prefill: 39 prompts
of 210 tokens (one PsyQA-like prefill group); decode: 256 slots and 128 slots at 640 cached positions (slots at
positions 300 to 639), and 256 slots in a 1,280-position view at positions 100 to 1,279 (as in a PsyQA run, where
the longest slot sets the view), each step replayed as the engine's CUDA graph.

Needs: one CUDA GPU with about 40 GB free, CUBLAS_WORKSPACE_CONFIG=:4096:8 (deterministic cuBLAS).
Run:   CUBLAS_WORKSPACE_CONFIG=:4096:8 python benchmarks/profile_decode_step.py
Output: the timings and the kernel tables, on stdout (recorded in benchmarks/results/h200_decode_step_qwen2.5-7b.md).
"""
import argparse
import time
from collections.abc import Callable

import torch
from torch.profiler import ProfilerActivity, profile
from transformers import Qwen2Config, Qwen2ForCausalLM

from qwen_recipes.models.architectures import SHAPES
from qwen_recipes.models.engine import Engine, EngineStats

argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
cfg = Qwen2Config(**SHAPES["qwen2.5-7b"])  # the published shape, as every benchmark builds it
t0 = time.perf_counter()
with torch.device("cuda"):
    torch.set_default_dtype(torch.bfloat16)
    model = Qwen2ForCausalLM(cfg).eval()
    torch.set_default_dtype(torch.float32)
print("built", round(time.perf_counter() - t0, 1), flush=True)
prompts = [torch.randint(0, 150000, (210,)).tolist() for _ in range(39)]


def timed(fn: Callable[[], object], n: int) -> float:
    fn()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    torch.cuda.synchronize()
    return 1000 * (time.perf_counter() - t) / n


def top(fn: Callable[[], object], k: int = 14) -> None:
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=k, max_name_column_width=60), flush=True)


def measure(det: bool, compiled: bool, attention: str = "bmm") -> None:
    torch.use_deterministic_algorithms(det, warn_only=False)
    eng = Engine(model, [151645], compiled=compiled, attention=attention)
    eng._allocate(256, 1280, 8192)
    stats = EngineStats(256, 1280, True, eng.kv_per_token, eng.weight_bytes)
    with torch.no_grad():
        pre = timed(lambda: eng._prefill(prompts, list(range(39))), 3)
        positions = torch.randint(300, 640, (256,))
        eng.pos.copy_(positions)
        eng.tok.copy_(torch.randint(0, 150000, (256,)))
        step = timed(lambda: eng._run_step(256, 640, stats), 20)
        step128 = timed(lambda: eng._run_step(128, 640, stats), 20)
        # As inside a PsyQA run: the step's view is as long as its longest slot, most slots are far shorter.
        eng.pos.copy_(torch.randint(100, 1280, (256,)))
        mixed = timed(lambda: eng._run_step(256, 1280, stats), 20)
        eng.pos.copy_(positions)  # the kernel tables below are of the 640-position step: slots inside its view
    print(f"det={det} compiled={compiled} attention={attention}: prefill 39x210 {pre:.1f} ms ({39 * 210 / pre:.1f} k tok/s); "
          f"decode step 256x640 {step:.2f} ms, 128x640 {step128:.2f} ms, 256x1280 (positions 100-1279) {mixed:.2f} ms",
          flush=True)
    if det and compiled:  # the kernel tables: the default engine, and each other attention
        with torch.no_grad():
            if attention == "bmm":
                top(lambda: eng._prefill(prompts, list(range(39))))
            top(lambda: [eng._run_step(256, 640, stats) for _ in range(5)])
    eng._release()


for det in (True, False):
    for compiled in (True, False):
        measure(det, compiled)
measure(True, True, "flex")  # each slot reads its cache to its own position (kernels.flex_decode)
