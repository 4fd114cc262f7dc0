#!/usr/bin/env python
"""Pre-trains the demo's tiny CLIP-architecture ViT on single images and saves it in CLIP layout.

The image task: name the shape in a frame of the demo dataset and the quadrant it is in
(16 classes, ``image_label_map.txt``). The training itself is
:mod:`projects.tiny_demo.image_pretrain`; the demo config runs it on first use
(``PretrainImageModelHook`` in ``configs/recognition/vit/vitclip_tiny_demo.py``), this command
runs it by hand. Settings not given on the command line come from the config's hook; weights
made with the config's settings are the ones the config would make, and the config then uses
them as they are.

Examples (from the repository root)::

    python -m projects.tiny_demo.tools.pretrain_demo_backbone     # data/demo -> data/demo/clip_tiny_pretrained.pth
    python -m projects.tiny_demo.tools.pretrain_demo_backbone --data-root data/demo --epochs 4 --out /tmp/clip_tiny.pth
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import torch

from projects.tiny_demo.image_pretrain import (CLIP_MEAN, CLIP_STD, DEFAULT_ARCH, arch_from_model_cfg, pretrain,
                                               val_scores_text)
from projects.tiny_demo.pretrain_hook import pretrain_recipe

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_CONFIG = REPO_ROOT / "configs" / "recognition" / "vit" / "vitclip_tiny_demo.py"
FALLBACK_RECIPE = dict(epochs=8, batch_size=32, lr=1e-3, seed=0)


def load_config(config: Optional[Path]) -> Optional[Any]:
    if config is None or not Path(config).is_file():
        return None
    from mmengine.config import Config

    return Config.fromfile(str(config))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Pre-train the demo's tiny CLIP ViT on the single-frame image task.")
    p.add_argument("--data-root", default="data/demo", help="folder with images_{train,val}.npz")
    p.add_argument("--out", default=None, help="output .pth (default: DATA_ROOT/clip_tiny_pretrained.pth)")
    p.add_argument("--config", default=str(DEFAULT_CONFIG),
                   help="config whose model.backbone size the weights must fit and whose PretrainImageModelHook "
                        "gives the defaults below (default: the demo config)")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--force", action="store_true", help="retrain even if the output exists")
    args = p.parse_args(argv)
    if (args.epochs is not None and args.epochs < 1) or (args.batch_size is not None and args.batch_size < 1):
        p.error("--epochs and --batch-size must be >= 1")
    if args.lr is not None and not args.lr > 0:
        p.error("--lr must be > 0")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    data_root = Path(args.data_root)
    out = Path(args.out) if args.out else data_root / "clip_tiny_pretrained.pth"
    if out.is_file() and not args.force:
        print(f"{out} exists (use --force to retrain)")
        return 0
    try:
        cfg = load_config(Path(args.config) if args.config else None)
        if cfg is None:
            arch, mean, std = dict(DEFAULT_ARCH), CLIP_MEAN, CLIP_STD
            recipe: Dict[str, Any] = dict(FALLBACK_RECIPE)
        else:
            arch, mean, std = arch_from_model_cfg(cfg.model, source=str(args.config))
            hooks = [h for h in cfg.get("custom_hooks") or [] if h.get("type") == "PretrainImageModelHook"]
            configured = dict(hooks[0]) if hooks else {}
            recipe = {k: configured.get(k, v) for k, v in FALLBACK_RECIPE.items()}
        for key in FALLBACK_RECIPE:
            if getattr(args, key) is not None:
                recipe[key] = getattr(args, key)
        info_path = data_root / "dataset_info.json"
        extra = None
        if info_path.is_file():  # record the recipe as the hook does, so the demo config reuses these weights
            sha = json.loads(info_path.read_text()).get("content_sha256", "")
            extra = dict(recipe=pretrain_recipe(recipe, arch, mean, std, sha))
        meta = pretrain(data_root, out, arch, mean, std, extra_meta=extra, **recipe)
    except (FileNotFoundError, KeyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"saved {out}: CLIP-layout tiny ViT {arch}, val {val_scores_text(meta)} in {meta['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
