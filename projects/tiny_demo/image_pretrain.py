"""Pre-trains a small CLIP-architecture ViT on single images and saves it in the CLIP layout.

The AIM story in miniature: an image model is trained on images, then frozen and adapted to
video by AIM's adapters (``configs/recognition/vit/vitclip_tiny_demo.py``). The demo's image
task (:mod:`projects.tiny_demo.moving_shapes`): name the shape in a single frame (circle, square,
triangle, cross) and the quadrant of the image it is in, 16 classes. Like CLIP's, the features
it learns say *what* is *where*; the video task (which way does the object move?) needs both
those features and the order of the frames.

The network is ``ViT_CLIP`` itself with ``num_frames=1``: its adapters stay at their zero
initialisation and frozen (an adapter without skip then outputs 0 and one with skip is the
identity), and ``temporal_embedding`` stays 0, so the network is exactly a CLIP visual tower.
A linear head on the class token classifies the image. The saved file is a plain state dict in
the CLIP layout that ``ViT_CLIP(pretrained=...)`` reads (``conv1.weight``, ``class_embedding``,
``positional_embedding``, ``ln_pre.*``, ``transformer.resblocks.{i}.*``, ``ln_post.*``), next to
a ``.json`` with the architecture and the validation accuracy.
"""

import json
import time
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmaction.engine.runner.atomic_io import atomic_write_text, atomic_write_with

from .moving_shapes import IMAGE_CLASSES, QUADRANTS
from .progress import ProgressLine

ARCH_KEYS = ("input_resolution", "patch_size", "width", "layers", "heads")
DEFAULT_ARCH = dict(input_resolution=48, patch_size=6, width=64, layers=2, heads=2)
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


def sincos_2d(grid: int, width: int) -> torch.Tensor:
    """Fixed 2-D sine-cosine position codes (MAE's), (grid * grid, width), row-major like the patches."""
    if width % 4:
        raise ValueError(f"sincos_2d needs a width divisible by 4, got {width}")
    quarter = width // 4
    omega = 1.0 / 10000 ** (torch.arange(quarter, dtype=torch.float64) / quarter)
    coords = torch.arange(grid, dtype=torch.float64)
    ys, xs = torch.meshgrid(coords, coords, indexing="ij")
    parts = []
    for coord in (xs.flatten(), ys.flatten()):
        angles = coord[:, None] * omega[None]
        parts += [angles.sin(), angles.cos()]
    return torch.cat(parts, dim=1).float()


class ImageClassifier(nn.Module):
    """``ViT_CLIP`` (one frame, adapters frozen at zero) + a linear head on the class token.

    Args:
        arch: ``ViT_CLIP`` size (``ARCH_KEYS``).
        num_classes: classes of the image task.
        pos_init: ``'sincos'`` starts the (learnable) positional embedding of the patches from
            2-D sine-cosine codes (as MAE does), which a tiny ViT trained from scratch needs to
            learn where things are reliably; ``'random'`` keeps ``ViT_CLIP``'s random init.

    Shapes:
        x: (B, 3, H, W) normalised float -> (B, num_classes) scores.
    """

    def __init__(self, arch: Dict[str, int], num_classes: int, pos_init: str = "sincos") -> None:
        super().__init__()
        from mmaction.models.backbones import ViT_CLIP

        if pos_init not in ("sincos", "random"):
            raise ValueError(f"pos_init must be 'sincos' or 'random', got {pos_init!r}")
        self.backbone = ViT_CLIP(num_frames=1, tuning="full", drop_path_rate=0.0, pretrained=None, **arch)
        for name, param in self.backbone.named_parameters():
            if not is_clip_key(name):  # adapters and temporal_embedding: keep the zero function
                param.requires_grad_(False)
        if pos_init == "sincos":
            grid = arch["input_resolution"] // arch["patch_size"]
            with torch.no_grad():
                self.backbone.positional_embedding[1:] = sincos_2d(grid, arch["width"])
                self.backbone.positional_embedding[0] = 0.0
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
        raise FileNotFoundError(f"{path} not found: the demo dataset (MovingShapesDataset, or "
                                f"python -m projects.tiny_demo.tools.make_demo_dataset) writes it")
    with np.load(path) as data:
        for key in ("images", "labels"):
            if key not in data.files:
                raise KeyError(f"{path}: no array {key!r} (has {data.files})")
        images = torch.from_numpy(data["images"]).permute(0, 3, 1, 2).contiguous()
        labels = torch.from_numpy(data["labels"]).long()
    return images, labels


