"""Speed, memory and arithmetic efficiency of a config's training step, test step or data pipeline.

Modes:
    ``train``: one ``model.train_step(data, optim_wrapper)`` (data preprocessor, forward, loss,
        backward, optimizer update) with the optimizer wrapper the config builds
        (``optim_wrapper`` through mmengine's ``build_optim_wrapper`` and the config's
        constructor, e.g. ``TunableParamsOptimWrapperConstructor``), on a random uint8 batch
        shaped as the train pipeline makes it. ``--amp`` changes the wrapper as
        ``tools/train.py --amp`` does; without it the config's wrapper (and its precision) runs.
    ``test``: one ``test_step`` (all test views of ``--batch-size`` videos, view averaging),
        under ``torch.autocast`` for ``--amp bf16|fp16``.
    ``data``: the train pipeline (decode + augment + pack) on real video files, one process;
        timed by ``mmaction.datasets.benchmark_pipeline.time_pipeline``.

Reported (``--json`` prints one object): ``step_s`` (median over ``--iters`` timed steps after
``--warmup``; ``step_spread`` = slowest / fastest, and a warning on stderr when it exceeds 2),
``clips_per_s``, ``peak_mem_mb`` (GPU: ``torch.cuda.max_memory_allocated``; CPU:
the process's peak RSS), ``step_mem_mb`` (what a step adds to what the model holds between
steps: the peak minus the memory after the weights' autocast copies and the optimizer state
exist — activations, gradients and workspaces), ``tflops`` — the achieved arithmetic rate, in the hardware convention of
2 FLOPs per multiply-add, of the multiply-adds the step really did (counted once with
FlopCounterMode under the math attention kernel, backward included: the same counter as
``get_flops.py``, whose README-style numbers are the multiply-adds, reported here as
``step_gmacs``) — and ``matmul_peak_tflops``, the matrix-multiply rate of the run's dtype
measured in the same process: the best of several ``matmul_size``^3 products (a size whose
three matrices do not fit the CPU's last-level cache, or 8192 on a GPU), measured before and
after the model's steps (``matmul_before_tflops``, ``matmul_after_tflops``), with
``fraction_of_matmul_peak`` the ratio of the two rates. ``--profile ROWS`` adds ``profile``: the
ROWS operators that took the most time in one more step under ``torch.profiler``.

Examples::

    python tools/analysis/benchmark.py configs/recognition/vit/vitclip_tiny_demo.py --mode train \\
        --batch-size 8 --iters 10 --json
    python tools/analysis/benchmark.py CONFIG --mode test --batch-size 1 --iters 5 --amp bf16 --device cuda
    python tools/analysis/benchmark.py CONFIG --mode data --videos data/demo/train --iters 50
"""

from __future__ import annotations

import argparse
import contextlib
import copy
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


def matmul_rate_tflops(device: torch.device, dtype: torch.dtype, size: int, repeats: int = 5) -> float:
    """Best rate of ``repeats`` ``size``^3 matrix products in ``dtype`` (2 FLOPs per multiply-add), TFLOP/s.

    The best, not the mean: a product slowed by another process or a clock change says nothing
    about the hardware, and one low reading would make the model look faster than the machine.
    """
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


def last_level_cache_bytes() -> int:
    """Size of the CPU's largest cache (Linux sysfs); 32 MiB where it cannot be read."""
    sizes = []
    for path in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        try:
            text = path.read_text().strip().upper()
            unit = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
            sizes.append(int(text.rstrip("KMG")) * unit)
        except (OSError, ValueError):
            continue
    return max(sizes) if sizes else 32 * 2**20


def default_matmul_size(device: torch.device, dtype: torch.dtype) -> int:
    """8192 on a GPU; on a CPU, the smallest multiple of 512 (at least 2048) whose three matrices
    take 4x the last-level cache, so that the product streams from memory as the model's do."""
    if device.type == "cuda":
        return 8192
    element = torch.finfo(dtype).bits // 8
    size = 2048
    while 3 * size * size * element < 4 * last_level_cache_bytes() and size < 8192:
        size += 512
    return size


