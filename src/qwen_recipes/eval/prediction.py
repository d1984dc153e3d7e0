"""Greedy prediction for a predict config: LLaMA-Factory's ``do_predict`` output, many times faster.

``llamafactory-cli train <predict config>`` generates in dataset order, so every batch is padded to its longest
prompt, and it leaves no throughput figure you can compare between machines. This module reads the same predict
config and produces the same ``generated_predictions.jsonl``, token for token under greedy decoding, by redoing
each of LLaMA-Factory's steps with LLaMA-Factory's own code where it has one:

* data: the ``dataset_info.json`` entry's ``file_name`` relative to ``dataset_dir``, the entry's Alpaca columns,
  ``max_samples`` per dataset (the first N rows), user turn = instruction + "\\n" + input;
* prompt: the template's ``encode_oneturn`` and ``infer_seqlen`` exactly as ``UnsupervisedDatasetProcessor`` does
  (the processor LLaMA-Factory uses for ``predict_with_generate``); note that the cut depends on the answer's
  length too, and that it keeps the *start* of the prompt;
* model: the tokenizer of the base model (as ``load_tokenizer``), the adapter unmerged on a 4-bit base and merged
  otherwise (as ``init_adapter``: merging changes the rounding, so skipping it could change a greedy token);
* stop tokens: eos + the tokenizer's additional special tokens (what ``run_sft`` passes to ``generate``), which
  include the template's stop words (``fix_special_tokens`` adds them);
* output: prompt decoded with special tokens, predict and label decoded with ``skip_special_tokens`` (as
  ``save_predictions``).

Generation runs on the prediction engine (``models/engine.py``: slots sized from memory, continuous refill, CUDA
graphs), or with ``engine="generate"`` on ``model.generate`` in length-sorted batches (longest first, so an
out-of-memory error shows in the first batch); either way the answers are put back in the original order before
anything is written.

Identical output, measured on the tiny model (tests/test_batch_generate.py): with LLaMA-Factory's batches
(``sort_by_length=False``) every row is bit-identical, 4-bit or not, at every batch size tried. Sorted batches and
the engine give the same rows in float32 (the engine on 4-bit too, one sequence at a time); where a kernel computes
in bf16 its rounding depends on the batch shape (GPUs in bf16, and bitsandbytes' 4-bit kernel on CPUs with
AVX512-BF16 even under float32), and a row whose top two logits are closer than that rounding can come out
differently. Such a row also changes within LLaMA-Factory when only ``per_device_eval_batch_size`` changes.

dtype differs from LLaMA-Factory's rule on purpose: bfloat16 on a GPU, float32 on CPU (``models.loading.load``).
LLaMA-Factory loads the checkpoint's own dtype (``torch_dtype="auto"``), which is the same for Qwen checkpoints on
a GPU (bf16) but not for a float32 checkpoint on a GPU or a bf16 checkpoint on CPU.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_recipes import configs
from qwen_recipes.data import dataset_info
from qwen_recipes.errors import DataError
from qwen_recipes.io import read_jsonl, write_json, write_jsonl
from qwen_recipes.models.engine import Engine, EngineUnsupported, Generation
from qwen_recipes.models.slots import MAX_SLOTS

ENGINES = ("graph", "generate")  # the prediction engine (models/engine.py), or model.generate in sorted batches
PREDICTIONS = "generated_predictions.jsonl"
SPEED = "predict_speed.json"
DEFAULT_SUBDIR = "batched"  # under the config's output_dir: LLaMA-Factory's own files there are never overwritten
HF_EVAL_BATCH_SIZE = 8  # transformers' default per_device_eval_batch_size, which LLaMA-Factory inherits

Progress = Callable[[int], Callable[[int], None]]  # total -> advance(n)


@dataclass
class PredictSettings:
    """What a predict config asks for, with LLaMA-Factory's defaults filled in for every key it leaves out."""

    config: Path
    model_name_or_path: str
    adapter_name_or_path: str | None
    quantization_bit: int | None
    template: str | None
    dataset_dir: Path
    eval_dataset: list[str]
    cutoff_len: int
    max_samples: int | None
    max_new_tokens: int
    batch_size: int
    output_dir: Path | None
    do_sample: bool
    num_beams: int
    repetition_penalty: float
    skip_special_tokens: bool
    full_determinism: bool = False  # transformers' TrainingArguments key, which do_predict honours
    seed: int = 42
    data_args: Any = field(repr=False, default=None)  # llamafactory DataArguments: template options, defaults


