"""A prepared GPU check: one JSON line per check, under 8 minutes on one GPU.

Checks, in order (each line has ``"check": NAME`` and either ``"ok": true|false`` with the
measurements or ``"skipped": "<reason>"``):

    environment            torch / CUDA versions, the device, bf16 support
    matmul_bf16            the best of several bf16 products (8192^3 on a GPU): the MFU reference
    train_bf16             ``model.train_step`` with the config's optimizer wrapper in bf16
                           (``MixedPrecisionOptimWrapper``), step time, clips/s, memory, MFU
    train_fp16_gradscaler  the same in fp16 with the wrapper's dynamic ``GradScaler``   [CUDA only]
    sdpa_backend           which scaled_dot_product_attention kernel the forward really ran,
                           read from the profiler's aten op names (flash expected on a GPU)
    torch_compile          inference with ``model.backbone.torch_compile=True`` against eager:
                           times and the largest score difference                          [CUDA only]
    inference              ``test_step`` clips/s in bf16 autocast (all test views)
    nccl_torchrun          ``torchrun --nproc_per_node 1`` of tools/train.py then tools/test.py on
                           the tiny demo config with the NCCL backend                       [CUDA only]

MFU (``train_bf16``) is the step's achieved rate (multiply-adds counted by the same counter as
``get_flops.py``, 2 FLOPs each) over the best bf16 matmul rate measured in this run
(``matmul_reference_tflops``: the ``matmul_bf16`` check and the readings taken just before and
after the training steps).

Defaults: ViT-B/16 8x224 (``vitclip_base_k400_8x16x1_3views.py``), batch 16 for training and 4
videos (12 clips) for inference. On a CPU the CUDA-only checks are skipped by name and the
others run (give a tiny config, e.g. the tests', to keep that fast). Random weights throughout:
speed and kernels do not depend on them.

Examples::

    python tools/analysis/gpu_check.py                      # on a GPU machine
    python tools/analysis/gpu_check.py --config CONFIG --batch-size 2 --iters 2 --matmul-size 256 --device cpu
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import torch
from mmengine.config import Config, DictAction

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchmark  # noqa: E402
from get_flops import load_config  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO_ROOT / "configs/recognition/vit/vitclip_base_k400_8x16x1_3views.py"
TINY_CONFIG = REPO_ROOT / "configs/recognition/vit/vitclip_tiny_demo.py"
# A few seconds of demo: a small generated dataset, one epoch of image pre-training and of training.
TINY_OPTIONS = [
    *[f"{split}_dataloader.dataset.spec.{key}" for split in ("train", "val", "test")
      for key in ("num_train=32", "num_val=8", "num_test=8", "num_images=64")],
    "custom_hooks.1.epochs=1", "custom_hooks.1.batch_size=16",
    "train_cfg.max_epochs=1", "train_dataloader.batch_size=8",
    "train_dataloader.num_workers=0", "val_dataloader.num_workers=0", "test_dataloader.num_workers=0",
    "train_dataloader.persistent_workers=False", "val_dataloader.persistent_workers=False",
    "test_dataloader.persistent_workers=False",
]
CUDA_ONLY = ("train_fp16_gradscaler", "torch_compile", "nccl_torchrun")
# aten ops behind torch.nn.functional.scaled_dot_product_attention, by backend
SDPA_OPS = {
    "flash": ("aten::_scaled_dot_product_flash_attention", "aten::_flash_attention_forward"),
    "efficient": ("aten::_scaled_dot_product_efficient_attention", "aten::_efficient_attention_forward"),
    "cudnn": ("aten::_scaled_dot_product_cudnn_attention",),
    "math": ("aten::_scaled_dot_product_attention_math",),
    "cpu_flash": ("aten::_scaled_dot_product_flash_attention_for_cpu",),
}


def emit(record: Dict[str, object]) -> Dict[str, object]:
    """Prints one check as one JSON line (flushed: a later check that hangs keeps the earlier ones)."""
    print(json.dumps(record), flush=True)
    return record


def skipped(name: str, reason: str) -> Dict[str, object]:
    return emit(dict(check=name, skipped=reason))


def run_check(name: str, fn: Callable[[], Dict[str, object]]) -> Dict[str, object]:
    """Runs one check; an exception becomes ``ok: false`` with the error, and the next check runs."""
    start = time.perf_counter()
    try:
        record = dict(check=name, **fn())
    except Exception as err:  # noqa: BLE001 - a failed check is a result, the others still run
        record = dict(check=name, ok=False, error=f"{type(err).__name__}: {err}")
    record["check_s"] = round(time.perf_counter() - start, 2)
    return emit(record)


# --------------------------------------------------------------------------- checks
def check_environment(device: torch.device) -> Dict[str, object]:
    info: Dict[str, object] = dict(ok=True, torch=torch.__version__, device=str(device),
                                   cuda_available=torch.cuda.is_available(), threads=torch.get_num_threads())
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(cuda=torch.version.cuda, name=props.name, capability=f"{props.major}.{props.minor}",
                    memory_gib=round(props.total_memory / 2**30, 1), bf16_supported=torch.cuda.is_bf16_supported(),
                    nccl=".".join(map(str, torch.cuda.nccl.version())) if hasattr(torch.cuda, "nccl") else None)
    return info


def check_matmul(device: torch.device, size: int) -> Dict[str, object]:
    rates = [benchmark.matmul_rate_tflops(device, torch.bfloat16, size) for _ in range(2)]
    return dict(ok=True, size=size, tflops=max(rates), readings_tflops=rates)


def check_train(cfg: Config, device: torch.device, amp: str, batch_size: int, iters: int,
                matmul_size: int, matmul_check: Dict[str, object]) -> Dict[str, object]:
    """Train steps; MFU against the best bf16 matmul rate of this run (``matmul_bf16`` and the
    benchmark's own readings before and after the steps)."""
    result = benchmark.benchmark_model(cfg, "train", batch_size, iters, 1, amp, device, matmul_size)
    ok = bool(torch.isfinite(torch.tensor(result["first_loss"])))
    reference = max(float(matmul_check.get("tflops") or 0.0), result["matmul_peak_tflops"])
    return dict(ok=ok, mfu=result["tflops"] / reference, matmul_reference_tflops=reference, **{k: result[k] for k in (
        "first_loss", "batch_size", "step_s", "step_spread", "clips_per_s", "peak_mem_mb", "step_mem_mb", "step_gmacs",
        "tflops",
        "matmul_peak_tflops", "optim_wrapper", "optimizer", "amp")})


def check_fp16(cfg: Config, device: torch.device, batch_size: int, iters: int) -> Dict[str, object]:
    """fp16 train steps through the wrapper's GradScaler: the loss stays finite and the scale is set."""
    torch.manual_seed(0)
    model = benchmark.build_model(cfg, device)
    data = benchmark.random_batch(cfg, "train", batch_size)
    optim_wrapper = benchmark.build_train_optim_wrapper(cfg, model, device, "fp16")
    step, prime = benchmark.make_train_step(model, data, optim_wrapper)
    prime()
    losses = [step() for _ in range(2)]
    times = benchmark.time_steps(step, iters, 0, device)
    scaler = getattr(optim_wrapper, "loss_scaler", None)
    scale = float(scaler.get_scale()) if scaler is not None else None
    finite = all(torch.isfinite(torch.tensor(loss)) for loss in losses)
    return dict(ok=bool(finite and scale is not None and scale > 0), step_s=sorted(times)[len(times) // 2],
                clips_per_s=batch_size / sorted(times)[len(times) // 2], losses=losses, loss_scale=scale,
                optim_wrapper=type(optim_wrapper).__name__)


def sdpa_ops_used(fn: Callable[[], object], device: torch.device) -> Dict[str, int]:
    """Calls ``fn`` under the profiler; returns {backend: calls} of the SDPA aten ops it ran."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        fn()
        benchmark.synchronize(device)
    counts: Dict[str, int] = {}
    for event in prof.key_averages():
        for backend, names in SDPA_OPS.items():
            if event.key in names:
                counts[backend] = counts.get(backend, 0) + int(event.count)
    return counts


def check_sdpa(cfg: Config, device: torch.device) -> Dict[str, object]:
    """Which SDPA kernel one bf16 inference forward runs (a GPU should run flash)."""
    torch.manual_seed(0)
    model = benchmark.build_model(cfg, device).eval()
    data = benchmark.random_batch(cfg, "test", 1)

    def forward() -> object:
        with torch.no_grad(), benchmark.autocast_context(device, "bf16"):
            return model.test_step(data)

    forward()  # warm-up: kernel selection happens outside the profile
    counts = sdpa_ops_used(forward, device)
    expected = "flash" if device.type == "cuda" else None
    ok = counts.get(expected, 0) > 0 if expected else True  # on a CPU: what ran, for the record
    return dict(ok=ok, backends=counts, expected=expected,
                note=None if counts else "no SDPA op ran (the model's attention uses another path here)")


def check_compile(cfg: Config, device: torch.device, batch_size: int, iters: int) -> Dict[str, object]:
    """bf16 inference with ``torch_compile`` on and off: times and the largest score difference."""
    data = benchmark.random_batch(cfg, "test", batch_size)
    results = {}
    for compiled in (False, True):
        run_cfg = Config(cfg.to_dict())
        run_cfg.model.backbone["torch_compile"] = compiled
        torch.manual_seed(0)
        model = benchmark.build_model(run_cfg, device).eval()
        step, _ = benchmark.make_test_step(model, data, device, "bf16")
        start = time.perf_counter()
        scores = torch.stack([s.pred_score.float() for s in step()])  # first call: compiles
        benchmark.synchronize(device)
        first_s = time.perf_counter() - start
        times = benchmark.time_steps(step, iters, 1, device)
        results[compiled] = dict(scores=scores, step_s=sorted(times)[len(times) // 2], first_call_s=first_s)
    diff = float((results[True]["scores"] - results[False]["scores"]).abs().max())
    eager, comp = results[False]["step_s"], results[True]["step_s"]
    return dict(ok=diff < 2e-2, eager_step_s=eager, compiled_step_s=comp, speedup=eager / comp,
                compile_first_call_s=results[True]["first_call_s"], max_abs_score_diff=diff)


def check_inference(cfg: Config, device: torch.device, videos: int, iters: int, matmul_size: int) -> Dict[str, object]:
    result = benchmark.benchmark_model(cfg, "test", videos, iters, 1, "bf16", device, matmul_size)
    return dict(ok=True, videos=videos, **{k: result[k] for k in (
        "clips_per_s", "videos_per_s", "step_s", "step_spread", "peak_mem_mb", "fraction_of_matmul_peak")})


def check_nccl(tiny_config: Path, tiny_options: List[str], timeout_s: float,
               backend: str = "nccl") -> Dict[str, object]:
    """``torchrun --nproc_per_node 1`` train (1 epoch) + test of the tiny config on the NCCL backend
    (``backend='gloo'`` runs the same commands on a CPU)."""
    with tempfile.TemporaryDirectory(prefix="gpu_check_") as tmp:
        env = dict(os.environ, AIM_DEMO_DATA=str(Path(tmp) / "data"), PYTHONPATH=os.pathsep.join(
            [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
        work_dir = Path(tmp) / "work"
        options = [*tiny_options, f"work_dir={work_dir}", f"env_cfg.dist_cfg.backend={backend}"]
        torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "1", "--master_port",
                    str(29500 + os.getpid() % 1000)]
        out: Dict[str, object] = {}
        for tool, args in (("train.py", ["--validate"]), ("test.py", [str(work_dir / "epoch_1.pth")])):
            cmd = [*torchrun, str(REPO_ROOT / "tools" / tool), str(tiny_config), *args, "--launcher", "pytorch",
                   "--cfg-options", *options]
            start = time.perf_counter()
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s)
            out[f"{tool[:-3]}_s"] = round(time.perf_counter() - start, 1)
            out[f"{tool[:-3]}_rc"] = proc.returncode
            if proc.returncode != 0:
                return dict(ok=False, **out, error_tail=(proc.stdout + proc.stderr)[-1500:])
            text = proc.stdout + proc.stderr
            out[f"{tool[:-3]}_{backend}_in_log"] = backend in text.lower()
        return dict(ok=True, **out)


# --------------------------------------------------------------------------- CLI
def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="GPU check: one JSON line per check (CUDA-only ones skipped on a CPU).")
    p.add_argument("--config", default=str(DEFAULT_CONFIG), help="model/config to time (default ViT-B/16 8x224)")
    p.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    p.add_argument("--batch-size", type=int, default=16, help="training clips per step")
    p.add_argument("--infer-videos", type=int, default=4, help="videos per inference step (x the test views)")
    p.add_argument("--iters", type=int, default=5, help="timed steps per check")
    p.add_argument("--matmul-size", type=int, default=None, help="side of the bf16 reference products")
    p.add_argument("--device", choices=("cpu", "cuda"), default=None, help="default: cuda if available")
    p.add_argument("--tiny-config", default=str(TINY_CONFIG), help="config of the torchrun/NCCL check")
    p.add_argument("--tiny-options", nargs="*", default=TINY_OPTIONS, help="--cfg-options of the torchrun check")
    p.add_argument("--nccl-timeout", type=float, default=150.0, help="seconds per torchrun command")
    args = p.parse_args(argv)
    for key in ("batch_size", "infer_videos", "iters"):
        if getattr(args, key) < 1:
            p.error(f"--{key.replace('_', '-')} must be >= 1, got {getattr(args, key)}")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    from mmaction.utils import quiet_logger

    args = parse_args(argv)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda but torch sees no GPU", file=sys.stderr)
        return 1
    quiet_logger("gpu_check")
    try:
        cfg = load_config(args.config, args.cfg_options)
    except (FileNotFoundError, KeyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    on_gpu = device.type == "cuda"
    size = args.matmul_size or benchmark.default_matmul_size(device, torch.bfloat16)
    no_gpu = "no CUDA device: {what} needs a GPU"
    start = time.perf_counter()
    records = [
        run_check("environment", lambda: check_environment(device)),
        run_check("matmul_bf16", lambda: check_matmul(device, size)),
    ]
    records += [
        run_check("train_bf16", lambda: check_train(cfg, device, "bf16", args.batch_size, args.iters, size,
                                                    records[-1])),
        run_check("train_fp16_gradscaler", lambda: check_fp16(cfg, device, args.batch_size, args.iters)) if on_gpu
        else skipped("train_fp16_gradscaler", no_gpu.format(what="fp16 autocast with a GradScaler")),
        run_check("sdpa_backend", lambda: check_sdpa(cfg, device)),
        run_check("torch_compile", lambda: check_compile(cfg, device, args.infer_videos, args.iters)) if on_gpu
        else skipped("torch_compile", no_gpu.format(what="the compiled-against-eager GPU comparison")
                     + " (on a CPU, compile time would dominate this check)"),
        run_check("inference", lambda: check_inference(cfg, device, args.infer_videos, args.iters, size)),
        run_check("nccl_torchrun", lambda: check_nccl(Path(args.tiny_config), args.tiny_options, args.nccl_timeout))
        if on_gpu else skipped("nccl_torchrun", no_gpu.format(what="the NCCL backend")),
    ]
    failed = [r["check"] for r in records if r.get("ok") is False]
    emit(dict(check="summary", ok=not failed, failed=failed, skipped=[r["check"] for r in records if "skipped" in r],
              total_s=round(time.perf_counter() - start, 1)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
