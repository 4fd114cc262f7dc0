"""Speed, memory and arithmetic efficiency of a config's training step, test step or data pipeline.

Modes:
    ``train``: one optimisation step (data preprocessor, forward, loss, backward, optimizer) on a
        random uint8 batch shaped as the train pipeline makes it.
    ``test``: one ``test_step`` (all test views of ``--batch-size`` videos, view averaging).
    ``data``: the train pipeline (decode + augment + pack) on real video files, one process;
        timed by ``mmaction.datasets.benchmark_pipeline.time_pipeline``.

Reported (``--json`` prints one object): ``step_s`` (median over ``--iters`` timed steps after
``--warmup``), ``clips_per_s``, ``peak_mem_mb`` (GPU: ``torch.cuda.max_memory_allocated``; CPU:
the process's peak RSS), ``step_mem_mb`` (what a step adds to what the model holds between
steps: the peak minus the memory after the weights' autocast copies and the optimizer state
exist — activations, gradients and workspaces), ``tflops`` — the achieved arithmetic rate, in the hardware convention of
2 FLOPs per multiply-add, of the multiply-adds the step really did (counted once with
FlopCounterMode under the math attention kernel, backward included: the same counter as
``get_flops.py``, whose README-style numbers are the multiply-adds, reported here as
``step_gmacs``) — and ``matmul_peak_tflops``, the rate of a large matrix product of the run's
dtype measured in the same process, with ``fraction_of_matmul_peak`` their ratio.

Examples::

    python tools/analysis/benchmark.py configs/recognition/vit/vitclip_tiny_demo.py --mode train \\
        --batch-size 8 --iters 10 --json
    python tools/analysis/benchmark.py CONFIG --mode test --batch-size 1 --iters 5 --amp bf16 --device cuda
    python tools/analysis/benchmark.py CONFIG --mode data --videos data/demo/train --iters 50
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config, DictAction

sys.path.insert(0, str(Path(__file__).resolve().parent))
from get_flops import count_macs, load_config, pipeline_views  # noqa: E402

AMP_DTYPES = {"none": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v")


# --------------------------------------------------------------------------- measuring
def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(step: Callable[[], object], iters: int, warmup: int, device: torch.device) -> List[float]:
    """Runs ``step`` ``warmup`` times untimed, then ``iters`` times timed (seconds each)."""
    for _ in range(warmup):
        step()
    synchronize(device)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        step()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return times


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_mb(device: torch.device) -> float:
    """GPU: peak allocated by torch since the last reset; CPU: the process's peak RSS."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    peak = rss / 2**20 if sys.platform == "darwin" else rss / 2**10
    # the kernel updates the high-water mark lazily: it can trail the resident set of this moment
    return max(peak, _resident_mb())


def current_memory_mb(device: torch.device) -> float:
    """GPU: memory allocated by torch now; CPU: the process's resident set now."""
    if device.type == "cuda":
        return torch.cuda.memory_allocated(device) / 2**20
    return _resident_mb()


