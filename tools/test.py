#!/usr/bin/env python
"""Test (evaluate) a checkpoint.

Examples:
    python tools/test.py CONFIG CHECKPOINT --eval top_k_accuracy mean_class_accuracy
    bash tools/dist_test.sh CONFIG CHECKPOINT 8 --eval top_k_accuracy --out results.pkl

The checkpoint may be one written by tools/train.py, a released AIM (mmcv-style) checkpoint,
or a plain/DDP state dict; its weights must fit the model (missing or unexpected keys are an
error). See docs/training.md.
"""

import argparse
import os
import os.path as osp
from typing import List, Optional

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from torch.distributed.elastic.multiprocessing.errors import record

from mmaction.apis import load_model_checkpoint
from mmaction.apis.train_utils import (
    USER_INPUT_ERRORS,
    build_runner,
    choose_cpu_threads,
    default_work_dir,
    format_metrics,
    report_error_and_exit,
    run_main_and_exit,
)
from mmaction.apis.config_loader import load_config
from mmaction.engine.runner import ConfigError, destroy_distributed, init_distributed
from mmaction.engine.runner.distributed import LAUNCHERS
from mmaction.evaluation.metrics.acc_metric import VALID_METRICS

AVERAGE_CLIPS = ("prob", "score", "none")
TRAIN_ONLY_KEYS = ("train_dataloader", "train_cfg", "optim_wrapper", "param_scheduler", "val_dataloader",
                   "val_cfg", "val_evaluator", "auto_scale_lr")


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Test a video recognizer checkpoint")
    parser.add_argument("config", help="config file")
    parser.add_argument("checkpoint", help="checkpoint file")
    parser.add_argument("--eval", nargs="+", choices=VALID_METRICS, default=None,
                        help="metrics (default: the config's test_evaluator)")
    parser.add_argument("--out", default=None, help="write per-video scores, labels and file names to a .pkl or "
                        ".json file")
    parser.add_argument("--average-clips", choices=AVERAGE_CLIPS, default=None,
                        help="how view scores are averaged (default: the config's model.test_cfg)")
    parser.add_argument("--work-dir", default=None, help="where the test log goes")
    parser.add_argument("--gpu-collect", action="store_true", help="gather results through GPU memory")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default=None,
                        help="override config keys; a key that does not exist in the config is an error")
    parser.add_argument("--launcher", choices=LAUNCHERS, default="none", help="job launcher")
    parser.add_argument("--local_rank", "--local-rank", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if "LOCAL_RANK" not in os.environ:
        os.environ["LOCAL_RANK"] = str(args.local_rank)
    return args


def apply_test_args(cfg: Config, args: argparse.Namespace) -> List[str]:
    """Applies the command-line options to ``cfg`` (called by :func:`load_config`, between the
    0.x translation and the checks); returns one note per change. Raises ConfigError."""
    notes: List[str] = []
    if not osp.isfile(args.checkpoint):
        raise ConfigError(f"checkpoint not found: {args.checkpoint}")
    if args.work_dir is not None:
        if cfg.get("work_dir") != args.work_dir:
            notes.append(f"work_dir={args.work_dir!r} (--work-dir)")
        cfg["work_dir"] = args.work_dir
    elif not cfg.get("work_dir"):
        cfg["work_dir"] = default_work_dir(args.config)
        notes.append(f"work_dir={cfg['work_dir']!r} (default: the config's name)")
    missing = [k for k in ("test_dataloader", "test_cfg", "test_evaluator") if not cfg.get(k)]
    if "test_evaluator" in missing and args.eval:
        missing.remove("test_evaluator")
    if missing:
        raise ConfigError(f"{args.config}: the config has no {missing}")
    cleared = [key for key in TRAIN_ONLY_KEYS if cfg.get(key) is not None]
    for key in TRAIN_ONLY_KEYS:
        cfg[key] = None
    if cleared:
        notes.append(f"{cleared} set to None (testing only)")
    if cfg.get("load_from") or cfg.get("resume"):
        notes.append(f"load_from={cfg.get('load_from')!r}, resume={cfg.get('resume')!r} -> None, False "
                     f"(the weights are {args.checkpoint})")
    cfg["load_from"], cfg["resume"] = None, False
    collect = "gpu" if args.gpu_collect else "cpu"
    if args.eval:
        evaluators = [dict(type="AccMetric", metric_list=list(args.eval), collect_device=collect)]
        notes.append(f"test_evaluator=AccMetric(metric_list={list(args.eval)}) (--eval)")
    else:
        current = cfg.get("test_evaluator")
        evaluators = list(current) if isinstance(current, (list, tuple)) else [current]
    if args.out:
        evaluators.append(dict(type="DumpVideoResults", out_file_path=args.out, collect_device=collect))
        notes.append(f"test_evaluator += DumpVideoResults(out_file_path={args.out!r}) (--out)")
    cfg["test_evaluator"] = evaluators
    if args.average_clips is not None:
        model = cfg.get("model")
        test_cfg = dict(model.get("test_cfg") or {})
        test_cfg["average_clips"] = args.average_clips
        model["test_cfg"] = test_cfg
        notes.append(f"model.test_cfg.average_clips={args.average_clips!r} (--average-clips)")
    return notes


@record
def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        cfg, notes = load_config(args.config, args.cfg_options, launcher=args.launcher,
                                 tool_changes=lambda c: apply_test_args(c, args), skip_checks=TRAIN_ONLY_KEYS)
    except ConfigError as exc:
        report_error_and_exit(exc)
    if args.launcher == "none":
        threads = choose_cpu_threads()
        if threads:
            notes.append(threads)
    dist_cfg = cfg.env_cfg.get("dist_cfg", {})
    init_distributed(args.launcher, backend=dist_cfg.get("backend"), timeout_s=dist_cfg.get("timeout", 1800))
    try:
        runner = build_runner(cfg, notes)
        model = runner.model.module if hasattr(runner.model, "module") else runner.model
        load_model_checkpoint(model, args.checkpoint, strict=True)
        runner._has_loaded = True
        metrics = runner.test()
        summary = format_metrics(metrics)
        print_log(f"test {args.checkpoint}: {summary}", logger="current")
    except USER_INPUT_ERRORS as exc:  # a bad list file: one line, no traceback
        report_error_and_exit(exc)
    finally:
        destroy_distributed()
    return 0


if __name__ == "__main__":
    run_main_and_exit(main)
