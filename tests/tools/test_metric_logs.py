"""``acc/num_failed`` is a number in every log of a training run (validation) and of tools/test.py.

mmengine keeps an int metric as ``numpy.int64`` in its message hub; its LoggerHook writes the test
epoch's JSON through a filter that drops numpy scalars, so an int ``num_failed`` came out as
``null`` there while the text log said 0.
"""

import json
import re

from tests.engine.engine_testkit import python_tool, run_tool


def json_records(work_dir):
    """Every JSON object of every ``*.json`` file (one per line, mmengine's scalar logs) under ``work_dir``."""
    records = []
    for path in sorted(work_dir.rglob("*.json")):
        for line in path.read_text().splitlines():
            line = line.strip()
            if line.startswith("{"):
                records.append((path, json.loads(line)))
    return records


def check_logs(work_dir, expected_records: int) -> None:
    with_metric = [(path, rec) for path, rec in json_records(work_dir) if "acc/num_failed" in rec]
    assert len(with_metric) >= expected_records, [p.name for p in work_dir.rglob("*.json")]
    for path, rec in with_metric:
        value = rec["acc/num_failed"]
        assert isinstance(value, (int, float)) and not isinstance(value, bool), (path, rec)
        assert value == 0, (path, rec)  # every generated video decodes
        assert isinstance(rec["acc/top1"], float) and 0.0 <= rec["acc/top1"] <= 1.0, (path, rec)
    text = "\n".join(p.read_text() for p in work_dir.rglob("*.log"))
    values = re.findall(r"acc/num_failed: (\S+)", text)
    assert len(values) >= expected_records and all(float(v) == 0 for v in values), values


def test_num_failed_is_a_number_in_the_validation_logs(tiny_run):
    check_logs(tiny_run.work_dir, expected_records=tiny_run.epochs)  # validation after each epoch


def test_validation_log_lines_hold_only_metrics(tiny_run):
    """Bookkeeping kept in mmengine's message hub (the checkpoint hook's last validated epoch) must
    not show up as a metric: mmengine prints runtime-info keys starting with the phase's name."""
    text = "\n".join(p.read_text() for p in tiny_run.work_dir.rglob("*.log"))
    lines = [line.split("Epoch(val)", 1)[1] for line in text.splitlines() if "Epoch(val)" in line and "acc/" in line]
    assert len(lines) >= tiny_run.epochs
    for line in lines:
        keys = set(re.findall(r"([\w/]+): \S", line))
        assert keys and all(k.startswith("acc/") or k in ("data_time", "time") for k in keys), line


def test_num_failed_is_a_number_in_the_test_logs(tiny_run, tmp_path):
    work_dir = tmp_path / "test_work_dir"
    proc = run_tool(python_tool("test.py", str(tiny_run.config), str(tiny_run.checkpoint), "--work-dir", str(work_dir)),
                    timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    check_logs(work_dir, expected_records=1)
