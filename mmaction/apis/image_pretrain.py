"""Pre-trains a small CLIP-architecture ViT on single images and saves it in the CLIP layout.

The AIM story in miniature: an image model is trained on images (the demo's: which shape —
circle, square, triangle, cross — is in a frame of ``mmaction.datasets.moving_shapes``), then
frozen and adapted to video by AIM's adapters (``configs/recognition/vit/vitclip_tiny_demo.py``).

The network is ``ViT_CLIP`` itself with ``num_frames=1``: its adapters stay at their zero
initialisation and frozen (an adapter without skip then outputs 0 and one with skip is the
identity), and ``temporal_embedding`` stays 0, so the network is exactly a CLIP visual tower.
A linear head on the class token classifies the image. The saved file is a plain state dict in
the CLIP layout that ``ViT_CLIP(pretrained=...)`` reads (``conv1.weight``, ``class_embedding``,
``positional_embedding``, ``ln_pre.*``, ``transformer.resblocks.{i}.*``, ``ln_post.*``), next to
a ``.json`` with the architecture and the validation accuracy.
"""

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ARCH_KEYS = ("input_resolution", "patch_size", "width", "layers", "heads")
DEFAULT_ARCH = dict(input_resolution=32, patch_size=4, width=64, layers=2, heads=2)
CLIP_MEAN = (122.769, 116.74, 104.04)
CLIP_STD = (68.493, 66.63, 70.321)


def arch_from_model_cfg(model_cfg: dict, source: str = "config") -> Tuple[Dict[str, int], Tuple[float, ...],
                                                                            Tuple[float, ...]]:
    """The image tower's size and the input normalisation of a recognizer config.

    Args:
        model_cfg: the config's ``model`` dict (``backbone`` of type ViT_CLIP, ``data_preprocessor``).
        source: named in errors (e.g. the config file).

    Returns:
        (arch dict with ``ARCH_KEYS``, mean, std).

    Raises:
        KeyError: when ``model.backbone`` lacks one of ``ARCH_KEYS``.
    """
    backbone = model_cfg["backbone"]
    missing = [k for k in ARCH_KEYS if k not in backbone]
    if missing:
        raise KeyError(f"{source}: model.backbone lacks {missing}")
    pre = model_cfg.get("data_preprocessor", {}) or {}
    mean = tuple(pre.get("mean") or CLIP_MEAN)
    std = tuple(pre.get("std") or CLIP_STD)
    return {k: int(backbone[k]) for k in ARCH_KEYS}, mean, std

class ImageClassifier(nn.Module):
    """``ViT_CLIP`` (one frame, adapters frozen at zero) + a linear head on the class token.

    Shapes:
        x: (B, 3, H, W) normalised float -> (B, num_classes) scores.
    """

    def __init__(self, arch: Dict[str, int], num_classes: int) -> None:
        super().__init__()
        from mmaction.models.backbones import ViT_CLIP

        self.backbone = ViT_CLIP(num_frames=1, tuning="full", drop_path_rate=0.0, pretrained=None, **arch)
        for name, param in self.backbone.named_parameters():
            if not is_clip_key(name):  # adapters and temporal_embedding: keep the zero function
                param.requires_grad_(False)
        self.head = nn.Linear(arch["width"], num_classes)
        nn.init.trunc_normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.backbone(x[:, :, None])  # (B, D, 1, 1, 1)
        return self.head(feats.flatten(1))


def is_clip_key(name: str) -> bool:
    """Whether a ``ViT_CLIP`` parameter belongs to the CLIP visual tower (not AIM's additions)."""
    return "Adapter" not in name and name != "temporal_embedding"


def clip_state_dict(backbone: nn.Module) -> Dict[str, torch.Tensor]:
    """The backbone's CLIP-layout weights (adapters and temporal embedding left out), on CPU."""
    return {k: v.detach().cpu().clone() for k, v in backbone.state_dict().items() if is_clip_key(k)}