@dataclass
class Example:
    """One row of an eval dataset, converted the way LLaMA-Factory's Alpaca converter does."""

    dataset: str
    path: Path
    record: int  # 1-based position in its file, for error messages
    messages: list[dict[str, str]]  # prompt turns, then exactly one assistant turn (empty when the row has no answer)
    system: str
    tools: str


def _fields(cls: type, cfg: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in cfg.items() if k in names}


def read_config(path: str | Path, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The predict config with ``key=value`` overrides merged the way ``llamafactory-cli`` merges them (OmegaConf)."""
    path = Path(path)
    if not path.exists():
        raise DataError("predict config not found", path=path)
    cfg = configs.load(path)
    if overrides:
        from omegaconf import OmegaConf

        bad = [o for o in overrides if "=" not in o]
        if bad:
            raise DataError(f"override {bad[0]!r} is not key=value", path=path)
        cfg = OmegaConf.to_container(OmegaConf.merge(OmegaConf.create(cfg), OmegaConf.from_cli(list(overrides))))
    return cfg


def settings_from(path: str | Path, overrides: Sequence[str] = ()) -> PredictSettings:
    """Read a predict config. Defaults come from LLaMA-Factory's own argument classes, so a key the config omits
    means here what it means to ``llamafactory-cli``."""
    path = Path(path)
    return settings_of(read_config(path, overrides), path)


def settings_of(cfg: dict[str, Any], path: Path) -> PredictSettings:
    """Prediction settings from a config's keys (``path`` names it in errors): a predict config, or the keys of a
    train config that an evaluation during training shares with it."""
    from llamafactory.hparams import DataArguments, GeneratingArguments

    for key in ("model_name_or_path", "eval_dataset"):
        if not cfg.get(key):
            raise DataError("missing (a predict config names the model and the eval_dataset)", path=path, field=key)
    bits = cfg.get("quantization_bit")
    if bits is not None and (bits != 4 or cfg.get("quantization_method", "bnb") != "bnb"):
        raise DataError(f"only bitsandbytes 4-bit or no quantization is supported, not {cfg.get('quantization_method')} "
                        f"{cfg.get('quantization_bit')}-bit", path=path, field="quantization_bit")
    adapters = cfg.get("adapter_name_or_path")
    if isinstance(adapters, str):
        adapters = [a.strip() for a in adapters.split(",") if a.strip()]
    if adapters and len(adapters) > 1:
        raise DataError("one adapter only (merge the others with llamafactory-cli export first)", path=path,
                        field="adapter_name_or_path")
    try:  # DataArguments.__post_init__ splits eval_dataset and rejects contradictory options, as for llamafactory-cli
        data_args = DataArguments(**_fields(DataArguments, cfg))
        gen_args = GeneratingArguments(**_fields(GeneratingArguments, cfg))
    except ValueError as err:
        raise DataError(str(err), path=path) from None
    # LLaMA-Factory keys the loaded datasets by name, so a name listed twice is predicted once.
    names = list(dict.fromkeys(data_args.eval_dataset))
    if len(names) > 1 and (data_args.mix_strategy != "concat" or data_args.eval_on_each_dataset):
        raise DataError("several eval datasets are supported with mix_strategy: concat only", path=path,
                        field="mix_strategy" if data_args.mix_strategy != "concat" else "eval_on_each_dataset")
    return PredictSettings(
        config=path,
        model_name_or_path=str(cfg["model_name_or_path"]),
        adapter_name_or_path=adapters[0] if adapters else None,
        quantization_bit=bits,
        template=data_args.template,
        dataset_dir=Path(data_args.dataset_dir),
        eval_dataset=names,
        cutoff_len=data_args.cutoff_len,
        max_samples=data_args.max_samples,
        max_new_tokens=gen_args.max_new_tokens,
        batch_size=int(cfg.get("per_device_eval_batch_size", HF_EVAL_BATCH_SIZE)),
        output_dir=Path(cfg["output_dir"]) if cfg.get("output_dir") else None,
        do_sample=gen_args.do_sample,
        num_beams=gen_args.num_beams,
        repetition_penalty=gen_args.repetition_penalty,
        skip_special_tokens=gen_args.skip_special_tokens,
        full_determinism=bool(cfg.get("full_determinism", False)),
        seed=int(cfg.get("seed", 42)),
        data_args=data_args,
    )


def _read_rows(path: Path) -> list[Any]:
    """A JSON array, or JSON Lines (``datasets``' json loader, which LLaMA-Factory uses, reads both)."""
    text = path.read_text(encoding="utf-8")
    try:
        rows = json.loads(text)
        return rows if isinstance(rows, list) else [rows]
    except json.JSONDecodeError as err:
        if path.suffix != ".jsonl" and text.lstrip().startswith("["):
            raise DataError(f"invalid JSON ({err.msg})", path=path, line=err.lineno) from None
    return read_jsonl(path)


def load_examples(settings: PredictSettings) -> list[Example]:
    """Every eval dataset in config order, each cut to its first ``max_samples`` rows, converted like
    ``AlpacaDatasetConverter``: history turns, then user = prompt + "\\n" + query (empty parts left out), then the
    answer (or an empty assistant turn when the row has none, as the unsupervised processor does)."""
    examples: list[Example] = []
    for name in settings.eval_dataset:
        path, entry = dataset_info.entry(settings.dataset_dir, name)
        columns = {"prompt": "instruction", "query": "input", "response": "output", "history": None, "system": None,
                   "tools": None, **(entry.get("columns") or {})}
        rows = _read_rows(path)
        if settings.max_samples is not None:
            rows = rows[: settings.max_samples]
        for i, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                raise DataError("expected a JSON object", path=path, line=i)
            for key in ("prompt", "query", "response", "system", "tools"):
                col = columns[key]
                if col and row.get(col) is not None and not isinstance(row[col], str):
                    raise DataError(f"expected a string, got {type(row[col]).__name__}", path=path, line=i, field=col)
            if columns["prompt"] and columns["prompt"] not in row:
                raise DataError("missing (the instruction of an Alpaca record)", path=path, line=i, field=columns["prompt"])
            messages: list[dict[str, str]] = []
            history = row.get(columns["history"]) if columns["history"] else None
            if isinstance(history, list):
                for turn in history:
                    if not (isinstance(turn, list | tuple) and len(turn) == 2):
                        raise DataError("each history turn must be [query, answer]", path=path, line=i,
                                        field=columns["history"])
                    messages += [{"role": "user", "content": turn[0]}, {"role": "assistant", "content": turn[1]}]
            query = [row[c] for c in (columns["prompt"], columns["query"]) if c and row.get(c)]
            messages.append({"role": "user", "content": "\n".join(query)})
            answer = row.get(columns["response"]) if columns["response"] else None
            messages.append({"role": "assistant", "content": answer if isinstance(answer, str) else ""})
            system = (row.get(columns["system"]) or "") if columns["system"] else ""
            tools = (row.get(columns["tools"]) or "") if columns["tools"] else ""
            examples.append(Example(name, path, i, messages, system, tools))
    if not examples:
        raise DataError(f"no examples in {', '.join(settings.eval_dataset)}", path=settings.config, field="eval_dataset")
    return examples


def encode(example: Example, template: Any, tokenizer: Any, cutoff_len: int) -> tuple[list[int], list[int]]:
    """(prompt ids, label ids) exactly as ``UnsupervisedDatasetProcessor._encode_data_example`` builds them."""
    from llamafactory.data.processor.processor_utils import infer_seqlen

    messages = template.mm_plugin.process_messages(example.messages, [], [], [], None)
    input_ids, labels = template.encode_oneturn(tokenizer, messages, example.system, example.tools)
    if template.efficient_eos:
        labels += [tokenizer.eos_token_id]
    input_ids, _ = template.mm_plugin.process_token_ids(input_ids, None, [], [], [], tokenizer, None)
    source_len, target_len = infer_seqlen(len(input_ids), len(labels), cutoff_len)
    return input_ids[:source_len], labels[:target_len]


def stop_token_ids(tokenizer: Any, template: Any) -> list[int]:
    """eos + additional special tokens, computed as ``run_sft`` does for transformers 4 and 5, plus the template's
    stop words (already among them after ``fix_special_tokens``; added again so a template never runs past them)."""
    extra = getattr(tokenizer, "additional_special_tokens_ids", None)
    if not isinstance(extra, list):
        names = [str(t) for t in getattr(tokenizer, "_extra_special_tokens", [])]
        extra = tokenizer.convert_tokens_to_ids(names) if names else []
    ids = [tokenizer.eos_token_id, *(i for i in extra if i != -1), *template.get_stop_token_ids(tokenizer)]
    return [i for i in dict.fromkeys(ids) if i is not None]


def trim_at_stop(tokens: list[int], stop_ids: Sequence[int]) -> list[int]:
    """The answer up to and including its first stop token: what generate() produced before padding the row."""
    stops = set(stop_ids)
    for i, tok in enumerate(tokens):
        if tok in stops:
            return tokens[: i + 1]
    return tokens


def length_order(prompts: Sequence[Sequence[int]]) -> list[int]:
    """Indices longest prompt first (stable): batches of similar length waste little padding, and the biggest batch
    comes first, so running out of memory shows at once instead of near the end."""
    return sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))


