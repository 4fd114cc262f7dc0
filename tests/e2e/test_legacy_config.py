"""The original AIM (MMAction2 0.x / mmcv) config style and command lines still work:
``data=dict(videos_per_gpu=...)``, ``optimizer``, ``optimizer_config``, ``lr_config``,
``total_epochs``, ``evaluation``, ``checkpoint_config``, ``log_config``, ``dist_params`` ...
are translated at load time; ``--resume-from`` continues a run exactly (launched here as 2 nodes
x 1 process: NNODES/NODE_RANK/MASTER_ADDR/PORT); ``dist_test.sh ... --eval`` tests it."""

import re

import pytest
import torch

from tests.e2e.conftest import NUM_TEST, NUM_VAL, SEED
from tests.engine.engine_testkit import (
    describe,
    dist_tool,
    dist_train_nodes,
    load_checkpoint_file,
    output,
    parse_metric_line,
    read_logs,
    tensor_differences,
    tensors_in,
)

pytestmark = pytest.mark.slow

EPOCHS = 2


@pytest.fixture(scope="module")
def legacy_run(make_config, tmp_path_factory):
    cfg = make_config("tiny_legacy", legacy=True, max_epochs=EPOCHS)
    work_dir = tmp_path_factory.mktemp("e2e_legacy") / "work"
    # the original README's order: --test-last --validate --cfg-options ... work_dir=...
    proc = dist_tool("dist_train.sh", str(cfg), "--test-last", "--validate", "--seed", SEED, "--deterministic",
                     "--cfg-options", f"work_dir={work_dir}", nproc=2)
    return cfg, work_dir, proc


def test_original_config_trains_validates_and_tests(legacy_run):
    cfg, work_dir, proc = legacy_run
    assert proc.returncode == 0, describe(proc)
    text = output(proc)
    for note in ("total_epochs=2 -> train_cfg.max_epochs", "data.train (+videos_per_gpu/workers_per_gpu) -> "
                 "train_dataloader", "optimizer -> optim_wrapper.optimizer", "lr_config (policy=CosineAnnealing",
                 "evaluation (interval, metrics, save_best)", "checkpoint_config -> default_hooks.checkpoint"):
        assert note in text, f"translation note {note!r} missing"
    if not torch.cuda.is_available():
        assert "dist backend 'nccl' needs CUDA devices; none found, using 'gloo'" in text
    assert {f"epoch_{e}.pth" for e in range(1, EPOCHS + 1)} <= {p.name for p in work_dir.iterdir()}
    assert list(work_dir.glob("best_acc_top1_epoch_*.pth"))
    log = read_logs(work_dir)
    # evaluation.metrics = ['top_k_accuracy', 'mean_class_accuracy'], evaluation.interval = 1
    assert len(re.findall(r"Epoch\(val\) \[\d\]\[\d+/\d+\]\s+acc/top1: [\d.]+\s+acc/top5: [\d.]+\s+acc/mean1: ",
                          log)) == EPOCHS
    assert log.count(f"AccMetric: evaluated {NUM_VAL} videos") == EPOCHS
    assert log.count(f"AccMetric: evaluated {NUM_TEST} videos") == 1
    parse_metric_line(text, "test (last weights):")
    # log_config's TensorboardLoggerHook -> TensorBoard event file
    assert list(work_dir.glob("*/vis_data/events.out.tfevents.*"))


def test_resume_from_on_two_nodes_continues_exactly(legacy_run, tmp_path):
    """``--resume-from`` of the 2-process run's epoch 1, launched as 2 nodes x 1 process
    (NNODES=2, NODE_RANK=0|1, MASTER_ADDR, PORT: the same world of 2 ranks), ends with exactly
    the weights of the uninterrupted run."""
    cfg, work_dir, first = legacy_run
    assert first.returncode == 0, describe(first)
    node0, node1 = dist_train_nodes(str(cfg), "--validate", "--seed", SEED, "--deterministic", "--resume-from",
                                    str(work_dir / "epoch_1.pth"), "--cfg-options", f"work_dir={tmp_path / 'w2'}")
    assert node0.returncode == 0, describe(node0)
    assert node1.returncode == 0, describe(node1)
    assert "Epoch(train) [1]" not in output(node0) and "Epoch(train) [2]" in output(node0)
    assert "Epoch(train)" not in output(node1), "only rank 0 logs"
    assert "RNGStateHook: random generator states restored from the checkpoint" in output(node0)
    assert not (tmp_path / "w2" / "epoch_1.pth").exists()
    ref = load_checkpoint_file(work_dir / f"epoch_{EPOCHS}.pth")
    new = load_checkpoint_file(tmp_path / "w2" / f"epoch_{EPOCHS}.pth")
    assert not tensor_differences(ref["state_dict"], new["state_dict"])
    assert not tensor_differences(tensors_in(ref["optimizer"]), tensors_in(new["optimizer"]))


def test_original_test_command(legacy_run, tmp_path):
    cfg, work_dir, first = legacy_run
    assert first.returncode == 0, describe(first)
    ckpt = work_dir / f"epoch_{EPOCHS}.pth"
    proc = dist_tool("dist_test.sh", str(cfg), str(ckpt), "--eval", "top_k_accuracy", "--work-dir",
                     str(tmp_path / "t"), nproc=1)
    assert proc.returncode == 0, describe(proc)
    metrics = parse_metric_line(output(proc), f"test {ckpt}:")
    assert set(metrics) == {"acc/top1", "acc/top5", "acc/num_failed"}  # no mean_class_accuracy asked for
    assert metrics["acc/top1"] == parse_metric_line(output(first), "test (last weights):")["acc/top1"]
