"""BaseActionDataset: list-file parsing and robust loading shared by the video datasets.

Robustness (docs/architecture.md, "Unreadable videos"):

- Training: a sample whose loading raises (or whose pipeline returns ``None``) is logged with
  its file name and a running count of skipped samples in this process (each DataLoader worker
  counts its own), and a random other sample is used instead. After ``max_load_retries``
  failures in a row the error is raised, naming the last file and its error.
- Testing (``test_mode=True``): the sample is kept. The pipeline runs again with
  ``decode_failed=True``: the loading steps emit black frames (``failed_frame_shape``) and the
  data sample's metainfo has ``decode_failed=True``, so the number of evaluated videos never
  changes.
- Every sample must load within ``decode_timeout`` seconds (see
  :mod:`mmaction.datasets.video_io.time_limit`); a longer one counts as unreadable.
- Only the reading of the file counts as "unreadable": an error raised by a pipeline step after
  the last decoding step (``*Init``/``*Decode``) is a bug or a wrong setting of that step, and stops
  the run with :class:`PipelineStepError`, naming the step and the file. (A pipeline without a
  recognisable decoding step keeps counting every error as an unreadable sample.)
"""

import logging
import os
import os.path as osp
from collections import defaultdict
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from .list_file import AnnotationError, read_label_map, read_lines
from .transforms.failed_sample import DEFAULT_FAILED_FRAME_SHAPE
from .transforms.rawframe_decode import RawFrameDecode
from .transforms.video_decode import VideoDecode
from .transforms.video_init import VideoInit
from .video_io import VideoDecodeError, time_limit

_DECODE_STEP_TYPES = (VideoInit, VideoDecode, RawFrameDecode)
_DECODE_STEP_SUFFIXES = ("Init", "Decode")


class PipelineStepError(RuntimeError):
    """A pipeline step failed on a sample whose file was read: a bug or a wrong setting of that
    step, not an unreadable video. It stops the run instead of being skipped."""


def is_decode_step(step) -> bool:
    """True for the steps that open or decode a file (``DecordInit``, ``PyAVDecode``,
    ``RawFrameDecode`` ..., and any step whose class name ends with ``Init`` or ``Decode``)."""
    return isinstance(step, _DECODE_STEP_TYPES) or type(step).__name__.endswith(_DECODE_STEP_SUFFIXES)


def _short(error: BaseException, limit: int = 300) -> str:
    text = f"{type(error).__name__}: {error}"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def classes_beyond_head(dataset_cfg: dict, head_num_classes: int, where: str) -> Optional[str]:
    """Says (one line) when a dataset config names more classes than the model's head has.

    Args:
        dataset_cfg: a dataset dict of a config (``label_map``, ``num_classes``, ``data_root``).
        head_num_classes: ``model.cls_head.num_classes``.
        where: the config key of the dataset, for the message (e.g. ``'train_dataloader.dataset'``).

    Returns:
        the problem, naming the label map (and its class count) or ``num_classes``, and the head's;
        None when the classes fit.

    Raises:
        AnnotationError: the label map cannot be read.
    """
    num_classes = dataset_cfg.get("num_classes")
    if isinstance(num_classes, int) and num_classes > head_num_classes:
        return (f"{where}: num_classes={num_classes} is more than the model's head has "
                f"(model.cls_head.num_classes={head_num_classes})")
    label_map = dataset_cfg.get("label_map")
    if not isinstance(label_map, str):
        return None
    path = BaseActionDataset._resolve_label_map(label_map, dataset_cfg.get("data_root"))
    if not osp.isfile(path):
        return None  # not there yet (e.g. written by a demo set-up): building the dataset reports it
    names = read_label_map(path)
    if len(names) > head_num_classes:
        return (f"{where}: label_map {path} names {len(names)} classes but the model's head has "
                f"model.cls_head.num_classes={head_num_classes}")
    return None


