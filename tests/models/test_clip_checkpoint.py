"""Pretrained CLIP weights: every file format and source gives the same tensors, errors are clear.

A tiny random CLIP image tower (width 32, 2 blocks, patch 8, 32 px) is written in OpenAI's format
(a TorchScript archive of a model with a ``visual`` attribute, fp16) and, with the same values, in
the open_clip, timm (through timm's own converter), Hugging Face, safetensors and AIM-checkpoint
layouts. Nothing is downloaded: the OpenAI download is replaced by a local copy.
"""

import logging
import math
import shutil
from collections import OrderedDict
from pathlib import Path
from typing import Dict

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from mmengine.logging import HistoryBuffer

from mmaction.models.backbones import clip_checkpoint as cc

# torch.jit is deprecated upstream, but OpenAI's released towers are TorchScript archives.
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")

WIDTH, LAYERS, HEADS, PATCH, RES, EMBED_DIM = 32, 2, 2, 8, 32, 16
ARCH = dict(width=WIDTH, patch_size=PATCH, input_resolution=RES, layers=LAYERS)


# ------------------------------------------------------------------------------------------------
# A tiny OpenAI-style CLIP, written independently of mmaction
# ------------------------------------------------------------------------------------------------
class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, d: int, heads: int, mlp_ratio: int = 4) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads)
        self.ln_1 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(d, d * mlp_ratio)), ("gelu", QuickGELU()),
            ("c_proj", nn.Linear(d * mlp_ratio, d))]))
        self.ln_2 = nn.LayerNorm(d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (L, N, D)
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, d: int, layers: int, heads: int, mlp_ratio: int = 4) -> None:
        super().__init__()
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(d, heads, mlp_ratio) for _ in range(layers)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resblocks(x)