def load_images(path: Path) -> Tuple[torch.Tensor, torch.Tensor]:
    """Reads ``images_*.npz``: uint8 (N, 3, H, W) and int64 (N,).

    Raises:
        FileNotFoundError / KeyError: naming the file.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run tools/data/make_demo_dataset.py first")
    with np.load(path) as data:
        for key in ("images", "labels"):
            if key not in data.files:
                raise KeyError(f"{path}: no array {key!r} (has {data.files})")
        images = torch.from_numpy(data["images"]).permute(0, 3, 1, 2).contiguous()
        labels = torch.from_numpy(data["labels"]).long()
    return images, labels


def prepare(images: torch.Tensor, size: int, mean: torch.Tensor, std: torch.Tensor,
            augment: bool, gen: Optional[torch.Generator] = None) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> normalised float (B, 3, size, size); training adds shift + flip.

    The augmentation (random crop of a reflect-padded image, horizontal flip) keeps every shape's
    class: all four shapes are left-right symmetric.
    """
    x = images.float()
    if augment:
        b, _, h, w = x.shape
        pad = max(1, h // 12)
        x = F.pad(x, (pad, pad, pad, pad), mode="reflect")
        dy, dx = torch.randint(0, 2 * pad + 1, (2,), generator=gen).tolist()
        x = x[:, :, dy:dy + h, dx:dx + w]
        flip = torch.rand(b, generator=gen) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return (x - mean) / std


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, size: int, mean: torch.Tensor,
             std: torch.Tensor, batch_size: int = 256) -> float:
    """Top-1 accuracy on a set of images."""
    model.eval()
    correct = 0
    for start in range(0, len(images), batch_size):
        x = prepare(images[start:start + batch_size], size, mean, std, augment=False)
        correct += (model(x).argmax(1) == labels[start:start + batch_size]).sum().item()
    return correct / max(1, len(images))


def pretrain(data_root: Path, out: Path, arch: Dict[str, int], mean: Sequence[float], std: Sequence[float],
             epochs: int = 15, batch_size: int = 64, lr: float = 2e-3, seed: int = 0,
             log: bool = True, extra_meta: Optional[Dict[str, object]] = None) -> Dict[str, object]:
    """Trains the image classifier and writes the CLIP-layout backbone to ``out`` (atomically).

    Args:
        data_root: folder with ``images_train.npz`` and ``images_val.npz``.
        out: the ``.pth`` to write; its metadata goes to the same name with ``.json``.
        arch: ``ViT_CLIP`` size (``ARCH_KEYS``).
        mean, std: RGB normalisation on the 0-255 scale.
        epochs, batch_size, lr, seed: the recipe (AdamW, linear warm-up, cosine decay).
        log: print the loss and validation accuracy a few times.
        extra_meta: more entries for the ``.json`` (e.g. the recipe, to tell when to redo it).

    Returns:
        the metadata also written to ``out`` with suffix ``.json``.
    """
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    train_x, train_y = load_images(data_root / "images_train.npz")
    val_x, val_y = load_images(data_root / "images_val.npz")
    num_classes = int(train_y.max()) + 1
    mean_t = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    size = arch["input_resolution"]

    model = ImageClassifier(arch, num_classes)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.05)
    steps_per_epoch = max(1, len(train_x) // batch_size)
    total = epochs * steps_per_epoch
    warmup = max(1, total // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: (s + 1) / warmup if s < warmup else 0.5 * (1 + np.cos(np.pi * (s - warmup) / (total - warmup)))
    )
    start = time.time()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=gen)
        losses = []
        for i in range(steps_per_epoch):
            idx = order[i * batch_size:(i + 1) * batch_size]
            x = prepare(train_x[idx], size, mean_t, std_t, augment=True, gen=gen)
            loss = F.cross_entropy(model(x), train_y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
        if log and (epoch + 1) % max(1, epochs // 5) == 0 or epoch + 1 == epochs:
            acc = evaluate(model, val_x, val_y, size, mean_t, std_t)
            if log:
                print(f"epoch {epoch + 1:3d}/{epochs}: loss {np.mean(losses):.3f}, val top-1 {acc:.3f} "
                      f"({time.time() - start:.0f} s)", flush=True)
    val_acc = evaluate(model, val_x, val_y, size, mean_t, std_t)
    meta = dict(arch=arch, mean=list(mean), std=list(std), epochs=epochs, seed=seed, num_classes=num_classes,
                train_images=len(train_x), val_images=len(val_x), val_top1=val_acc,
                seconds=round(time.time() - start, 1), layout="CLIP visual tower (no visual. prefix, no proj)",
                **(extra_meta or {}))
    save_atomically(clip_state_dict(model.backbone), out)
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def save_atomically(state: Dict[str, torch.Tensor], out: Path) -> None:
    """``torch.save`` to a temporary file beside ``out``, then rename: readers never see half a file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
