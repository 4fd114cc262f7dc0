"""RandAugment for clips (same operations and magnitudes on every frame), and ``Imgaug``."""

from typing import List, Optional, Sequence, Union

from torchvision.transforms import InterpolationMode, v2

from mmaction.registry import TRANSFORMS

from .base import BaseTransform
from .video_tensor import get_video, set_video


@TRANSFORMS.register_module()
class RandAugment(BaseTransform):
    """torchvision's RandAugment applied to the whole clip (one draw of ops for all frames).

    ``n``/``m`` are imgaug's names used by AIM's SSv2 config (``RandAugment(n=4, m=7)``):
    ``n`` operations per clip, magnitude ``m`` on a 0-30 scale (torchvision's default 31
    magnitude bins use the same scale). The operation set is torchvision's (identity, shear x/y,
    translate x/y, rotate, brightness, colour, contrast, sharpness, posterize, solarize,
    autocontrast, equalize), close to imgaug's.

    Args:
        n: operations per clip (alias ``num_ops``).
        m: magnitude, 0-30 (alias ``magnitude``).
        num_magnitude_bins: magnitude scale size.
        interpolation: ``'nearest'`` or ``'bilinear'`` for the geometric ops.
        fill: fill value for pixels that geometric ops bring in.
        num_ops, magnitude: torchvision's names for ``n`` and ``m``.
    """

    def __init__(
        self,
        n: Optional[int] = None,
        m: Optional[int] = None,
        num_magnitude_bins: int = 31,
        interpolation: str = "nearest",
        fill: Optional[Union[int, Sequence[int]]] = None,
        num_ops: Optional[int] = None,
        magnitude: Optional[int] = None,
    ) -> None:
        if n is not None and num_ops is not None and n != num_ops:
            raise ValueError(f"RandAugment: n={n} and num_ops={num_ops} disagree")
        if m is not None and magnitude is not None and m != magnitude:
            raise ValueError(f"RandAugment: m={m} and magnitude={magnitude} disagree")
        self.n = int(n if n is not None else (num_ops if num_ops is not None else 2))
        self.m = int(m if m is not None else (magnitude if magnitude is not None else 9))
        if not 0 <= self.m < num_magnitude_bins:
            raise ValueError(f"RandAugment: m={self.m} must be in [0, {num_magnitude_bins - 1}]")
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"RandAugment: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = interpolation
        self.fill = fill
        mode = InterpolationMode.NEAREST if interpolation == "nearest" else InterpolationMode.BILINEAR
        self._op = v2.RandAugment(
            num_ops=self.n, magnitude=self.m, num_magnitude_bins=num_magnitude_bins, interpolation=mode, fill=fill
        )

    def transform(self, results: dict) -> dict:
        set_video(results, self._op(get_video(results, "RandAugment")))
        return results


@TRANSFORMS.register_module()
class Imgaug(BaseTransform):
    """The original configs' imgaug wrapper, for the augmenters that have an equivalent here.

    Supported: ``transforms=[dict(type='RandAugment', n=..., m=...)]`` (AIM's SSv2 recipe) and
    ``transforms='default'`` (MMAction2's default: RandAugment with 2 ops at magnitude 9 of 10,
    i.e. m=27 on the 0-30 scale). Anything else raises an error naming the augmenter; imgaug
    itself is not used.

    Args:
        transforms: see above.
    """

    def __init__(self, transforms: Union[str, List[dict]]) -> None:
        if transforms == "default":
            self.steps = [RandAugment(n=2, m=27)]
        elif isinstance(transforms, (list, tuple)):
            self.steps = []
            for i, spec in enumerate(transforms):
                if not isinstance(spec, dict) or "type" not in spec:
                    raise TypeError(f"Imgaug: transforms[{i}] must be a dict with a 'type', got {spec!r}")
                args = dict(spec)
                kind = args.pop("type")
                if kind != "RandAugment":
                    raise ValueError(
                        f"Imgaug: augmenter {kind!r} (transforms[{i}]) is not supported; only 'RandAugment' "
                        "has an equivalent here (or use torchvision-based transforms directly)"
                    )
                self.steps.append(RandAugment(**args))
        else:
            raise TypeError(f"Imgaug: transforms must be 'default' or a list of dicts, got {transforms!r}")
        self.transforms = transforms

    def transform(self, results: dict) -> dict:
        for step in self.steps:
            results = step(results)
        return results
