"""The 8 original CLIP config files (written in the original 0.x style from a table of their
settings) build and train one iteration through the one config loader, with tiny overrides."""

import copy

import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper

from mmaction.apis.config_loader import load_config
from mmaction.apis.model_builder import build_model
from mmaction.registry import DATASETS
from tests.e2e.original_style import ORIGINALS, tiny_options, write_original
from tests.engine.engine_testkit import make_video_set


@pytest.fixture(scope="module")
def lists(tmp_path_factory):
    root = tmp_path_factory.mktemp("orig_videos")
    return root, make_video_set(root, "train", 2, size=40, num_frames=6), make_video_set(root, "val", 1, size=40,
                                                                                           num_frames=6, seed=1)


@pytest.mark.parametrize("name", sorted(ORIGINALS))
def test_original_config_builds_and_trains_one_iteration(name, lists, tmp_path):
    root, train_list, val_list = lists
    settings = ORIGINALS[name]
    path = write_original(tmp_path, name)
    cfg, notes = load_config(str(path), tiny_options(train_list, val_list, root), launcher="none")

    # the translation is what the original meant
    assert cfg.train_dataloader.batch_size == 2 and "data" not in cfg
    assert cfg.model.data_preprocessor.mean == pytest.approx([122.769, 116.74, 104.04])
    assert cfg.model.data_preprocessor.std == pytest.approx([68.493, 66.63, 70.321])
    assert cfg.train_cfg.max_epochs == settings.epochs
    assert cfg.optim_wrapper.type == "MixedPrecisionOptimWrapper" and cfg.optim_wrapper.dtype == "float16"
    for loader in ("train_dataloader", "val_dataloader", "test_dataloader"):
        kinds = [step["type"] for step in cfg[loader].dataset.pipeline]
        assert kinds[-1] == "PackActionInputs" and "Collect" not in kinds and "ToTensor" not in kinds
    if settings.smoothing is not None:
        assert cfg.model.cls_head.label_smooth_eps == settings.smoothing
        assert "blending" not in (cfg.model.get("data_preprocessor") or {})
        assert any("LabelSmoothing" in n and "label_smooth_eps" in n for n in notes)
    assert all("\n" not in note for note in notes), "one line per change"

    model = build_model(cfg, load_pretrained=False)
    dataset = DATASETS.build(copy.deepcopy(cfg.train_dataloader.dataset))
    batch = pseudo_collate([dataset[0], dataset[1]])
    optim_wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    tunable = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    assert tunable and len(tunable) < len(list(model.parameters())), "adapter tuning freezes the image weights"
    model.train()
    losses = model.train_step(batch, optim_wrapper)
    assert torch.isfinite(losses["loss"]) and losses["loss"] > 0
    changed = [n for n, p in model.named_parameters() if p.requires_grad and not torch.equal(p, tunable[n])]
    assert changed, "one iteration updated no tunable weight"
