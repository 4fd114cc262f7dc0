"""mmaction.models.utils.LayerNorm: float32 statistics whatever the input dtype, checked against a
float64 normalisation written here."""

import pytest
import torch

from mmaction.models.utils.layer_norm import LayerNorm


def reference(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    x = x.double()
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight.double() + bias.double()


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32])
@pytest.mark.parametrize("autocast", [False, True])
def test_output_and_gradient_equal_a_float64_reference_up_to_the_dtype(dtype, autocast):
    torch.manual_seed(0)
    d = 48
    norm = LayerNorm(d)
    with torch.no_grad():
        norm.weight.copy_(torch.randn(d))
        norm.bias.copy_(torch.randn(d))
    # a residual stream with a large common offset: half-precision statistics would lose it
    x = (torch.randn(3, 5, d) * 2 + 40).to(dtype).requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        out = norm(x)
    assert out.dtype == dtype
    want = reference(x.detach(), norm.weight, norm.bias, norm.eps)
    # float32: the offset of 40 costs a few bits of the normalised values
    ulp = {torch.bfloat16: 2 ** -8, torch.float16: 2 ** -11, torch.float32: 2 ** -20}[dtype]
    assert (out.double() - want).abs().max() <= 4 * ulp * want.abs().max()
    grad_out = torch.randn_like(want)
    (out.double() * grad_out).sum().backward()
    x64 = x.detach().double().requires_grad_()
    (reference(x64, norm.weight, norm.bias, norm.eps) * grad_out).sum().backward()
    scale = x64.grad.abs().max()
    assert (x.grad.double() - x64.grad).abs().max() <= 16 * ulp * scale


def test_autocast_output_returns_the_autocast_dtype_for_float32_input():
    norm = LayerNorm(16, autocast_output=True)
    x = torch.randn(2, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = norm(x)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), reference(x, norm.weight, norm.bias, norm.eps).float(),
                               atol=2e-2, rtol=1e-2)
