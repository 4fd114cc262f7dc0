"""``torch_compile=True`` on ViT_CLIP: one compiled block function shared by every block, no graph
break inside it, no recompilation per block, and the same numbers as eager mode (forward and backward).

Compilation on CPU is slow (tens of seconds per graph on a loaded machine): every test compiles one
tiny model once.
"""

import pytest
import torch
from torch._dynamo.utils import counters

from mmaction.models.backbones.aim_block import compiled_block_runner, run_block
from mmaction.registry import MODELS

#: width 64, 3 blocks (drop-path rates 0, 0.1, 0.2: every block differs from the others), 32 px, 4 frames
TINY = dict(type="ViT_CLIP", input_resolution=32, patch_size=16, width=64, layers=3, heads=2, num_frames=4,
            drop_path_rate=0.2)


def build_pair(**changes):
    """An eager and a compiled backbone with the same weights, adapters non-zero (so they get gradients)."""
    torch.manual_seed(0)
    eager = MODELS.build(dict(TINY, **changes))
    for name, p in eager.named_parameters():
        if "D_fc2" in name:
            torch.nn.init.normal_(p, std=0.05)
    compiled = MODELS.build(dict(TINY, torch_compile=True, **changes))
    compiled.load_state_dict(eager.state_dict())
    return eager.train(), compiled.train()


def step(model, x, seed):
    """Forward with drop-path masks drawn from ``seed``, a weighted loss, backward; (output, grads)."""
    torch.manual_seed(seed)
    out = model(x)
    weights = torch.linspace(-1.0, 1.0, out.numel()).view_as(out)
    (out.float() * weights).sum().backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return out, grads


def compile_counts():
    """(graph breaks, graphs compiled) since the last ``counters.clear()``."""
    return sum(counters["graph_break"].values()), counters["stats"]["unique_graphs"]


