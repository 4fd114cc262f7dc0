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

    Shapes:
        x: (..., D) of any float dtype -> (..., D) of the same dtype.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        orig_dtype = x.dtype
        with torch.autocast(device_type=x.device.type, enabled=False):
            out = F.layer_norm(
                x.float(),
                self.normalized_shape,
                self.weight.float() if self.weight is not None else None,
                self.bias.float() if self.bias is not None else None,
                self.eps,
            )
        return out.to(orig_dtype)
