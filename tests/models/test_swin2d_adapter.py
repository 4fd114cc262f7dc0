"""SwinTransformer2D_Adapter against an independent plain-tensor computation, timm's Swin, and
the weight files it must accept or refuse.

The reference below is written from the original AIM code's behaviour (not from our modules):
tubelets by reshaping, windows by explicit loops, the shifted-window mask from whether a token
wrapped around during the roll, relative-position biases from explicit coordinate differences,
patch merging by Microsoft's four strided slices.
"""

import math
import re
from typing import Dict, List, Tuple

import pytest
import torch

from mmaction.models.backbones import Adapter, SwinTransformer2D_Adapter
from mmaction.models.backbones.clip_checkpoint import PretrainedWeightsError
from mmaction.models.heads.i3d_head import I3DHead
from mmaction.registry import MODELS

State = Dict[str, torch.Tensor]

# Tiny Swins: A has two stages that both shift windows (grids 16x16 and 8x8, window 4) and 3
# time steps; B has three blocks in stage 0 (temporal, shifted, temporal), a last stage whose 4x4
# grid is a single window (no shift) and t_relative=False (temporal_embedding).
TINY_A = dict(img_size=64, num_frames=6, embed_dim=32, depths=(2, 2), num_heads=(2, 4), window_size=4)
TINY_B = dict(img_size=32, num_frames=4, embed_dim=32, depths=(3, 1), num_heads=(2, 4), window_size=4,
              t_relative=False)