def profile_step(step: Callable[[], object], rows: int) -> List[Dict[str, object]]:
    """One more ``step()`` under :mod:`torch.profiler`: the ``rows`` operators that took the most time.

    Returns:
        ``[{"op", "self_ms", "calls", "share"}]``, by self time (time in the operator itself, not in
        the operators it calls); ``share`` is of the profiled step's total self time.
    """
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
    with profile(activities=activities) as prof:
        step()
    events = [e for e in prof.key_averages() if e.self_cpu_time_total > 0 or getattr(e, "self_device_time_total", 0)]
    key = "self_device_time_total" if torch.cuda.is_available() else "self_cpu_time_total"
    total = sum(getattr(e, key) for e in events) or 1
    events.sort(key=lambda e: getattr(e, key), reverse=True)
    return [dict(op=e.key, self_ms=getattr(e, key) / 1e3, calls=e.count, share=getattr(e, key) / total)
            for e in events[:rows]]


def spread_warning(times: Sequence[float], limit: float = 2.0) -> Optional[str]:
    """A warning when the slowest timed step took more than ``limit`` x the fastest, else None."""
    spread = max(times) / min(times)
    if spread <= limit:
        return None
    return (f"warning: the {len(times)} timed steps spread by {spread:.1f}x ({min(times) * 1e3:.1f} to "
            f"{max(times) * 1e3:.1f} ms): something else used the machine, or its clock changed; the median "
            "is unreliable, rerun on a quiet machine or with more --iters")


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
    from mmaction.apis.model_builder import build_model as build_recognizer

    return build_recognizer(cfg, load_pretrained=False).to(device)


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


def build_train_optim_wrapper(cfg: Config, model: torch.nn.Module, device: torch.device,
                              amp: Optional[str]):
    """The config's ``optim_wrapper``, built as the Runner builds it (mmengine's ``build_optim_wrapper``
    with the config's constructor); ``amp`` changes it as ``tools/train.py --amp`` does.

    Raises:
        ValueError: no ``optim_wrapper`` in the config, fp16 on a CPU, or no trainable parameter.
    """
    from mmengine.optim import build_optim_wrapper

    from mmaction.engine.runner.runtime_config import apply_amp

    if not isinstance(cfg.get("optim_wrapper"), dict):
        raise ValueError("--mode train needs the config's optim_wrapper (what tools/train.py would build)")
    cfg = copy.deepcopy(cfg)
    apply_amp(cfg, amp)
    wrapper_cfg = cfg.optim_wrapper
    if wrapper_cfg.get("type") == "MixedPrecisionOptimWrapper":
        if device.type == "cpu" and str(wrapper_cfg.get("dtype")) in ("float16", "fp16", "torch.float16"):
            raise ValueError("fp16 training needs a GPU: CPU autocast supports bf16 only (use --amp bf16)")
        wrapper_cfg.setdefault("device_type", device.type)  # autocast where the benchmark runs the model
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("the model has no trainable parameters: nothing to benchmark in train mode")
    return build_optim_wrapper(model, wrapper_cfg)


def wrapper_dtype(optim_wrapper) -> torch.dtype:
    """The autocast dtype of a wrapper (``cast_dtype`` of ``MixedPrecisionOptimWrapper``), else fp32."""
    return getattr(optim_wrapper, "cast_dtype", None) or torch.float32