def _resident_mb() -> float:
    """The process's resident set now (Linux ``/proc/self/statm``); 0 where that is not readable."""
    try:
        with open("/proc/self/statm") as f:
            resident_pages = int(f.read().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def matmul_peak_tflops(device: torch.device, dtype: torch.dtype, size: int, repeats: int = 3) -> float:
    """Best rate of a ``size``^3 matrix product in ``dtype`` (2 FLOPs per multiply-add), TFLOP/s."""
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    torch.matmul(a, b)  # warm-up (kernel selection, thread pool)
    synchronize(device)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.matmul(a, b)
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e12


def autocast_context(device: torch.device, amp: str) -> contextlib.AbstractContextManager:
    """``torch.autocast`` for ``--amp bf16|fp16``; a no-op for ``none``.

    Raises:
        ValueError: fp16 on CPU (CPU autocast supports bf16 only).
    """
    if amp == "none":
        return contextlib.nullcontext()
    if device.type == "cpu" and amp == "fp16":
        raise ValueError("--amp fp16 needs a GPU: CPU autocast supports bf16 only (use --amp bf16)")
    return torch.autocast(device_type=device.type, dtype=AMP_DTYPES[amp])


# --------------------------------------------------------------------------- model steps
def build_model(cfg: Config, device: torch.device) -> torch.nn.Module:
    """Builds ``cfg.model`` with initialised random weights (no pretrained file is read)."""
    from mmaction.registry import MODELS
    from mmaction.utils.setup_env import register_all_modules

    register_all_modules()
    model_cfg = cfg.model.copy()
    if model_cfg.get("backbone", {}).get("pretrained"):
        model_cfg.backbone = dict(model_cfg.backbone, pretrained=None)
    return MODELS.build(model_cfg).to(device)


def random_batch(cfg: Config, split: str, batch_size: int, seed: int = 0) -> Dict[str, list]:
    """A batch as ``PackActionInputs`` + ``pseudo_collate`` make it: uint8 (V, 3, T, H, W) clips."""
    from mmaction.structures import ActionDataSample

    views = pipeline_views(cfg, split)
    h, w = views["input_hw"]
    num_views = views["num_views"] if split == "test" else views["num_clips"]
    num_classes = int(cfg.model.get("cls_head", {}).get("num_classes", 2))
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for i in range(batch_size):
        inputs.append(torch.randint(0, 256, (num_views, 3, views["clip_len"], h, w), dtype=torch.uint8,
                                    generator=gen))
        sample = ActionDataSample().set_gt_label(i % num_classes)
        sample.set_metainfo(dict(num_clips=views["num_clips"], num_crops=views["num_crops"] if split == "test" else 1))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def make_train_step(model: torch.nn.Module, data: dict, device: torch.device,
                    amp: str) -> Tuple[Callable[[], float], Callable[[], None]]:
    """One optimisation step of the tunable parameters (AdamW; GradScaler for fp16 on GPU).

    Returns:
        ``(step, prime)``: ``prime()`` creates what the model keeps between steps (the cached
        autocast copies of frozen weights, AdamW's moments) without holding any activations, so
        that memory measured after it is the state and memory added by a step is the step's.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters: nothing to benchmark in train mode")
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    scaler = torch.amp.GradScaler(device.type) if amp == "fp16" else None
    model.train()

    def step() -> float:
        with autocast_context(device, amp):
            batch = model.data_preprocessor(data, True)
            losses = model(**batch, mode="loss")
            loss, _ = model.parse_losses(losses)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    def prime() -> None:
        prime_frozen_casts(model, data, device, amp)
        for param in params:  # AdamW allocates its moments at the first step
            param.grad = torch.zeros_like(param)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return step, prime


def prime_frozen_casts(model: torch.nn.Module, data: dict, device: torch.device, amp: str) -> None:
    """A no-grad forward of one frame of one view: fills the autocast-copy caches of frozen weights
    while holding next to no activations."""
    first = data["inputs"][0][:1, :, :1]
    with torch.no_grad(), autocast_context(device, amp):
        batch = model.data_preprocessor(dict(inputs=[first], data_samples=data["data_samples"][:1]), False)
        model.extract_feat(batch["inputs"].flatten(0, 1))  # (1, V=1, C, T=1, H, W) -> (1, C, 1, H, W)


def make_test_step(model: torch.nn.Module, data: dict, device: torch.device,
                   amp: str) -> Tuple[Callable[[], object], Callable[[], None]]:
    """One ``test_step`` (preprocess, every view, view averaging); ``prime`` as in :func:`make_train_step`."""
    model.eval()

    def step() -> object:
        with autocast_context(device, amp):
            return model.test_step(data)

    return step, lambda: prime_frozen_casts(model, data, device, amp)


def benchmark_model(cfg: Config, mode: str, batch_size: int, iters: int, warmup: int, amp: str,
                    device: torch.device, matmul_size: int) -> Dict[str, object]:
    """Times ``mode`` ('train' or 'test') steps and relates them to the matmul peak."""
    torch.manual_seed(0)
    model = build_model(cfg, device)
    split = "train" if mode == "train" else "test"
    data = random_batch(cfg, split, batch_size)
    step, prime = (make_train_step if mode == "train" else make_test_step)(model, data, device, amp)
    prime()
    reset_peak_memory(device)
    state_mb = current_memory_mb(device)  # weights and their casts, optimizer state, batch, libraries
    step()  # first call: allocations, kernel selection
    times = time_steps(step, iters, warmup, device)
    # Read before counting (the counter runs a step on the math attention kernel, which holds whole
    # attention matrices) and before the matmul measurement allocates its matrices.
    peak_mb = peak_memory_mb(device)
    macs = count_macs(step)  # one more real step, counted (forward + backward + update)
    step_s = statistics.median(times)
    peak = matmul_peak_tflops(device, AMP_DTYPES[amp], matmul_size)
    tflops = 2 * macs / step_s / 1e12
    views = pipeline_views(cfg, split)
    clips = batch_size * (views["num_views"] if mode == "test" else views["num_clips"])
    return dict(
        mode=mode,
        batch_size=batch_size,
        step_s=step_s,
        step_s_min=min(times),
        clips_per_s=clips / step_s,
        videos_per_s=batch_size / step_s,
        peak_mem_mb=peak_mb,
        step_mem_mb=max(0.0, peak_mb - state_mb),
        step_gmacs=macs / 1e9,
        tflops=tflops,
        matmul_peak_tflops=peak,
        fraction_of_matmul_peak=tflops / peak,
        matmul_size=matmul_size,
        amp=amp,
        device=str(device),
        threads=torch.get_num_threads(),
        iters=iters,
        warmup=warmup,
    )


# --------------------------------------------------------------------------- data pipeline
def list_videos(source: str) -> List[str]:
    """Video files of a folder (recursively) or of a list file (``path [label]`` per line).

    Raises:
        FileNotFoundError: naming ``source`` when it is missing or holds no video.
    """
    path = Path(source)
    if path.is_dir():
        files = sorted(str(p) for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
    elif path.is_file():
        files = []
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            name = line.split()[0]
            candidate = Path(name) if Path(name).is_absolute() else path.parent / name
            if not candidate.is_file():
                raise FileNotFoundError(f"{path}:{lineno}: video not found: {candidate}")
            files.append(str(candidate))
    else:
        raise FileNotFoundError(f"--videos: no such folder or list file: {source}")
    if not files:
        raise FileNotFoundError(f"--videos: no video files ({', '.join(VIDEO_SUFFIXES)}) in {source}")
    return files


def dataset_videos(cfg: Config) -> List[str]:
    """The training videos of the config's train dataset (the dataset is built to read its list)."""
    from mmaction.registry import DATASETS
    from mmaction.utils.setup_env import register_all_modules

    register_all_modules()
    dataset_cfg = cfg.train_dataloader.dataset.copy()
    dataset_cfg["pipeline"] = []
    dataset = DATASETS.build(dataset_cfg)
    return [dataset.get_data_info(i)["filename"] for i in range(len(dataset))]


def benchmark_data(cfg: Config, batch_size: int, iters: int, warmup: int, videos: List[str]) -> Dict[str, object]:
    """Times the train pipeline; a 'step' is ``batch_size`` samples in one process."""
    from mmaction.datasets.benchmark_pipeline import time_pipeline

    pipeline_cfg = list(cfg.train_dataloader.dataset.pipeline)
    total = iters * batch_size
    per_sample = time_pipeline(pipeline_cfg, videos, total, warmup=warmup)["step_s_median"]
    step_s = per_sample * batch_size
    return dict(
        mode="data",
        batch_size=batch_size,
        step_s=step_s,
        clips_per_s=batch_size / step_s,
        peak_mem_mb=peak_memory_mb(torch.device("cpu")),
        tflops=None,
        matmul_peak_tflops=None,
        num_videos=len(videos),
        samples_timed=total,
        timed_by="mmaction.datasets.benchmark_pipeline.time_pipeline",
    )


# --------------------------------------------------------------------------- CLI
def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Benchmark a config's training step, test step or data pipeline.")
    p.add_argument("config")
    p.add_argument("--mode", choices=("train", "test", "data"), default="train")
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--iters", type=int, default=10, help="timed steps")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps before timing")
    p.add_argument("--amp", choices=tuple(AMP_DTYPES), default="none", help="autocast dtype")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None, help="default: cuda if available")
    p.add_argument("--videos", default=None, help="data mode: a folder or list file of videos "
                   "(default: the config's training list)")
    p.add_argument("--matmul-size", type=int, default=None, help="side of the peak matmul (default 4096 GPU, 2048 CPU)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    for key in ("batch_size", "iters"):
        if getattr(args, key) < 1:
            p.error(f"--{key.replace('_', '-')} must be >= 1, got {getattr(args, key)}")
    if args.warmup < 0:
        p.error(f"--warmup must be >= 0, got {args.warmup}")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    from mmaction.utils import quiet_logger, require_device

    args = parse_args(argv)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    try:
        require_device(device.type)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.threads:
        torch.set_num_threads(args.threads)
    quiet_logger("benchmark")
    try:
        cfg = load_config(args.config, args.cfg_options)
        if args.mode == "data":
            videos = list_videos(args.videos) if args.videos else dataset_videos(cfg)
            result = benchmark_data(cfg, args.batch_size, args.iters, args.warmup, videos)
        else:
            size = args.matmul_size or (4096 if device.type == "cuda" else 2048)
            result = benchmark_model(cfg, args.mode, args.batch_size, args.iters, args.warmup, args.amp, device, size)
    except (FileNotFoundError, KeyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    result["config"] = os.fspath(args.config)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.config}  mode={result['mode']}  batch={result['batch_size']}  device={result.get('device', 'cpu')}")
    print(f"  step:        {result['step_s'] * 1e3:.1f} ms (median of {args.iters})")
    print(f"  throughput:  {result['clips_per_s']:.2f} clips/s")
    print(f"  peak memory: {result['peak_mem_mb']:.0f} MiB")
    if result.get("tflops") is not None:
        print(f"  work:        {result['step_gmacs']:.2f} G multiply-adds per step")
        print(f"  achieved:    {result['tflops'] * 1e3:.1f} GFLOP/s ({result['fraction_of_matmul_peak'] * 100:.1f} % of "
              f"a {result['matmul_size']}^3 {result['amp']} matmul: {result['matmul_peak_tflops'] * 1e3:.1f} GFLOP/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
