#!/usr/bin/env python
"""Build the tiny random-weight Qwen2 model (and its locally trained tokenizer) fully offline.

It is the default model of the demo and the tests: the real Qwen2 architecture at toy size, with
ChatML special tokens and a chat template so LLaMA-Factory's `template: qwen` works unchanged.
Its outputs are meaningless; it is never a quality result.
"""

from __future__ import annotations

from qwen_recipes.cli import console, output_dir, outputs, parser, run
from qwen_recipes.tasks import all_tasks

SAMPLES = "dataset/samples"


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("--out", default="outputs/models/tiny-qwen2", help="output folder (default: %(default)s)")
    ap.add_argument("--corpus", nargs="+", default=[SAMPLES], help="text files/folders to train the tokenizer on")
    ap.add_argument("--vocab-size", type=int, default=2048, help="upper bound on the BPE vocabulary")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--force", action="store_true", help="rebuild even if the folder already holds a model")
    args = ap.parse_args()

    from pathlib import Path

    output_dir(args.out)
    if (Path(args.out) / "config.json").exists() and not args.force:
        console.print("tiny model already built (use --force to rebuild)")
        outputs("outputs:", [args.out])
        return 0
    from qwen_recipes.models import tiny as tiny_model

    # The task prompts join the corpus so that the instruction text tokenizes into few pieces.
    corpus = tiny_model.corpus_from(args.corpus) + [t.instruction for t in all_tasks().values()]
    console.print(f"[bold]tiny model[/]: tokenizer on {len(corpus)} lines, random Qwen2 weights (seed {args.seed})")
    out = tiny_model.build(args.out, corpus, vocab_size=args.vocab_size, seed=args.seed)
    outputs("outputs:", [out])
    return 0


if __name__ == "__main__":
    run(main)