def prepare(images: torch.Tensor, size: int, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> normalised float (B, 3, size, size).

    No augmentation: the labels say where the object is, so shifts and flips would change them,
    and the generator makes as many images as one likes.
    """
    x = images.float()
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return (x - mean) / std


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, size: int, mean: torch.Tensor, std: torch.Tensor,
            batch_size: int = 256) -> torch.Tensor:
    """Predicted class of every image, (N,) int64."""
    model.eval()
    preds = [model(prepare(images[i:i + batch_size], size, mean, std)).argmax(1)
             for i in range(0, len(images), batch_size)]
    return torch.cat(preds) if preds else torch.zeros(0, dtype=torch.long)


def accuracies(pred: torch.Tensor, labels: torch.Tensor, num_classes: int) -> Dict[str, float]:
    """``top1``; for the demo's 16-class task also ``shape_top1`` and ``quadrant_top1``."""
    n = max(1, len(labels))
    out = {"top1": (pred == labels).sum().item() / n}
    if num_classes == len(IMAGE_CLASSES):
        q = len(QUADRANTS)
        out["shape_top1"] = (pred // q == labels // q).sum().item() / n
        out["quadrant_top1"] = (pred % q == labels % q).sum().item() / n
    return out


def pretrain(data_root: Path, out: Path, arch: Dict[str, int], mean: Sequence[float], std: Sequence[float],
             epochs: int = 8, batch_size: int = 32, lr: float = 1e-3, seed: int = 0,
             log: bool = True, extra_meta: Optional[Dict[str, object]] = None) -> Dict[str, object]:
    """Trains the image classifier and writes the CLIP-layout backbone to ``out`` (atomically).

    Args:
        data_root: folder with ``images_train.npz`` and ``images_val.npz``.
        out: the ``.pth`` to write; its metadata goes to the same name with ``.json``.
        arch: ``ViT_CLIP`` size (``ARCH_KEYS``).
        mean, std: RGB normalisation on the 0-255 scale.
        epochs, batch_size, lr, seed: the recipe (AdamW, weight decay 0.05, linear warm-up over
            the first tenth of the steps, cosine decay to 0).
        log: print a progress line (iterations done, time left) every few seconds and the loss
            and validation accuracy a few times.
        extra_meta: more entries for the ``.json`` (e.g. the recipe, to tell when to redo it).

    Returns:
        the metadata also written to ``out`` with suffix ``.json`` (``val_top1`` and, for the
        demo's task, ``val_shape_top1`` / ``val_quadrant_top1``).

    Raises:
        FileNotFoundError / KeyError: a missing image file or array.
        ValueError: an empty training set or a bad recipe value.
    """
    if epochs < 1 or batch_size < 1 or not lr > 0:
        raise ValueError(f"pretrain: epochs and batch_size must be >= 1 and lr > 0, got {epochs}, {batch_size}, {lr}")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    train_x, train_y = load_images(Path(data_root) / "images_train.npz")
    val_x, val_y = load_images(Path(data_root) / "images_val.npz")
    if len(train_x) == 0:
        raise ValueError(f"{data_root}/images_train.npz holds no images")
    num_classes = int(max(train_y.max().item(), val_y.max().item() if len(val_y) else 0)) + 1
    mean_t = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    size = arch["input_resolution"]

    model = ImageClassifier(arch, num_classes)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.05)
    batch_size = min(batch_size, len(train_x))
    steps_per_epoch = len(train_x) // batch_size
    total = epochs * steps_per_epoch
    warmup = max(1, total // 10)

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + np.cos(np.pi * (step - warmup) / max(1, total - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    start = time.time()
    progress = ProgressLine("image pre-training", total, "iterations") if log else None
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=gen)
        losses = []
        for i in range(steps_per_epoch):
            idx = order[i * batch_size:(i + 1) * batch_size]
            loss = F.cross_entropy(model(prepare(train_x[idx], size, mean_t, std_t)), train_y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            if progress is not None:
                progress.update()
        if log and ((epoch + 1) % max(1, epochs // 4) == 0 or epoch + 1 == epochs):
            acc = accuracies(predict(model, val_x, size, mean_t, std_t), val_y, num_classes)
            print(f"image pre-training epoch {epoch + 1}/{epochs}: loss {np.mean(losses):.3f}, val "
                  + ", ".join(f"{k} {v:.3f}" for k, v in acc.items()) + f" ({time.time() - start:.0f} s)", flush=True)
    acc = accuracies(predict(model, val_x, size, mean_t, std_t), val_y, num_classes)
    meta = dict(arch=arch, mean=list(mean), std=list(std), epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                num_classes=num_classes, train_images=len(train_x), val_images=len(val_x),
                **{f"val_{k}": round(v, 4) for k, v in acc.items()},
                seconds=round(time.time() - start, 1), layout="CLIP visual tower (no visual. prefix, no proj)",
                **(extra_meta or {}))
    state = clip_state_dict(model.backbone)
    atomic_write_with(out, lambda f: torch.save(state, f))  # readers never see half a file
    atomic_write_text(Path(out).with_suffix(".json"), json.dumps(meta, indent=2) + "\n")
    return meta


def val_scores_text(meta: Dict[str, object]) -> str:
    """``'top1 0.920, shape_top1 0.945, quadrant_top1 0.975'`` from what :func:`pretrain` returns."""
    keys = ("val_top1", "val_shape_top1", "val_quadrant_top1")
    return ", ".join(f"{k[4:]} {meta[k]:.3f}" for k in keys if k in meta)