def generate(model: Any, prompts: Sequence[Sequence[int]], *, pad_token_id: int, stop_ids: Sequence[int], batch_size: int,
             max_new_tokens: int, repetition_penalty: float = 1.0, sort_by_length: bool = True,
             advance: Callable[[int], None] | None = None) -> Generation:
    """Greedy answers for ``prompts`` in left-padded batches of similar length, returned in input order.

    Left padding with the attention mask is what LLaMA-Factory's predict uses too; generate() derives the position
    ids from the mask, so a prompt's positions do not depend on how much padding its batch needed.
    ``sort_by_length=False`` forms the batches in input order, i.e. exactly LLaMA-Factory's batches: kernels that
    compute in bf16 round differently for different batch shapes (GPUs in bf16; bitsandbytes' 4-bit kernel on CPUs
    with AVX512-BF16 even under float32), and greedy decoding turns a rounding difference at a near-tie into a
    different answer. LLaMA-Factory's own answers change with ``per_device_eval_batch_size`` the same way; the same
    batches give the same answers bit for bit.
    """
    import torch

    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {batch_size}")
    device = next(model.parameters()).device
    out: list[list[int] | None] = [None] * len(prompts)
    order = length_order(prompts) if sort_by_length else list(range(len(prompts)))
    generated = 0
    start = time.perf_counter()
    for b in range(0, len(order), batch_size):
        idx = order[b: b + batch_size]
        width = max(len(prompts[i]) for i in idx)
        ids = torch.full((len(idx), width), pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, i in enumerate(idx):
            ids[row, width - len(prompts[i]):] = torch.tensor(list(prompts[i]), dtype=torch.long)
            mask[row, width - len(prompts[i]):] = 1
        with torch.no_grad():
            gen = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), do_sample=False, num_beams=1,
                                 max_new_tokens=max_new_tokens, eos_token_id=list(stop_ids), pad_token_id=pad_token_id,
                                 repetition_penalty=repetition_penalty)
        for row, i in enumerate(idx):
            tokens = trim_at_stop(gen[row, width:].tolist(), stop_ids)
            out[i] = tokens
            generated += len(tokens)
        if advance:
            advance(len(idx))
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return Generation([t if t is not None else [] for t in out], seconds, generated)


