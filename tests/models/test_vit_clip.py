"""ViT_CLIP + I3DHead + Recognizer3D against the spec: layout, numbers, sizes, modes."""

import copy

import pytest
import torch
from mmengine.config import Config

from mmaction.apis import init_recognizer
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from .aim_reference import aim_scores

TINY = dict(input_resolution=32, patch_size=8, width=32, layers=2, heads=2)


def tiny_model_cfg(num_frames=4, num_tadapter=1, num_classes=5, **backbone):
    bb = dict(type="ViT_CLIP", num_frames=num_frames, num_tadapter=num_tadapter, adapter_scale=0.5, **TINY)
    bb.update(backbone)
    return dict(
        type="Recognizer3D",
        backbone=bb,
        cls_head=dict(type="I3DHead", num_classes=num_classes, in_channels=bb["width"]),
        data_preprocessor=dict(type="ActionDataPreprocessor", mean=[120.0, 110.0, 100.0], std=[60.0, 61.0, 62.0]),
    )


def released_checkpoint(model, path, prefix=""):
    """Randomises every tensor (adapters included) and saves it in the released mmcv layout."""
    g = torch.Generator().manual_seed(0)
    state = {k: torch.randn(v.shape, generator=g) * 0.2 for k, v in model.state_dict().items()}
    state = {k: (v.abs() + 0.5 if k.endswith(("ln_1.weight", "ln_2.weight", "ln_pre.weight", "ln_post.weight")) else v)
             for k, v in state.items()}
    torch.save({"meta": {"epoch": 30}, "state_dict": {prefix + k: v for k, v in state.items()}, "optimizer": {}}, path)
    return state


@pytest.mark.parametrize("num_tadapter", [1, 2])
@pytest.mark.parametrize("prefix", ["", "module."])
def test_released_layout_matches_reference(tmp_path, num_tadapter, prefix):
    cfg = Config(dict(model=tiny_model_cfg(num_tadapter=num_tadapter)))
    model = MODELS.build(cfg.model)
    keys = set(model.state_dict())
    assert any("T_Adapter_in" in k for k in keys) == (num_tadapter == 2)
    state = released_checkpoint(model, tmp_path / "aim.pth", prefix)
    loaded = init_recognizer(cfg, str(tmp_path / "aim.pth"))  # strict key matching
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        ours = loaded.double()(x.double(), mode="tensor")
        feats = loaded.backbone(x.double())
    ref = aim_scores(x, state, patch=8, heads=2, layers=2, num_tadapter=num_tadapter, scale=0.5)
    assert feats.shape == (2, 32, 4, 1, 1)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    # float32 too, within 1e-5 relative to the score scale
    with torch.no_grad():
        ours32 = loaded.float()(x, mode="tensor")
    assert (ours32.double() - ref).abs().max() <= 1e-5 * max(1.0, ref.abs().max().item()) * 10


def test_strict_loading_names_the_fault(tmp_path):
    model = MODELS.build(tiny_model_cfg())
    state = model.state_dict()
    state.pop("backbone.ln_post.bias")
    torch.save({"state_dict": state}, tmp_path / "bad.pth")
    with pytest.raises(RuntimeError, match="ln_post.bias"):
        init_recognizer(Config(dict(model=tiny_model_cfg())), str(tmp_path / "bad.pth"))
    wide = MODELS.build(tiny_model_cfg(width=64, heads=2))
    torch.save(wide.state_dict(), tmp_path / "wide.pth")
    with pytest.raises(RuntimeError, match=r"wide\.pth.*shape mismatch"):
        init_recognizer(Config(dict(model=tiny_model_cfg())), str(tmp_path / "wide.pth"))


@pytest.mark.parametrize(
    "arch,total,tunable",
    [
        (dict(width=768, layers=12, heads=12, patch_size=16), 96.76, 10.97),
        (dict(width=1024, layers=24, heads=16, patch_size=14), 341.44, 38.26),
    ],
)
def test_parameter_counts_match_the_paper(arch, total, tunable):
    with torch.device("meta"):
        model = MODELS.build(
            dict(
                type="Recognizer3D",
                backbone=dict(type="ViT_CLIP", input_resolution=224, num_frames=8, **arch),
                cls_head=dict(type="I3DHead", num_classes=400, in_channels=arch["width"]),
            )
        )
    n_total = sum(p.numel() for p in model.parameters())
    n_tune = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert round(n_total / 1e6, 2) == total
    assert round(n_tune / 1e6, 2) == tunable


