"""``bash tools/dist_train.sh CFG 2 --validate --test-last``: trains on 2 CPU processes (torchrun,
gloo), validates every epoch, keeps checkpoints, tests the final weights, and logs to text,
JSON and TensorBoard."""

import re

import pytest

from tests.e2e.conftest import NUM_TEST, NUM_TRAIN, NUM_VAL
from tests.engine.engine_testkit import (
    describe,
    load_checkpoint_file,
    output,
    parse_metric_line,
    read_logs,
    read_scalars,
    run_dirs,
    tensorboard_scalars,
)

pytestmark = pytest.mark.slow

EPOCHS, NPROC, BATCH = 3, 2, 2
ITERS_PER_EPOCH = NUM_TRAIN // (NPROC * BATCH)


def test_run_succeeds_and_writes_checkpoints(dist_run):
    assert dist_run.proc.returncode == 0, describe(dist_run.proc)
    work = dist_run.work_dir
    names = sorted(p.name for p in work.iterdir() if p.is_file())
    assert {f"epoch_{e}.pth" for e in range(1, EPOCHS + 1)} <= set(names), names
    best = [n for n in names if n.startswith("best_acc_top1_epoch_")]
    assert len(best) == 1, names
    assert not [n for n in names if ".tmp-" in n], f"temporary files left behind: {names}"
    assert (work / "last_checkpoint").read_text().strip().endswith(f"epoch_{EPOCHS}.pth")
    assert (work / f"{dist_run.config.stem}.py").is_file(), "the config is copied into the work dir"

    ckpt = load_checkpoint_file(work / f"epoch_{EPOCHS}.pth")
    assert ckpt["meta"]["epoch"] == EPOCHS and ckpt["meta"]["iter"] == EPOCHS * ITERS_PER_EPOCH
    assert {"state_dict", "optimizer", "param_schedulers", "message_hub", "rng_states"} <= set(ckpt)
    assert len(ckpt["rng_states"]) == NPROC, "every rank's random generator states are saved"
    assert not any(k.startswith("module.") for k in ckpt["state_dict"]), "weights are saved without the DDP prefix"


def test_validation_and_test_metrics_are_logged(dist_run):
    assert dist_run.proc.returncode == 0, describe(dist_run.proc)
    log = read_logs(dist_run.work_dir)
    assert len(run_dirs(dist_run.work_dir)) == 1, "one log folder (rank 0) per run"
    for epoch in range(1, EPOCHS + 1):
        assert re.search(rf"Epoch\(val\) \[{epoch}\]\[\d+/\d+\]\s+acc/top1: [\d.]+\s+acc/top5: [\d.]+\s+acc/mean1: ",
                         log), f"no validation metrics of epoch {epoch}"
    # validation and test count exactly the dataset's videos, although 2 processes split them
    assert log.count(f"AccMetric: evaluated {NUM_VAL} videos") == EPOCHS
    assert log.count(f"AccMetric: evaluated {NUM_TEST} videos") == 1
    assert re.search(r"Epoch\(test\) \[\d+/\d+\]\s+acc/top1: ", log)
    test_metrics = parse_metric_line(output(dist_run.proc), "test (last weights):")
    assert set(test_metrics) == {"acc/top1", "acc/top5", "acc/mean1", "acc/num_failed"}
    assert 0.0 <= test_metrics["acc/top1"] <= 1.0 and test_metrics["acc/num_failed"] == 0
    assert "test (last weights):" in log


def test_scalars_reach_tensorboard_and_json(dist_run):
    assert dist_run.proc.returncode == 0, describe(dist_run.proc)
    events = list(dist_run.work_dir.glob("*/vis_data/events.out.tfevents.*"))
    assert len(events) == 1, events
    tb = tensorboard_scalars(dist_run.work_dir)
    for tag in ("loss", "loss_cls", "lr", "acc/top1", "acc/top5", "acc/mean1"):
        assert tag in tb, f"{tag} missing from TensorBoard: {sorted(tb)}"
    assert len(tb["loss"]) == EPOCHS * ITERS_PER_EPOCH  # logger interval 1 in the tiny config
    assert len(tb["acc/top1"]) == EPOCHS

    records = read_scalars(dist_run.work_dir)
    val = [r for r in records if "acc/top1" in r]
    train = [r for r in records if "loss" in r]
    assert [r["step"] for r in val] == list(range(1, EPOCHS + 1))
    assert len(train) == EPOCHS * ITERS_PER_EPOCH
    assert tb["acc/top1"] == pytest.approx([r["acc/top1"] for r in val])
    assert tb["loss"] == pytest.approx([r["loss"] for r in train], rel=1e-6)

    # the best checkpoint is the first epoch with the highest validation top-1
    accs = [r["acc/top1"] for r in val]
    best_epoch = accs.index(max(accs)) + 1
    assert (dist_run.work_dir / f"best_acc_top1_epoch_{best_epoch}.pth").is_file()
