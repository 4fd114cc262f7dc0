"""Frame-exact random access to a video with PyAV (FFmpeg).

How frame indices are defined: :func:`scan_frames` reads every packet of the video stream once
(demuxed, not decoded, which is cheap; cached per file) and sorts the presentation timestamps of
the packets that the decoder will output (packets marked *discard* by an edit list are left
out). Frame ``i`` is the frame whose timestamp is the ``i``-th of that list. This holds for
variable frame rate and for B-frame reordering, and it does not trust the frame count written
in the header (which can be wrong: ``decord_corrupted.mp4`` declares 50 frames and 49 decode).

Reading seeks to the key frame at or before the first wanted frame and decodes forward; it seeks
again only when a key frame lies between the current position and the next wanted frame. Every
decoded frame is identified by its own timestamp, which must be one of the index: a frame whose
timestamp is missing or not in the index proves the timestamps wrong, and the file is then read
sequentially (below). Packets that fail to decode are skipped; a wanted frame that never comes
out of the decoder is replaced by the nearest earlier decoded frame (or the next one when there
is none earlier).

Files whose timestamps cannot index the frames are decoded sequentially from the start and frame
``i`` is the ``i``-th frame the decoder outputs (decoders output frames in display order); their
frame count is the number of frames one full decode outputs (counted once when the file is
first opened, cached). These are: files whose packets carry no timestamps or repeat one, B-frame
video in containers that store no presentation timestamps (AVI with packed B-frames, e.g.
``mmaction2_test.avi``: the demuxer's timestamps are guesses), files whose first frames cannot be
decoded (the first packet is not a key frame), and files whose decoded frames came out with
timestamps out of order or outside the index (found while decoding; the frame count must then
still agree, else the read fails naming the file).

Rotation metadata (display matrix) is applied, so frames come out upright, as a player shows
them (decord does the same).
"""

import bisect
from typing import Dict, Iterator, List, Sequence, Tuple

import numpy as np

from .base_reader import VideoReader, check_video_file, rotate_frames, short_reason
from .errors import EmptyVideoFileError, VideoDecodeError
from .frame_index import file_key, remember, scan_frames

# per file version (path, mtime, size): frames one full decode outputs, and files found while
# decoding to need sequential reads (decoded timestamps out of order or not in the index)
_decoded_counts: Dict[tuple, int] = {}
_sequential_files: Dict[tuple, str] = {}


def _import_av():
    try:
        import av
    except ImportError as e:  # pragma: no cover - av is a hard requirement
        raise ImportError("PyAV is needed to read videos: pip install av") from e
    return av


class _UnreliableTimestamps(Exception):
    """Raised internally when a decoded frame's timestamp does not identify its index."""


