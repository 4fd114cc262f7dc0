"""Helpers for tests/reliability: broken videos, fault-injecting pipeline steps / models / hooks,
a tiny config with a resizing pipeline, and thin wrappers around the training/test tools.

Importable as ``tests.reliability.reliability_kit`` (the repository root is on sys.path under
pytest and on PYTHONPATH in the tool subprocesses); the configs written here name it in
``custom_imports`` (beside ``tests.engine.engine_testkit``) so that the classes below are
registered in every training/test process.
"""

import json
import os
import signal
import struct
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import av
import numpy as np
import torch
from mmengine.hooks import Hook

from mmaction.registry import HOOKS, MODELS, TRANSFORMS
from tests.engine.engine_testkit import REPO_ROOT, python_tool, tiny_config, tool_env

# ------------------------------------------------------------------------------ videos
RNG_SEED = 1234


def write_h264(path: Path, num_frames: int, height: int = 32, width: int = 32, *, faststart: bool = False,
               gop: int = 4, seed: int = RNG_SEED) -> Path:
    """Writes ``num_frames`` random RGB frames as H.264 yuv420p (mp4) with PyAV.

    Args:
        path: output file.
        num_frames: frame count.
        height, width: frame size (even numbers: yuv420p needs them).
        faststart: put the ``moov`` header before the media data, so a cut file still has a
            complete header (and a header frame count larger than what can be decoded).
        gop: key frame interval.
        seed: noise seed.
    """
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, size=(num_frames, height, width, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), mode="w", options=options) as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "18", "preset": "ultrafast", "g": str(gop)}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def set_mp4_rotation(path: Path, degrees: int) -> None:
    """Writes a display matrix of ``degrees`` (a multiple of 90) into the first ``tkhd`` box of an
    mp4, as a phone does for a video recorded upright (no re-encoding)."""
    data = bytearray(path.read_bytes())
    pos = data.find(b"tkhd")
    if pos < 0:
        raise ValueError(f"{path}: no tkhd box")
    version = data[pos + 4]
    # version/flags, creation, modification, track id, reserved, duration, reserved[2], layer,
    # alternate group, volume, reserved -> matrix (9 x int32, 16.16 / 2.30 fixed point)
    offset = pos + 4 + 4 + (8 if version == 0 else 16) + 4 + 4 + (4 if version == 0 else 8) + 8 + 2 + 2 + 2 + 2
    one = 0x10000
    cos, sin = {0: (1, 0), 90: (0, 1), 180: (-1, 0), 270: (0, -1)}[degrees % 360]
    matrix = (cos * one, sin * one, 0, -sin * one, cos * one, 0, 0, 0, 0x40000000)
    struct.pack_into(">9i", data, offset, *matrix)
    path.write_bytes(bytes(data))


def header_frame_count(path: Path) -> int:
    """The frame count the container header declares."""
    with av.open(str(path)) as container:
        return int(container.streams.video[0].frames)


#: name -> whether the video must be skipped as unreadable (True) or used (False).
BAD_VIDEO_KINDS: Dict[str, bool] = {
    "missing": True,           # listed, not on disk
    "zero_bytes": True,        # 0-byte file
    "truncated": True,         # cut in half; the header (moov, written last) is lost
    "garbage": True,           # random bytes
    "slow": True,              # decodes forever (see ReliabilityTestSlowDecode): cut off by decode_timeout
    "corrupt_packets": False,  # random bytes over a run of packets: those are skipped, the rest decodes
    "header_overcount": False,  # header says 16 frames, 9 can be decoded
    "one_frame": False,        # a single frame
    "too_short": False,        # 3 frames < clip_len 4 x frame_interval 2
    "tiny_2x2": False,         # smallest legal H.264 yuv420p frame
    "wide_4000x16": False,     # extreme aspect ratio
    "rotated_90": False,       # display-matrix rotation (48x32 stored, shown 32x48)
}


