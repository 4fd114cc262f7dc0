"""Times a data pipeline in one process (what one DataLoader worker can deliver)."""

import statistics
import time
from typing import Callable, Dict, List, Sequence, Union

from mmengine.dataset import Compose

from mmaction.registry import TRANSFORMS

from . import transforms  # noqa: F401  (registers the transforms a pipeline names)


def time_pipeline(
    pipeline_cfg: Sequence[Union[dict, Callable]],
    video_files: Sequence[str],
    iters: int,
    warmup: int = 1,
    label: int = 0,
) -> Dict[str, float]:
    """Runs ``pipeline_cfg`` on ``video_files`` (cycled) ``iters`` times and measures it.

    Each run gets the dict a :class:`VideoDataset` would give (``filename``, ``label``,
    ``sample_idx``, ``start_index=0``, ``modality='RGB'``); a pipeline that fails on a file
    raises (benchmark readable videos). ``warmup`` untimed runs come first.

    Args:
        pipeline_cfg: transform configs (``dict(type=...)``) or callables.
        video_files: paths of videos.
        iters: timed runs (>= 1).
        warmup: untimed runs before timing.
        label: the label put in every sample.

    Returns:
        dict: ``clips_per_s`` (samples per second, each sample being all views of one video),
        ``views_per_s`` (clips x crops per second), ``step_s`` (mean seconds per sample),
        ``step_s_median`` (what ``tools/analysis/benchmark.py`` reports as ``step_s``), ``total_s``,
        ``iters``.
    """
    if iters < 1:
        raise ValueError(f"time_pipeline: iters must be >= 1, got {iters}")
    if not video_files:
        raise ValueError("time_pipeline: no video file given")
    # built by mmaction's registry, so the transform names resolve whatever the default scope is
    pipeline = Compose([TRANSFORMS.build(dict(t)) if isinstance(t, dict) else t for t in pipeline_cfg])

    def run(i: int):
        info = dict(
            filename=str(video_files[i % len(video_files)]), label=label, sample_idx=i, start_index=0, modality="RGB"
        )
        out = pipeline(info)
        if out is None:
            raise RuntimeError(f"time_pipeline: the pipeline returned None for {info['filename']!r}")
        return out

    for i in range(warmup):
        run(i)
    steps: List[float] = []
    views = 0
    start = time.perf_counter()
    for i in range(iters):
        t0 = time.perf_counter()
        out = run(i)
        steps.append(time.perf_counter() - t0)
        inputs = out["inputs"] if isinstance(out, dict) and "inputs" in out else None
        views += int(inputs.shape[0]) if inputs is not None and inputs.ndim >= 4 else 1
    total = time.perf_counter() - start
    return dict(
        clips_per_s=iters / total,
        views_per_s=views / total,
        step_s=total / iters,
        step_s_median=statistics.median(steps),
        total_s=total,
        iters=float(iters),
    )
