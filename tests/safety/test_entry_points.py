"""Every library entry point that reads a weights file refuses each crafted file by name, before any
of its code runs: ``read_checkpoint``, ``load_model_checkpoint``, ``init_recognizer`` (and so
``inference_recognizer``, which only ever sees a model built by it), ``pretrained=``, ``init_cfg``'s
``Pretrained``, mmengine's ``load_checkpoint`` / ``CheckpointLoader`` (what ``load_from``,
``resume`` and ``init_cfg`` call), ``demo/demo.py`` and ``tools/misc/extract_features.py``."""

import importlib.util
import shutil
import sys

import pytest
import torch
from mmengine.model import BaseModule
from mmengine.runner import CheckpointLoader, load_checkpoint
from torch import nn

import mmaction.engine.runner  # noqa: F401 - installs the safe loaders into mmengine
from mmaction.apis import inference_recognizer, init_recognizer, load_model_checkpoint, read_checkpoint
from mmaction.models.backbones.vit_clip import ViT_CLIP
from mmaction.utils.safe_load import UnsafeCheckpointError
from tests.engine.engine_testkit import REPO_ROOT
from tests.safety.conftest import assert_refused


def _load_script(relpath: str):
    name = "safety_" + relpath.replace("/", "_").removesuffix(".py")
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO_ROOT / relpath)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_read_checkpoint_and_load_model_checkpoint(payload):
    with pytest.raises(UnsafeCheckpointError) as err:
        read_checkpoint(str(payload.path))
    assert_refused(str(err.value), payload)
    with pytest.raises(UnsafeCheckpointError) as err:
        load_model_checkpoint(nn.Linear(2, 2), str(payload.path))
    assert_refused(str(err.value), payload)


def test_init_recognizer_and_inference_recognizer(payload, tiny_setup):
    with pytest.raises(UnsafeCheckpointError) as err:
        inference_recognizer(init_recognizer(str(tiny_setup.config), str(payload.path)), str(tiny_setup.video))
    assert_refused(str(err.value), payload)


def test_pretrained(payload, tiny_setup):
    backbone = ViT_CLIP(input_resolution=32, num_frames=2, patch_size=8, width=32, layers=1, heads=2,
                        pretrained=str(payload.path))
    with pytest.raises(UnsafeCheckpointError) as err:
        backbone.init_weights()
    assert_refused(str(err.value), payload)
    with pytest.raises(UnsafeCheckpointError) as err:  # the same through a config and init_recognizer
        init_recognizer(str(tiny_setup.config), cfg_options={"model.backbone.pretrained": str(payload.path)})
    assert_refused(str(err.value), payload)


def test_init_cfg_pretrained(payload, tiny_setup):
    module = BaseModule(init_cfg=dict(type="Pretrained", checkpoint=str(payload.path)))
    module.w = nn.Parameter(torch.zeros(2))
    with pytest.raises(UnsafeCheckpointError) as err:
        module.init_weights()
    assert_refused(str(err.value), payload)
    with pytest.raises(UnsafeCheckpointError) as err:  # a recognizer's init_cfg, through a config
        init_recognizer(str(tiny_setup.config),
                        cfg_options={"model.init_cfg": dict(type="Pretrained", checkpoint=str(payload.path))})
    assert_refused(str(err.value), payload)


def test_mmengine_loaders_used_by_load_from_and_resume(payload):
    with pytest.raises(UnsafeCheckpointError) as err:
        load_checkpoint(nn.Linear(2, 2), str(payload.path), map_location="cpu")
    assert_refused(str(err.value), payload)
    with pytest.raises(UnsafeCheckpointError) as err:
        CheckpointLoader.load_checkpoint(str(payload.path), map_location="cpu")
    assert_refused(str(err.value), payload)


def test_http_checkpoints_are_downloaded_then_read_safely(make_payload, tmp_path, monkeypatch):
    payload = make_payload("zip_exec")
    hub_dir = tmp_path / "hub"
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub_dir))
    monkeypatch.setattr(torch.hub, "download_url_to_file",
                        lambda url, dst, hash_prefix=None, progress=True: shutil.copyfile(payload.path, dst))
    with pytest.raises(UnsafeCheckpointError) as err:
        CheckpointLoader.load_checkpoint("https://example.invalid/zip_exec.pth", map_location="cpu")
    assert str(hub_dir / "checkpoints" / "zip_exec.pth") in str(err.value) and "builtins.exec" in str(err.value)
    assert not payload.ran()
    with pytest.raises(UnsafeCheckpointError, match="torchvision://resnet50"):
        CheckpointLoader.load_checkpoint("torchvision://resnet50")


def test_our_own_checkpoint_still_loads_through_mmengine(tmp_path):
    model = nn.Linear(3, 2)
    path = tmp_path / "epoch_1.pth"
    torch.save({"meta": {"epoch": 1}, "state_dict": model.state_dict()}, path)
    other = nn.Linear(3, 2)
    load_checkpoint(other, str(path), map_location="cpu")
    assert torch.equal(other.weight, model.weight) and torch.equal(other.bias, model.bias)


@pytest.mark.parametrize("kind", ["zip_exec", "torchscript", "legacy"])
def test_demo(kind, make_payload, tiny_setup, capsys, tmp_path):
    payload = make_payload(kind)
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\nc\n")
    rc = _load_script("demo/demo.py").main([str(tiny_setup.video), str(tiny_setup.config), str(payload.path),
                                            "--label-map", str(labels)])
    err = capsys.readouterr().err
    assert rc != 0
    assert_refused(err, payload)


@pytest.mark.parametrize("kind", ["raw_pickle", "zip_system"])
def test_extract_features(kind, make_payload, tiny_setup, capsys, tmp_path):
    payload = make_payload(kind)
    out = tmp_path / "features"
    rc = _load_script("tools/misc/extract_features.py").main(
        [str(tiny_setup.config), str(payload.path), "--list", str(tiny_setup.test_list),
         "--data-prefix", str(tiny_setup.root), "--out", str(out)])
    err = capsys.readouterr().err
    assert rc != 0
    assert_refused(err, payload)
    assert not out.exists() or not any(out.iterdir())


def test_torch_environment_override_does_not_reopen_the_door(make_payload, monkeypatch):
    """``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` turns torch.load's default off (mmengine's own local loader
    would then unpickle anything); our loaders pass ``weights_only=True`` explicitly, which it cannot override."""
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    payload = make_payload("zip_exec")
    for load in (lambda p: load_checkpoint(nn.Linear(2, 2), p, map_location="cpu"), read_checkpoint):
        with pytest.raises(UnsafeCheckpointError) as err:
            load(str(payload.path))
        assert_refused(str(err.value), payload)
