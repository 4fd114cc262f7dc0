"""Frozen bf16 linear layers on oneDNN's prepacked weights: the numbers of a plain bf16 linear layer
(forward and input gradient), used only where they apply, invisible to nothing that counts FLOPs."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from mmaction.models.backbones.clip_attention import CLIPAttention
from mmaction.models.utils import FrozenCastLinear
from mmaction.models.utils import packed_linear
from mmaction.models.utils.packed_linear import plain_linears

pytestmark = pytest.mark.skipif(not packed_linear.packing_available(), reason="this PyTorch has no oneDNN")


def frozen(layer):
    for p in layer.parameters():
        p.requires_grad_(False)
    return layer


def spy(monkeypatch):
    """Counts calls of the packed operator."""
    calls = []
    original = packed_linear._packed_linear

    def counting(x, packed, bias):
        calls.append(tuple(x.shape))
        return original(x, packed, bias)

    monkeypatch.setattr(packed_linear, "_packed_linear", counting)
    return calls


def test_float32_forward_and_input_gradient_equal_float64():
    torch.manual_seed(0)
    layer = frozen(FrozenCastLinear(48, 40))
    x = torch.randn(6, 48, requires_grad=True)
    grad_out = torch.randn(6, 40)
    out = layer(x)
    out.backward(grad_out)
    exact = x.detach().double() @ layer.weight.double().t() + layer.bias.double()
    torch.testing.assert_close(out.double(), exact, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(x.grad.double(), grad_out.double() @ layer.weight.double(), atol=1e-5, rtol=1e-5)


def test_forward_and_input_gradient_equal_a_plain_bf16_linear(monkeypatch):
    torch.manual_seed(0)
    layer = frozen(FrozenCastLinear(48, 40))
    x = torch.randn(3, 7, 48, requires_grad=True)
    grad_out = torch.randn(3, 7, 40)
    calls = spy(monkeypatch)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = layer(x)
    out.backward(grad_out.bfloat16())
    assert calls == [(3, 7, 48), (3, 7, 40)]  # forward on W, backward on W^T
    # written here: bf16 operands, as autocast gives F.linear
    w, b = layer.weight.detach().bfloat16(), layer.bias.detach().bfloat16()
    x_ref = x.detach().bfloat16().requires_grad_()
    want = x_ref @ w.t() + b
    want.backward(grad_out.bfloat16())
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), want.float(), atol=1e-2, rtol=1e-2)
    torch.testing.assert_close(x.grad, x_ref.grad.float(), atol=1e-2, rtol=1e-2)
    # and against float64: within bf16 rounding
    exact = x.detach().double() @ layer.weight.double().t() + layer.bias.double()
    assert (out.double() - exact).abs().max() <= 2 ** -7 * exact.abs().max()


def test_folded_scales_and_the_attention_projection(monkeypatch):
    torch.manual_seed(0)
    layer = frozen(FrozenCastLinear(32, 16))
    x = torch.randn(5, 32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = layer(x, output_scale=2.0, input_scale=0.25)
    want = 2.0 * (0.25 * x.double() @ layer.weight.double().t()) + 2.0 * layer.bias.double()
    assert (got.double() - want).abs().max() <= 2 ** -7 * want.abs().max()

    attn = frozen(CLIPAttention(32, 4, attn_impl="math"))
    plain = CLIPAttention(32, 4, attn_impl="math")
    plain.load_state_dict(attn.state_dict())
    calls = spy(monkeypatch)
    x = torch.randn(2, 9, 32)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        got = attn(x).float()
        with plain_linears():
            want = plain(x).float()
    assert len(calls) == 2  # in_proj and out_proj of the frozen module only
    torch.testing.assert_close(got, want, atol=2e-2, rtol=2e-2)


def test_not_used_where_it_does_not_apply(monkeypatch):
    calls = spy(monkeypatch)
    layer = frozen(FrozenCastLinear(16, 8))
    x = torch.randn(4, 16)
    layer.double()(x.double())  # float64: F.linear
    layer.float()
    trainable = FrozenCastLinear(16, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        trainable(x)  # trainable weight: F.linear, so that it gets its gradient
        with plain_linears():
            layer(x)
    assert calls == []
    with torch.autocast("cpu", dtype=torch.bfloat16):
        layer(x)
    layer(x)  # float32 weights without autocast: packed as well
    assert calls == [(4, 16), (4, 16)]


def test_flop_counter_sees_the_linear_layers_under_plain_linears():
    layer = frozen(FrozenCastLinear(64, 32))
    x = torch.randn(10, 64)
    with torch.autocast("cpu", dtype=torch.bfloat16), plain_linears(), FlopCounterMode(display=False) as counter:
        layer(x)
    assert counter.get_total_flops() == 2 * 10 * 64 * 32


def test_packed_copies_follow_weight_updates():
    layer = frozen(FrozenCastLinear(16, 8))
    x = torch.randn(4, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        before = layer(x)
        with torch.no_grad():
            layer.weight.mul_(-1.0)
        after = layer(x)
    want = (x.bfloat16() @ layer.weight.detach().bfloat16().t() + layer.bias.detach().bfloat16()).float()
    torch.testing.assert_close(after.float(), want, atol=1e-2, rtol=1e-2)
    assert not torch.allclose(before.float(), after.float())