def make_bad_videos(root: Path, folder: str = "bad") -> Dict[str, Path]:
    """Writes one file per :data:`BAD_VIDEO_KINDS` entry under ``root/folder`` (the missing one is
    not written) and returns name -> absolute path."""
    out = root / folder
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / f"{name}.mp4" for name in BAD_VIDEO_KINDS}

    paths["zero_bytes"].write_bytes(b"")
    paths["garbage"].write_bytes(np.random.default_rng(7).integers(0, 256, 6000, dtype=np.uint8).tobytes())
    write_h264(paths["slow"], 8)

    plain = write_h264(out / "_plain.tmp.mp4", 16)
    data = plain.read_bytes()
    plain.unlink()
    paths["truncated"].write_bytes(data[: len(data) // 2])
    corrupt = bytearray(data)
    start = data.find(b"mdat") + len(data) // 4
    corrupt[start:start + 600] = np.random.default_rng(3).integers(0, 256, 600, dtype=np.uint8).tobytes()
    paths["corrupt_packets"].write_bytes(bytes(corrupt))

    fast = write_h264(out / "_fast.tmp.mp4", 16, faststart=True)
    data = fast.read_bytes()
    fast.unlink()
    paths["header_overcount"].write_bytes(data[: int(len(data) * 0.6)])

    write_h264(paths["one_frame"], 1)
    write_h264(paths["too_short"], 3)
    write_h264(paths["tiny_2x2"], 6, height=2, width=2)
    write_h264(paths["wide_4000x16"], 6, height=16, width=4000)
    write_h264(paths["rotated_90"], 6, height=32, width=48)
    set_mp4_rotation(paths["rotated_90"], 90)
    return {name: path.resolve() for name, path in paths.items()}


def append_to_list(list_file: Path, paths: Sequence[Path], labels: Optional[Sequence[int]] = None) -> List[str]:
    """Appends ``path label`` lines (paths relative to the list's folder); returns the lines."""
    lines = []
    for i, path in enumerate(paths):
        label = labels[i] if labels is not None else i % 3
        lines.append(f"{os.path.relpath(path, list_file.parent)} {label}")
    with list_file.open("a") as f:
        f.write("".join(f"{ln}\n" for ln in lines))
    return lines


# ------------------------------------------------------------------------------ fault injection
@TRANSFORMS.register_module()
class ReliabilityTestSlowDecode:
    """A pipeline step that hangs (sleeps ``seconds``) on files whose name contains ``marker``:
    a decoder stuck on a pathological file. The dataset's ``decode_timeout`` must cut it off."""

    def __init__(self, marker: str = "slow", seconds: float = 3600.0) -> None:
        self.marker, self.seconds = marker, float(seconds)

    def __call__(self, results: dict) -> dict:
        if not results.get("decode_failed") and self.marker in os.path.basename(str(results.get("filename", ""))):
            deadline = time.monotonic() + self.seconds
            while time.monotonic() < deadline:
                time.sleep(0.05)
        return results


@MODELS.register_module()
class ReliabilityTestOverflowRecognizer(MODELS.get("Recognizer3D")):
    """Recognizer3D whose loss is multiplied by ``factor`` at the given (1-based) iterations: the
    loss stays finite in fp32 but its fp16 gradients overflow (the GradScaler must skip the step)."""

    def __init__(self, overflow_iters: Sequence[int] = (), factor: float = 1e30, **kwargs) -> None:
        super().__init__(**kwargs)
        self.overflow_iters, self.factor = set(overflow_iters), float(factor)

    def loss(self, inputs, data_samples):
        from mmengine.logging import MessageHub

        losses = super().loss(inputs, data_samples)
        it = MessageHub.get_current_instance().get_info("iter", 0) + 1
        if it in self.overflow_iters:
            losses["loss_cls"] = losses["loss_cls"] * self.factor
        return losses


def _trainable_digest(model) -> float:
    model = getattr(model, "module", model)
    with torch.no_grad():
        return float(sum(p.detach().double().abs().sum().item() + p.detach().double().sum().item()
                         for p in model.parameters() if p.requires_grad))


@HOOKS.register_module()
class ReliabilityTestWeightProbe(Hook):
    """Records, per training iteration (1-based), whether the trainable weights changed and the
    loss scale (fp16), in ``work_dir/weight_probe.json`` (rewritten after every iteration, so it
    survives a run that stops with an error)."""

    priority = "LOWEST"

    def __init__(self) -> None:
        self.records: Dict[str, dict] = {}
        self._before: Optional[float] = None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self._before = _trainable_digest(runner.model)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        after = _trainable_digest(runner.model)
        wrapper = runner.optim_wrapper
        scaler = getattr(wrapper, "loss_scaler", None)
        self.records[str(runner.iter + 1)] = dict(
            changed=after != self._before,
            skipped_updates=int(getattr(wrapper, "total_skipped_updates", 0)),
            loss_scale=float(scaler.get_scale()) if scaler is not None else None,
        )
        path = Path(runner.work_dir) / "weight_probe.json"
        path.write_text(json.dumps(self.records, indent=1))


# ------------------------------------------------------------------------------ configs
def _pipeline(num_clips: int, test_mode: bool, slow: bool) -> str:
    steps = ["dict(type='DecordInit')"]
    if slow:
        steps.append("dict(type='ReliabilityTestSlowDecode', marker='slow')")
    steps += [
        f"dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips={num_clips}, test_mode={test_mode})",
        "dict(type='DecordDecode')",
        "dict(type='Resize', scale=(-1, 32))",
        "dict(type='CenterCrop', crop_size=32)",
    ]
    if not test_mode:
        steps.append("dict(type='Flip', flip_ratio=0.5)")
    steps += ["dict(type='FormatShape', input_format='NCTHW')", "dict(type='PackActionInputs')"]
    return "[" + ", ".join(steps) + "]"


def reliability_config(path: Path, train_list: Path, val_list: Path, test_list: Path, *, max_epochs: int = 2,
                       extra: str = "", model_type: str = "Recognizer3D", batch_size: int = 2,
                       resize_pipeline: bool = False, slow: bool = False, decode_timeout: Optional[float] = None,
                       num_workers: int = 0) -> Path:
    """:func:`tiny_config` (the real VideoDataset, ViT_CLIP width 32, 1 layer, 32 px, 4 frames) plus:
    this module in ``custom_imports``; optionally a pipeline that resizes and crops any frame size
    to 32 px (``resize_pipeline``), a hanging step on ``*slow*`` files (``slow``), a dataset
    ``decode_timeout`` and DataLoader workers."""
    more = [
        "custom_imports = dict(imports=['tests.engine.engine_testkit', 'tests.reliability.reliability_kit'], "
        "allow_failed_imports=False)"
    ]
    for key, num_clips, test_mode in (("train", 1, False), ("val", 1, True), ("test", 2, True)):
        loader = f"{key}_dataloader"
        if resize_pipeline or slow:
            more.append(f"{loader}['dataset']['pipeline'] = {_pipeline(num_clips, test_mode, slow)}")
        if decode_timeout is not None:
            more.append(f"{loader}['dataset']['decode_timeout'] = {decode_timeout!r}")
        if num_workers:
            more.append(f"{loader}['num_workers'] = {int(num_workers)}")
    return tiny_config(path, train_list, val_list, test_list, max_epochs=max_epochs, model_type=model_type,
                       batch_size=batch_size, extra="\n" + "\n".join(more) + "\n" + extra)


# ------------------------------------------------------------------------------ running the tools
def run_bounded(args: List[str], timeout: float, env: Optional[Dict[str, str]] = None
                ) -> subprocess.CompletedProcess:
    """Runs ``args`` from the repo root in a new process group; the result has an ``elapsed``
    attribute (wall seconds). On timeout the whole group (torchrun and its workers) is killed and
    ``subprocess.TimeoutExpired`` is raised: a hang fails the test and leaves nothing behind."""
    start = time.monotonic()
    proc = subprocess.Popen(args, cwd=str(REPO_ROOT), env=env or tool_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    result = subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)
    result.elapsed = time.monotonic() - start
    return result


def dist(script: str, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """``bash tools/<script> ARGS`` (dist_train.sh / dist_test.sh; the process count is part of
    ``args``) under :func:`run_bounded`."""
    return run_bounded(["bash", str(REPO_ROOT / "tools" / script), *args], timeout=timeout)


def run_train(cfg: Path, work_dir: Path, *args: str, timeout: float = 180, deterministic: bool = True
              ) -> subprocess.CompletedProcess:
    """``python tools/train.py CFG --work-dir WORK_DIR --seed 0 [--deterministic] ARGS``
    (``deterministic=False`` on a GPU: deterministic cuBLAS needs CUBLAS_WORKSPACE_CONFIG)."""
    flags = ["--deterministic"] if deterministic else []
    return run_bounded(python_tool("train.py", str(cfg), "--work-dir", str(work_dir), "--seed", "0", *flags, *args),
                       timeout=timeout)


def run_test(cfg: Path, checkpoint: Path, work_dir: Path, *args: str, timeout: float = 120
             ) -> subprocess.CompletedProcess:
    """``python tools/test.py CFG CHECKPOINT --work-dir WORK_DIR ARGS``."""
    return run_bounded(python_tool("test.py", str(cfg), str(checkpoint), "--work-dir", str(work_dir), *args),
                       timeout=timeout)


def output(proc: subprocess.CompletedProcess) -> str:
    """stdout and stderr of a finished tool run."""
    return (proc.stdout or "") + (proc.stderr or "")


def describe(proc: subprocess.CompletedProcess, limit: int = 6000) -> str:
    """The exit code and the end of the output, for assertion messages."""
    return f"exit code {proc.returncode}\n--- output (tail) ---\n{output(proc)[-limit:]}"


def log_files(work_dir: Path) -> List[Path]:
    """The mmengine text logs (``work_dir/<timestamp>/<timestamp>.log``)."""
    return sorted(work_dir.glob("*/*.log"))


def checkpoints(work_dir: Path) -> List[str]:
    return sorted(p.name for p in work_dir.glob("*.pth"))


@HOOKS.register_module()
class ReliabilityTestFillDisk(Hook):
    """Before training epoch ``epoch`` (1-based), fills the work dir's file system with a filler
    file, leaving ``leave_fraction`` x the size of the last checkpoint free: the next checkpoint
    cannot be written (ENOSPC) while the log lines of the epoch still fit. Records the SHA-256 of
    every file of the work dir at that moment in ``record`` (a path outside the full disk)."""

    priority = "LOWEST"

    def __init__(self, record: str, epoch: int = 2, leave_fraction: float = 0.5) -> None:
        self.record, self.epoch, self.leave_fraction = record, epoch, float(leave_fraction)

    def before_train_epoch(self, runner):
        import hashlib

        if runner.epoch + 1 != self.epoch:
            return
        work_dir = Path(runner.work_dir)
        last = Path((work_dir / "last_checkpoint").read_text().strip())
        hashes = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(work_dir.iterdir()) if p.is_file()}
        Path(self.record).write_text(json.dumps(hashes, indent=1))
        stat = os.statvfs(work_dir)
        free = stat.f_bavail * stat.f_frsize
        leave = int(last.stat().st_size * self.leave_fraction)
        with open(work_dir / "filler.bin", "wb") as f:
            f.write(b"\0" * max(free - leave, 0))


@HOOKS.register_module()
class ReliabilityTestPidFile(Hook):
    """Writes ``<folder>/pid_rank<r>`` when training starts and sleeps ``seconds_per_iter`` after
    every iteration (a run that is still training when the test acts on it)."""

    def __init__(self, folder: str, seconds_per_iter: float = 0.5) -> None:
        self.folder, self.seconds_per_iter = folder, float(seconds_per_iter)

    def before_train(self, runner):
        from mmengine.dist import get_rank

        Path(self.folder, f"pid_rank{get_rank()}").write_text(str(os.getpid()))

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        time.sleep(self.seconds_per_iter)


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting to be reaped counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
