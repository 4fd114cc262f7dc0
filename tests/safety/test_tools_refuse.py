"""The command-line tools refuse the crafted files with one ``error:`` line naming the file and what
was refused, exit non-zero, and the payload does not run: ``tools/test.py``, ``tools/dist_test.sh``
with 2 processes (torchrun + gloo), and ``tools/train.py`` with ``--resume-from``, ``--resume`` and
``load_from``. (The library entry points and the demo/feature tools are in test_entry_points.py.)"""

import pytest

from tests.engine.engine_testkit import describe, dist_tool, python_tool, run_tool
from tests.safety.payloads import Payload

pytestmark = pytest.mark.slow


def _assert_tool_refused(proc, payload: Payload) -> None:
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode != 0, describe(proc)
    assert len(errors) == 1, f"expected one error line, got {errors}\n" + describe(proc)
    assert str(payload.path) in errors[0] and payload.refused in errors[0], errors[0]
    assert 'mmaction/' not in proc.stderr and '.py", line' not in proc.stderr.split("torch/distributed")[0], \
        "no Python traceback from our code\n" + describe(proc)
    assert not payload.ran(), f"the {payload.kind} payload ran\n" + describe(proc)


def test_test_py(make_payload, tiny_setup, tmp_path):
    payload = make_payload("zip_exec")
    proc = run_tool(python_tool("test.py", str(tiny_setup.config), str(payload.path), "--work-dir",
                                str(tmp_path / "w")), timeout=180)
    _assert_tool_refused(proc, payload)


def test_dist_test_two_processes(make_payload, tiny_setup, tmp_path):
    payload = make_payload("torchscript")
    proc = dist_tool("dist_test.sh", str(tiny_setup.config), str(payload.path), "--work-dir", str(tmp_path / "w"),
                     nproc=2, timeout=180)
    _assert_tool_refused(proc, payload)


def test_train_resume_from(make_payload, tiny_setup, tmp_path):
    payload = make_payload("zip_system")
    proc = run_tool(python_tool("train.py", str(tiny_setup.config), "--resume-from", str(payload.path),
                                "--cfg-options", f"work_dir={tmp_path / 'w'}"), timeout=180)
    _assert_tool_refused(proc, payload)


def test_train_resume_picks_up_a_planted_checkpoint(make_payload, tiny_setup, tmp_path):
    work_dir = tmp_path / "w"
    payload = make_payload("zip_exec", name="epoch_1.pth", folder=work_dir)
    proc = run_tool(python_tool("train.py", str(tiny_setup.config), "--resume",
                                "--cfg-options", f"work_dir={work_dir}"), timeout=180)
    assert f"--resume: continuing from {payload.path}" in proc.stdout + proc.stderr, describe(proc)
    _assert_tool_refused(proc, payload)


@pytest.mark.parametrize("kind", ["legacy"])
def test_train_load_from(kind, make_payload, tiny_setup, tmp_path):
    payload = make_payload(kind)
    proc = run_tool(python_tool("train.py", str(tiny_setup.config), "--cfg-options", f"work_dir={tmp_path / 'w'}",
                                f"load_from={payload.path}"), timeout=180)
    _assert_tool_refused(proc, payload)