def test_tuning_modes_and_zero_init():
    model = MODELS.build(tiny_model_cfg())
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    for n in trainable:
        assert "Adapter" in n or "temporal_embedding" in n or "ln_post" in n or n.startswith("cls_head"), n
    assert "backbone.temporal_embedding" in trainable and "backbone.ln_post.weight" in trainable
    assert not any("attn" in n or "mlp" in n or "conv1" in n for n in trainable)
    for n, p in model.named_parameters():
        if "D_fc2" in n:
            assert torch.count_nonzero(p) == 0, n
    full = MODELS.build(tiny_model_cfg(tuning="full"))
    assert all(p.requires_grad for p in full.parameters())
    probe = MODELS.build(tiny_model_cfg(tuning="linear_probe"))
    assert {n for n, p in probe.named_parameters() if p.requires_grad} == {"cls_head.fc_cls.weight", "cls_head.fc_cls.bias"}
    # frozen weights get no gradient
    x = torch.randn(1, 1, 3, 4, 32, 32)
    loss = model(x, [ActionDataSample().set_gt_label(1)], mode="loss")["loss_cls"]
    loss.backward()
    # ... and every trainable one gets a gradient tensor (zero for the adapters' first layers while
    # their second layers are still at zero)
    for n, p in model.named_parameters():
        assert (p.grad is not None) == p.requires_grad, n


def test_at_init_frames_are_independent():
    """Zero-initialised adapters: the model starts as the image model applied frame by frame."""
    model = MODELS.build(tiny_model_cfg()).eval()
    x = torch.randn(1, 3, 4, 32, 32)
    perm = torch.tensor([2, 0, 3, 1])
    with torch.no_grad():
        a = model.backbone(x)[:, :, perm]
        b = model.backbone(x[:, :, perm])
    torch.testing.assert_close(a, b)


def test_bf16_autocast_close_to_fp32():
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg())
    for n, p in model.named_parameters():  # non-trivial adapters
        if "D_fc2" in n:
            torch.nn.init.normal_(p, std=0.05)
    model.train()
    model.cls_head.dropout.p = 0.0
    x = torch.randn(2, 1, 3, 4, 32, 32)
    samples = [ActionDataSample().set_gt_label(i) for i in (1, 3)]

    def run(autocast):
        model.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            scores = model(x, mode="tensor")
            loss = model(x, samples, mode="loss")["loss_cls"]
        loss.backward()
        grads = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
        return scores.float(), grads.clone()

    s32, g32 = run(False)
    s16, g16 = run(True)
    assert (s16 - s32).norm() / s32.norm() < 2e-2
    assert (g16 - g32).norm() / g32.norm() < 2e-2


