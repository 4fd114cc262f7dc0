"""The MMAction2 0.x ending ``Collect`` + ``ToTensor`` (AIM's configs), and the no-op ``Fuse``.

``Collect`` packs exactly like :class:`PackActionInputs`, so an original pipeline ending with
``dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]), dict(type='ToTensor', keys=[...])``
produces the contract output; ``ToTensor`` then passes it through. On unpacked results
``ToTensor`` converts the named keys to tensors (MMAction2's behaviour).
"""

from typing import Sequence

from mmaction.registry import TRANSFORMS

from .base import BaseTransform
from .pack_action_inputs import pack_results, to_tensor
from .unimplemented_args import warn_unimplemented


@TRANSFORMS.register_module()
class Collect(BaseTransform):
    """Packs the results into ``dict(inputs, data_samples)`` (same output as PackActionInputs).

    Args:
        keys: must contain ``'imgs'``; other keys than imgs/label go into the metainfo.
        meta_keys: keys copied into the metainfo.
        meta_name: MMAction2 argument; accepted, unused.
        nested: MMAction2 argument; accepted, unused.
    """

    def __init__(
        self,
        keys: Sequence[str],
        meta_keys: Sequence[str] = ("filename", "label", "original_shape", "img_shape", "pad_shape", "flip_direction", "img_norm_cfg"),
        meta_name: str = "img_metas",
        nested: bool = False,
    ) -> None:
        if "imgs" not in keys:
            raise ValueError(f"Collect: keys must include 'imgs', got {list(keys)}")
        self.keys = tuple(keys)
        self.meta_keys = tuple(k for k in meta_keys if k != "label")
        self.meta_name = meta_name
        self.nested = nested
        warn_unimplemented(self, "meta_name", meta_name, "img_metas", "the metainfo goes to the data sample")
        warn_unimplemented(self, "nested", nested, False, "results are not nested")

    def transform(self, results: dict) -> dict:
        extra = [k for k in self.keys if k not in ("imgs", "label")]
        return pack_results(results, self.meta_keys, extra)


@TRANSFORMS.register_module()
class ToTensor(BaseTransform):
    """Passes packed results through; otherwise converts ``keys`` of the results to tensors.

    Args:
        keys: keys to convert.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        if "inputs" in results and "data_samples" in results:
            return results
        for key in self.keys:
            if key not in results:
                raise KeyError(f"ToTensor: results has no {key!r}")
            results[key] = to_tensor(results[key], key)
        return results


@TRANSFORMS.register_module()
class Fuse(BaseTransform):
    """MMAction2's lazy-op fuser. Our transforms run eagerly, so there is nothing to fuse."""

    def transform(self, results: dict) -> dict:
        return results
