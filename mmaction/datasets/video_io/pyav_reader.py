"""Frame-exact random access to a video with PyAV (FFmpeg).

How frame indices are defined: at open time every packet of the video stream is read (demuxed,
not decoded, which is cheap) and the presentation timestamps of the packets that the decoder
will output (packets marked *discard* by an edit list are left out) are sorted. Frame ``i`` is
the frame whose timestamp is the ``i``-th of that list. This holds for variable frame rate and
for B-frame reordering, and it does not trust the frame count written in the header (which can
be wrong: ``decord_corrupted.mp4`` declares 50 frames and 49 decode).

Reading seeks to the key frame at or before the first wanted frame and decodes forward; it seeks
again only when a key frame lies between the current position and the next wanted frame.
Packets that fail to decode are skipped; a wanted frame that never comes out of the decoder is
replaced by the nearest earlier decoded frame (or the next one when there is none earlier).

Files whose timestamps cannot be trusted are decoded sequentially from the start and frame ``i``
is the ``i``-th frame the decoder outputs (decoders output frames in display order): files whose
packets carry no timestamps, and files whose decoded frames come out with non-increasing
timestamps (AVI with packed B-frames, e.g. ``mmaction2_test.avi``; detected while decoding).

Rotation metadata (display matrix) is applied, so frames come out upright, as a player shows
them (decord does the same).
"""

import bisect
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from .base_reader import VideoReader, check_video_file, rotate_frames, short_reason
from .errors import EmptyVideoFileError, VideoDecodeError


def _import_av():
    try:
        import av
    except ImportError as e:  # pragma: no cover - av is a hard requirement
        raise ImportError("PyAV is needed to read videos: pip install av") from e
    return av


class _UnreliableTimestamps(Exception):
    """Raised internally when decoded frames come out with non-increasing timestamps."""


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
        self._open()
        self._pts, self._key_indices, self._num_packets = self._build_index()
        self._sequential = len(self._pts) == 0
        self.num_frames = self._num_packets if self._sequential else len(self._pts)
        if self.num_frames == 0:
            self.close()
            raise EmptyVideoFileError(self.filename, "the video stream holds no frame")
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

    def _build_index(self) -> Tuple[np.ndarray, List[int], int]:
        """Demuxes every packet once.

        Returns:
            (sorted unique pts of the frames - empty when timestamps are missing and reads must
            be sequential -, indices of key frames, number of packets that hold a frame).
        """
        stamps: List[int] = []
        key_stamps: List[int] = []
        num_packets = 0
        missing = 0
        try:
            for packet in self._container.demux(self._stream):
                if packet.size == 0:
                    continue  # the flush packet at the end
                if getattr(packet, "is_discard", False):
                    continue  # dropped by an edit list: the decoder will not output it
                num_packets += 1
                ts = packet.pts if packet.pts is not None else packet.dts
                if ts is None:
                    missing += 1
                    continue
                stamps.append(int(ts))
                if packet.is_keyframe:
                    key_stamps.append(int(ts))
        except Exception as e:
            if num_packets == 0:
                raise VideoDecodeError(self.filename, f"cannot read packets ({short_reason(e)})") from e
            # a truncated file: keep what could be read
        self._fresh = False
        if num_packets == 0 or missing > num_packets // 2 or not stamps:
            return np.zeros(0, dtype=np.int64), [0], num_packets
        pts = np.unique(np.asarray(stamps, dtype=np.int64))
        keys = sorted(set(np.searchsorted(pts, np.asarray(key_stamps, dtype=np.int64)).tolist()))
        if not keys or keys[0] != 0:
            keys = [0] + keys
        return pts, keys, num_packets

    # ------------------------------------------------------------------ decoding
    def _index_of(self, frame, counter: int) -> int:
        ts = frame.pts if frame.pts is not None else frame.dts
        if self._sequential or ts is None:
            return counter
        pos = int(np.searchsorted(self._pts, ts))
        if pos < len(self._pts) and self._pts[pos] == ts:
            return pos
        # not an exact timestamp of the index: take the nearest
        if pos == 0:
            return 0
        if pos >= len(self._pts):
            return len(self._pts) - 1
        return pos if (self._pts[pos] - ts) < (ts - self._pts[pos - 1]) else pos - 1

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
                        raise _UnreliableTimestamps()
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
                if not from_start and self._key_at_or_before(int(wanted[j])) > index + 1:
                    exhausted = False
                    break  # a key frame lies ahead: seeking is cheaper than decoding on
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
            except _UnreliableTimestamps:
                # decoded frames come out of timestamp order: index by output order instead
                self._sequential = True
                got, rotation = self._decode_wanted(wanted)
        except VideoDecodeError:
            raise
        except Exception as e:
            raise VideoDecodeError(self.filename, f"PyAV failed while decoding ({short_reason(e)})") from e
        frames = np.stack([got[int(i)] for i in idx])
        return rotate_frames(frames, rotation)

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
