"""Helpers for tests/engine: tiny videos written with PyAV, a tiny AIM config, and runners for
the training/test tools (in-process and as subprocesses, 1 or 2 processes).

The module is imported as ``tests.engine.engine_testkit`` (the repository root is on sys.path
under pytest, and on PYTHONPATH in the subprocesses) and is named in the configs'
``custom_imports`` so that the helper classes below are registered in every process.
"""

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import av
import numpy as np
import torch
from mmengine.hooks import Hook

from mmaction.registry import HOOKS, MODELS

REPO_ROOT = Path(__file__).resolve().parents[2]

# Distinct colour per class, so that the tiny model can learn something in a few steps.
CLASS_COLOURS = np.array([[220, 40, 40], [40, 200, 60], [50, 60, 220], [200, 200, 40]], dtype=np.float32)


# ------------------------------------------------------------------------------ videos
def write_video(path: Path, frames: np.ndarray, fps: int = 8) -> None:
    """Writes (T, H, W, 3) uint8 RGB frames as an H.264 mp4 with PyAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "18", "preset": "ultrafast"}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def make_video_set(root: Path, name: str, num_videos: int, num_classes: int = 3, size: int = 32,
                   num_frames: int = 8, seed: int = 0) -> Path:
    """Writes ``num_videos`` coloured noise videos under ``root/name/`` and a list file
    ``root/name.txt`` ("relative/path.mp4 label" per line, MMAction2 format). Returns the list file."""
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(num_videos):
        label = i % num_classes
        base = CLASS_COLOURS[label % len(CLASS_COLOURS)]
        noise = rng.normal(0, 25, size=(num_frames, size, size, 3))
        ramp = np.linspace(-20, 20, num_frames)[:, None, None, None]
        frames = np.clip(base + noise + ramp, 0, 255).astype(np.uint8)
        rel = f"{name}/video_{i:03d}.mp4"
        write_video(root / rel, frames)
        lines.append(f"{rel} {label}")
    list_file = root / f"{name}.txt"
    list_file.write_text("\n".join(lines) + "\n")
    return list_file


def add_broken_video(root: Path, list_file: Path, label: int = 1) -> Path:
    """Appends an unreadable "video" (random bytes) to a list file; returns its path."""
    path = root / f"{list_file.stem}_broken.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with list_file.open("a") as f:
        f.write(f"{path.name} {label}\n")
    return path


# ------------------------------------------------------------------------------ fault injection
@MODELS.register_module()
class EngineTestNaNRecognizer(MODELS.get("Recognizer3D")):
    """Recognizer3D whose loss becomes NaN at the given (1-based) iterations on the given ranks."""

    def __init__(self, nan_iters: Sequence[int] = (), nan_ranks: Sequence[int] = (0,), **kwargs) -> None:
        super().__init__(**kwargs)
        self.nan_iters, self.nan_ranks = set(nan_iters), set(nan_ranks)

    def loss(self, inputs, data_samples):
        from mmengine.dist import get_rank
        from mmengine.logging import MessageHub

        losses = super().loss(inputs, data_samples)
        it = MessageHub.get_current_instance().get_info("iter", 0) + 1
        if it in self.nan_iters and get_rank() in self.nan_ranks:
            losses["loss_cls"] = losses["loss_cls"] * float("nan")
        return losses


@HOOKS.register_module()
class EngineTestKillHook(Hook):
    """SIGKILLs the process at a chosen point, to test crash safety.

    ``when='after_epoch'``: right after epoch ``epoch``'s checkpoint is written (mid-run kill);
    ``when='during_checkpoint'``: half-way through writing epoch ``epoch``'s checkpoint file.
    ``when='raise'``: raises RuntimeError on rank ``rank`` at iteration ``iteration`` instead.
    """

    priority = "LOWEST"

    def __init__(self, when: str, epoch: int = 1, rank: int = 0, iteration: int = 1) -> None:
        self.when, self.epoch, self.rank, self.iteration = when, epoch, rank, iteration

    def _mine(self) -> bool:
        from mmengine.dist import get_rank

        return get_rank() == self.rank

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.when == "raise" and self._mine() and runner.iter + 1 == self.iteration:
            raise RuntimeError(f"injected failure on rank {self.rank} at iteration {self.iteration}")

    def after_train_epoch(self, runner):
        if self.when == "after_epoch" and runner.epoch + 1 == self.epoch and self._mine():
            os.kill(os.getpid(), 9)  # after CheckpointHook (priority VERY_LOW) wrote epoch_{epoch}.pth

    def before_train_epoch(self, runner):
        if self.when != "during_checkpoint" or runner.epoch + 1 != self.epoch or not self._mine():
            return
        import mmaction.engine.runner.atomic_io as atomic_io

        def write_half_then_die(fileobj, data):
            fileobj.write(data[: len(data) // 2])
            fileobj.flush()
            os.fsync(fileobj.fileno())
            os.kill(os.getpid(), 9)

        atomic_io.write_payload = write_half_then_die


# ------------------------------------------------------------------------------ configs
def _pipeline(num_clips: int, test_mode: bool) -> str:
    steps = [
        "dict(type='DecordInit')",
        f"dict(type='SampleFrames', clip_len=4, frame_interval=1, num_clips={num_clips}, test_mode={test_mode})",
        "dict(type='DecordDecode')",
    ]
    if not test_mode:
        steps.append("dict(type='Flip', flip_ratio=0.5)")
    steps += ["dict(type='FormatShape', input_format='NCTHW')", "dict(type='PackActionInputs')"]
    return "[" + ", ".join(steps) + "]"


def tiny_config(path: Path, train_list: Path, val_list: Path, test_list: Path, *, max_epochs: int = 2,
                extra: str = "", model_type: str = "Recognizer3D", legacy: bool = False,
                batch_size: int = 2, num_classes: int = 3) -> Path:
    """Writes a tiny AIM config: the real VideoDataset/pipeline on 32 px videos and the real
    ViT_CLIP (width 32, 1 layer, 2 heads, patch 8, 32 px, 4 frames), I3DHead and preprocessor."""
    root = train_list.parent
    train_pipe, val_pipe, test_pipe = _pipeline(1, False), _pipeline(1, True), _pipeline(2, True)
    common = f'''
        custom_imports = dict(imports=['tests.engine.engine_testkit'], allow_failed_imports=False)
        model = dict(
            type='{model_type}',
            backbone=dict(type='ViT_CLIP', input_resolution=32, num_frames=4, patch_size=8, width=32,
                          layers=1, heads=2, drop_path_rate=0.1, num_tadapter=1, adapter_scale=0.5,
                          pretrained=None),
            cls_head=dict(type='I3DHead', num_classes={num_classes}, in_channels=32, dropout_ratio=0.5),
            data_preprocessor=dict(type='ActionDataPreprocessor', mean=[122.769, 116.74, 104.04],
                                   std=[68.493, 66.63, 70.321], format_shape='NCTHW'),
            test_cfg=dict(average_clips='prob'))
    '''
    dataset = "dict(type='VideoDataset', ann_file='{ann}', data_prefix={prefix}, pipeline={pipe}{more})"
    if legacy:
        prefix = f"'{root}'"
        body = f'''
            data = dict(
                videos_per_gpu={batch_size}, workers_per_gpu=0,
                val_dataloader=dict(videos_per_gpu=2), test_dataloader=dict(videos_per_gpu=1),
                train={dataset.format(ann=train_list, prefix=prefix, pipe=train_pipe, more="")},
                val={dataset.format(ann=val_list, prefix=prefix, pipe=val_pipe, more=", test_mode=True")},
                test={dataset.format(ann=test_list, prefix=prefix, pipe=test_pipe,
                                     more=", test_mode=True, failed_frame_shape=(32, 32)")})
            evaluation = dict(interval=1, metrics=['top_k_accuracy', 'mean_class_accuracy'])
            optimizer = dict(type='AdamW', lr=3e-3, betas=(0.9, 0.999), weight_decay=0.05,
                             paramwise_cfg=dict(custom_keys={{'ln_post': dict(decay_mult=0.),
                                                              'class_embedding': dict(decay_mult=0.)}}))
            optimizer_config = dict(grad_clip=None, update_interval=1)
            lr_config = dict(policy='CosineAnnealing', min_lr=0, warmup='linear', warmup_by_epoch=True,
                             warmup_iters=1)
            total_epochs = {max_epochs}
            checkpoint_config = dict(interval=1)
            log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook'), dict(type='TensorboardLoggerHook')])
            fp16 = None
            dist_params = dict(backend='nccl')
            workflow = [('train', 1)]
        '''
    else:
        prefix = f"dict(video='{root}')"
        loader = ("dict(batch_size={bs}, num_workers=0, persistent_workers=False, "
                  "sampler=dict(type='DefaultSampler', shuffle={shuffle}), dataset={ds})")
        body = f'''
            _base_ = ['{REPO_ROOT}/configs/_base_/default_runtime.py',
                      '{REPO_ROOT}/configs/_base_/schedules/adamw_cosine_30e.py']
            train_dataloader = {loader.format(bs=batch_size, shuffle=True, ds=dataset.format(
                ann=train_list, prefix=prefix, pipe=train_pipe, more=""))}
            val_dataloader = {loader.format(bs=2, shuffle=False, ds=dataset.format(
                ann=val_list, prefix=prefix, pipe=val_pipe, more=", test_mode=True"))}
            test_dataloader = {loader.format(bs=1, shuffle=False, ds=dataset.format(
                ann=test_list, prefix=prefix, pipe=test_pipe, more=", test_mode=True, failed_frame_shape=(32, 32)"))}
            val_evaluator = dict(type='AccMetric')
            test_evaluator = dict(type='AccMetric')
            train_cfg = dict(max_epochs={max_epochs}, val_interval=1)
            optim_wrapper = dict(optimizer=dict(lr=3e-3))
            param_scheduler = [
                dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1, convert_to_iter_based=True),
                dict(type='CosineAnnealingLR', T_max={max_epochs}, eta_min=0, by_epoch=True, begin=0,
                     end={max_epochs}, convert_to_iter_based=True)]
            default_hooks = dict(logger=dict(interval=1))
        '''
    path.write_text(textwrap.dedent(body) + textwrap.dedent(common) + textwrap.dedent(extra))
    return path


# ------------------------------------------------------------------------------ running the tools
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tool_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    env["PORT"] = str(free_port())
    env.pop("RANK", None)
    env.pop("WORLD_SIZE", None)
    env.pop("LOCAL_RANK", None)
    if extra:
        env.update(extra)
    return env


def run_tool(args: List[str], timeout: float = 240, env: Optional[Dict[str, str]] = None,
             cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    """Runs ``args`` (e.g. ``['bash', 'tools/dist_train.sh', ...]``) from the repo root."""
    return subprocess.run(args, cwd=str(cwd or REPO_ROOT), env=env or tool_env(), capture_output=True, text=True,
                          timeout=timeout)


def python_tool(script: str, *args: str) -> List[str]:
    return [sys.executable, str(REPO_ROOT / "tools" / script), *args]


def load_state(path: Path) -> Dict[str, torch.Tensor]:
    """The model weights of a checkpoint written by the Runner."""
    return torch.load(str(path), map_location="cpu", weights_only=True)["state_dict"]


# ------------------------------------------------------------------------------ launching and reading a run
def dist_tool(script: str, *args: str, nproc: int = 1, timeout: float = 240,
              env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    """``bash tools/<script> ...`` (``dist_train.sh CONFIG NPROC ...`` or ``dist_test.sh CONFIG CKPT NPROC ...``):
    ``nproc`` is inserted where the script expects it (after the config, or after the checkpoint)."""
    args = list(args)
    where = 2 if script == "dist_test.sh" else 1
    args.insert(where, str(nproc))
    return run_tool(["bash", str(REPO_ROOT / "tools" / script), *args], timeout=timeout, env=env)


def output(proc: subprocess.CompletedProcess) -> str:
    """stdout and stderr of a finished tool run."""
    return (proc.stdout or "") + (proc.stderr or "")


def describe(proc: subprocess.CompletedProcess, limit: int = 6000) -> str:
    """The exit code and the end of the output, for assertion messages."""
    return f"exit code {proc.returncode}\n{output(proc)[-limit:]}"


def run_dirs(work_dir: Path) -> List[Path]:
    """The per-run folders (``<timestamp>/``) mmengine wrote under a work dir, oldest first."""
    return sorted(p for p in Path(work_dir).iterdir() if p.is_dir() and (p / "vis_data").is_dir())


def read_logs(work_dir: Path) -> str:
    """The text logs (``<timestamp>/<timestamp>.log``) of every run in a work dir, oldest first."""
    return "".join((d / f"{d.name}.log").read_text() for d in run_dirs(work_dir) if (d / f"{d.name}.log").is_file())


def read_scalars(work_dir: Path) -> List[dict]:
    """Every record of the runs' ``vis_data/scalars.json`` (LocalVisBackend), oldest first."""
    import json

    records = []
    for d in run_dirs(work_dir):
        path = d / "vis_data" / "scalars.json"
        if path.is_file():
            records += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return records


