"""attn_impl='sdpa' | 'math' | 'auto' of CLIP's attention: the same numbers in float32, the math path
keeps its softmax in float32 under bf16 autocast."""

import math

import pytest
import torch

from mmaction.models.backbones.clip_attention import CLIPAttention
from mmaction.registry import MODELS

from .test_vit_clip import tiny_model_cfg


def explicit_attention(x, attn):
    """Written here: packed q/k/v projection, per-head softmax in float64, output projection."""
    n, s, d = x.shape
    h = attn.heads
    qkv = x.double() @ attn.in_proj_weight.double().T + attn.in_proj_bias.double()
    q, k, v = (t.reshape(n, s, h, d // h).transpose(1, 2) for t in qkv.split(d, dim=-1))
    w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // h), dim=-1)
    out = (w @ v).transpose(1, 2).reshape(n, s, d)
    return out @ attn.out_proj.weight.double().T + attn.out_proj.bias.double()


@pytest.mark.parametrize("impl", ["sdpa", "math", "auto"])
def test_every_impl_equals_explicit_attention(impl):
    torch.manual_seed(0)
    attn = CLIPAttention(32, 4, attn_impl=impl)
    x = torch.randn(3, 7, 32)
    torch.testing.assert_close(attn(x).double(), explicit_attention(x, attn), atol=1e-5, rtol=1e-5)


def test_math_and_sdpa_models_agree_in_fp32_and_bf16():
    torch.manual_seed(0)
    sdpa = MODELS.build(tiny_model_cfg(attn_impl="sdpa")).eval()
    maths = MODELS.build(tiny_model_cfg(attn_impl="math")).eval()
    maths.load_state_dict(sdpa.state_dict())
    x = torch.randn(2, 1, 3, 4, 32, 32)
    with torch.no_grad():
        a, b = sdpa(x, mode="tensor"), maths(x, mode="tensor")
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            b16 = maths(x, mode="tensor").float()
    assert (b16 - a).norm() / a.norm() < 2e-2


def test_math_softmax_runs_in_float32_under_autocast():
    attn = CLIPAttention(32, 2, attn_impl="math")
    seen = []
    original = torch.Tensor.softmax

    def spy(self, *args, **kwargs):
        seen.append(self.dtype)
        return original(self, *args, **kwargs)

    torch.Tensor.softmax = spy
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = attn(torch.randn(2, 5, 32))
    finally:
        torch.Tensor.softmax = original
    assert seen == [torch.float32] and out.dtype == torch.bfloat16


def test_unknown_impl_is_refused():
    with pytest.raises(ValueError, match="attn_impl"):
        CLIPAttention(32, 2, attn_impl="flash")
