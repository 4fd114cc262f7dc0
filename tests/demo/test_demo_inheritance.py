"""A config that inherits the demo for other data inherits none of its data generation, and the
demo config finds its project (``projects.tiny_demo``) from a fresh process and an install."""

import os
import subprocess
import sys
import textwrap

import pytest

from tests.engine.engine_testkit import make_video_set

from .conftest import DEMO_CONFIG, LOADERS, REPO_ROOT

NUM_CLASSES = 4  # the demo head's


def write_child_config(tmp_path, delete: bool) -> str:
    """A dataset config on the demo: own videos in every loader, no pre-training hook."""
    lists = {split: make_video_set(tmp_path / "mine", split, 4, num_classes=NUM_CLASSES, size=48) for split in
             ("train", "val", "test")}
    loaders = "\n".join(
        f"{loader} = dict(dataset=dict({'_delete_=True, ' if delete else ''}type='VideoDataset', "
        f"ann_file='{lists[loader.split('_')[0]]}', data_prefix=dict(video='{tmp_path / 'mine'}'), "
        f"pipeline={{{{_base_.{loader.split('_')[0]}_pipeline}}}}{', test_mode=True' if loader != LOADERS[0] else ''}))"
        for loader in LOADERS)
    text = textwrap.dedent(f"""\
        _base_ = ['{DEMO_CONFIG}']
        custom_hooks = [dict(type='RNGStateHook')]
        model = dict(backbone=dict(pretrained=None))
        """) + loaders + "\n"
    path = tmp_path / "my_dataset_config.py"
    path.write_text(text)
    return str(path)


def generated(folder) -> list:
    """What the demo would have written under ``folder`` (its data folder, temporary folders)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if "demo" in p.name)


def test_dataset_config_inheriting_the_demo_generates_nothing(tmp_path, monkeypatch):
    from mmaction.apis.config_loader import load_config
    from mmaction.registry import DATASETS

    monkeypatch.chdir(tmp_path)  # the demo's data_root (data/demo) is relative to the working folder
    monkeypatch.delenv("AIM_DEMO_DATA", raising=False)
    cfg, _ = load_config(write_child_config(tmp_path, delete=True), launcher="none")
    assert [h["type"] for h in cfg.custom_hooks] == ["RNGStateHook", "ScheduleResumeHook"]
    for loader in LOADERS:
        dataset = DATASETS.build(dict(cfg[loader].dataset))
        assert type(dataset).__name__ == "VideoDataset" and len(dataset) == 4
        assert dataset.get_data_info(0)["filename"].startswith(str(tmp_path / "mine"))
    assert generated(tmp_path) == [] and not (tmp_path / "data").exists()


def test_changing_the_type_without_delete_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    """mmengine merges the child's dataset dict into the demo's: the demo's ``split`` and ``spec``
    stay, and VideoDataset takes neither; the config check names them."""
    from mmaction.apis.config_loader import load_config
    from mmaction.engine.runner.config_check import ConfigError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"train_dataloader\.dataset\.(spec|split)"):
        load_config(write_child_config(tmp_path, delete=False), launcher="none")
    assert generated(tmp_path) == [] and not (tmp_path / "data").exists()


def test_the_demo_config_finds_its_project_from_a_fresh_process(tmp_path):
    """As tools/dist_train.sh runs it: the repository root on PYTHONPATH, any working folder."""
    code = ("import sys; from mmengine.config import Config; "
            f"cfg = Config.fromfile({str(DEMO_CONFIG)!r}); "
            "from mmaction.registry import DATASETS, HOOKS; "
            "print('projects.tiny_demo' in sys.modules, DATASETS.get('MovingShapesDataset').__module__, "
            "HOOKS.get('PretrainImageModelHook').__module__)")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["True", "projects.tiny_demo.moving_shapes_dataset",
                                   "projects.tiny_demo.pretrain_hook"]


def test_setup_py_installs_the_projects_package(monkeypatch):
    """``pip install -e .`` maps what setup.py lists: the demo configs import projects.tiny_demo by name."""
    from distutils.core import run_setup

    monkeypatch.chdir(REPO_ROOT)
    dist = run_setup(str(REPO_ROOT / "setup.py"), stop_after="init")
    assert {"mmaction", "projects", "projects.tiny_demo", "projects.tiny_demo.tools"} <= set(dist.packages)
    assert not any(p.startswith("tests") for p in dist.packages)
