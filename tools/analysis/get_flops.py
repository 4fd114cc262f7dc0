"""Parameters, tunable parameters and GFLOPs of a recognizer config.

FLOPs follow the AIM README: one multiply-add counts as one FLOP, attention matrix products
included. They are counted with :class:`torch.utils.flop_counter.FlopCounterMode` (2 FLOPs per
multiply-add, so the total is halved), every attention on its explicit math path
(:func:`~mmaction.models.backbones.clip_attention.math_attention_paths`: ``attn_impl='math'``,
timm's ``fused_attn=False``) whatever the config's kernel choice: the fused CPU attention kernels
are invisible to the counter, the math path is not. Attention written directly on
``scaled_dot_product_attention`` (Swin's windows) is counted through SDPA's math backend.

Counting is instant even for ViT-L/14 x 32 frames: the model is built on the ``meta`` device,
given uninitialised storage, and run on a fake input (no arithmetic happens). Views come from
the config's test pipeline itself, nothing else: ``num_clips`` of its one frame sampler
(``SampleFrames`` / ``UniformSample`` ..., doubled by ``twice_sample``) x crops (``ThreeCrop`` 3,
``TenCrop`` 10, otherwise 1); frames per view from the sampler's ``clip_len``, the spatial size
from the crop. A test pipeline without exactly one frame sampler is an error.

Examples::

    python tools/analysis/get_flops.py configs/recognition/vit/vitclip_base_k400_8x16x1_3views.py
    python tools/analysis/get_flops.py CONFIG --cfg-options model.cls_head.num_classes=700 --json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config, DictAction
from torch import nn

CROPS_PER_TRANSFORM = {"ThreeCrop": 3, "TenCrop": 10}


# --------------------------------------------------------------------------- config
def load_config(path: Union[str, Path], cfg_options: Optional[dict] = None) -> Config:
    """The effective config of ``path`` with ``--cfg-options``, as every tool loads it
    (:func:`mmaction.apis.config_loader.load_config`: 0.x configs are translated).

    Raises:
        ConfigError (a ValueError): naming the missing file or the key at fault.
        KeyError: when the config has no ``model``.
    """
    from mmaction.apis.config_loader import load_config as load_effective_config

    cfg, _ = load_effective_config(str(path), cfg_options)
    if "model" not in cfg:
        raise KeyError(f"{path}: the config has no 'model' key")
    return cfg


def dataset_pipeline(cfg: Config, split: str) -> List[dict]:
    """The pipeline of ``{split}_dataloader.dataset`` (through dataset wrappers), else ``{split}_pipeline``.

    Args:
        cfg: the config.
        split: ``'train'``, ``'val'`` or ``'test'``; ``'test'`` falls back to the val pipeline.
    """
    splits = ("test", "val") if split == "test" else (split,)
    for name in splits:
        dataset = (cfg.get(f"{name}_dataloader") or {}).get("dataset", {})
        while isinstance(dataset, dict) and "pipeline" not in dataset and "dataset" in dataset:
            dataset = dataset["dataset"]  # dataset wrappers (RepeatDataset ...)
        if isinstance(dataset, dict) and dataset.get("pipeline"):
            return list(dataset["pipeline"])
    for name in splits:
        if cfg.get(f"{name}_pipeline"):
            return list(cfg[f"{name}_pipeline"])
    return []


def _side(size: Union[int, Sequence[int], None]) -> Optional[Tuple[int, int]]:
    if size is None:
        return None
    if isinstance(size, int):
        return size, size
    w, h = size  # MMAction2 crop_size / scale tuples are (w, h)
    return (int(h), int(w)) if w > 0 and h > 0 else None


FRAME_SAMPLERS = ("SampleFrames", "UniformSample", "UniformSampleFrames", "DenseSampleFrames")


def pipeline_views(cfg: Config, split: str = "test") -> Dict[str, object]:
    """Views per video and the size of one view, read from a split's pipeline itself.

    Args:
        cfg: the config.
        split: whose pipeline to read (``'test'`` for FLOPs, ``'train'`` for training steps).

    Returns:
        dict with ``num_clips`` (the frame sampler's ``num_clips``, doubled by ``twice_sample``
        at test time), ``num_crops`` (``ThreeCrop`` 3, ``TenCrop`` 10, else 1), ``num_views``
        (clips x crops), ``clip_len`` (frames per view, the sampler's) and ``input_hw`` (H, W:
        the backbone's ``input_resolution``, else the pipeline's crop).

    Raises:
        ValueError: the pipeline has no frame sampler or more than one (nothing is guessed), or
            the input size cannot be told.
    """
    backbone = cfg.model.get("backbone", {}) or {}
    pipeline = dataset_pipeline(cfg, split)
    samplers = [step for step in pipeline if step.get("type", "") in FRAME_SAMPLERS]
    if len(samplers) != 1:
        where = f"{split}_dataloader.dataset.pipeline" + (" (or val)" if split == "test" else "")
        raise ValueError(f"{where} has {len(samplers)} frame samplers ({', '.join(FRAME_SAMPLERS)}); the views per "
                         f"video are read from exactly one (steps: {[step.get('type') for step in pipeline]})")
    sampler = samplers[0]
    num_clips = int(sampler.get("num_clips", 1))
    if sampler.get("twice_sample", False) and sampler.get("test_mode", False):
        num_clips *= 2
    clip_len = int(sampler.get("clip_len", 1))
    num_crops, hw = 1, None
    for step in pipeline:
        kind = step.get("type", "")
        if kind in CROPS_PER_TRANSFORM:
            num_crops = CROPS_PER_TRANSFORM[kind]
            hw = _side(step.get("crop_size")) or hw
        elif kind in ("CenterCrop", "RandomCrop"):
            hw = _side(step.get("crop_size")) or hw
        elif kind == "Resize" and step.get("keep_ratio", True) is False:
            hw = _side(step.get("scale")) or hw
    res = backbone.get("input_resolution")
    if res is not None:
        hw = (int(res), int(res))  # the ViT only takes its own resolution
    if hw is None:
        raise ValueError(f"cannot tell the input size: no crop in the {split} pipeline and no "
                         "model.backbone.input_resolution")
    return dict(num_clips=num_clips, num_crops=num_crops, num_views=num_clips * num_crops, clip_len=clip_len,
                input_hw=hw)


def test_views(cfg: Config) -> Dict[str, object]:
    """:func:`pipeline_views` of the test pipeline (what the README's view counts mean)."""
    return pipeline_views(cfg, "test")


# --------------------------------------------------------------------------- counting
@contextlib.contextmanager
def flop_counter() -> Iterator["torch.utils.flop_counter.FlopCounterMode"]:
    """FlopCounterMode that also sees attention called on SDPA (its math backend). Reports 2 FLOPs per MAC."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        yield counter


def build_model(cfg: Config, device: Union[str, torch.device] = "meta") -> nn.Module:
    """Builds ``cfg.model`` without loading pretrained weights.

    With ``device='meta'`` nothing is allocated or initialised; call ``.to_empty(device='cpu')``
    to get (uninitialised) storage.
    """
    from mmaction.apis.model_builder import build_model as build_recognizer

    return build_recognizer(cfg, load_pretrained=False, device=device).eval()


def count_params(model: nn.Module) -> Tuple[int, int]:
    """(total, tunable) parameter counts; tunable = ``requires_grad``."""
    total = sum(p.numel() for p in model.parameters())
    tunable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total, tunable


def count_macs(fn: Callable[[], object]) -> int:
    """Multiply-adds done by ``fn()`` (attention included), ``torch.compile``'d code run eagerly and
    frozen linear layers through ``F.linear`` (the counter does not see oneDNN's packed operator)."""
    from mmaction.models.utils.packed_linear import plain_linears

    with torch.compiler.set_stance("force_eager"), plain_linears(), flop_counter() as counter:
        fn()
    return counter.get_total_flops() // 2


def forward_macs(model: nn.Module, input_shape: Sequence[int], fake: bool = True) -> int:
    """Multiply-adds of one forward pass of ``model(x, mode='tensor')`` on ``x`` of ``input_shape``.

    Args:
        model: a recognizer with real (possibly uninitialised) CPU parameters.
        input_shape: (N, C, T, H, W).
        fake: run on a fake tensor (no arithmetic); falls back to a real zero input if the
            fake run fails.
    """

    from mmaction.models.backbones.clip_attention import math_attention_paths

    def run(x: torch.Tensor) -> Callable[[], object]:
        def call() -> object:
            with torch.no_grad(), math_attention_paths(model):
                return model(x, mode="tensor")

        return call

    if fake:
        try:
            from torch._subclasses.fake_tensor import FakeTensorMode

            with FakeTensorMode(allow_non_fake_inputs=True):
                x = torch.empty(*input_shape)
                return count_macs(run(x))
        except Exception as err:  # noqa: BLE001 - private API; fall back to real arithmetic
            print(f"note: fake-tensor counting failed ({type(err).__name__}: {err}); counting on real zeros",
                  file=sys.stderr)
    return count_macs(run(torch.zeros(*input_shape)))


def analyse(cfg: Config, fake: bool = True) -> Dict[str, object]:
    """Params, tunable params and GFLOPs (multiply-adds / 1e9) of a config.

    Returns:
        dict with ``params``, ``tunable_params``, ``gflops_per_view``, ``num_views``,
        ``gflops_total`` and the view details (``input_shape`` of one view, ``num_clips``,
        ``num_crops``).
    """
    views = test_views(cfg)
    model = build_model(cfg, device="meta").to_empty(device="cpu")
    if not fake:  # uninitialised storage may hold NaN/inf; the counts would not change, but be tidy
        with torch.no_grad():
            for tensor in list(model.parameters()) + list(model.buffers()):
                tensor.zero_()
    total, tunable = count_params(model)
    h, w = views["input_hw"]
    shape = (1, 3, views["clip_len"], h, w)
    macs = forward_macs(model, shape, fake=fake)
    per_view = macs / 1e9
    return dict(
        params=total,
        tunable_params=tunable,
        gflops_per_view=per_view,
        num_views=views["num_views"],
        gflops_total=per_view * views["num_views"],
        num_clips=views["num_clips"],
        num_crops=views["num_crops"],
        input_shape=list(shape),
    )


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Params and GFLOPs (1 multiply-add = 1 FLOP) of a config.")
    p.add_argument("config", help="config file")
    p.add_argument("--cfg-options", nargs="+", action=DictAction, default={},
                   help="override config keys, e.g. model.cls_head.num_classes=700 (frames per view come "
                   "from the test pipeline's SampleFrames clip_len)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--real", action="store_true", help="count on real zero tensors instead of fake ones (slow)")
    return p.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    from mmaction.utils import quiet_logger

    args = parse_args(argv)
    quiet_logger("get_flops")
    try:
        cfg = load_config(args.config, args.cfg_options)
        result = analyse(cfg, fake=not args.real)
    except (FileNotFoundError, KeyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result))
        return 0
    n, c, t, h, w = result["input_shape"]
    print(f"config:          {args.config}")
    print(f"params:          {result['params'] / 1e6:.2f} M")
    print(f"tunable params:  {result['tunable_params'] / 1e6:.2f} M")
    print(f"input per view:  {c}x{t}x{h}x{w} (C x T x H x W)")
    print(f"GFLOPs per view: {result['gflops_per_view']:.2f}  (1 multiply-add = 1 FLOP)")
    print(f"views:           {result['num_views']} = {result['num_clips']} clips x {result['num_crops']} crops")
    print(f"GFLOPs total:    {result['gflops_total']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