# ----------------------------------------------------------------------------------- reference
def ref_layer_norm(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b


def ref_gelu(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def ref_linear(x: torch.Tensor, s: State, name: str) -> torch.Tensor:
    out = x @ s[name + ".weight"].t()
    return out + s[name + ".bias"] if name + ".bias" in s else out


def ref_adapter(x: torch.Tensor, s: State, name: str) -> torch.Tensor:
    """D_fc2(GELU(D_fc1(x))), no skip."""
    return ref_linear(ref_gelu(ref_linear(x, s, name + ".D_fc1")), s, name + ".D_fc2")


def ref_attention(x: torch.Tensor, s: State, name: str, heads: int, bias: torch.Tensor) -> torch.Tensor:
    """x (G, N, C) groups of tokens; bias (G or 1, heads, N, N) added to the logits."""
    g, n, c = x.shape
    hd = c // heads
    qkv = ref_linear(x, s, name + ".qkv")
    outs = []
    for h in range(heads):
        q = qkv[:, :, h * hd:(h + 1) * hd] * hd ** -0.5
        k = qkv[:, :, c + h * hd:c + (h + 1) * hd]
        v = qkv[:, :, 2 * c + h * hd:2 * c + (h + 1) * hd]
        logits = q @ k.transpose(1, 2) + bias[:, h]
        weights = torch.exp(logits - logits.max(-1, keepdim=True).values)
        outs.append((weights / weights.sum(-1, keepdim=True)) @ v)
    return ref_linear(torch.cat(outs, -1), s, name + ".proj")


def ref_window_bias(table: torch.Tensor, ws: int) -> torch.Tensor:
    """(heads, ws*ws, ws*ws): table[(dy + ws - 1) * (2ws - 1) + dx + ws - 1] for each token pair."""
    n = ws * ws
    out = torch.empty(table.shape[1], n, n, dtype=table.dtype)
    for i in range(n):
        for j in range(n):
            dy, dx = i // ws - j // ws, i % ws - j % ws
            out[:, i, j] = table[(dy + ws - 1) * (2 * ws - 1) + dx + ws - 1]
    return out


def ref_window_attention(x: torch.Tensor, s: State, name: str, heads: int, hw: Tuple[int, int], ws: int,
                         shift: int) -> torch.Tensor:
    """x (F, H*W, C) tokens of F frames: attention inside (shifted) ws x ws windows of each frame."""
    f, _, c = x.shape
    hgt, wid = hw
    grid = x.view(f, hgt, wid, c)
    # rolled[i, j] = grid[(i + shift) % H, (j + shift) % W]
    rows = [(i + shift) % hgt for i in range(hgt)]
    cols = [(j + shift) % wid for j in range(wid)]
    rolled = grid[:, rows][:, :, cols]
    bias = ref_window_bias(s[name + ".relative_position_bias_table"], ws)
    out = torch.zeros_like(rolled)
    for wy in range(hgt // ws):
        for wx in range(wid // ws):
            coords = [(wy * ws + a, wx * ws + b) for a in range(ws) for b in range(ws)]
            tokens = torch.stack([rolled[:, i, j] for i, j in coords], 1)  # (F, ws*ws, C)
            # two tokens may attend iff both or neither wrapped around in each axis
            wrapped = [(i >= hgt - shift if shift else False, j >= wid - shift if shift else False)
                       for i, j in coords]
            mask = torch.tensor([[0.0 if wrapped[p] == wrapped[q] else -100.0 for q in range(len(coords))]
                                 for p in range(len(coords))], dtype=x.dtype)
            res = ref_attention(tokens, s, name, heads, (bias + mask)[None])
            for idx, (i, j) in enumerate(coords):
                out[:, i, j] = res[:, idx]
    # un-roll: original position (r, q) is rolled position ((r - shift) % H, (q - shift) % W)
    back = out[:, [(i - shift) % hgt for i in range(hgt)]][:, :, [(j - shift) % wid for j in range(wid)]]
    return back.reshape(f, hgt * wid, c)


def ref_temporal_attention(x: torch.Tensor, s: State, name: str, heads: int, b: int, t: int) -> torch.Tensor:
    """x (B*T, N, C): attention across the T time steps of every (video, position)."""
    _, n, c = x.shape
    seq = x.view(b, t, n, c).permute(0, 2, 1, 3).reshape(b * n, t, c)
    table = s[name + ".temporal_position_bias_table"]
    t0 = (table.shape[0] + 1) // 2
    bias = torch.stack([torch.stack([table[i - j + t0 - 1] for j in range(t)]) for i in range(t)])  # (T, T, heads)
    out = ref_attention(seq, s, name, heads, bias.permute(2, 0, 1)[None])
    return out.view(b, n, t, c).permute(0, 2, 1, 3).reshape(b * t, n, c)


def ref_patch_merging(x: torch.Tensor, s: State, name: str, hw: Tuple[int, int]) -> torch.Tensor:
    f, _, c = x.shape
    g = x.view(f, hw[0], hw[1], c)
    merged = torch.cat([g[:, 0::2, 0::2], g[:, 1::2, 0::2], g[:, 0::2, 1::2], g[:, 1::2, 1::2]], -1)
    merged = ref_layer_norm(merged, s[name + ".norm.weight"], s[name + ".norm.bias"])
    return ref_linear(merged, s, name + ".reduction").reshape(f, -1, 2 * c)


def stage_windows(arch: dict) -> List[Tuple[Tuple[int, int], int]]:
    """(grid, effective window) of every stage: a grid not larger than the window is one window."""
    side = arch["img_size"] // 4
    out = []
    for i in range(len(arch["depths"])):
        grid = side // 2 ** i
        out.append(((grid, grid), min(grid, arch["window_size"])))
    return out


def reference_features(x: torch.Tensor, s: State, arch: dict) -> torch.Tensor:
    """The original AIM Swin forward on (B, 3, T, H, W) with weights ``s``: (B, C, T/2, h, w)."""
    b, _, frames, hgt, wid = x.shape
    t, p = 2, 4
    tt, hh, ww = frames // t, hgt // p, wid // p
    tubes = x.view(b, 3, tt, t, hh, p, ww, p).permute(0, 2, 4, 6, 1, 3, 5, 7).reshape(b, tt, hh * ww, -1)
    weight = s["patch_embed.proj.weight"]
    tokens = tubes @ weight.reshape(weight.shape[0], -1).t() + s["patch_embed.proj.bias"]
    tokens = ref_layer_norm(tokens, s["patch_embed.norm.weight"], s["patch_embed.norm.bias"])
    if "temporal_embedding" in s:
        tokens = tokens + s["temporal_embedding"][0, :tt, None, :]
    x = tokens.reshape(b * tt, hh * ww, -1)
    for i, ((grid, ws), depth) in enumerate(zip(stage_windows(arch), arch["depths"])):
        heads = arch["num_heads"][i]
        for j in range(depth):
            n = f"layers.{i}.blocks.{j}"
            ln1 = (s[f"{n}.norm1.weight"], s[f"{n}.norm1.bias"])
            if j % 2 == 0:  # temporal adaptation, then un-shifted windows
                att = ref_temporal_attention(ref_layer_norm(x, *ln1), s, f"{n}.attn", heads, b, tt)
                x = x + ref_adapter(att, s, f"{n}.T_Adapter")
            shift = ws // 2 if (j % 2 == 1 and grid[0] > ws) else 0
            att = ref_window_attention(ref_layer_norm(x, *ln1), s, f"{n}.attn", heads, grid, ws, shift)
            x = x + att + ref_adapter(att, s, f"{n}.S_Adapter2")
            xn = ref_layer_norm(x, s[f"{n}.norm2.weight"], s[f"{n}.norm2.bias"])
            mlp = ref_linear(ref_gelu(ref_linear(xn, s, f"{n}.mlp.fc1")), s, f"{n}.mlp.fc2")
            x = x + mlp + 0.5 * ref_adapter(xn, s, f"{n}.S_Adapter")
        if i < len(arch["depths"]) - 1:
            x = ref_patch_merging(x, s, f"layers.{i}.downsample", grid)
    x = ref_layer_norm(x, s["norm.weight"], s["norm.bias"])
    side = stage_windows(arch)[-1][0][0]
    return x.view(b, tt, side, side, -1).permute(0, 4, 1, 2, 3)


# --------------------------------------------------------------------- the original's key layout
def original_layout(arch: dict, with_buffers: bool = False) -> Dict[str, Tuple[int, ...]]:
    """Every key and shape of the original AIM Swin state dict, listed from its code's structure."""
    c0 = arch["embed_dim"]
    t0 = arch["num_frames"] // 2
    keys = {"patch_embed.proj.weight": (c0, 3, 2, 4, 4), "patch_embed.proj.bias": (c0,),
            "patch_embed.norm.weight": (c0,), "patch_embed.norm.bias": (c0,)}
    if arch.get("t_relative", True) is False:
        keys["temporal_embedding"] = (1, t0, c0)
    for i, ((grid, ws), depth) in enumerate(zip(stage_windows(arch), arch["depths"])):
        c, heads = c0 * 2 ** i, arch["num_heads"][i]
        for j in range(depth):
            n = f"layers.{i}.blocks.{j}"
            for ln in ("norm1", "norm2"):
                keys.update({f"{n}.{ln}.weight": (c,), f"{n}.{ln}.bias": (c,)})
            keys.update({f"{n}.attn.relative_position_bias_table": ((2 * ws - 1) ** 2, heads),
                         f"{n}.attn.qkv.weight": (3 * c, c), f"{n}.attn.qkv.bias": (3 * c,),
                         f"{n}.attn.proj.weight": (c, c), f"{n}.attn.proj.bias": (c,),
                         f"{n}.mlp.fc1.weight": (4 * c, c), f"{n}.mlp.fc1.bias": (4 * c,),
                         f"{n}.mlp.fc2.weight": (c, 4 * c), f"{n}.mlp.fc2.bias": (c,)})
            adapters = ["S_Adapter", "S_Adapter2"] + (["T_Adapter"] if j % 2 == 0 else [])
            for a in adapters:
                keys.update({f"{n}.{a}.D_fc1.weight": (c // 4, c), f"{n}.{a}.D_fc1.bias": (c // 4,),
                             f"{n}.{a}.D_fc2.weight": (c, c // 4), f"{n}.{a}.D_fc2.bias": (c,)})
            if j % 2 == 0:
                keys[f"{n}.attn.temporal_position_bias_table"] = (2 * t0 - 1, heads)
            if with_buffers:
                keys[f"{n}.attn.relative_position_index"] = (ws * ws, ws * ws)
                if j % 2 == 0:
                    keys[f"{n}.attn.t_relative_coords"] = (t0 * t0,)
                if j % 2 == 1 and grid[0] > ws:
                    keys[f"{n}.attn_mask"] = ((grid[0] // ws) ** 2, ws * ws, ws * ws)
        if i < len(arch["depths"]) - 1:
            keys.update({f"layers.{i}.downsample.reduction.weight": (2 * c, 4 * c),
                         f"layers.{i}.downsample.norm.weight": (4 * c,), f"layers.{i}.downsample.norm.bias": (4 * c,)})
    c_last = c0 * 2 ** (len(arch["depths"]) - 1)
    keys.update({"norm.weight": (c_last,), "norm.bias": (c_last,)})
    return keys


def random_state(arch: dict, seed: int = 0, with_buffers: bool = False) -> State:
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in original_layout(arch, with_buffers).items():
        if key.endswith(("relative_position_index", "t_relative_coords", "attn_mask")):
            state[key] = torch.zeros(shape, dtype=torch.long if "index" in key or "coords" in key else torch.float)
        elif re.search(r"norm\d?\.weight$", key):
            state[key] = 1.0 + 0.2 * torch.randn(shape, generator=g)
        elif key.endswith("bias_table"):
            state[key] = torch.randn(shape, generator=g)  # biases that visibly move attention
        else:
            fan_in = shape[1] if len(shape) == 2 else (math.prod(shape[1:]) if len(shape) > 2 else 1)
            state[key] = torch.randn(shape, generator=g) * (0.3 if len(shape) == 1 else 1.0 / math.sqrt(fan_in))
    return state


def build(arch: dict, **kwargs) -> SwinTransformer2D_Adapter:
    return SwinTransformer2D_Adapter(drop_path_rate=0.0, **{**arch, **kwargs})


def assert_relative_close(ours: torch.Tensor, ref: torch.Tensor, rel: float = 1e-5) -> None:
    err = (ours - ref).abs().max().item()
    scale = ref.abs().max().item()
    assert err <= rel * scale, f"max |ours - ref| = {err:.3e}, {err / scale:.3e} relative"


# ----------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("arch,frames", [(TINY_A, 6), (TINY_A, 4), (TINY_B, 4)], ids=["A", "A_fewer_frames", "B"])
def test_original_layout_loads_strictly_and_matches_reference(arch, frames):
    model = build(arch).eval()
    state = random_state(arch)
    assert set(model.state_dict()) == set(state)
    model.load_state_dict(state, strict=True)
    x = torch.randn(2, 3, frames, arch["img_size"], arch["img_size"], generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours = model(x)
    ref = reference_features(x, state, arch)
    side = arch["img_size"] // 4 // 2 ** (len(arch["depths"]) - 1)
    assert ours.shape == (2, arch["embed_dim"] * 2 ** (len(arch["depths"]) - 1), frames // 2, side, side)
    assert_relative_close(ours, ref)


def test_every_part_moves_the_output():
    """The compared output depends on the temporal table, the window bias (shifted block) and each adapter."""
    state = random_state(TINY_A)
    model = build(TINY_A).eval()
    model.load_state_dict(state)
    x = torch.randn(1, 3, 6, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        base = model(x)
        for key in ("layers.0.blocks.0.attn.temporal_position_bias_table",
                    "layers.1.blocks.1.attn.relative_position_bias_table",
                    "layers.0.blocks.0.T_Adapter.D_fc2.weight", "layers.0.blocks.1.S_Adapter2.D_fc2.weight",
                    "layers.1.blocks.1.S_Adapter.D_fc2.weight"):
            changed = dict(state, **{key: state[key] + 0.5 * torch.randn(state[key].shape)})
            model.load_state_dict(changed)
            assert (model(x) - base).abs().max() > 1e-3, key


def test_files_with_the_original_buffers_load_strictly():
    """Checkpoints of the original code also hold relative_position_index, t_relative_coords and attn_mask."""
    state = random_state(TINY_A, with_buffers=True)
    assert any(k.endswith("attn_mask") for k in state) and any(k.endswith("t_relative_coords") for k in state)
    model = build(TINY_A)
    model.load_state_dict(state, strict=True)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_shifted_windows_are_exercised():
    model = build(TINY_A)
    shifts = [(i, j, blk.shift_size, blk.has_temporal) for i, layer in enumerate(model.layers)
              for j, blk in enumerate(layer.blocks)]
    assert shifts == [(0, 0, 0, True), (0, 1, 2, False), (1, 0, 0, True), (1, 1, 2, False)]
    last = build(TINY_B).layers[-1].blocks[0]
    assert (last.attn.window_size, last.shift_size) == (4, 0)  # a 4x4 grid is one window


# ------------------------------------------------------------------------- weights from files
def timm_swin(embed_dim: int = 32, depths=(2, 2), num_heads=(2, 4)):
    timm = pytest.importorskip("timm")
    torch.manual_seed(0)
    model = timm.create_model("swin_base_patch4_window7_224", pretrained=False, img_size=64, window_size=4,
                              embed_dim=embed_dim, depths=depths, num_heads=num_heads, num_classes=10)
    # LayerNorms away from 1/0, so that a missed norm shows
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name:
                param.add_(0.1 * torch.randn_like(param))
    return model.eval()


def microsoft_layout(timm_state: State) -> State:
    """timm -> Microsoft's release layout: downsample at the end of a stage, ``head.*``, buffers."""
    out = {}
    for key, value in timm_state.items():
        m = re.match(r"layers\.(\d+)\.downsample\.(.*)", key)
        if m:
            key = f"layers.{int(m.group(1)) - 1}.downsample.{m.group(2)}"
        out[key.replace("head.fc.", "head.")] = value
    out["layers.0.blocks.0.attn.relative_position_index"] = torch.zeros(16, 16, dtype=torch.long)
    out["layers.0.blocks.1.attn_mask"] = torch.zeros(16, 16, 16)
    return out


@pytest.mark.parametrize("layout", ["timm_pth", "timm_safetensors", "microsoft"])
def test_image_weights_give_the_image_model_per_frame(tmp_path, layout):
    """Adapters at zero + tubelets of two equal frames: the model is timm's Swin on each frame."""
    image = timm_swin()
    state = image.state_dict()
    if layout == "timm_safetensors":
        from safetensors.torch import save_file

        path = tmp_path / "swin.safetensors"
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    elif layout == "microsoft":
        path = tmp_path / "swin_base_patch4_window7_224_22k.pth"
        torch.save({"model": microsoft_layout(state)}, path)
    else:
        path = tmp_path / "swin_timm.pth"
        torch.save(state, path)
    model = build(TINY_A, pretrained=str(path))
    model.init_weights()
    model.eval()
    proj = model.patch_embed.proj.weight.detach()
    for k in range(2):  # inflated: each time slice is the 2-D kernel / 2
        torch.testing.assert_close(proj[:, :, k], state["patch_embed.proj.weight"] / 2, rtol=0, atol=0)
    assert torch.equal(model.layers[0].downsample.reduction.weight, state["layers.1.downsample.reduction.weight"])
    frames = torch.randn(2, 3, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    video = frames.repeat_interleave(2, dim=2)  # (B, 3, 6, 64, 64), tubelet k = frame k twice
    with torch.no_grad():
        ours = model(video)  # (B, 64, 3, 8, 8)
        per_frame = torch.stack([image.forward_features(frames[:, :, k]) for k in range(3)], 1)  # (B, 3, 8, 8, 64)
    assert_relative_close(ours, per_frame.permute(0, 4, 1, 2, 3))


def test_backbone_checkpoint_round_trip(tmp_path):
    """A training checkpoint of this backbone (mmengine, ``backbone.`` prefix) loads with its adapters."""
    state = random_state(TINY_A)
    path = tmp_path / "epoch_30.pth"
    torch.save({"meta": {}, "state_dict": {**{f"backbone.{k}": v for k, v in state.items()},
                                           "cls_head.fc_cls.weight": torch.zeros(5, 64)}}, path)
    model = build(TINY_A, pretrained=str(path))
    model.init_weights()
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


def save_state(path, state: State):
    torch.save({"model": state}, path)
    return str(path)


@pytest.mark.parametrize(
    "change,expected",
    [
        ("width", r"shapes differ: 'patch_embed\.proj\.weight' \(48, 3, 2, 4, 4\) in the file vs \(32, 3, 2, 4, 4\)"),
        ("depth", r"model keys missing from the file: 'layers\.1\.blocks\.1\.norm1\.weight'"),
        ("missing_norm", r"model keys missing from the file: 'layers\.0\.downsample\.norm\.weight'"),
        ("extra_layerscale", r"keys the model does not have: 'layers\.0\.blocks\.0\.gamma_1'"),
        ("window", r"shapes differ: 'layers\.0\.blocks\.0\.attn\.relative_position_bias_table' \(25, 2\)"),
        ("vit", r"not a Swin checkpoint"),
    ],
)
def test_other_architectures_are_refused(tmp_path, change, expected):
    state = timm_swin().state_dict()
    if change == "width":
        state = timm_swin(embed_dim=48, num_heads=(2, 4)).state_dict()
    elif change == "depth":
        state = timm_swin(depths=(2, 1)).state_dict()
    elif change == "missing_norm":
        state = {k: v for k, v in state.items() if not k.startswith("layers.1.downsample.norm")}
    elif change == "extra_layerscale":
        state["layers.0.blocks.0.gamma_1"] = torch.ones(32)
    elif change == "window":
        state["layers.0.blocks.0.attn.relative_position_bias_table"] = torch.zeros(25, 2)
    elif change == "vit":
        state = {"cls_token": torch.zeros(1, 1, 32), "patch_embed.proj.weight": torch.zeros(32, 3, 16, 16),
                 "blocks.0.norm1.weight": torch.ones(32)}
    path = save_state(tmp_path / f"{change}.pth", state)
    model = build(TINY_A, pretrained=path)
    with pytest.raises(PretrainedWeightsError, match=re.escape(path) + ".*" + expected) as info:
        model.init_weights()
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------------- sizes and tuning
def test_swin_b_parameter_counts():
    """Swin-B (embed 128, depths 2-2-18-2, heads 4-8-16-32, window 7), 32 frames, 400-class I3D head."""
    with torch.device("meta"):
        backbone = SwinTransformer2D_Adapter(embed_dim=128, depths=(2, 2, 18, 2), num_heads=(4, 8, 16, 32),
                                             window_size=7, num_frames=32, drop_path_rate=0.2)
        head = I3DHead(num_classes=400, in_channels=1024)
    total = sum(p.numel() for m in (backbone, head) for p in m.parameters())
    adapters = sum(p.numel() for m in backbone.modules() if isinstance(m, Adapter) for p in m.parameters())
    # independent count of the adapters: D^2/2 + 1.25 D each; 2 per block + 1 per even block
    expected_adapters = sum((2 * depth + (depth + 1) // 2) * (dim * dim // 2 + dim + dim // 4)
                            for depth, dim in zip((2, 2, 18, 2), (128, 256, 512, 1024)))
    assert adapters == expected_adapters
    assert round(total / 1e6, 2) == 95.93 and round(adapters / 1e6, 2) == 8.76, (total, adapters)
    tunable = sum(p.numel() for p in backbone.parameters() if p.requires_grad)
    assert tunable == adapters  # tuning='adapter': the original rule trains only the adapters here


def test_tuning_modes_and_frozen_stages():
    model = build(TINY_B)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {n for n in model.state_dict() if re.search(r"Adapter2?\.D_fc", n)} | {"temporal_embedding"}
    full = build(TINY_B, tuning="full")
    assert all(p.requires_grad for p in full.parameters())
    assert not any(p.requires_grad for p in build(TINY_B, tuning="linear_probe").parameters())

    frozen = build(TINY_A, frozen_stages=1, tuning="full", drop_rate=0.1).train()
    names = {n for n, p in frozen.named_parameters() if not p.requires_grad}
    assert names == {n for n, _ in frozen.named_parameters() if n.startswith(("patch_embed.", "layers.0."))}
    assert not frozen.layers[0].training and not frozen.patch_embed.training and frozen.layers[1].training
    with pytest.raises(ValueError, match="tuning"):
        build(TINY_A, tuning="lora")


def test_img_size_is_honoured_and_checked():
    small = build(TINY_A, img_size=32)
    assert small.patch_embed.grid == (8, 8)
    assert small(torch.randn(1, 3, 6, 32, 32)).shape == (1, 64, 3, 4, 4)
    with pytest.raises(ValueError, match=r"\(B, 3, T, 32, 32\).*\(1, 3, 6, 64, 64\)"):
        small(torch.randn(1, 3, 6, 64, 64))
    with pytest.raises(ValueError, match="num_frames=6"):
        small(torch.randn(1, 3, 8, 32, 32))


def test_registered_gradient_checkpointing_and_training_step():
    cfg = dict(type="SwinTransformer2D_Adapter", drop_path_rate=0.1, **TINY_A)
    plain, cp = MODELS.build(cfg), MODELS.build(dict(cfg, use_checkpoint=True))
    cp.load_state_dict(plain.state_dict())
    x = torch.randn(1, 3, 6, 64, 64)
    outs = []
    for model in (plain, cp):
        torch.manual_seed(3)
        out = model.train()(x)
        out.square().mean().backward()
        outs.append((out.detach(), model.layers[0].blocks[0].T_Adapter.D_fc2.weight.grad.clone()))
    torch.testing.assert_close(outs[0][0], outs[1][0])
    torch.testing.assert_close(outs[0][1], outs[1][1])
    assert outs[0][1].abs().sum() > 0


class _Payload:
    """Unpickling this object would write ``path``: it stands for code hidden in a weights file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_code_in_a_weights_file_never_runs(tmp_path):
    """A Swin file that also pickles a callable: the callable is never called; the weights load (today's
    reader skips unknown objects) or the file is refused by name, never half-read."""
    marker = tmp_path / "code_ran"
    state = timm_swin().state_dict()
    path = tmp_path / "swin_with_payload.pth"
    torch.save({"model": state, "extra": _Payload(str(marker))}, path)
    model = build(TINY_A, pretrained=str(path))
    before = model.norm.weight.detach().clone()
    try:
        model.init_weights()
    except Exception as err:  # a stricter reader may refuse the file: then it names it, and loads nothing
        assert str(path) in str(err) and "\n" not in str(err).strip(), err
        assert torch.equal(model.norm.weight, before)
    else:
        assert torch.equal(model.norm.weight, state["norm.weight"])
    assert not marker.exists()


def test_a_module_that_declares_itself_trains():
    """What trains is declared by modules, not names: a wrapper on a frozen qkv that sets
    ``trains_with_adapters`` trains under tuning='adapter', whatever its name."""

    class LowRank(torch.nn.Module):
        def __init__(self, base: torch.nn.Linear, rank: int = 2) -> None:
            super().__init__()
            self.base = base
            self.down = torch.nn.Linear(base.in_features, rank, bias=False)
            self.up = torch.nn.Linear(rank, base.out_features, bias=False)
            self.down.trains_with_adapters = self.up.trains_with_adapters = True  # the low-rank part trains

        def forward(self, x):
            return self.base(x) + self.up(self.down(x))

    model = build(TINY_A)
    attn = model.layers[0].blocks[1].attn
    attn.qkv = LowRank(attn.qkv)
    x = torch.randn(1, 3, 6, 64, 64)
    with torch.no_grad():
        before = model.eval()(x)
        torch.nn.init.normal_(attn.qkv.up.weight)
        assert (model(x) - before).abs().max() > 1e-3  # the wrapper's forward is used
    model.apply_tuning()
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert {"layers.0.blocks.1.attn.qkv.up.weight", "layers.0.blocks.1.attn.qkv.down.weight"} <= trainable
    assert "layers.0.blocks.1.attn.qkv.base.weight" not in trainable  # the wrapped image weight stays frozen
    assert "layers.0.blocks.0.attn.qkv.weight" not in trainable