def load_model(settings: PredictSettings, device: str | None = None, merge: bool = False) -> tuple[Any, Any, Any, str]:
    """(model, tokenizer, template, device) as LLaMA-Factory's predict sets them up (see the module docstring), or,
    with ``merge`` and a 4-bit base, the dequantized base with the adapter merged (``models.loading``).

    dtype: bfloat16 on a CUDA GPU that supports it, else float32 (``models.loading.load``'s rule).
    """
    import torch
    from llamafactory.data import get_template_and_fix_tokenizer
    from transformers import AutoTokenizer

    from qwen_recipes.models.loading import ModelSpec, load

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    # The tokenizer of the base model, as load_tokenizer(): the adapter folder's copy may have been saved differently.
    tokenizer = AutoTokenizer.from_pretrained(settings.model_name_or_path, use_fast=True, split_special_tokens=False,
                                              padding_side="right")
    template = get_template_and_fix_tokenizer(tokenizer, settings.data_args)
    spec = ModelSpec(settings.model_name_or_path, settings.adapter_name_or_path, settings.quantization_bit,
                     template=settings.template or "empty", merge=merge and settings.quantization_bit is not None)
    model, _ = load(spec, device)
    if settings.adapter_name_or_path and settings.quantization_bit is None:
        model = model.merge_and_unload()  # init_adapter merges an adapter into an unquantized base
        model.eval()
    return model, tokenizer, template, device


