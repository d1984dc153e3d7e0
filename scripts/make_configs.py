#!/usr/bin/env python
"""Write (or --check) the GPU-profile keys of the train configs whose header names a profile.

A train config with a header line "# Profile: 24gb" gets the keys of configs/profiles/24gb.yaml, sized for
its own cutoff_len, as one marked block at the end of its "### train" section (batch size, accumulation,
packing, Liger kernels, gradient checkpointing, attention kernel); every other line is kept as written.
For another card size change the name in the header and run this again. Never edit the block by hand.
"""

from __future__ import annotations

from pathlib import Path

from qwen_recipes import configs, profiles
from qwen_recipes.cli import console, outputs, parser, run
from qwen_recipes.errors import DataError
from qwen_recipes.io import write_text


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("configs", nargs="*", type=Path,
                    help="train configs to update (default: every configs/train/*.yaml with a '# Profile:' line)")
    ap.add_argument("--config-dir", type=Path, default=Path("configs/train"), help="where the train configs are")
    ap.add_argument("--profile-dir", type=Path, default=profiles.PROFILE_DIR, help="where the profiles are")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 listing the configs that differ")
    args = ap.parse_args()
    paths = args.configs or sorted(args.config_dir.glob("*.yaml"))
    for path in args.configs:  # named on the command line: each must be a config that names a profile
        configs.load(path)
    wanted = {path: profiles.render(path, args.profile_dir) for path in paths}
    for path in args.configs:
        if wanted[path] is None:
            raise DataError("has no '# Profile: <name>' header line, so it has no profile block to write", path=path)
    managed = {path: text for path, text in wanted.items() if text is not None}
    stale = [path for path, text in managed.items() if path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            console.print(f"{path}: stale (run python scripts/make_configs.py)")
        console.print(f"{len(managed) - len(stale)} of {len(managed)} profiled configs up to date")
        return 1 if stale else 0
    for path in stale:
        write_text(path, managed[path])
        console.print(f"updated {path}")
    console.print(f"{len(stale)} changed, {len(managed) - len(stale)} already up to date, "
                  f"{len(wanted) - len(managed)} without a profile left alone")
    outputs("outputs:", managed)
    return 0


if __name__ == "__main__":
    run(main)
