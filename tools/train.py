#!/usr/bin/env python
"""Train a video recognizer (AIM) from a config.

Examples:
    # 1 process (CPU or 1 GPU), validating every val_interval epochs, testing the last weights:
    python tools/train.py configs/recognition/vit/vitclip_base_k400.py --validate --test-last
    # 8 GPUs, the original command line:
    bash tools/dist_train.sh configs/recognition/vit/vitclip_base_k400.py 8 --validate --test-last \
        --cfg-options model.backbone.pretrained=openaiclip work_dir=work_dirs/k400_b16
    # continue an interrupted run from its latest complete checkpoint:
    bash tools/dist_train.sh CONFIG 8 --validate --resume --cfg-options work_dir=work_dirs/k400_b16

See docs/training.md.
"""

import argparse
import logging
import os
import os.path as osp
from typing import List, Optional

from mmengine.config import Config, DictAction
from mmengine.dist import barrier
from mmengine.logging import print_log
from torch.distributed.elastic.multiprocessing.errors import record

from mmaction.apis.train_utils import (
    USER_INPUT_ERRORS,
    build_runner,
    choose_cpu_threads,
    check_test_list,
    default_work_dir,
    format_metrics,
    report_error_and_exit,
    run_main_and_exit,
)
from mmaction.apis.config_loader import load_config
from mmaction.engine.runner import (
    ConfigError,
    apply_amp,
    check_weights_given,
    destroy_distributed,
    find_resume_checkpoint,
    init_distributed,
    is_complete_checkpoint,
)
from mmaction.engine.runner.distributed import LAUNCHERS
from mmaction.engine.runner.runtime_config import AMP_CHOICES


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Train a video recognizer")
    parser.add_argument("config", help="config file (mmengine 1.x style or 0.x style)")
    parser.add_argument("--work-dir", help="where logs and checkpoints go (default: config work_dir or "
                        "./work_dirs/<config name>)")
    parser.add_argument("--resume-from", help="resume from this checkpoint (model, optimizer, scheduler, loss "
                        "scaler, epoch/iteration, random generator states)")
    parser.add_argument("--resume", action="store_true", help="resume from the latest complete checkpoint of "
                        "the work dir (starts from scratch when there is none)")
    parser.add_argument("--validate", action="store_true", help="validate during training (without it no "
                        "validation runs)")
    parser.add_argument("--test-last", action="store_true", help="test the final weights after training")
    parser.add_argument("--test-best", action="store_true", help="test the best checkpoint (by acc/top1) after "
                        "training; needs --validate")
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument("--diff-seed", action="store_true", help="a different seed on every rank")
    parser.add_argument("--deterministic", action="store_true", help="deterministic algorithms (cuDNN)")
    parser.add_argument("--amp", nargs="?", const="auto", choices=AMP_CHOICES, default=None,
                        help="mixed precision: bf16, fp16 (GPU), auto (bf16 where supported) or none; "
                        "--amp alone means auto")
    parser.add_argument("--auto-scale-lr", action="store_true", help="scale the lr linearly with the total batch "
                        "size (auto_scale_lr.base_batch_size in the config)")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default=None,
                        help="override config keys, e.g. model.backbone.pretrained=openaiclip work_dir=OUT; a key "
                        "that does not exist in the config is an error")
    parser.add_argument("--launcher", choices=LAUNCHERS, default="none", help="job launcher")
    parser.add_argument("--local_rank", "--local-rank", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if "LOCAL_RANK" not in os.environ:
        os.environ["LOCAL_RANK"] = str(args.local_rank)
    return args


def apply_train_args(cfg: Config, args: argparse.Namespace) -> List[str]:
    """Applies the command-line options to ``cfg`` (called by :func:`load_config`, between the
    0.x translation and the checks); returns one note per change. Raises ConfigError."""
    notes: List[str] = []
    if args.work_dir is not None:
        if cfg.get("work_dir") != args.work_dir:
            notes.append(f"work_dir={args.work_dir!r} (--work-dir)")
        cfg["work_dir"] = args.work_dir
    elif not cfg.get("work_dir"):
        cfg["work_dir"] = default_work_dir(args.config)
        notes.append(f"work_dir={cfg['work_dir']!r} (default: the config's name)")
    work_dir = osp.abspath(cfg["work_dir"])

    if args.resume_from is not None:
        if not is_complete_checkpoint(args.resume_from):
            raise ConfigError(f"--resume-from {args.resume_from}: no such file, or not a complete checkpoint")
        cfg["load_from"], cfg["resume"] = args.resume_from, True
        notes.append(f"load_from={args.resume_from!r}, resume=True (--resume-from)")
    elif args.resume:
        found = find_resume_checkpoint(work_dir) if osp.isdir(work_dir) else None
        if found is None:
            notes.append(f"--resume: no complete checkpoint in {work_dir}; training starts from scratch")
            cfg["resume"] = False
        else:
            cfg["load_from"], cfg["resume"] = found, True
            notes.append(f"--resume: continuing from {found}")
    elif cfg.get("resume") and cfg.get("load_from") is None:
        # resume=True without a file in the config: mmengine's auto-resume, made robust.
        found = find_resume_checkpoint(work_dir) if osp.isdir(work_dir) else None
        cfg["load_from"], cfg["resume"] = found, found is not None

    val_keys = ("val_dataloader", "val_cfg", "val_evaluator")
    if args.validate:
        missing = [k for k in val_keys if not cfg.get(k)]
        if missing:
            raise ConfigError(f"--validate: the config has no {missing}")
    else:
        if any(cfg.get(k) for k in val_keys):
            notes.append(f"{list(val_keys)} -> None (no --validate: no validation during training)")
        for key in val_keys:
            cfg[key] = None
    if args.test_best and not args.validate:
        raise ConfigError("--test-best needs --validate (the best checkpoint is chosen on the validation set)")
    if args.test_last or args.test_best:
        missing = [k for k in ("test_dataloader", "test_cfg", "test_evaluator") if not cfg.get(k)]
        if missing:
            raise ConfigError(f"--test-last/--test-best: the config has no {missing}")
    else:
        test_keys = ("test_dataloader", "test_cfg", "test_evaluator")
        if any(cfg.get(k) for k in test_keys):
            notes.append(f"{list(test_keys)} -> None (no --test-last/--test-best: no test after training)")
        for key in test_keys:
            cfg[key] = None

    randomness = dict(cfg.get("randomness") or {})
    if args.seed is not None:
        randomness["seed"] = args.seed
    randomness.setdefault("seed", None)
    if args.deterministic:
        randomness["deterministic"] = True
    if args.diff_seed:
        randomness["diff_rank_seed"] = True
    asked = args.seed is not None or args.deterministic or args.diff_seed
    if asked and randomness != dict(cfg.get("randomness") or {}):
        notes.append(f"randomness={randomness} (--seed/--deterministic/--diff-seed)")
    cfg["randomness"] = randomness

    amp_note = apply_amp(cfg, args.amp)
    if amp_note:
        notes.append(amp_note)
    if args.auto_scale_lr:
        scale = cfg.get("auto_scale_lr")
        if not isinstance(scale, dict) or "base_batch_size" not in scale:
            raise ConfigError("--auto-scale-lr needs auto_scale_lr=dict(base_batch_size=...) in the config")
        scale["enable"] = True
        notes.append("auto_scale_lr.enable=True (--auto-scale-lr)")
    return notes


def run_test(runner, checkpoint: Optional[str], label: str) -> dict:
    """Tests the runner's model (after loading ``checkpoint`` if given) and logs the metrics."""
    if checkpoint is not None:
        barrier()  # rank 0 may still be writing it
        runner.load_checkpoint(checkpoint)
    runner._has_loaded = True  # keep these weights: do not reload load_from/resume
    metrics = runner.test()
    summary = format_metrics(metrics)
    print_log(f"test ({label}): {summary}", logger="current")
    return metrics


@record
def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        cfg, notes = load_config(args.config, args.cfg_options, launcher=args.launcher,
                                 tool_changes=lambda c: apply_train_args(c, args))
        check_weights_given(cfg)
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
        if args.test_last or args.test_best:
            check_test_list(cfg)  # a mistake in the test list must show before training, not after
        runner.train()
        if args.test_last:
            run_test(runner, None, "last weights")
        if args.test_best:
            best = runner.message_hub.get_info("best_ckpt")
            if best is None:
                print_log("--test-best: no best checkpoint was saved (no validation ran)", logger="current",
                          level=logging.WARNING)
            else:
                run_test(runner, best, f"best checkpoint {osp.basename(best)}")
    except USER_INPUT_ERRORS as exc:  # a bad list / pretrained file: one line, no traceback
        report_error_and_exit(exc)
    finally:
        destroy_distributed()
    return 0


if __name__ == "__main__":
    run_main_and_exit(main)
