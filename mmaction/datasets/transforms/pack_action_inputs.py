"""PackActionInputs: the last pipeline step; builds ``dict(inputs, data_samples)``."""

from typing import Dict, Optional, Sequence

import numpy as np
import torch

from mmaction.registry import TRANSFORMS
from mmaction.structures import ActionDataSample

from .base import BaseTransform

# metainfo every sample carries (docs/architecture.md "Pipeline output")
CONTRACT_META_KEYS = ("filename", "sample_idx", "num_clips", "num_crops", "decode_failed")


def to_tensor(value, key: str) -> torch.Tensor:
    """numpy array / tensor / number / sequence -> torch.Tensor (no copy when possible)."""
    if isinstance(value, torch.Tensor):
        return value.as_subclass(torch.Tensor)
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, (int, np.integer)):
        return torch.tensor([int(value)], dtype=torch.long)
    if isinstance(value, (float, np.floating)):
        return torch.tensor([float(value)], dtype=torch.float32)
    if isinstance(value, (list, tuple)):
        return torch.as_tensor(value)
    raise TypeError(f"cannot turn {key!r} of type {type(value).__name__} into a tensor")


def pack_results(results: dict, meta_keys: Sequence[str] = (), extra_keys: Sequence[str] = ()) -> Dict[str, object]:
    """The contract output: uint8 ``inputs`` and an :class:`ActionDataSample`.

    Args:
        results: the pipeline's dict after ``FormatShape``.
        meta_keys: more keys of ``results`` to copy into the sample's metainfo (when present).
        extra_keys: keys copied into the sample's metainfo as well (Collect's ``keys`` other
            than imgs/label).

    Returns:
        dict: ``inputs`` (torch.Tensor) and ``data_samples`` (ActionDataSample).
    """
    if "imgs" not in results:
        raise KeyError("PackActionInputs: results has no 'imgs'; the pipeline must decode frames first")
    inputs = to_tensor(results["imgs"], "imgs").contiguous()
    sample = ActionDataSample()
    label = results.get("label")
    if label is not None:
        sample.set_gt_label(label)
    meta = {
        "filename": results.get("filename", results.get("frame_dir")),
        "sample_idx": results.get("sample_idx"),
        "num_clips": results.get("num_clips", 1),
        "num_crops": results.get("num_crops", 1),
        "decode_failed": bool(results.get("decode_failed", False)),
    }
    for key in list(meta_keys) + list(extra_keys):
        if key in results and key not in ("imgs", "label"):
            meta[key] = results[key]
    sample.set_metainfo(meta)
    return dict(inputs=inputs, data_samples=sample)


@TRANSFORMS.register_module()
class PackActionInputs(BaseTransform):
    """Packs frames and annotations (see docs/architecture.md, "Pipeline output").

    ``inputs`` is the uint8 tensor left by ``FormatShape``; ``data_samples`` carries
    ``gt_label`` and the metainfo ``filename``, ``sample_idx``, ``num_clips``, ``num_crops``,
    ``decode_failed``, plus ``meta_keys`` present in the results.

    Args:
        collect_keys: MMAction2 argument for multi-input models; only ``None`` or ``('imgs',)``.
        meta_keys: extra keys to copy into the metainfo.
        algorithm_keys: keys copied into the metainfo too (MMAction2 puts them on the sample).
    """

    def __init__(
        self,
        collect_keys: Optional[Sequence[str]] = None,
        meta_keys: Sequence[str] = ("img_shape", "img_key", "video_id", "timestamp"),
        algorithm_keys: Sequence[str] = (),
    ) -> None:
        if collect_keys is not None and tuple(collect_keys) != ("imgs",):
            raise ValueError(f"PackActionInputs: collect_keys={collect_keys!r} is not supported (only 'imgs')")
        self.collect_keys = collect_keys
        self.meta_keys = tuple(meta_keys)
        self.algorithm_keys = tuple(algorithm_keys)

    def transform(self, results: dict) -> dict:
        return pack_results(results, self.meta_keys, self.algorithm_keys)