def tensorboard_scalars(work_dir: Path) -> Dict[str, List[float]]:
    """``{tag: [values in step order]}`` read back from the TensorBoard event files of a work dir."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    found: Dict[str, List[float]] = {}
    for events in sorted(Path(work_dir).glob("*/vis_data/events.out.tfevents.*")):
        acc = EventAccumulator(str(events), size_guidance={"scalars": 0})
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            found.setdefault(tag, []).extend(e.value for e in acc.Scalars(tag))
    return found


def load_checkpoint_file(path: Path) -> dict:
    """A whole Runner checkpoint (``weights_only`` load with the project's allow-list)."""
    from mmaction.engine.runner import register_checkpoint_safe_globals

    register_checkpoint_safe_globals()
    return torch.load(str(path), map_location="cpu", weights_only=True)


def parse_metric_line(text: str, marker: str) -> Dict[str, float]:
    """The metrics of the last log line containing ``marker`` and ``key=value`` pairs, e.g. the
    ``test (last weights): acc/top1=0.5000, ...`` line of tools/train.py."""
    import re

    lines = [line for line in text.splitlines() if marker in line and "=" in line]
    if not lines:
        raise AssertionError(f"no line with {marker!r} in the output")
    pairs = re.findall(r"([\w/]+)=([-+\d.eE]+|nan|inf)", lines[-1].split(marker, 1)[1])
    return {k: float(v) for k, v in pairs}


def tensors_in(obj, prefix: str = "") -> Dict[str, torch.Tensor]:
    """Every tensor of a nested dict/list (e.g. an optimizer state), keyed by its path."""
    found: Dict[str, torch.Tensor] = {}
    if isinstance(obj, torch.Tensor):
        found[prefix] = obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            found.update(tensors_in(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            found.update(tensors_in(value, f"{prefix}.{i}" if prefix else str(i)))
    return found


def tensor_differences(a: Dict[str, torch.Tensor], b: Dict[str, torch.Tensor], atol: float = 0.0) -> List[str]:
    """Keys missing on one side and tensors that differ by more than ``atol`` (``0``: bit-exact)."""
    problems = [f"only in the first: {k}" for k in sorted(set(a) - set(b))]
    problems += [f"only in the second: {k}" for k in sorted(set(b) - set(a))]
    for key in sorted(set(a) & set(b)):
        x, y = a[key], b[key]
        if x.shape != y.shape or x.dtype != y.dtype:
            problems.append(f"{key}: {tuple(x.shape)} {x.dtype} vs {tuple(y.shape)} {y.dtype}")
        elif atol == 0.0 and not torch.equal(x, y):
            problems.append(f"{key}: max |diff| {(x.double() - y.double()).abs().max().item():.3g}")
        elif atol > 0.0 and not torch.allclose(x.double(), y.double(), rtol=0.0, atol=atol):
            problems.append(f"{key}: max |diff| {(x.double() - y.double()).abs().max().item():.3g} > {atol}")
    return problems


def dist_train_nodes(*args: str, nnodes: int = 2, nproc_per_node: int = 1,
                     timeout: float = 240) -> List[subprocess.CompletedProcess]:
    """``bash tools/dist_train.sh CONFIG NPROC ...`` once per "node", all on this machine, with
    ``NNODES``/``NODE_RANK``/``MASTER_ADDR``/``PORT`` set as on a real multi-node job. Returns the
    finished processes, node 0 first."""
    args = list(args)
    args.insert(1, str(nproc_per_node))
    port = str(free_port())
    procs = []
    for node in range(nnodes):
        env = tool_env({"NNODES": str(nnodes), "NODE_RANK": str(node), "MASTER_ADDR": "127.0.0.1", "PORT": port})
        procs.append(subprocess.Popen(["bash", str(REPO_ROOT / "tools" / "dist_train.sh"), *args], cwd=str(REPO_ROOT),
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    done = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return done
