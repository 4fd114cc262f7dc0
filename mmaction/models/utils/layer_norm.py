"""LayerNorm that stays accurate under bf16/fp16 autocast."""

import torch
import torch.nn.functional as F
from torch import nn


class LayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` computed in float32 whatever the input dtype (as in OpenAI CLIP).

    The statistics of a 768-wide residual stream lose precision in half types, so the
    normalisation runs in float32 and the result is cast back to the input dtype.

    Args:
        normalized_shape: size of the last dimension D.
        eps: variance epsilon (CLIP: 1e-5).
        autocast_output: under autocast, return the autocast dtype (bf16/fp16) directly. For
            norms that only feed matrix products (``ln_1``, ``ln_2``): their output is cast once
            here instead of once per consumer. Never for norms that feed the residual stream.

    On CPU, a bf16/fp16 input whose output keeps its dtype goes to PyTorch's mixed-type kernel
    as it is (half input, float32 weight and bias: the statistics and the normalisation run in
    float32 inside the kernel), which gives the same values as the explicit float32 round trip
    at half its cost and without its two copies of the activations.

    Shapes:
        x: (..., D) of any float dtype -> (..., D) of the same dtype (or the autocast dtype).
    """

    def __init__(self, *args, autocast_output: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.autocast_output = autocast_output

    def _float32_affine(self) -> bool:
        """Whether weight and bias are absent or float32 (what the mixed-type kernel takes)."""
        return all(p is None or p.dtype == torch.float32 for p in (self.weight, self.bias))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out_dtype = x.dtype
        if self.autocast_output and torch.is_autocast_enabled(x.device.type):
            out_dtype = torch.get_autocast_dtype(x.device.type)
        if (x.device.type == "cpu" and out_dtype == x.dtype and x.dtype in (torch.bfloat16, torch.float16)
                and self._float32_affine()):
            with torch.autocast(device_type="cpu", enabled=False):
                return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        # float32 at least (float64 stays float64)
        compute = torch.promote_types(x.dtype, torch.float32)
        weight = self.weight.to(compute) if self.weight is not None else None
        bias = self.bias.to(compute) if self.bias is not None else None
        with torch.autocast(device_type=x.device.type, enabled=False):
            out = F.layer_norm(x.to(compute), self.normalized_shape, weight, bias, self.eps)
        return out.to(out_dtype)
