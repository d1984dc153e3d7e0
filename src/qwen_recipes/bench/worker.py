"""One benchmark run: LLaMA-Factory's own ``run_exp`` on a resolved argument file, with the throughput meter.

Started by ``suite.run`` as ``python -m qwen_recipes.bench.worker ARGS.yaml METER_DIR`` (or under ``torchrun``
for several GPUs, exactly as ``llamafactory-cli train`` launches itself), so every run gets a fresh process and
its own peak-memory figure.
"""

from __future__ import annotations

import sys

import yaml


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    args_path, meter_dir = argv
    with open(args_path, encoding="utf-8") as handle:
        args = yaml.safe_load(handle)
    from llamafactory.train.tuner import run_exp
    from transformers import AutoTokenizer

    from qwen_recipes.bench.meter import ThroughputMeter

    pad_id = AutoTokenizer.from_pretrained(args["model_name_or_path"]).pad_token_id
    run_exp(args=args, callbacks=[ThroughputMeter(meter_dir, pad_id)])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