@pytest.mark.slow
def test_compiled_blocks_share_one_graph_without_breaks_and_equal_eager_fp32():
    torch._dynamo.reset()
    counters.clear()
    eager, compiled = build_pair()
    x = torch.randn(2, 3, 4, 32, 32)
    # inductor's own random numbers differ from eager's; fallback_random draws them with aten's
    # generator, so the drop-path masks (rates 0.1, 0.2 here) are the same in both models
    with torch._inductor.config.patch(fallback_random=True):
        got, got_grads = step(compiled, x, seed=1)
        breaks, graphs = compile_counts()
        # a second step with new masks compiles nothing new
        step(compiled, x, seed=2)
        assert compile_counts() == (breaks, graphs)
    want, want_grads = step(eager, x, seed=1)

    assert breaks == 0, dict(counters["graph_break"])
    # block 0 (no drop-path) and blocks 1-2 (any rate > 0): 2 graphs for 3 blocks, however many blocks
    assert 1 <= graphs <= 2 < TINY["layers"]
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    assert got_grads.keys() == want_grads.keys() and any("T_Adapter" in n for n in want_grads)
    for name, grad in want_grads.items():
        torch.testing.assert_close(got_grads[name], grad, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.slow
def test_compiled_blocks_equal_eager_under_bf16_autocast():
    torch._dynamo.reset()
    counters.clear()
    eager, compiled = build_pair(drop_path_rate=0.0, layers=2)  # one graph to compile
    x = torch.randn(2, 3, 4, 32, 32)
    with torch._inductor.config.patch(fallback_random=True), torch.autocast("cpu", dtype=torch.bfloat16):
        got, got_grads = step(compiled, x, seed=1)
        want, want_grads = step(eager, x, seed=1)
    assert compile_counts()[0] == 0, dict(counters["graph_break"])
    assert got.dtype == want.dtype
    # bf16 has an 8-bit mantissa: compare relative norms (both sides round differently)
    assert (got.float() - want.float()).norm() / want.float().norm() < 2e-2
    for name, grad in want_grads.items():
        diff = (got_grads[name].float() - grad.float()).norm() / grad.float().norm().clamp_min(1e-12)
        assert diff < 5e-2, (name, diff.item())


def test_one_runner_per_options_shared_by_every_block():
    first = compiled_block_runner({})
    assert compiled_block_runner({}) is first
    assert compiled_block_runner(dict(mode="max-autotune")) is not first
    block = torch.nn.Linear(3, 3)
    x = torch.randn(2, 3)
    assert torch.equal(run_block(lambda x, t: block(x) * t, x, 2), block(x) * 2)


def test_torch_compile_of_wrong_type_is_refused():
    with pytest.raises(TypeError, match="torch_compile"):
        MODELS.build(dict(TINY, torch_compile="yes"))


# Dynamo alone (backend='eager': traced graphs run by eager PyTorch, no inductor) is quick enough to
# check every backbone that takes ``torch_compile``: no graph break, graphs independent of depth.
BACKBONES = {
    "ViT_CLIP": dict(type="ViT_CLIP", input_resolution=32, patch_size=8, width=32, layers=3, heads=2, num_frames=2),
    "TimeSformer": dict(type="TimeSformer", input_resolution=32, patch_size=8, width=32, layers=3, heads=2,
                        num_frames=2, tuning="full"),
    "ViT_ImageNet": dict(type="ViT_ImageNet", img_size=32, patch_size=8, embed_dim=32, depth=3, num_heads=2,
                         num_frames=2),
    "AIMTimmViT": dict(type="AIMTimmViT", model_name="vit_small_patch16_224", num_frames=2, img_size=32,
                       timm_kwargs=dict(embed_dim=32, depth=3, num_heads=2, patch_size=8)),
}


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_every_backbone_traces_its_blocks_without_breaks_or_per_block_graphs(name):
    cfg = dict(BACKBONES[name], drop_path_rate=0.2)
    torch.manual_seed(0)
    eager = MODELS.build(cfg).train()
    traced = MODELS.build(dict(cfg, torch_compile=dict(backend="eager"))).train()
    traced.load_state_dict(eager.state_dict())
    torch._dynamo.reset()
    counters.clear()
    x = torch.randn(1, 3, 2, 32, 32)
    # specialize_float: Dynamo would guard on any Python float a block reads (it otherwise turns a
    # float that changes into a graph input after the first recompile); the rates are tensors
    with torch._dynamo.config.patch(specialize_float=True):
        got, got_grads = step(traced, x, seed=3)
    breaks, graphs = compile_counts()
    want, want_grads = step(eager, x, seed=3)
    assert breaks == 0, dict(counters["graph_break"])
    assert 1 <= graphs <= 2  # 3 blocks with 3 different drop-path rates
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    for key, grad in want_grads.items():
        torch.testing.assert_close(got_grads[key], grad, atol=1e-5, rtol=1e-4, msg=key)


def test_flop_counting_runs_compiled_blocks_eagerly():
    """get_flops' counter sees the eager operators of a compiled model (and compiles nothing)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "tools" / "analysis" / "get_flops.py"
    spec = importlib.util.spec_from_file_location("get_flops_for_compile_test", path)
    get_flops = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(get_flops)

    cfg = dict(BACKBONES["ViT_CLIP"])
    torch.manual_seed(0)
    eager = MODELS.build(cfg).eval()
    compiled = MODELS.build(dict(cfg, torch_compile=True)).eval()
    x = torch.randn(1, 3, 2, 32, 32)
    torch._dynamo.reset()
    counters.clear()
    with torch.no_grad():
        want = get_flops.count_macs(lambda: eager(x))
        got = get_flops.count_macs(lambda: compiled(x))
    assert got == want > 0
    assert compile_counts() == (0, 0)


def test_compiled_blocks_under_gradient_checkpointing_equal_eager():
    cfg = dict(BACKBONES["ViT_CLIP"], drop_path_rate=0.2, with_cp=True)
    torch.manual_seed(0)
    eager = MODELS.build(cfg).train()
    for name, p in eager.named_parameters():
        if "D_fc2" in name:
            torch.nn.init.normal_(p, std=0.05)
    traced = MODELS.build(dict(cfg, torch_compile=dict(backend="eager"))).train()
    traced.load_state_dict(eager.state_dict())
    torch._dynamo.reset()
    counters.clear()
    x = torch.randn(1, 3, 2, 32, 32)
    got, got_grads = step(traced, x, seed=4)
    want, want_grads = step(eager, x, seed=4)
    assert compile_counts()[0] == 0, dict(counters["graph_break"])
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    assert any("T_Adapter" in n for n in want_grads)
    for key, grad in want_grads.items():
        torch.testing.assert_close(got_grads[key], grad, atol=1e-5, rtol=1e-4, msg=key)
