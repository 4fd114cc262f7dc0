#!/usr/bin/env python
"""Pre-trains the demo's tiny CLIP-architecture ViT on single images and saves it in CLIP layout.

The training itself is ``mmaction.apis.image_pretrain``; the demo config runs it on first use
(``configs/recognition/vit/vitclip_tiny_demo.py``), this command runs it by hand.

Examples::

    python tools/misc/pretrain_demo_backbone.py                      # data/demo -> data/demo/clip_tiny_pretrained.pth
    python tools/misc/pretrain_demo_backbone.py --data-root data/demo --epochs 20 --out /tmp/clip_tiny.pth
"""

import argparse
import sys
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import torch

from mmaction.apis.image_pretrain import DEFAULT_ARCH, CLIP_MEAN, CLIP_STD, arch_from_model_cfg, pretrain

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO_ROOT / "configs" / "recognition" / "vit" / "vitclip_tiny_demo.py"


def arch_from_config(config: Optional[Path]) -> Tuple[Dict[str, int], Tuple[float, ...], Tuple[float, ...]]:
    """Backbone size and normalisation of a config's model (so the weights fit it), else defaults."""
    if config is None or not Path(config).is_file():
        return dict(DEFAULT_ARCH), CLIP_MEAN, CLIP_STD
    from mmengine.config import Config

    return arch_from_model_cfg(Config.fromfile(str(config)).model, source=str(config))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Pre-train the demo's tiny CLIP ViT on the single-frame shape task.")
    p.add_argument("--data-root", default="data/demo", help="folder with images_{train,val}.npz")
    p.add_argument("--out", default=None, help="output .pth (default: DATA_ROOT/clip_tiny_pretrained.pth)")
    p.add_argument("--config", default=str(DEFAULT_CONFIG),
                   help="config whose model.backbone size the weights must fit (default: the demo config)")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--force", action="store_true", help="retrain even if the output exists")
    args = p.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1:
        p.error("--epochs and --batch-size must be >= 1")
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
        arch, mean, std = arch_from_config(Path(args.config) if args.config else None)
        meta = pretrain(data_root, out, arch, mean, std, epochs=args.epochs, batch_size=args.batch_size,
                        lr=args.lr, seed=args.seed)
    except (FileNotFoundError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"saved {out}: CLIP-layout tiny ViT {arch}, shape val top-1 {meta['val_top1']:.3f} "
          f"in {meta['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
