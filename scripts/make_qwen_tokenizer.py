#!/usr/bin/env python
"""Build Qwen2 / Qwen2.5's real tokenizer offline (once): take Qwen's BPE ranks out of the dashscope wheel on PyPI,
check their hash, and write Hugging Face tokenizers for `qwen2.5` and `qwen2` into the cache. After this, every
`--tokenizer` (and a Qwen model name that is not on disk) works without the model hub. setup.sh runs it.

  python scripts/make_qwen_tokenizer.py            # both, into $QWEN_RECIPES_CACHE or ~/.cache/qwen_recipes
  python scripts/make_qwen_tokenizer.py qwen2.5
"""

from __future__ import annotations

from qwen_recipes import qwen_tokenizer
from qwen_recipes.cli import console, outputs, parser, run


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("names", nargs="*", metavar="NAME", help=f"{' or '.join(qwen_tokenizer.NAMES)} (default: both)")
    args = ap.parse_args()
    for name in args.names:
        if name not in qwen_tokenizer.NAMES:
            ap.error(f"unknown tokenizer {name!r}: choose from {', '.join(qwen_tokenizer.NAMES)}")
    folders = [qwen_tokenizer.path(name, console.print) for name in (args.names or qwen_tokenizer.NAMES)]
    outputs("outputs:", folders)
    return 0


if __name__ == "__main__":
    run(main)