class PyAVReader(VideoReader):
    """Reads frames of one video with PyAV.

    Args:
        filename: path of the video.
        num_threads: decoder threads; 1 (default) suits DataLoader workers, 0 lets FFmpeg choose.

    Raises:
        VideoFileMissingError, EmptyVideoFileError, VideoDecodeError: with the file name.
    """

    backend = "pyav"

    def __init__(self, filename: str, num_threads: int = 1) -> None:
        super().__init__(filename)
        check_video_file(self.filename)
        self._av = _import_av()
        self.num_threads = num_threads
        self.num_bad_packets = 0
        self._container = None
        self._stream = None
        self._fresh = False
        index = scan_frames(self.filename)
        self._key = file_key(self.filename)
        self._pts = index.pts
        self._key_indices = list(index.key_indices)
        self.sequential_reason = (
            index.timestamp_problem
            or ("the first frames cannot be decoded" if index.starts_mid_gop else "")
            or _sequential_files.get(self._key, "")
        )
        self._sequential = bool(self.sequential_reason)
        if index.num_packets == 0:
            raise EmptyVideoFileError(self.filename, "the video stream holds no frame")
        self._open()
        self.num_frames = self._count_decoded_frames() if self._sequential else len(self._pts)
        if self.num_frames == 0:
            self.close()
            raise EmptyVideoFileError(self.filename, "no frame of the video stream can be decoded")
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if rate else 0.0

    # ------------------------------------------------------------------ opening / indexing
    def _open(self) -> None:
        av = self._av
        self.close()
        try:
            self._container = av.open(self.filename, mode="r", metadata_errors="ignore")
        except Exception as e:  # av.error.FFmpegError, OSError, UnicodeDecodeError ...
            raise VideoDecodeError(self.filename, f"PyAV cannot open it ({short_reason(e)})") from e
        if not self._container.streams.video:
            self.close()
            raise EmptyVideoFileError(self.filename, "no video stream in the file")
        self._stream = self._container.streams.video[0]
        if self.num_threads == 1:
            # PyAV defaults to slice threads; one thread keeps error concealment deterministic
            self._stream.thread_type = "NONE"
            self._stream.codec_context.thread_count = 1
        else:
            self._stream.thread_type = "AUTO"
            self._stream.codec_context.thread_count = max(0, int(self.num_threads))
        self._fresh = True

    def _count_decoded_frames(self) -> int:
        """Frames one full sequential decode outputs (cached per file version)."""
        count = _decoded_counts.get(self._key)
        if count is None:
            count = 0
            try:
                for _ in self._frames_from(0):
                    count += 1
            except Exception as e:  # a truncated file: keep what could be decoded
                if count == 0:
                    raise VideoDecodeError(self.filename, f"PyAV cannot decode it ({short_reason(e)})") from e
            remember(_decoded_counts, self._key, count)
        return count

    # ------------------------------------------------------------------ decoding
    def _index_of(self, frame, counter: int) -> int:
        """The frame's index: its output position (sequential reads) or its timestamp's rank.

        Raises:
            _UnreliableTimestamps: the frame has no timestamp or one that is not in the index.
        """
        if self._sequential:
            return counter
        ts = frame.pts if frame.pts is not None else frame.dts
        if ts is None:
            raise _UnreliableTimestamps(f"a decoded frame has no timestamp (after frame {counter})")
        pos = int(np.searchsorted(self._pts, ts))
        if pos < len(self._pts) and self._pts[pos] == ts:
            return pos
        raise _UnreliableTimestamps(f"a decoded frame's timestamp {ts} is not one of the container's")

    def _frames_from(self, key_index: int) -> Iterator[Tuple[int, object]]:
        """Yields (frame index, av.VideoFrame) from the key frame ``key_index`` onwards."""
        av = self._av
        counter = 0
        if key_index == 0 or self._sequential:
            if not self._fresh:
                self._open()
        else:
            try:
                self._container.seek(
                    int(self._pts[key_index]), stream=self._stream, backward=True, any_frame=False
                )
            except Exception:
                self._open()  # the container cannot seek: decode from the start
            counter = -1  # unknown position: indices come from timestamps only
        self._fresh = False
        last_ts = None
        for packet in self._container.demux(self._stream):
            try:
                frames = packet.decode()
            except (av.error.FFmpegError, ValueError):
                self.num_bad_packets += 1
                continue
            for frame in frames:
                ts = frame.pts
                if not self._sequential and ts is not None:
                    if last_ts is not None and ts <= last_ts:
                        raise _UnreliableTimestamps(f"decoded timestamps go back ({last_ts} then {ts})")
                    last_ts = ts
                index = self._index_of(frame, max(counter, 0))
                if counter >= 0:
                    counter += 1
                yield index, frame

    def _key_at_or_before(self, index: int) -> int:
        if self._sequential:
            return 0
        pos = bisect.bisect_right(self._key_indices, index) - 1
        return self._key_indices[max(pos, 0)]

    def _decode_wanted(self, wanted: np.ndarray) -> Tuple[Dict[int, np.ndarray], float]:
        got: Dict[int, np.ndarray] = {}
        cache: List[object] = [None, None]  # [frame, its array]: the frame is held, so no id reuse
        rotation = 0.0

        def as_array(frame) -> np.ndarray:
            if cache[0] is not frame:
                cache[0], cache[1] = frame, frame.to_ndarray(format="rgb24")
            return cache[1]

        j, n = 0, len(wanted)
        from_start = False
        while j < n:
            target = int(wanted[j])
            start = 0 if from_start else self._key_at_or_before(target)
            prev = None
            first = True
            restart = False
            exhausted = True
            for index, frame in self._frames_from(start):
                if first:
                    rotation = float(getattr(frame, "rotation", 0) or 0)
                    if index > target and start > 0:
                        # the seek landed after the wanted frame: decode from the very start
                        from_start = True
                        restart = True
                        exhausted = False
                        break
                    first = False
                while j < n and wanted[j] <= index:
                    src = frame if (wanted[j] == index or prev is None) else prev
                    got[int(wanted[j])] = as_array(src)
                    j += 1
                if j >= n:
                    exhausted = False
                    break
                prev = frame
                if not from_start and index >= start and self._key_at_or_before(int(wanted[j])) > index + 1:
                    # a key frame lies ahead: seeking is cheaper than decoding on (only once past
                    # the key frame sought: a seek that lands earlier would land there again)
                    exhausted = False
                    break
            if restart:
                continue
            if exhausted and j < n:
                # the stream ended before these frames came out (truncated or undecodable tail)
                if prev is None:
                    raise VideoDecodeError(
                        self.filename,
                        f"no frame could be decoded at or after frame {target} "
                        f"({self.num_bad_packets} undecodable packets)",
                    )
                last = as_array(prev)
                while j < n:
                    got[int(wanted[j])] = last
                    j += 1
        return got, rotation

    def read(self, indices: Sequence[int]) -> np.ndarray:
        idx = self._check_indices(indices)
        wanted = np.unique(idx)
        try:
            try:
                got, rotation = self._decode_wanted(wanted)
            except _UnreliableTimestamps as why:
                self._become_sequential(str(why))
                got, rotation = self._decode_wanted(wanted)
        except VideoDecodeError:
            raise
        except Exception as e:
            raise VideoDecodeError(self.filename, f"PyAV failed while decoding ({short_reason(e)})") from e
        frames = np.stack([got[int(i)] for i in idx])
        return rotate_frames(frames, rotation)

    def _become_sequential(self, why: str) -> None:
        """Indexes frames by decoder output order from now on (and for later readers of the file).

        Raises:
            VideoDecodeError: the decoder outputs another number of frames than the index held,
                so the frame count already given out was wrong.
        """
        self.sequential_reason = f"decoded frames contradict the container's timestamps: {why}"
        self._sequential = True
        remember(_sequential_files, self._key, self.sequential_reason)
        count = self._count_decoded_frames()
        if count != self.num_frames:
            raise VideoDecodeError(
                self.filename,
                f"{self.sequential_reason}, and the decoder outputs {count} frames where the container "
                f"indexes {self.num_frames}; open it again to read it by decoder order",
            )

    def close(self) -> None:
        # getattr: __init__ may have raised (missing/empty file) before the container was set
        if getattr(self, "_container", None) is not None:
            try:
                self._container.close()
            except Exception:
                pass
            self._container = None

    def __del__(self) -> None:
        self.close()


__all__ = ["PyAVReader"]