class VisionTower(nn.Module):
    """OpenAI CLIP's VisionTransformer; ``features`` is the class token after ln_post, (B, D)."""

    def __init__(self, res: int = RES, mlp_ratio: int = 4, num_frames: int = 0) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, WIDTH, PATCH, PATCH, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(WIDTH))
        self.positional_embedding = nn.Parameter(torch.randn((res // PATCH) ** 2 + 1, WIDTH))
        self.ln_pre = nn.LayerNorm(WIDTH)
        self.transformer = Transformer(WIDTH, LAYERS, HEADS, mlp_ratio)
        self.ln_post = nn.LayerNorm(WIDTH)
        self.proj = nn.Parameter(torch.randn(WIDTH, EMBED_DIM))
        if num_frames:
            self.temporal_embedding = nn.Parameter(torch.zeros(1, num_frames, WIDTH))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x).flatten(2).transpose(1, 2)  # (B, HW, D)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.transformer(self.ln_pre(x).transpose(0, 1)).transpose(0, 1)
        return self.ln_post(x[:, 0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x) @ self.proj


class TinyCLIP(nn.Module):
    """Image tower under ``visual`` plus a few text-side tensors, as in OpenAI's archives."""

    def __init__(self) -> None:
        super().__init__()
        self.visual = VisionTower()
        self.token_embedding = nn.Embedding(10, WIDTH)
        self.ln_final = nn.LayerNorm(WIDTH)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.visual(image)


class TrainingMeta:
    """An arbitrary class in a checkpoint's meta: torch.load(weights_only=True) refuses it."""

    def __init__(self) -> None:
        self.note = "not a tensor"


def _randomise(module: nn.Module, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.2 + (1.0 if p.dim() == 1 and p.numel() == WIDTH else 0.0))


def _hf_layout(vis: Dict[str, torch.Tensor], prefix: str) -> Dict[str, torch.Tensor]:
    """Hugging Face CLIPVisionModel names for the same weights (q/k/v split)."""
    out = {
        prefix + "embeddings.class_embedding": vis["class_embedding"],
        prefix + "embeddings.patch_embedding.weight": vis["conv1.weight"],
        prefix + "embeddings.position_embedding.weight": vis["positional_embedding"],
        prefix + "embeddings.position_ids": torch.arange(vis["positional_embedding"].shape[0])[None],
        prefix + "pre_layrnorm.weight": vis["ln_pre.weight"], prefix + "pre_layrnorm.bias": vis["ln_pre.bias"],
        prefix + "post_layernorm.weight": vis["ln_post.weight"], prefix + "post_layernorm.bias": vis["ln_post.bias"],
        "visual_projection.weight": vis["proj"].t().contiguous(),
    }
    for i in range(LAYERS):
        src, dst = f"transformer.resblocks.{i}.", f"{prefix}encoder.layers.{i}."
        for j, name in enumerate("qkv"):
            out[f"{dst}self_attn.{name}_proj.weight"] = vis[src + "attn.in_proj_weight"].chunk(3)[j].clone()
            out[f"{dst}self_attn.{name}_proj.bias"] = vis[src + "attn.in_proj_bias"].chunk(3)[j].clone()
        pairs = [("attn.out_proj", "self_attn.out_proj"), ("ln_1", "layer_norm1"), ("ln_2", "layer_norm2"),
                 ("mlp.c_fc", "mlp.fc1"), ("mlp.c_proj", "mlp.fc2")]
        for ours, theirs in pairs:
            for kind in ("weight", "bias"):
                out[f"{dst}{theirs}.{kind}"] = vis[f"{src}{ours}.{kind}"]
    return out


def _timm_layout(clip_state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """The same weights as named by timm itself (its own OpenAI-CLIP converter and model)."""
    timm_vit = pytest.importorskip("timm.models.vision_transformer")
    model = timm_vit.VisionTransformer(
        img_size=RES, patch_size=PATCH, embed_dim=WIDTH, depth=LAYERS, num_heads=HEADS, pre_norm=True,
        num_classes=EMBED_DIM, global_pool="token", act_layer=QuickGELU)
    model.load_state_dict(timm_vit._convert_openai_clip(clip_state, model), strict=True)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def tower(tmp_path_factory) -> dict:
    """The reference tower (fp16-rounded float32) and the same weights saved in every format."""
    root = tmp_path_factory.mktemp("clip_ckpt")
    clip = TinyCLIP()
    _randomise(clip, seed=0)
    clip = clip.half()
    files: Dict[str, Path] = {}

    files["openai_jit"] = root / "ViT-T-8.pt"
    torch.jit.save(torch.jit.script(clip), str(files["openai_jit"]))

    full = {k: v.detach().clone() for k, v in clip.state_dict().items()}
    vis = {k[len("visual."):]: v for k, v in full.items() if k.startswith("visual.")}
    vis32 = {k: v.float() for k, v in vis.items()}

    files["open_clip"] = root / "open_clip_epoch_3.pt"  # open_clip training checkpoint layout
    torch.save({"epoch": 3, "name": "tiny", "state_dict": {"module." + k: v for k, v in full.items()}},
               files["open_clip"])

    files["timm"] = root / "timm_vit_clip.pth"
    timm_state = _timm_layout({"visual." + k: v for k, v in vis32.items()})
    torch.save(timm_state, files["timm"])

    files["hf_safetensors"] = root / "hf_vision" / "model.safetensors"
    files["hf_safetensors"].parent.mkdir()
    save_file(_hf_layout(vis, "vision_model."), str(files["hf_safetensors"]))
    files["hf_bin"] = root / "hf_clip.bin"
    torch.save(_hf_layout(vis32, "clip.vision_model."), files["hf_bin"])

    files["plain_safetensors"] = root / "plain.safetensors"
    save_file({k: v.contiguous() for k, v in vis.items()}, str(files["plain_safetensors"]))

    temporal = torch.stack([torch.full((WIDTH,), 1.0), torch.full((WIDTH,), 3.0)])[None]  # (1, 2, D)
    adapter_key = "backbone.transformer.resblocks.0.S_Adapter.D_fc1.weight"
    backbone = {"backbone." + k: v for k, v in vis32.items() if k != "proj"}
    backbone.update({"backbone.temporal_embedding": temporal, adapter_key: torch.ones(8, WIDTH),
                     "cls_head.fc_cls.weight": torch.zeros(5, WIDTH)})
    files["aim"] = root / "aim_k400_b16.pth"
    torch.save({"meta": {"epoch": 30, "best": np.float64(0.5), "hist": np.arange(3), "obj": TrainingMeta()},
                "state_dict": backbone, "optimizer": {"state": {}},
                "message_hub": {"log_scalars": {"train/loss": HistoryBuffer([0.5, 0.25], [1, 1])}}}, files["aim"])

    reference = VisionTower()
    reference.load_state_dict(vis32)
    return dict(root=root, files=files, vis=vis32, model=reference.eval(), timm=timm_state,
                extras={"temporal_embedding": temporal, adapter_key[len("backbone."):]: torch.ones(8, WIDTH)})


def _expected(tower: dict) -> Dict[str, torch.Tensor]:
    return {k: v for k, v in tower["vis"].items() if k != "proj"}


def _assert_same(got: Dict[str, torch.Tensor], want: Dict[str, torch.Tensor]) -> None:
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        assert got[key].dtype == torch.float32, key
        assert torch.equal(got[key], value), key


ROUTES = ["openai_jit", "open_clip", "timm", "hf_safetensors", "hf_bin", "plain_safetensors", "aim"]


# ------------------------------------------------------------------------------------------------
# Every route gives the same tensors
# ------------------------------------------------------------------------------------------------
def test_openai_archive_is_like_openais(tower):
    state = torch.jit.load(str(tower["files"]["openai_jit"]), map_location="cpu").state_dict()
    assert "visual.conv1.weight" in state and "logit_scale" in state
    assert state["visual.conv1.weight"].dtype == torch.float16


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_gives_the_same_tensors(tower, route):
    got = cc.load_clip_visual_state_dict(str(tower["files"][route]), **ARCH)
    want = _expected(tower)
    if route == "aim":  # a recognizer checkpoint keeps the backbone's own tensors, drops the head
        want = {**want, **tower["extras"]}
    _assert_same(got, want)


def test_hugging_face_folder_is_accepted(tower):
    got = cc.load_clip_visual_state_dict(str(tower["files"]["hf_safetensors"].parent), **ARCH)
    _assert_same(got, _expected(tower))


def test_timm_patch_bias_is_folded_into_positions(tower, tmp_path):
    state = dict(tower["timm"])
    bias = torch.linspace(-1, 1, WIDTH)
    state["patch_embed.proj.bias"] = bias
    path = tmp_path / "timm_bias.pth"
    torch.save(state, path)
    got = cc.load_clip_visual_state_dict(str(path), **ARCH)
    pos = tower["vis"]["positional_embedding"]
    assert torch.equal(got["positional_embedding"][0], pos[0])
    assert torch.allclose(got["positional_embedding"][1:], pos[1:] + bias)


# ------------------------------------------------------------------------------------------------
# OpenAI towers: cache, download, SHA-256, architecture table
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def tiny_openai_table(tower, monkeypatch):
    """Replace the OpenAI table by one tiny tower whose 'released file' is the test archive."""
    src = tower["files"]["openai_jit"]
    entry = cc.ClipTower("ViT-T-8", "https://example.invalid/clip/ViT-T-8.pt", cc.sha256_of_file(str(src)),
                         WIDTH, PATCH, RES, LAYERS)
    monkeypatch.setattr(cc, "OPENAI_CLIP_TOWERS", {"ViT-T/8": entry})
    calls = []

    def fake_download(url, dst, hash_prefix=None, progress=True):
        calls.append((url, dst))
        shutil.copyfile(src, dst)

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    return dict(entry=entry, calls=calls, src=src)


def test_openai_cache_is_used_without_download(tower, tiny_openai_table, tmp_path):
    shutil.copyfile(tiny_openai_table["src"], tmp_path / "ViT-T-8.pt")
    for name in ("openaiclip", "openai", "ViT-T/8", "ViT-T-8"):
        got = cc.load_clip_visual_state_dict(name, cache_dir=str(tmp_path), **ARCH)
        _assert_same(got, _expected(tower))
    assert tiny_openai_table["calls"] == []


def test_openai_download_fills_the_cache_once(tower, tiny_openai_table, tmp_path):
    cache = tmp_path / "cache"
    got = cc.load_clip_visual_state_dict("openaiclip", cache_dir=str(cache), **ARCH)
    _assert_same(got, _expected(tower))
    assert [url for url, _ in tiny_openai_table["calls"]] == [tiny_openai_table["entry"].url]
    assert sorted(p.name for p in cache.iterdir()) == ["ViT-T-8.pt"]
    cc.load_clip_visual_state_dict("openaiclip", cache_dir=str(cache), **ARCH)
    assert len(tiny_openai_table["calls"]) == 1


def test_openai_sha256_mismatch_is_refused(tiny_openai_table, monkeypatch, tmp_path):
    wrong = "0" * 64
    entry = tiny_openai_table["entry"]
    monkeypatch.setattr(cc, "OPENAI_CLIP_TOWERS", {"ViT-T/8": cc.ClipTower(
        entry.name, entry.url, wrong, WIDTH, PATCH, RES, LAYERS)})
    with pytest.raises(RuntimeError) as err:
        cc.load_clip_visual_state_dict("openaiclip", cache_dir=str(tmp_path), **ARCH)
    assert wrong in str(err.value) and entry.sha256 in str(err.value)
    assert list(tmp_path.iterdir()) == []  # the bad download is not left in the cache
    shutil.copyfile(tiny_openai_table["src"], tmp_path / "ViT-T-8.pt")  # a damaged cached copy
    with pytest.raises(RuntimeError, match="cached CLIP weights .*ViT-T-8.pt: expected 0{64}"):
        cc.load_clip_visual_state_dict("openaiclip", cache_dir=str(tmp_path), **ARCH)


def test_openai_tower_choice_by_architecture():
    b16 = dict(width=768, patch_size=16, layers=12)
    assert cc.find_openai_tower("openaiclip", input_resolution=224, **b16).name == "ViT-B-16"
    assert cc.find_openai_tower("openai", width=768, patch_size=32, input_resolution=224, layers=12).name == "ViT-B-32"
    l14 = dict(width=1024, patch_size=14, layers=24)
    assert cc.find_openai_tower("openaiclip", input_resolution=224, **l14).name == "ViT-L-14"
    assert cc.find_openai_tower("openaiclip", input_resolution=336, **l14).name == "ViT-L-14-336px"
    assert cc.find_openai_tower("ViT-L/14@336px", input_resolution=224, **b16).name == "ViT-L-14-336px"
    assert cc.find_openai_tower("openaiclip", input_resolution=256, **b16).name == "ViT-B-16"  # resampled
    assert cc.find_openai_tower("some/file.pt", input_resolution=224, **b16) is None
    with pytest.raises(ValueError) as err:
        cc.find_openai_tower("openaiclip", width=48, patch_size=8, input_resolution=32, layers=2)
    for name in ("ViT-B/32", "ViT-B/16", "ViT-L/14", "ViT-L/14@336px"):
        assert name in str(err.value)


# ------------------------------------------------------------------------------------------------
# Errors that name the file, the key and the shapes
# ------------------------------------------------------------------------------------------------
def test_wrong_width_names_file_key_and_shapes(tower):
    path = str(tower["files"]["open_clip"])
    with pytest.raises(ValueError) as err:
        cc.load_clip_visual_state_dict(path, **{**ARCH, "width": 48})
    msg = str(err.value)
    assert path in msg and "'conv1.weight'" in msg and "(32, 3, 8, 8)" in msg and "(48, 3, 8, 8)" in msg


def test_wrong_depth_is_refused(tower):
    path = str(tower["files"]["timm"])
    with pytest.raises(ValueError, match=r"has 2 transformer blocks .* layers=3"):
        cc.load_clip_visual_state_dict(path, **{**ARCH, "layers": 3})


def test_module_shape_mismatch_names_file_key_and_shapes(tower):
    path = str(tower["files"]["hf_bin"])
    narrow_mlp = VisionTower(mlp_ratio=2)
    with pytest.raises(ValueError) as err:
        cc.load_pretrained_clip(narrow_mlp, path, **ARCH)
    msg = str(err.value)
    assert path in msg and "transformer.resblocks.0.mlp.c_fc.weight" in msg
    assert "(128, 32)" in msg and "(64, 32)" in msg


def test_unreadable_and_foreign_files_are_named(tmp_path):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeError, match="junk.pth"):
        cc.load_clip_visual_state_dict(str(junk), **ARCH)
    foreign = tmp_path / "resnet.pth"
    torch.save({"conv.weight": torch.zeros(2, 3, 1, 1)}, foreign)
    with pytest.raises(ValueError, match="resnet.pth: not a CLIP visual tower"):
        cc.load_clip_visual_state_dict(str(foreign), **ARCH)
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        cc.load_clip_visual_state_dict(str(tmp_path / "missing.pt"), **ARCH)


# ------------------------------------------------------------------------------------------------
# Resampling and loading into a module
# ------------------------------------------------------------------------------------------------
def test_positional_embedding_interpolation_shapes():
    pos = torch.randn(1 + 4 * 4, 8)
    out = cc.interpolate_positional_embedding(pos, 1 + 6 * 6)
    assert out.shape == (37, 8) and torch.equal(out[0], pos[0])
    assert torch.equal(cc.interpolate_positional_embedding(pos, 17), pos)
    assert cc.interpolate_positional_embedding(pos[None], 1 + 2 * 2).shape == (1, 5, 8)
    flat = torch.ones(1 + 3 * 3, 4)
    assert torch.allclose(cc.interpolate_positional_embedding(flat, 1 + 5 * 5), torch.ones(26, 4))
    with pytest.raises(ValueError, match="square"):
        cc.interpolate_positional_embedding(torch.randn(1 + 12, 8), 17)


def test_larger_input_resolution_resamples_positions(tower):
    got = cc.load_clip_visual_state_dict(str(tower["files"]["openai_jit"]), **{**ARCH, "input_resolution": 48})
    assert got["positional_embedding"].shape == (1 + 6 * 6, WIDTH)
    assert torch.equal(got["positional_embedding"][0], tower["vis"]["positional_embedding"][0])
    model = VisionTower(res=48)
    cc.load_pretrained_clip(model, str(tower["files"]["openai_jit"]), **{**ARCH, "input_resolution": 48})
    assert model.features(torch.randn(1, 3, 48, 48)).shape == (1, WIDTH)


def test_load_into_module_reproduces_the_tower(tower, caplog):
    model = VisionTower(num_frames=2)
    logger = logging.getLogger("test_clip_checkpoint")
    with caplog.at_level(logging.INFO, logger="test_clip_checkpoint"):
        missing, unexpected = cc.load_pretrained_clip(model, str(tower["files"]["hf_safetensors"]),
                                                      logger=logger, **ARCH)
    assert sorted(missing) == ["proj", "temporal_embedding"] and unexpected == []
    assert "temporal_embedding" in caplog.text
    image = torch.randn(2, 3, RES, RES)
    with torch.no_grad():
        assert torch.allclose(model.eval().features(image), tower["model"].features(image), atol=1e-6)


def test_recognizer_checkpoint_temporal_embedding_follows_frame_count(tower):
    model = VisionTower(num_frames=4)
    missing, _ = cc.load_pretrained_clip(model, str(tower["files"]["aim"]), **ARCH)
    assert "temporal_embedding" not in missing
    temporal = model.temporal_embedding.detach()[0, :, 0]
    assert temporal.tolist() == [1.0, 1.5, 2.5, 3.0]  # linear resampling of frames (1, 3) to 4 frames


# ------------------------------------------------------------------------------------------------
# The backbone built with pretrained=<each file>
# ------------------------------------------------------------------------------------------------
def test_vit_clip_backbone_from_every_route(tower):
    vit_clip = pytest.importorskip("mmaction.models.backbones.vit_clip")
    if not hasattr(vit_clip, "ViT_CLIP"):
        pytest.skip("ViT_CLIP not written yet")
    torch.manual_seed(0)
    video = torch.randn(1, 3, 2, RES, RES)
    outputs = {}
    for route in ROUTES:
        backbone = vit_clip.ViT_CLIP(input_resolution=RES, num_frames=2, patch_size=PATCH, width=WIDTH,
                                     layers=LAYERS, heads=HEADS, pretrained=str(tower["files"][route]))
        if route == "aim":  # the recognizer checkpoint also sets temporal_embedding and an adapter
            backbone.init_weights()
            assert torch.equal(backbone.temporal_embedding.detach(), tower["extras"]["temporal_embedding"])
            continue
        backbone.init_weights()
        with torch.no_grad():
            outputs[route] = backbone.eval()(video)
    first = outputs[ROUTES[0]]
    assert first.shape == (1, WIDTH, 2, 1, 1)
    for route, out in outputs.items():
        assert torch.equal(out, first), route
    with torch.no_grad():  # zero-initialised adapters: per-frame CLIP class-token features
        frames = tower["model"].features(video.permute(0, 2, 1, 3, 4).reshape(2, 3, RES, RES))
    assert torch.allclose(first[0, :, :, 0, 0].t(), frames, atol=1e-5)
