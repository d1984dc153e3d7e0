#!/usr/bin/env python
"""Write (or --check) what the train configs imply: their GPU-profile block, and their predict, chat and export configs.

A train config with a header line "# Profile: 24gb" gets the keys of configs/profiles/24gb.yaml, sized for
its own cutoff_len, as one marked block at the end of its "### train" section (batch size, accumulation,
packing, Liger kernels, gradient checkpointing, attention kernel); every other line is kept as written.
For another card size change the name in the header and run this again. Never edit the block by hand.

Every train config also gets configs/predict, configs/chat and configs/export files of its own name, written
whole from it, its "# Adapter:" header line and its task (rules: src/qwen_recipes/config_gen.py). Change the
train config, its header line or the task, and run this again; never edit those files by hand. --check writes
nothing and exits 1 listing every file that differs, is missing, or is made by no train config.
"""

from __future__ import annotations

from pathlib import Path

from qwen_recipes import config_gen, configs, profiles
from qwen_recipes.cli import console, output_dir, outputs, parser, run
from qwen_recipes.errors import DataError
from qwen_recipes.io import write_text


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("configs", nargs="*", type=Path,
                    help="train configs to update, with their predict/chat/export configs (default: every "
                         "*.yaml in --config-dir)")
    ap.add_argument("--config-dir", type=Path, default=configs.CONFIG_DIR / "train", help="where the train configs are")
    ap.add_argument("--profile-dir", type=Path, default=profiles.PROFILE_DIR, help="where the profiles are")
    ap.add_argument("--out-dir", type=Path,
                    help="where the predict/, chat/ and export/ folders are written (default: the parent of "
                         "--config-dir, i.e. configs/)")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 listing the files that differ")
    args = ap.parse_args()
    out_dir = output_dir(args.out_dir if args.out_dir is not None else args.config_dir.parent, "--out-dir")
    paths = args.configs or sorted(args.config_dir.glob("*.yaml"))
    if not paths:
        raise DataError("no train configs (*.yaml) here", path=args.config_dir, field="--config-dir")
    for path in paths:
        configs.load(path)  # a missing or unreadable config stops here, before anything is written

    # Everything is worked out before anything is written: bad input leaves every file as it was.
    wanted: dict[Path, str] = {}
    train_texts = {path: profiles.render(path, args.profile_dir) for path in paths}
    for path, text in train_texts.items():
        if text is not None:
            wanted[path] = text
        text = text if text is not None else path.read_text(encoding="utf-8")
        for stage, derived in config_gen.render(path.name, text, path).items():
            wanted[out_dir / stage / path.name] = derived
    for path in wanted:
        if path.exists() and not path.is_file():
            raise DataError("is a folder where the generated config goes", path=path)
    stale = {path: "missing" if not path.exists() else "stale" for path, text in wanted.items()
             if not path.is_file() or path.read_text(encoding="utf-8") != text}
    # Only a run over every train config knows which later-stage files no train config makes any more.
    orphans = [] if args.configs else [
        path for stage in config_gen.STAGES for path in sorted((out_dir / stage).glob("*.yaml")) if path not in wanted
    ]

    if args.check:
        for path, why in stale.items():
            console.print(f"{path}: {why} (run python scripts/make_configs.py)")
        for path in orphans:
            console.print(f"{path}: made by no train config (delete it, or add its train config)")
        console.print(f"{len(wanted) - len(stale)} of {len(wanted)} generated files up to date"
                      + (f", {len(orphans)} not generated" if orphans else ""))
        return 1 if stale or orphans else 0
    for path, why in stale.items():
        write_text(path, wanted[path])
        console.print(f"{'wrote' if why == 'missing' else 'updated'} {path}")
    for path in orphans:
        console.print(f"[yellow]left alone:[/] {path} is made by no train config (delete it, or add its train config)")
    profiled = sum(text is not None for text in train_texts.values())
    console.print(f"{len(stale)} changed, {len(wanted) - len(stale)} already up to date ({profiled} profiled train "
                  f"configs, {len(wanted) - profiled} predict/chat/export configs)")
    outputs("outputs:", wanted)
    return 0


if __name__ == "__main__":
    run(main)