def _device_name(device: str) -> str:
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return device


def generate_answers(model: Any, prompts: Sequence[Sequence[int]], *, pad_token_id: int, stop_ids: Sequence[int],
                     max_new_tokens: int, engine: str = "graph", batch_size: int = HF_EVAL_BATCH_SIZE,
                     repetition_penalty: float = 1.0, sort_by_length: bool = True, memory_limit: int | None = None,
                     max_slots: int = MAX_SLOTS, advance: Callable[[int], None] | None = None,
                     log: Callable[[str], None] = print) -> Generation:
    """Greedy answers with the prediction engine (``engine="graph"``: slots sized from memory, continuous refill,
    CUDA graphs) or with ``model.generate`` in batches of ``batch_size`` (``engine="generate"``, also the fallback
    for what the engine does not do, which is said in one line)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "graph":
        reason = "repetition_penalty is not 1.0" if repetition_penalty != 1.0 else None
        if reason is None:
            import torch

            try:
                return Engine(model, stop_ids, memory_limit=memory_limit, max_slots=max_slots, log=log).generate(
                    prompts, max_new_tokens, advance=advance)
            except EngineUnsupported as err:
                reason = str(err)
            except torch.OutOfMemoryError:  # the plan leaves 10% spare; a fragmented or shared GPU can still run out
                raise DataError(f"the GPU ran out of memory with up to {max_slots} sequences at once", field="--max-slots",
                                hint="pass a smaller --max-slots, or --gpu-memory-gib below what the GPU has free") from None
        log(f"note: {reason}: generating with model.generate in batches of {batch_size}")
    return generate(model, prompts, pad_token_id=pad_token_id, stop_ids=stop_ids, batch_size=batch_size,
                    max_new_tokens=max_new_tokens, repetition_penalty=repetition_penalty,
                    sort_by_length=sort_by_length, advance=advance)


def memory_cap(gib: float | None, device: str) -> int | None:
    """Cap this process at ``gib`` GiB of GPU memory (as a smaller card would) and return the cap in bytes."""
    if gib is None or not device.startswith("cuda"):
        return None
    import torch

    index = torch.device(device).index
    index = torch.cuda.current_device() if index is None else index
    total = torch.cuda.get_device_properties(index).total_memory
    limit = int(gib * 2**30)
    if limit > total:
        raise DataError(f"{gib} GiB is more than the GPU has ({total / 2**30:.1f} GiB)", field="--gpu-memory-gib")
    torch.cuda.set_per_process_memory_fraction(limit / total, index)
    return limit


def predict(config: str | Path, out_dir: str | Path | None = None, *, batch_size: int | None = None,
            max_samples: int | None = None, overrides: Sequence[str] = (), device: str | None = None,
            sort_by_length: bool = True, engine: str = "graph", merge: bool = False,
            gpu_memory_gib: float | None = None, max_slots: int = MAX_SLOTS, progress: Progress | None = None,
            log: Callable[[str], None] = print) -> dict[str, Path]:
    """Run a predict config: writes generated_predictions.jsonl and predict_speed.json into ``out_dir``
    (default ``<output_dir>/batched``) and returns their paths. ``engine``: see ``generate_answers``;
    ``sort_by_length=False``: LLaMA-Factory's batches with ``model.generate`` (see ``generate``); ``merge``: a 4-bit
    base is dequantized once and the adapter merged (``models.loading``); ``gpu_memory_gib`` caps GPU memory;
    ``max_slots`` caps the sequences the engine decodes at once."""
    import torch

    overrides = list(overrides) + ([f"max_samples={max_samples}"] if max_samples is not None else [])
    settings = settings_from(config, overrides)
    if batch_size is not None:
        settings.batch_size = batch_size
    if not sort_by_length:
        engine = "generate"  # LLaMA-Factory's own batches are a model.generate thing
    if out_dir is None and settings.output_dir is None:
        raise DataError("missing: give the config an output_dir, or an output folder (--out)", path=settings.config,
                        field="output_dir")
    out = Path(out_dir) if out_dir else settings.output_dir / DEFAULT_SUBDIR
    if settings.do_sample or settings.num_beams > 1:
        log(f"note: {settings.config} asks for do_sample={settings.do_sample}, num_beams={settings.num_beams}; "
            "this runs greedy decoding (set do_sample: false to compare with llamafactory-cli)")
    if merge and not (settings.quantization_bit and settings.adapter_name_or_path):
        log("note: --merge applies to an adapter over a 4-bit base; this config has none, nothing to merge")
    examples = load_examples(settings)  # before the model loads: bad data fails in a second
    if settings.full_determinism:
        # As the Trainer does for do_predict. On a GPU the same batch can otherwise give a different greedy token
        # from one run to the next where two logits tie in bf16 (measured: two do_predict runs of a random 7B
        # agreed on 540 of 600 rows), so only deterministic kernels make two programs comparable row by row.
        from transformers import enable_full_determinism

        enable_full_determinism(settings.seed)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    limit = memory_cap(gpu_memory_gib, device)
    model, tokenizer, template, device = load_model(settings, device, merge=merge)
    encoded = [encode(ex, template, tokenizer, settings.cutoff_len) for ex in examples]
    prompts = [p for p, _ in encoded]
    advance = progress(len(prompts)) if progress else None
    gen = generate_answers(model, prompts, pad_token_id=tokenizer.pad_token_id,
                           stop_ids=stop_token_ids(tokenizer, template), max_new_tokens=settings.max_new_tokens,
                           engine=engine, batch_size=settings.batch_size, repetition_penalty=settings.repetition_penalty,
                           sort_by_length=sort_by_length, memory_limit=limit, max_slots=max_slots, advance=advance,
                           log=log)
    skip = settings.skip_special_tokens
    rows = [{"prompt": p, "predict": g, "label": lab} for p, g, lab in zip(
        tokenizer.batch_decode(prompts, skip_special_tokens=False),
        tokenizer.batch_decode(gen.tokens, skip_special_tokens=skip),
        tokenizer.batch_decode([lab for _, lab in encoded], skip_special_tokens=skip), strict=True)]
    pred_path = write_jsonl(out / PREDICTIONS, rows)
    stats = gen.stats
    speed = {
        "config": str(settings.config),
        "examples": len(rows),
        "seconds": round(gen.seconds, 3),
        "examples_per_second": round(len(rows) / gen.seconds, 3) if gen.seconds > 0 else None,
        "generated_tokens": gen.generated_tokens,
        "generated_tokens_per_second": round(gen.generated_tokens / gen.seconds, 1) if gen.seconds > 0 else None,
        "engine": "graph" if stats else "generate",
        # The engine sizes its batch (slots) from memory; model.generate uses per_device_eval_batch_size.
        "batch_size": stats.slots if stats else settings.batch_size,
        "cuda_graphs": bool(stats and stats.cuda_graphs),
        "merged_4bit_adapter": bool(merge and settings.quantization_bit and settings.adapter_name_or_path),
        "sorted_by_length": sort_by_length,
        "max_new_tokens": settings.max_new_tokens,
        "device": _device_name(device),
        "dtype": str(next(p.dtype for p in model.parameters() if p.is_floating_point())).replace("torch.", ""),
        "quantization_bit": settings.quantization_bit,
        "full_determinism": settings.full_determinism,
        "torch_threads": torch.get_num_threads(),
        "gpu_memory_cap_gib": gpu_memory_gib,
        "peak_gpu_memory_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2) if device.startswith("cuda") else None,
        "engine_stats": dataclasses.asdict(stats) if stats else None,
    }
    speed_path = write_json(out / SPEED, speed)
    return {"predictions": pred_path, "speed": speed_path}