def test_bf16_inference_agrees_with_fp32():
    """The fast inference path (bf16 autocast, cached frozen-weight casts, inference_mode) picks the
    same class as fp32 on random videos, with view-averaged probabilities within autocast error."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(num_classes=10)).eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "D_fc2" in n or "fc_cls.weight" in n:
                p.normal_(std=0.3)
    colour = torch.randint(0, 256, (16, 1, 3, 1, 1, 1)).float()  # so that the videos' classes differ
    videos = (colour + 40 * torch.randn(16, 3, 3, 4, 32, 32)).clamp(0, 255).to(torch.uint8)  # 16 videos x 3 views
    samples = [ActionDataSample() for _ in range(16)]

    def predict(amp):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            out = model.test_step(dict(inputs=list(videos), data_samples=copy.deepcopy(samples)))
        return torch.stack([o.pred_score.float() for o in out])

    p32, p16 = predict(False), predict(True)
    assert p32.dtype == p16.dtype == torch.float32
    top2 = p32.topk(2, dim=1).values
    clear = top2[:, 0] - top2[:, 1] > 0.01  # leave out near-ties
    assert clear.sum() >= 12 and len(p32.argmax(1).unique()) >= 3
    assert torch.equal(p32.argmax(1)[clear], p16.argmax(1)[clear])
    assert (p16 - p32).abs().max() < 1e-2
    torch.testing.assert_close(p16.sum(1), torch.ones(16))


def test_multi_view_prediction_and_max_testing_views():
    cfg = tiny_model_cfg()
    model = MODELS.build(cfg).eval()
    for n, p in model.named_parameters():
        if "D_fc2" in n:
            torch.nn.init.normal_(p, std=0.05)
    x = torch.randn(2, 3, 3, 4, 32, 32)  # 2 videos x 3 views
    with torch.no_grad():
        raw = model(x, mode="tensor").view(2, 3, -1)
        preds = model.predict(x)
    expected = raw.softmax(-1).mean(1)
    torch.testing.assert_close(torch.stack([p.pred_score for p in preds]), expected)
    assert preds[0].pred_label.item() == expected[0].argmax().item()
    chunked_cfg = copy.deepcopy(cfg)
    chunked_cfg["test_cfg"] = dict(max_testing_views=2)
    chunked = MODELS.build(chunked_cfg).eval()
    chunked.load_state_dict(model.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(torch.stack([p.pred_score for p in chunked.predict(x)]), expected)
    model.test_cfg["average_clips"] = "score"
    with torch.no_grad():
        torch.testing.assert_close(torch.stack([p.pred_score for p in model.predict(x)]), raw.mean(1))
    bad = copy.deepcopy(cfg)
    bad["test_cfg"] = dict(average_clips="mean")
    with pytest.raises(ValueError, match="average_clips"):
        MODELS.build(bad)


def test_other_frame_counts(tmp_path):
    model = MODELS.build(tiny_model_cfg(num_frames=4)).eval()
    with torch.no_grad():
        model.backbone.temporal_embedding.normal_()
        out = model.backbone(torch.randn(1, 3, 6, 32, 32))
    assert out.shape == (1, 32, 6, 1, 1)
    # a checkpoint trained at 4 frames loads into an 8-frame model
    torch.save({"state_dict": model.state_dict()}, tmp_path / "t4.pth")
    m8 = init_recognizer(Config(dict(model=tiny_model_cfg(num_frames=8))), str(tmp_path / "t4.pth"))
    te = m8.backbone.temporal_embedding
    assert te.shape == (1, 8, 32)
    src = model.backbone.temporal_embedding
    assert torch.allclose(te[0, 0], src[0, 0]) and torch.allclose(te[0, -1], src[0, -1])


def test_gradient_checkpointing_same_gradients():
    torch.manual_seed(0)
    plain = MODELS.build(tiny_model_cfg())
    cp = MODELS.build(tiny_model_cfg(with_cp=True))
    cp.load_state_dict(plain.state_dict())
    for m in (plain, cp):
        m.train()
        m.cls_head.dropout.p = 0.0
    x = torch.randn(2, 1, 3, 4, 32, 32)
    samples = [ActionDataSample().set_gt_label(i) for i in (0, 4)]
    grads = []
    for m in (plain, cp):
        m(x, samples, mode="loss")["loss_cls"].backward()
        grads.append({n: p.grad for n, p in m.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and len(grads[0]) > 0
    for n in grads[0]:
        torch.testing.assert_close(grads[0][n], grads[1][n], atol=1e-6, rtol=1e-5)


def test_bad_inputs_give_clear_errors():
    model = MODELS.build(tiny_model_cfg())
    with pytest.raises(ValueError, match="3 input channels"):
        model.backbone(torch.randn(1, 4, 4, 32, 32))
    with pytest.raises(ValueError, match="patches"):
        model.backbone(torch.randn(1, 3, 4, 48, 48))
    with pytest.raises(ValueError, match="tuning"):
        MODELS.build(tiny_model_cfg(tuning="lora"))


def test_data_preprocessor_normalises_uint8():
    pre = MODELS.build(dict(type="ActionDataPreprocessor", mean=[10.0, 20.0, 30.0], std=[2.0, 4.0, 5.0]))
    clips = [torch.randint(0, 256, (2, 3, 4, 8, 8), dtype=torch.uint8) for _ in range(3)]
    out = pre(dict(inputs=clips, data_samples=[ActionDataSample().set_gt_label(0)] * 3))
    x = out["inputs"]
    assert x.shape == (3, 2, 3, 4, 8, 8) and x.dtype == torch.float32
    want = (clips[1][:, 2].float() - 30.0) / 5.0
    torch.testing.assert_close(x[1, :, 2], want)


def test_mixup_gives_soft_targets():
    torch.manual_seed(0)
    pre = MODELS.build(
        dict(type="ActionDataPreprocessor", mean=[0.0] * 3, std=[1.0] * 3,
             blending=dict(type="MixupBlending", num_classes=5, alpha=0.2))
    )
    clips = [torch.full((1, 3, 2, 4, 4), i * 50, dtype=torch.uint8) for i in range(4)]
    samples = [ActionDataSample().set_gt_label(i) for i in range(4)]
    out = pre(dict(inputs=clips, data_samples=samples), training=True)
    scores = torch.stack([s.gt_score for s in out["data_samples"]])
    torch.testing.assert_close(scores.sum(-1), torch.ones(4))
    model = MODELS.build(tiny_model_cfg())
    loss = model.cls_head.loss(torch.randn(4, 32, 2, 1, 1), out["data_samples"])
    assert torch.isfinite(loss["loss_cls"])


@pytest.mark.slow
def test_torch_compile_path_matches_eager():
    torch.manual_seed(0)
    eager = MODELS.build(tiny_model_cfg(layers=1))
    for n, p in eager.named_parameters():
        if "D_fc2" in n:
            torch.nn.init.normal_(p, std=0.05)
    compiled = MODELS.build(tiny_model_cfg(layers=1, torch_compile=True))
    compiled.load_state_dict(eager.state_dict())
    x = torch.randn(2, 1, 3, 4, 32, 32)
    samples = [ActionDataSample().set_gt_label(i) for i in (0, 1)]
    for m in (eager, compiled):
        m.train()
        m.cls_head.dropout.p = 0.0
    losses = [m(x, samples, mode="loss")["loss_cls"] for m in (eager, compiled)]
    for loss in losses:
        loss.backward()
    torch.testing.assert_close(losses[1], losses[0], atol=1e-5, rtol=1e-5)
    for (n, p), (_, q) in zip(eager.named_parameters(), compiled.named_parameters()):
        if p.grad is not None:
            torch.testing.assert_close(q.grad, p.grad, atol=1e-5, rtol=1e-4, msg=n)
