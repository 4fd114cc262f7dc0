"""Fixtures of tests/safety: crafted payload files per test, and a tiny AIM config whose videos exist."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.engine.engine_testkit import make_video_set, tiny_config
from tests.safety.payloads import KINDS, Payload, write_payload


@pytest.fixture
def make_payload(tmp_path):
    """``make_payload(kind, name='')`` -> a fresh :class:`Payload` in this test's folder."""

    def make(kind: str, name: str = "", folder: Path = None) -> Payload:
        return write_payload(kind, folder or tmp_path / "payloads", name)

    return make


@pytest.fixture(params=KINDS)
def payload(request, make_payload) -> Payload:
    """Each crafted file in turn."""
    return make_payload(request.param)


@dataclass
class TinySetup:
    root: Path
    config: Path
    test_list: Path
    video: Path


@pytest.fixture(scope="session")
def tiny_setup(tmp_path_factory) -> TinySetup:
    """The tiny AIM config of tests.engine.engine_testkit on 2 + 2 + 2 generated videos."""
    root = tmp_path_factory.mktemp("safety_videos")
    train = make_video_set(root, "train", 2, seed=0)
    val = make_video_set(root, "val", 2, seed=1)
    test = make_video_set(root, "test", 2, seed=2)
    config = tiny_config(root / "tiny_aim.py", train, val, test, max_epochs=1)
    return TinySetup(root, config, test, root / "test" / "video_000.mp4")


def assert_refused(err_text: str, payload: Payload) -> None:
    """The refusal is one line naming the file and what was refused, and the payload did not run."""
    line = err_text.strip()
    assert "\n" not in line, line
    assert str(payload.path) in line, line
    assert payload.refused in line, line
    assert not payload.ran(), f"the payload of {payload.kind} ran"