def make_train_step(model: torch.nn.Module, data: dict,
                    optim_wrapper) -> Tuple[Callable[[], float], Callable[[], None]]:
    """One ``model.train_step(data, optim_wrapper)``: what the Runner's train loop calls per iteration.

    Returns:
        ``(step, prime)``: ``prime()`` creates what the model keeps between steps (the cached
        autocast copies of frozen weights, the optimizer's state) without holding any activations,
        so that memory measured after it is the state and memory added by a step is the step's.
    """
    model.train()

    def step() -> float:
        log_vars = model.train_step(data, optim_wrapper)
        loss = log_vars["loss"]
        return float(loss.detach() if isinstance(loss, torch.Tensor) else loss)

    def prime() -> None:
        prime_frozen_casts(model, data, lambda: optim_wrapper.optim_context(model), backward=True)
        params = [p for group in optim_wrapper.optimizer.param_groups for p in group["params"]]
        for param in params:  # the optimizer allocates its state (AdamW's moments) at its first step
            param.grad = torch.zeros_like(param)
        optim_wrapper.optimizer.step()
        optim_wrapper.optimizer.zero_grad(set_to_none=True)

    return step, prime


def prime_frozen_casts(model: torch.nn.Module, data: dict,
                       context: Callable[[], contextlib.AbstractContextManager], backward: bool = False) -> None:
    """A forward of one frame of one view under ``context()`` (the step's autocast): fills the caches of
    frozen weights (autocast copies, oneDNN-packed copies) while holding next to no activations.

    Args:
        backward: also run a backward pass (its gradients are dropped), so that what a training
            step's backward caches (the packed transposed weights) exists too.
    """
    first = data["inputs"][0][:1, :, :1]
    with torch.set_grad_enabled(backward), context():
        batch = model.data_preprocessor(dict(inputs=[first], data_samples=data["data_samples"][:1]), False)
        inputs = batch["inputs"].flatten(0, 1)  # (1, V=1, C, T=1, H, W) -> (1, C, 1, H, W)
        if backward:
            inputs.requires_grad_(True)
        feats = model.extract_feat(inputs)
    if backward:
        feats = feats[0] if isinstance(feats, (tuple, list)) else feats
        feats.float().sum().backward()
        model.zero_grad(set_to_none=True)


def make_test_step(model: torch.nn.Module, data: dict, device: torch.device,
                   amp: str) -> Tuple[Callable[[], object], Callable[[], None]]:
    """One ``test_step`` (preprocess, every view, view averaging); ``prime`` as in :func:`make_train_step`."""
    model.eval()

    def step() -> object:
        with autocast_context(device, amp):
            return model.test_step(data)

    return step, lambda: prime_frozen_casts(model, data, lambda: autocast_context(device, amp))


