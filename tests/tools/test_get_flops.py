"""tools/analysis/get_flops.py against an analytic count derived here from the AIM architecture."""

import json
import math
import time
from pathlib import Path

import pytest

from tests.engine.engine_testkit import REPO_ROOT

GET_FLOPS = "tools/analysis/get_flops.py"


def analytic_macs(frames: int, res: int, patch: int, width: int, layers: int, num_classes: int,
                  num_tadapter: int, ratio: float = 0.25) -> int:
    """Multiply-adds of one view (1, 3, T, res, res) through ViT_CLIP + I3DHead, from the architecture.

    Per frame there are P = (res/patch)^2 patches and L = P + 1 tokens (class token). A Linear
    (n tokens, a -> b) costs n*a*b; multi-head attention over S tokens of width D costs S*S*D for
    Q K^T plus S*S*D for softmax(.) V, whatever the number of heads.
    """
    d, t = width, frames
    p = (res // patch) ** 2
    n_tok = p + 1
    hidden = int(d * ratio)
    adapter = d * hidden + hidden * d  # D_fc1 + D_fc2 per token
    patch_embed = t * p * (3 * patch * patch) * d  # conv1 (no bias): one dot product per patch and channel
    # temporal pass: L sequences of T tokens (tokens at the same position in the T frames)
    temporal = n_tok * t * 3 * d * d  # in_proj (q, k, v)
    temporal += n_tok * (t * t * d + t * t * d)  # q k^T and attn @ v
    temporal += n_tok * t * d * d  # out_proj
    temporal += num_tadapter * n_tok * t * adapter  # T_Adapter (and T_Adapter_in)
    # spatial pass: T sequences of L tokens
    spatial = t * n_tok * 3 * d * d + t * (n_tok * n_tok * d * 2) + t * n_tok * d * d + t * n_tok * adapter
    # joint: MLP c_fc (D -> 4D) and c_proj (4D -> D), plus MLP_Adapter
    mlp = t * n_tok * (d * 4 * d + 4 * d * d) + t * n_tok * adapter
    head = d * num_classes  # fc_cls on the (1, D) average over frames
    return patch_embed + layers * (temporal + spatial + mlp) + head


def analytic_params(frames: int, res: int, patch: int, width: int, layers: int, num_classes: int,
                    num_tadapter: int, ratio: float = 0.25):
    """(total, tunable) parameters of ViT_CLIP + I3DHead with tuning='adapter'."""
    d = width
    hidden = int(d * ratio)
    adapter = d * hidden + hidden + hidden * d + d
    n_tok = (res // patch) ** 2 + 1
    frozen = 3 * patch * patch * d + d + n_tok * d + 2 * d  # conv1, class_embedding, positional, ln_pre
    frozen += layers * ((3 * d * d + 3 * d) + (d * d + d) + 2 * 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d))
    tunable = frames * d + 2 * d + layers * (2 + num_tadapter) * adapter + d * num_classes + num_classes
    return frozen + tunable, tunable


def write_config(path: Path, *, frames: int, res: int, patch: int, width: int, layers: int, heads: int,
                 num_classes: int, num_tadapter: int, num_clips: int, three_crop: bool) -> Path:
    crop = (f"dict(type='ThreeCrop', crop_size={res})" if three_crop
            else f"dict(type='CenterCrop', crop_size={res})")
    path.write_text(f"""
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ViT_CLIP', input_resolution={res}, num_frames={frames}, patch_size={patch},
                  width={width}, layers={layers}, heads={heads}, num_tadapter={num_tadapter},
                  adapter_scale=0.5, drop_path_rate=0.1, pretrained=None),
    cls_head=dict(type='I3DHead', num_classes={num_classes}, in_channels={width}),
    data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW'))
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len={frames}, frame_interval=2, num_clips={num_clips}, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, {res})),
    {crop},
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
""")
    return path


def run_json(load_tool, capsys, *argv: str) -> dict:
    rc = load_tool(GET_FLOPS).main([*argv, "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(out.out.strip().splitlines()[-1])


ARCHS = [
    # T=3 frames (odd, != heads), 2 blocks, 3 heads, 2 clips x 3 crops, one temporal adapter
    dict(frames=3, res=24, patch=8, width=48, layers=2, heads=3, num_classes=5, num_tadapter=1, num_clips=2,
         three_crop=True),
    # SSv2-style block with T_Adapter_in, 1 clip x 1 crop
    dict(frames=4, res=32, patch=16, width=32, layers=3, heads=2, num_classes=7, num_tadapter=2, num_clips=1,
         three_crop=False),
]


@pytest.mark.parametrize("arch", ARCHS, ids=["tadapter1_2x3views", "tadapter2_1view"])
def test_tiny_model_matches_analytic_count(tmp_path, load_tool, capsys, arch):
    cfg = write_config(tmp_path / "tiny_flops.py", **arch)
    result = run_json(load_tool, capsys, str(cfg))
    assert set(result) >= {"params", "tunable_params", "gflops_per_view", "num_views", "gflops_total"}

    shape = {k: arch[k] for k in ("frames", "res", "patch", "width", "layers", "num_classes", "num_tadapter")}
    macs = analytic_macs(**shape)
    assert round(result["gflops_per_view"] * 1e9) == macs  # exact to the multiply-add
    views = arch["num_clips"] * (3 if arch["three_crop"] else 1)
    assert result["num_views"] == views
    assert math.isclose(result["gflops_total"], views * macs / 1e9, rel_tol=1e-12)
    total, tunable = analytic_params(**shape)
    assert (result["params"], result["tunable_params"]) == (total, tunable)


def test_fake_and_real_counting_agree(tmp_path, load_tool, capsys):
    """The meta/fake-tensor count equals a count on real zero tensors."""
    cfg = write_config(tmp_path / "tiny_flops.py", **ARCHS[0])
    fake = run_json(load_tool, capsys, str(cfg))
    real = run_json(load_tool, capsys, str(cfg), "--real")
    assert fake["gflops_per_view"] == real["gflops_per_view"]
    assert fake["params"] == real["params"]


def test_cfg_options_change_the_count(tmp_path, load_tool, capsys):
    arch = dict(ARCHS[0])
    cfg = write_config(tmp_path / "tiny_flops.py", **arch)
    result = run_json(load_tool, capsys, str(cfg), "--cfg-options", "model.backbone.layers=3",
                      "model.cls_head.num_classes=9")
    arch.update(layers=3, num_classes=9)
    shape = {k: arch[k] for k in ("frames", "res", "patch", "width", "layers", "num_classes", "num_tadapter")}
    assert round(result["gflops_per_view"] * 1e9) == analytic_macs(**shape)
    assert (result["params"], result["tunable_params"]) == analytic_params(**shape)


def test_vit_b16_k400_8x3x1_matches_readme(load_tool, capsys):
    """README row: 606 GFLOPs over 3 views, 97 M parameters, 11 M tunable; built without arithmetic."""
    cfg = REPO_ROOT / "configs/recognition/vit/vitclip_base_k400_8x16x1_3views.py"
    start = time.perf_counter()
    result = run_json(load_tool, capsys, str(cfg))
    elapsed = time.perf_counter() - start
    assert result["num_views"] == 3
    assert abs(result["gflops_total"] - 606) / 606 < 0.03
    assert round(result["params"] / 1e6) == 97 and round(result["tunable_params"] / 1e6) == 11
    # and the same count from the architecture: 8 frames of 224 px, 12 blocks of width 768, 400 classes
    assert round(result["gflops_per_view"] * 1e9) == analytic_macs(8, 224, 16, 768, 12, 400, 1)
    assert (result["params"], result["tunable_params"]) == analytic_params(8, 224, 16, 768, 12, 400, 1)
    assert elapsed < 20, f"counting ViT-B/16 took {elapsed:.1f} s"


def test_text_output_and_errors(tmp_path, load_tool, capsys):
    cfg = write_config(tmp_path / "tiny_flops.py", **ARCHS[1])
    assert load_tool(GET_FLOPS).main([str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "GFLOPs per view" in out and "GFLOPs total" in out and "params" in out

    missing = tmp_path / "nope.py"
    assert load_tool(GET_FLOPS).main([str(missing)]) == 1
    assert str(missing) in capsys.readouterr().err


def views_of(load_tool, steps):
    from mmengine.config import Config

    cfg = Config(dict(model=dict(backbone=dict(input_resolution=32)), test_pipeline=steps))
    return load_tool(GET_FLOPS).pipeline_views(cfg, "test")


def test_views_come_from_the_test_pipeline_itself(load_tool):
    views = views_of(load_tool, [dict(type="SampleFrames", clip_len=6, frame_interval=2, num_clips=4, test_mode=True),
                                 dict(type="TenCrop", crop_size=32)])
    assert (views["num_clips"], views["num_crops"], views["num_views"], views["clip_len"]) == (4, 10, 40, 6)
    twice = views_of(load_tool, [dict(type="SampleFrames", clip_len=6, num_clips=2, twice_sample=True, test_mode=True),
                                 dict(type="ThreeCrop", crop_size=32)])
    assert (twice["num_clips"], twice["num_views"]) == (4, 12)  # TSM-style twice sampling doubles the clips
    uniform = views_of(load_tool, [dict(type="UniformSample", clip_len=5, test_mode=True),
                                   dict(type="CenterCrop", crop_size=32)])
    assert (uniform["num_views"], uniform["clip_len"]) == (1, 5)


def test_a_pipeline_without_one_frame_sampler_is_an_error(load_tool):
    with pytest.raises(ValueError, match="test_dataloader.dataset.pipeline .*0 frame samplers"):
        views_of(load_tool, [dict(type="DecordInit"), dict(type="CenterCrop", crop_size=32)])
    with pytest.raises(ValueError, match="2 frame samplers"):
        views_of(load_tool, [dict(type="SampleFrames", clip_len=2), dict(type="UniformSample", clip_len=2)])
