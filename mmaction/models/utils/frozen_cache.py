"""The cache of values derived from frozen weights (autocast copies, packed copies), and the scaled
copy they are made from."""

from typing import Callable, Dict, Hashable

import torch
from torch import nn


def scaled_copy(param: torch.Tensor, scale: float, dtype: torch.dtype) -> torch.Tensor:
    """``scale * param`` in ``dtype``, detached (the multiplication skipped when ``scale`` is 1)."""
    frozen = param.detach()
    return (frozen * scale if scale != 1.0 else frozen).to(dtype)


def cached_frozen(owner: nn.Module, key: Hashable, param: torch.Tensor,
                  build: Callable[[], torch.Tensor]) -> torch.Tensor:
    """``build()`` (run without grad), kept in ``owner``'s ``_frozen_cast_cache`` under ``key`` while
    ``param`` stays unchanged: the entry is stamped with the tensor's storage, version and device,
    so in-place updates (``load_state_dict``, an optimizer step, ``.to()``) make it be rebuilt.
    """
    stamp = (param.data_ptr(), param._version, param.device)
    cache: Dict = owner.__dict__.setdefault("_frozen_cast_cache", {})
    hit = cache.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    with torch.no_grad():
        value = build()
    cache[key] = (stamp, value)
    return value