def benchmark_model(cfg: Config, mode: str, batch_size: int, iters: int, warmup: int, amp: Optional[str],
                    device: torch.device, matmul_size: Optional[int], profile_rows: int = 0) -> Dict[str, object]:
    """Times ``mode`` ('train' or 'test') steps and relates them to the matmul rate of the same run.

    Args:
        amp: train: ``None`` runs the config's optimizer wrapper as it is, else ``tools/train.py
            --amp`` semantics; test: the autocast dtype (``None`` = ``'none'``).
        matmul_size: side of the reference products; None picks :func:`default_matmul_size`.
        profile_rows: when > 0, profile one more step and report its slowest operators
            (:func:`profile_step`) as ``profile``.
    """
    torch.manual_seed(0)
    model = build_model(cfg, device)
    split = "train" if mode == "train" else "test"
    data = random_batch(cfg, split, batch_size)
    extra: Dict[str, object] = {}
    if mode == "train":
        optim_wrapper = build_train_optim_wrapper(cfg, model, device, amp)
        dtype = wrapper_dtype(optim_wrapper)
        step, prime = make_train_step(model, data, optim_wrapper)
        extra.update(optim_wrapper=type(optim_wrapper).__name__,
                     optimizer=type(optim_wrapper.optimizer).__name__)
    else:
        amp = amp or "none"
        autocast_context(device, amp)  # refuses fp16 on a CPU before anything is measured
        dtype = AMP_DTYPES[amp]
        step, prime = make_test_step(model, data, device, amp)
    size = matmul_size or default_matmul_size(device, dtype)
    before = matmul_rate_tflops(device, dtype, size)
    prime()
    reset_peak_memory(device)
    state_mb = current_memory_mb(device)  # weights and their casts, optimizer state, batch, libraries
    first = step()  # first call: allocations, kernel selection
    times = time_steps(step, iters, warmup, device)
    # Read before counting (the counter runs a step on the math attention kernel, which holds whole
    # attention matrices) and before the second matmul measurement allocates its matrices.
    peak_mb = peak_memory_mb(device)
    macs = count_macs(step)  # one more real step, counted (forward + backward + update)
    if profile_rows > 0:
        extra["profile"] = profile_step(step, profile_rows)
    step_s = statistics.median(times)
    after = matmul_rate_tflops(device, dtype, size)
    peak = max(before, after)
    tflops = 2 * macs / step_s / 1e12
    views = pipeline_views(cfg, split)
    clips = batch_size * (views["num_views"] if mode == "test" else views["num_clips"])
    return dict(
        mode=mode,
        batch_size=batch_size,
        step_s=step_s,
        step_s_min=min(times),
        step_spread=max(times) / min(times),
        clips_per_s=clips / step_s,
        videos_per_s=batch_size / step_s,
        peak_mem_mb=peak_mb,
        step_mem_mb=max(0.0, peak_mb - state_mb),
        step_gmacs=macs / 1e9,
        tflops=tflops,
        matmul_peak_tflops=peak,
        matmul_before_tflops=before,
        matmul_after_tflops=after,
        fraction_of_matmul_peak=tflops / peak,
        matmul_size=size,
        amp={torch.float32: "none", torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype],
        device=str(device),
        threads=torch.get_num_threads(),
        iters=iters,
        warmup=warmup,
        **extra,
        **(dict(first_loss=first) if mode == "train" else {}),
        spread_warning=spread_warning(times),
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
    p.add_argument("--amp", choices=tuple(AMP_DTYPES), default=None,
                   help="train: change the config's optimizer wrapper as tools/train.py --amp does (default: "
                   "the config's wrapper as it is); test: autocast dtype (default none)")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None, help="default: cuda if available")
    p.add_argument("--videos", default=None, help="data mode: a folder or list file of videos "
                   "(default: the config's training list)")
    p.add_argument("--matmul-size", type=int, default=None,
                   help="side of the reference matmul (default 8192 on a GPU; on a CPU the smallest multiple of "
                   "512 >= 2048 whose matrices take 4x the last-level cache)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    p.add_argument("--profile", type=int, default=0, metavar="ROWS",
                   help="train/test: profile one more step with torch.profiler and report its ROWS slowest "
                   "operators (self time)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    for key in ("batch_size", "iters"):
        if getattr(args, key) < 1:
            p.error(f"--{key.replace('_', '-')} must be >= 1, got {getattr(args, key)}")
    if args.profile < 0:
        p.error(f"--profile must be >= 0, got {args.profile}")
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
            result = benchmark_model(cfg, args.mode, args.batch_size, args.iters, args.warmup, args.amp, device,
                                     args.matmul_size, args.profile)
    except (FileNotFoundError, KeyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if result.get("spread_warning"):
        print(result["spread_warning"], file=sys.stderr)
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
        matmul_dtype = "fp32" if result["amp"] == "none" else result["amp"]
        print(f"  achieved:    {result['tflops'] * 1e3:.1f} GFLOP/s "
              f"({result['fraction_of_matmul_peak'] * 100:.1f} % of "
              f"the best {result['matmul_size']}^3 {matmul_dtype} matmul: {result['matmul_peak_tflops'] * 1e3:.1f} "
              f"GFLOP/s; {result['matmul_before_tflops'] * 1e3:.1f} before, {result['matmul_after_tflops'] * 1e3:.1f} "
              "after the steps)")
        if result.get("optim_wrapper"):
            print(f"  train step:  model.train_step with {result['optim_wrapper']}({result['optimizer']}) "
                  "from the config")
    if result.get("profile"):
        print("  profile of one step (self time):")
        for row in result["profile"]:
            print(f"    {row['self_ms']:9.1f} ms  {row['share'] * 100:5.1f} %  {row['calls']:6d} x  {row['op']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
