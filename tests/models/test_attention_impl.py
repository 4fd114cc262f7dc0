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


def test_math_softmax_is_computed_in_float32_under_autocast():
    """The bf16 math path equals, bit for bit, a computation written here whose softmax runs on
    float32 scores (rounded to bf16 only for the product with v)."""
    from mmaction.models.backbones.clip_attention import math_attention

    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 9, 16) * 3 for _ in range(3))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = math_attention(q.bfloat16(), k.bfloat16(), v.bfloat16())
    qb, kb, vb = q.bfloat16(), k.bfloat16(), v.bfloat16()
    scores = (qb * 0.25) @ kb.transpose(-1, -2)  # 1/sqrt(16): exact in bf16
    probs = torch.exp(scores.float() - scores.float().amax(-1, keepdim=True))
    probs = (probs / probs.sum(-1, keepdim=True)).bfloat16()
    want = probs @ vb
    assert got.dtype == torch.bfloat16
    torch.testing.assert_close(got.float(), want.float(), atol=0, rtol=2 ** -7)
    # and its error against float64 is that of the fused kernel, not more
    ref = torch.softmax(q.double() @ k.double().transpose(-1, -2) / 4, -1) @ v.double()
    fused = torch.nn.functional.scaled_dot_product_attention(qb, kb, vb)
    assert (got.double() - ref).abs().max() < 2 * (fused.double() - ref).abs().max() + 1e-2


def test_math_softmax_stays_in_its_dtype_under_cuda_style_autocast():
    """CUDA autocast computes softmax in float32 unless a dtype is given; the math path gives one."""
    seen = []
    original = torch.Tensor.softmax

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get("dtype"))
        return original(self, *args, **kwargs)

    from mmaction.models.backbones.clip_attention import math_attention

    torch.Tensor.softmax = spy
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            x = torch.randn(1, 2, 5, 8)
            math_attention(x, x, x)
    finally:
        torch.Tensor.softmax = original
    assert seen == [torch.bfloat16]


def test_unknown_impl_is_refused():
    with pytest.raises(ValueError, match="attn_impl"):
        CLIPAttention(32, 2, attn_impl="flash")


# ----------------------------------------------------------------------------- 'auto': which path runs
def spy_paths(monkeypatch):
    """Records 'math' / 'sdpa' with the sequence length at every attention call."""
    from mmaction.models.backbones import clip_attention

    calls = []
    math_fn, sdpa_fn = clip_attention.math_attention, clip_attention.F.scaled_dot_product_attention

    def math_spy(q, k, v):
        calls.append(("math", q.shape[-2]))
        return math_fn(q, k, v)

    def sdpa_spy(q, k, v, *args, **kwargs):
        calls.append(("sdpa", q.shape[-2]))
        return sdpa_fn(q, k, v, *args, **kwargs)

    monkeypatch.setattr(clip_attention, "math_attention", math_spy)
    monkeypatch.setattr(clip_attention.F, "scaled_dot_product_attention", sdpa_spy)
    return calls


def test_auto_rule_per_device_dtype_and_length(monkeypatch):
    from mmaction.models.backbones.clip_attention import (AUTO_CPU_MATH_MAX_TOKENS, AUTO_CPU_MATH_MAX_TOKENS_FP32,
                                                          resolve_attn_impl)

    for dtype, limit in ((torch.bfloat16, AUTO_CPU_MATH_MAX_TOKENS), (torch.float16, AUTO_CPU_MATH_MAX_TOKENS),
                         (torch.float32, AUTO_CPU_MATH_MAX_TOKENS_FP32)):
        short, long = torch.empty(1, 2, limit, 4, dtype=dtype), torch.empty(1, 2, limit + 1, 4, dtype=dtype)
        assert resolve_attn_impl("auto", short) == "math"
        assert resolve_attn_impl("auto", long) == "sdpa"
        for impl in ("sdpa", "math"):  # explicit choices are kept whatever the length
            assert resolve_attn_impl(impl, short) == resolve_attn_impl(impl, long) == impl
    # the temporal pass (8-32 frames) takes the math path in every dtype, ViT-B's 197-token spatial
    # pass only under bf16 autocast
    assert 32 <= AUTO_CPU_MATH_MAX_TOKENS_FP32 < 197 <= AUTO_CPU_MATH_MAX_TOKENS
    # any other device (a meta tensor stands in for a GPU here): SDPA unless determinism is asked for
    gpu_like = torch.empty(1, 2, 8, 4, device="meta")
    assert resolve_attn_impl("auto", gpu_like) == "sdpa"
    monkeypatch.setattr(torch, "are_deterministic_algorithms_enabled", lambda: True)
    assert resolve_attn_impl("auto", gpu_like) == "math"
    long = torch.empty(1, 2, AUTO_CPU_MATH_MAX_TOKENS_FP32 + 1, 4)
    assert resolve_attn_impl("auto", long) == "sdpa"  # the CPU rule does not depend on it


def test_auto_runs_math_for_the_temporal_pass_and_sdpa_for_the_spatial_pass_on_cpu(monkeypatch):
    from mmaction.models.backbones import clip_attention

    # 48 px / 8 px patches: 37 tokens per frame (spatial pass), 4 frames (temporal pass); float32
    monkeypatch.setattr(clip_attention, "AUTO_CPU_MATH_MAX_TOKENS_FP32", 8)
    cfg = dict(type="ViT_CLIP", input_resolution=48, patch_size=8, width=32, layers=2, heads=2, num_frames=4,
               attn_impl="auto")
    torch.manual_seed(0)
    auto = MODELS.build(cfg).eval()
    sdpa = MODELS.build(dict(cfg, attn_impl="sdpa")).eval()
    sdpa.load_state_dict(auto.state_dict())
    x = torch.randn(1, 3, 4, 48, 48)
    with torch.no_grad():
        want = sdpa(x)
        calls = spy_paths(monkeypatch)
        got = auto(x)
    assert calls == [("math", 4), ("sdpa", 37)] * 2  # per block: temporal, then spatial
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    calls.clear()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        got16 = auto(x).float()
    assert calls == [("math", 4), ("math", 37)] * 2  # bf16: both passes on the math path
    assert (got16 - want).norm() / want.norm() < 2e-2


def test_math_attention_paths_switches_every_attention_and_restores_it():
    from timm.models.vision_transformer import Attention
    from torch.utils.flop_counter import FlopCounterMode

    from mmaction.models.backbones.clip_attention import math_attention_paths

    n, s, d, heads = 2, 40, 32, 4
    model = torch.nn.Sequential(CLIPAttention(d, heads, attn_impl="sdpa"), Attention(d, heads))
    model[1].fused_attn = True
    x = torch.randn(n, s, d)
    with FlopCounterMode(display=False) as fused:
        model[0](x)
    with math_attention_paths(model), FlopCounterMode(display=False) as counted:
        assert model[0].attn_impl == "math" and model[1].fused_attn is False
        model[0](x)
    assert model[0].attn_impl == "sdpa" and model[1].fused_attn is True
    # multiply-adds, written out: q/k/v and output projections, then q k^T and (softmax) v
    projections = n * s * d * 3 * d + n * s * d * d
    attention = 2 * n * s * s * d
    assert fused.get_total_flops() // 2 == projections  # the fused kernel is invisible to the counter
    assert counted.get_total_flops() // 2 == projections + attention