class BaseActionDataset(BaseDataset):
    """Reads a list file and loads samples robustly (see the module docstring).

    Subclasses set :attr:`PREFIX_KEY` and implement :meth:`parse_line`.

    Args:
        ann_file: the list file (relative paths are joined to ``data_root``).
        pipeline: transforms (configs or callables).
        data_prefix: folder of the files named in the list: ``dict(<PREFIX_KEY>=path)`` or, as in
            MMAction2 0.x configs, a plain string.
        multi_class: several labels per line (multi-label); needs ``num_classes``.
        num_classes: number of classes; labels must lie in ``[0, num_classes)``. Defaults to the
            number of names in ``label_map``.
        start_index: index of the first frame (0 for videos, 1 for ``img_00001.jpg`` frames).
        modality: ``'RGB'``.
        test_mode: evaluation mode (see the module docstring).
        label_map: path of a class-name file (one per line, line i = label i); exposed as
            ``metainfo['classes']``. A relative path is tried as given, then under ``data_root``.
        delimiter: separator of the fields of a line; ``None`` splits on any whitespace.
        allow_duplicates: a file listed twice is an error by default; ``True`` keeps both
            entries and logs a warning instead.
        decode_timeout: seconds allowed to load one sample; ``None`` or 0 disables the limit.
        max_load_retries: training: random replacements tried before giving up.
        failed_frame_shape: (H, W) of the black frames of an unreadable test sample.
        kwargs: passed to mmengine's ``BaseDataset`` (``data_root``, ``metainfo``, ``indices``,
            ``serialize_data``, ``lazy_init`` ...).
    """

    PREFIX_KEY = "video"

    def __init__(
        self,
        ann_file: str,
        pipeline: Sequence[Union[dict, Callable]] = (),
        data_prefix: Union[str, Dict[str, str], None] = None,
        multi_class: bool = False,
        num_classes: Optional[int] = None,
        start_index: int = 0,
        modality: str = "RGB",
        test_mode: bool = False,
        label_map: Optional[str] = None,
        delimiter: Optional[str] = None,
        allow_duplicates: bool = False,
        decode_timeout: Optional[float] = 60.0,
        max_load_retries: int = 10,
        failed_frame_shape: Tuple[int, int] = DEFAULT_FAILED_FRAME_SHAPE,
        **kwargs,
    ) -> None:
        name = type(self).__name__
        if modality != "RGB":
            raise ValueError(f"{name}: only modality='RGB' is supported, got {modality!r}")
        if multi_class and num_classes is None and label_map is None:
            raise ValueError(f"{name}: multi_class=True needs num_classes (or a label_map)")
        self.multi_class = multi_class
        self.start_index = int(start_index)
        self.modality = modality
        self.delimiter = delimiter
        self.allow_duplicates = allow_duplicates
        self.decode_timeout = decode_timeout
        self.max_load_retries = int(max_load_retries)
        self.failed_frame_shape = tuple(int(v) for v in failed_frame_shape)
        self._num_failed = 0

        metainfo = dict(kwargs.pop("metainfo", None) or {})
        self.label_map = self._resolve_label_map(label_map, kwargs.get("data_root"))
        if self.label_map is not None:
            metainfo["classes"] = tuple(read_label_map(self.label_map))
        if num_classes is None and metainfo.get("classes"):
            num_classes = len(metainfo["classes"])
        elif num_classes is not None and metainfo.get("classes") and len(metainfo["classes"]) != num_classes:
            raise ValueError(
                f"{name}: num_classes={num_classes} but the label map {self.label_map!r} names "
                f"{len(metainfo['classes'])} classes"
            )
        self.num_classes = num_classes

        super().__init__(
            ann_file=ann_file,
            metainfo=metainfo or None,
            data_prefix=self._prefix_dict(data_prefix),
            pipeline=list(pipeline),
            test_mode=test_mode,
            **kwargs,
        )

    # ------------------------------------------------------------------ configuration helpers
    def _prefix_dict(self, data_prefix) -> Dict[str, str]:
        key = self.PREFIX_KEY
        if data_prefix is None:
            return {key: ""}
        if isinstance(data_prefix, str):
            return {key: data_prefix}
        if isinstance(data_prefix, dict):
            if key in data_prefix:
                return {key: data_prefix[key] or ""}
            if len(data_prefix) == 1:  # e.g. dict(img=...) given to a VideoDataset
                return {key: next(iter(data_prefix.values())) or ""}
        raise TypeError(
            f"{type(self).__name__}: data_prefix must be a folder path or dict({key}=folder), got {data_prefix!r}"
        )

    @staticmethod
    def _resolve_label_map(label_map: Optional[str], data_root: Optional[str]) -> Optional[str]:
        if label_map is None:
            return None
        if not osp.isabs(label_map) and not osp.exists(label_map) and data_root:
            candidate = osp.join(data_root, label_map)
            if osp.exists(candidate):
                return candidate
        return label_map

    @property
    def prefix(self) -> str:
        """The folder that the list's relative paths are joined to."""
        return self.data_prefix.get(self.PREFIX_KEY, "") or ""

    # ------------------------------------------------------------------ parsing
    def parse_line(self, fields: List[str], where: str) -> dict:
        """Turns the fields of one line into a data-info dict (subclasses).

        Args:
            fields: the line split by the delimiter.
            where: ``'file:line'``, to start error messages with.
        """
        raise NotImplementedError

    def parse_label(self, text: str, where: str) -> int:
        """An int label in ``[0, num_classes)``; errors name the file and line."""
        try:
            label = int(text)
        except ValueError:
            raise AnnotationError(f"{where}: label {text!r} is not an integer") from None
        if label < 0:
            raise AnnotationError(f"{where}: label {label} is negative")
        if self.num_classes is not None and label >= self.num_classes:
            raise AnnotationError(f"{where}: label {label} is out of range for num_classes={self.num_classes}")
        return label

    def parse_labels(self, texts: List[str], where: str) -> Union[int, List[int]]:
        """One label, or (multi_class) one or more labels."""
        if not texts:
            raise AnnotationError(f"{where}: no label")
        labels = [self.parse_label(t, where) for t in texts]
        if self.multi_class:
            return labels
        if len(labels) != 1:
            raise AnnotationError(
                f"{where}: {len(labels)} labels on a single-label line (set multi_class=True for multi-label lists)"
            )
        return labels[0]

    def join_prefix(self, path: str) -> str:
        """Absolute path of a list entry."""
        return osp.abspath(osp.join(self.prefix, path)) if self.prefix else osp.abspath(path)

    def load_data_list(self) -> List[dict]:
        lines = read_lines(self.ann_file)
        if not lines:
            raise AnnotationError(f"{self.ann_file}: the list is empty")
        data_list = []
        first_seen: Dict[str, int] = {}
        duplicates: Dict[str, List[int]] = defaultdict(list)
        for line_no, line in lines:
            where = f"{self.ann_file}:{line_no}"
            fields = line.split(self.delimiter) if self.delimiter is not None else line.split()
            info = self.parse_line([f.strip() for f in fields], where)
            key = info.get("filename", info.get("frame_dir"))
            if key in first_seen:
                duplicates[key].append(line_no)
            else:
                first_seen[key] = line_no
            data_list.append(info)
        if duplicates:
            shown = [f"{k!r} (lines {first_seen[k]}, {', '.join(map(str, v))})" for k, v in list(duplicates.items())[:5]]
            message = (
                f"{self.ann_file}: {len(duplicates)} entries listed more than once: {'; '.join(shown)}"
                + (" ..." if len(duplicates) > 5 else "")
            )
            if not self.allow_duplicates:
                raise AnnotationError(message + " (pass allow_duplicates=True to keep them)")
            print_log(message + "; kept (allow_duplicates=True)", logger="current", level=logging.WARNING)
        return data_list

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info.setdefault("start_index", self.start_index)
        info.setdefault("modality", self.modality)
        return info

    # ------------------------------------------------------------------ robust loading
    def _name_of(self, info: dict) -> str:
        return str(info.get("filename", info.get("frame_dir", "?")))

    def prepare_data(self, idx: int):
        info = self.get_data_info(idx)
        with time_limit(self.decode_timeout, self._name_of(info)):
            return self._run_pipeline(info)

    def _run_pipeline(self, data: dict):
        """Runs the pipeline's steps; an error of a step after the last decoding step becomes a
        :class:`PipelineStepError` naming the step and the file."""
        steps = list(getattr(self.pipeline, "transforms", []))
        last_decode = max((i for i, step in enumerate(steps) if is_decode_step(step)), default=None)
        if last_decode is None:
            return self.pipeline(data)
        name = self._name_of(data)
        for i, step in enumerate(steps):
            try:
                data = step(data)
            except VideoDecodeError:
                raise
            except Exception as e:
                if i <= last_decode:
                    raise
                raise PipelineStepError(
                    f"{type(self).__name__}: pipeline step {i} ({type(step).__name__}) failed on {name!r}, which was "
                    f"read and decoded: {_short(e)}; this is an error of that step (or its settings), not an "
                    "unreadable video"
                ) from e
            if data is None:
                return None
        return data

    def __getitem__(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        return self._test_item(idx) if self.test_mode else self._train_item(idx)

    def _log_failure(self, idx: int, reason: str, action: str) -> None:
        self._num_failed += 1
        name = self._name_of(self.get_data_info(idx))
        print_log(
            f"{type(self).__name__}: cannot load sample {idx} {name!r} ({reason}); "
            f"{self._num_failed} unreadable so far in this process (pid {os.getpid()}); {action}",
            logger="current",
            level=logging.WARNING,
        )

    def _train_item(self, idx: int) -> dict:
        last_error: Optional[BaseException] = None
        reason = ""
        for _ in range(self.max_load_retries + 1):
            try:
                data = self.prepare_data(idx)
                reason = "the pipeline returned None"
            except PipelineStepError:
                raise
            except Exception as e:  # noqa: BLE001 - a file that cannot be read must not stop training
                data, last_error, reason = None, e, _short(e)
            if data is not None:
                return data
            self._log_failure(idx, reason, "using another random sample")
            idx = self._rand_another()
        raise RuntimeError(
            f"{type(self).__name__}: {self.max_load_retries + 1} samples in a row could not be loaded from "
            f"{self.ann_file!r} (last: {reason}); check the videos (tools/data/check_videos.py) and the pipeline"
        ) from last_error

    def _test_item(self, idx: int) -> dict:
        try:
            data = self.prepare_data(idx)
            if data is not None:
                return data
            reason = "the pipeline returned None"
        except PipelineStepError:
            raise
        except Exception as e:  # noqa: BLE001 - an unreadable test video is kept as black frames
            reason = _short(e)
        self._log_failure(idx, reason, "evaluated as black frames with decode_failed=True")
        info = self.get_data_info(idx)
        info["decode_failed"] = True
        info["decode_error"] = reason
        info["failed_frame_shape"] = self.failed_frame_shape
        try:
            data = self.pipeline(info)
        except Exception as e:
            raise RuntimeError(
                f"{type(self).__name__}: sample {idx} {self._name_of(info)!r} is unreadable ({reason}) and the "
                f"pipeline cannot build black frames for it either ({_short(e)})"
            ) from e
        if data is None:
            raise RuntimeError(f"{type(self).__name__}: the test pipeline returned None for {self._name_of(info)!r}")
        return data
