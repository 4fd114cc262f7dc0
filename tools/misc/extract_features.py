#!/usr/bin/env python
"""Per-video backbone features of a trained recognizer, one ``.npy`` file per video.

Every video of ``--list`` goes through the config's test pipeline (all its test views, e.g.
3 clips x 1 crop for the K400 configs) and the model's data preprocessor. The feature of a video
is the output of ``model.extract_feat`` (the backbone, plus a neck if the model has one; for
AIM the ``ln_post`` class token of every frame, (V, D, T, 1, 1) for V views) averaged over the
frames and the 1x1 space, as the I3D head does before its dropout and ``fc_cls``, and then over
the V views:

    feature = mean over views v and frames t of extract_feat(view v)[:, t]     shape (D,), float32

so ``fc_cls(feature)`` equals the view-averaged raw class scores (``average_clips='score'``).

List format: one video per line, ``relative/path.mp4 [label ...]`` (MMAction2 lists work as they
are; what follows the path is ignored). Relative paths are joined to ``--data-prefix``, by default
the folder of the list file. ``DIR/relative/path.npy`` is written for ``relative/path.mp4``
(``DIR/name.npy`` for absolute paths). A video that cannot be read (missing, corrupt, decoding
longer than ``--decode-timeout``) is skipped, reported on stderr and listed with its reason in
``DIR/unreadable.txt``; the last line printed is a summary. Exit status 0 when at least one
video was extracted, 1 otherwise.

Examples::

    python tools/misc/extract_features.py configs/recognition/vit/vitclip_base_k400_8x16x1_3views.py \\
        aim_b16_k400_8f.pth --list data/kinetics400/kinetics400_val_list_videos.txt \\
        --data-prefix data/kinetics400/videos_val --out features/k400_val --device cuda --num-workers 8
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import DictAction
from torch import nn

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(REPO_ROOT))

VideoEntry = Tuple[int, str, Path, Path]  # (list line, entry as written, video path, output .npy path)


# --------------------------------------------------------------------------- list
def read_video_list(list_file: Path, data_prefix: Optional[Path], out_dir: Path) -> List[VideoEntry]:
    """Parses the list into (line number, entry, video path, output path).

    Args:
        list_file: ``path [label ...]`` per line.
        data_prefix: folder that relative paths are joined to (None: the list's folder).
        out_dir: where the ``.npy`` files go.

    Raises:
        FileNotFoundError: naming the list when it is missing.
        ValueError: naming the list and lines when it is empty or two lines give the same output file.
    """
    from mmaction.datasets.list_file import read_lines

    prefix = data_prefix if data_prefix is not None else list_file.parent
    entries: List[VideoEntry] = []
    seen: Dict[Path, int] = {}
    for line_no, line in read_lines(str(list_file), "video list"):
        name = line.split()[0]
        rel = Path(name)
        video = rel if rel.is_absolute() else prefix / rel
        inside = not rel.is_absolute() and ".." not in rel.parts  # else the file name only, kept inside out_dir
        out = out_dir / (rel if inside else Path(rel.name)).with_suffix(".npy")
        if out in seen:
            raise ValueError(f"{list_file}:{line_no}: {name!r} gives the same output file {out} as line {seen[out]}")
        seen[out] = line_no
        entries.append((line_no, name, video, out))
    if not entries:
        raise ValueError(f"{list_file}: the video list is empty")
    return entries


class _PipelineDataset(torch.utils.data.Dataset):
    """Runs the test pipeline on one list entry; returns (index, packed or None, error or None)."""

    def __init__(self, entries: Sequence[VideoEntry], pipeline_cfg: Sequence[dict], decode_timeout: Optional[float]):
        self.entries = list(entries)
        self.pipeline_cfg = list(pipeline_cfg)
        self.decode_timeout = decode_timeout
        self._pipeline = None

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> Tuple[int, Optional[dict], Optional[str]]:
        from mmengine.dataset import Compose

        from mmaction.datasets.video_io import time_limit
        from mmaction.utils.setup_env import register_all_modules

        if self._pipeline is None:  # built in the worker that uses it
            register_all_modules()
            self._pipeline = Compose(self.pipeline_cfg)
        video = str(self.entries[index][2])
        data = dict(filename=video, label=-1, start_index=0, modality="RGB", sample_idx=index)
        try:
            with time_limit(self.decode_timeout, video):
                packed = self._pipeline(data)
        except Exception as err:  # noqa: BLE001 - any unreadable video is skipped and reported
            return index, None, f"{type(err).__name__}: {err}"
        if packed is None:
            return index, None, "the test pipeline returned None"
        return index, packed, None


def _first(batch: list):
    return batch[0]


# --------------------------------------------------------------------------- features
def video_features(model: nn.Module, packed: dict) -> torch.Tensor:
    """The feature of one video: ``extract_feat`` averaged over frames, space and views.

    Args:
        model: a recognizer (``data_preprocessor``, ``extract_feat``; ``test_cfg.max_testing_views``
            bounds the views per forward pass).
        packed: one sample as the test pipeline packs it: ``inputs`` uint8 (V, C, T, H, W).

    Returns:
        (D,) float32 tensor on the CPU.
    """
    from mmengine.dataset import pseudo_collate

    with torch.inference_mode():
        data = model.data_preprocessor(pseudo_collate([packed]), False)
        inputs = data["inputs"]  # (1, V, C, T, H, W) normalised
        views = inputs.flatten(0, 1) if inputs.dim() == 6 else inputs
        chunk = (getattr(model, "test_cfg", None) or {}).get("max_testing_views") or views.shape[0]
        per_view = []
        for part in views.split(chunk):
            feats = model.extract_feat(part)  # (n, D, T, 1, 1)
            per_view.append(feats.float().flatten(2).mean(dim=2) if feats.dim() > 2 else feats.float())
        return torch.cat(per_view).mean(dim=0).cpu()


def extract(
    model: nn.Module,
    entries: Sequence[VideoEntry],
    pipeline_cfg: Sequence[dict],
    num_workers: int = 0,
    decode_timeout: Optional[float] = 120.0,
    skip_existing: bool = False,
) -> Tuple[int, List[Tuple[VideoEntry, str]], Optional[int]]:
    """Writes one ``.npy`` per readable video.

    Returns:
        (number written, [(entry, reason)] of the unreadable videos, feature size D or None).
    """
    todo = [e for e in entries if not (skip_existing and e[3].is_file())]
    dataset = _PipelineDataset(todo, pipeline_cfg, decode_timeout)
    loader = torch.utils.data.DataLoader(dataset, batch_size=1, shuffle=False, num_workers=num_workers,
                                         collate_fn=_first)
    written, failed, dim = 0, [], None
    for index, packed, error in loader:
        entry = todo[index]
        if error is not None:
            print(f"skip {entry[2]} (list line {entry[0]}): {error}", file=sys.stderr)
            failed.append((entry, error))
            continue
        feature = video_features(model, packed).numpy().astype(np.float32)
        entry[3].parent.mkdir(parents=True, exist_ok=True)
        np.save(entry[3], feature)
        dim = int(feature.shape[0])
        written += 1
    return written, failed, dim


# --------------------------------------------------------------------------- CLI
def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Per-video backbone features (mean over test views) to .npy files.")
    p.add_argument("config", help="config file")
    p.add_argument("checkpoint", help="checkpoint file")
    p.add_argument("--list", required=True, help="video list: 'relative/path.mp4 [label]' per line")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--data-prefix", default=None, help="folder the list's paths are relative to "
                   "(default: the list file's folder)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1 ...")
    p.add_argument("--num-workers", type=int, default=0, help="DataLoader processes decoding videos")
    p.add_argument("--decode-timeout", type=float, default=120.0,
                   help="seconds one video may take to load before it counts as unreadable (0: no limit)")
    p.add_argument("--skip-existing", action="store_true", help="leave videos whose .npy exists alone")
    p.add_argument("--cfg-options", nargs="+", action=DictAction, default=None,
                   help="override config keys, e.g. model.test_cfg.max_testing_views=1")
    args = p.parse_args(argv)
    if args.num_workers < 0:
        p.error(f"--num-workers must be >= 0, got {args.num_workers}")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    from mmaction.apis import init_recognizer
    from mmaction.apis.inference import _test_pipeline_cfg
    from mmaction.utils import quiet_logger, require_device, require_file

    quiet_logger("extract_features")  # no INFO lines from the model build
    out_dir = Path(args.out)
    start = time.perf_counter()
    try:
        for path, what in ((args.config, "config file"), (args.checkpoint, "checkpoint"), (args.list, "video list")):
            require_file(path, what)
        prefix = Path(args.data_prefix) if args.data_prefix else None
        if prefix is not None and not prefix.is_dir():
            raise FileNotFoundError(f"--data-prefix folder not found: {prefix}")
        require_device(args.device)
        entries = read_video_list(Path(args.list), prefix, out_dir)
        model = init_recognizer(args.config, args.checkpoint, device=args.device, cfg_options=args.cfg_options)
        pipeline_cfg = _test_pipeline_cfg(model.cfg)
    except (FileNotFoundError, ValueError, KeyError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1

    written, failed, dim = extract(model, entries, pipeline_cfg, args.num_workers, args.decode_timeout or None,
                                   args.skip_existing)
    skipped = len(entries) - written - len(failed)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "unreadable.txt"
    if failed:
        report.write_text("".join(f"{entry[1]}\t{reason}\n" for entry, reason in failed), encoding="utf-8")
    elif report.is_file() and not args.skip_existing:
        report.unlink()  # a stale report of an earlier run
    shape = f"({dim},)" if dim is not None else "(D,)"
    print(
        f"extracted {written} of {len(entries)} videos to {out_dir} (float32 {shape}, mean over test views and frames)"
        + (f", {skipped} already there" if skipped else "")
        + (f", {len(failed)} unreadable (listed in {report})" if failed else ", 0 unreadable")
        + f", {time.perf_counter() - start:.1f} s"
    )
    return 0 if written + skipped > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
