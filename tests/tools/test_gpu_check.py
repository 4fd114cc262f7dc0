"""tools/analysis/gpu_check.py on a CPU with the tiny config: every check reports, the CUDA-only ones
are skipped by name, and the measured ones agree with each other."""

import json
import math

import pytest

GPU_CHECK = "tools/analysis/gpu_check.py"
ORDER = ["environment", "matmul_bf16", "train_bf16", "train_fp16_gradscaler", "sdpa_backend", "torch_compile",
         "inference", "nccl_torchrun", "summary"]
CUDA_ONLY = {"train_fp16_gradscaler", "torch_compile", "nccl_torchrun"}


@pytest.fixture(scope="module")
def cpu_check(tiny_run, load_tool):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this test checks the CPU path; run gpu_check.py itself on a GPU")
    tool = load_tool(GPU_CHECK)
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        rc = tool.main(["--config", str(tiny_run.config), "--batch-size", "2", "--infer-videos", "1", "--iters", "2",
                        "--matmul-size", "256", "--device", "cpu"])
    capsys_out = buffer.getvalue().splitlines()
    return rc, [json.loads(line) for line in capsys_out if line.startswith("{")]


def test_one_json_line_per_check_in_order(cpu_check):
    rc, records = cpu_check
    assert [r["check"] for r in records] == ORDER
    assert rc == 0, records[-1]
    summary = records[-1]
    assert summary["ok"] is True and summary["failed"] == [] and set(summary["skipped"]) == CUDA_ONLY


def test_cuda_only_checks_are_skipped_by_name_with_a_reason(cpu_check):
    _, records = cpu_check
    for record in records:
        if record["check"] in CUDA_ONLY:
            assert set(record) == {"check", "skipped"}, record
            assert "no CUDA device" in record["skipped"]
        elif record["check"] != "summary":
            assert "skipped" not in record and record["ok"] is True, record


def test_train_bf16_runs_the_configured_train_step_and_reports_mfu(cpu_check):
    _, records = cpu_check
    by_name = {r["check"]: r for r in records}
    train = by_name["train_bf16"]
    assert train["optim_wrapper"] == "MixedPrecisionOptimWrapper" and train["amp"] == "bf16"
    assert train["batch_size"] == 2 and math.isfinite(train["first_loss"])
    assert train["step_s"] > 0 and math.isclose(train["clips_per_s"], 2 / train["step_s"], rel_tol=1e-9)
    # MFU: achieved rate (2 FLOPs per counted multiply-add per second) over the bf16 matmul rate of this run
    assert math.isclose(train["tflops"], 2 * train["step_gmacs"] * 1e9 / train["step_s"] / 1e12, rel_tol=1e-9)
    matmul = by_name["matmul_bf16"]
    assert matmul["size"] == 256 and matmul["tflops"] == max(matmul["readings_tflops"]) > 0
    assert train["matmul_reference_tflops"] == max(matmul["tflops"], train["matmul_peak_tflops"])
    assert math.isclose(train["mfu"], train["tflops"] / train["matmul_reference_tflops"], rel_tol=1e-9)


def test_inference_and_sdpa_records(cpu_check, tiny_run, load_tool):
    _, records = cpu_check
    by_name = {r["check"]: r for r in records}
    flops = load_tool("tools/analysis/get_flops.py")
    views = flops.test_views(flops.load_config(tiny_run.config))["num_views"]
    inference = by_name["inference"]
    assert math.isclose(inference["clips_per_s"], views / inference["step_s"], rel_tol=1e-9)
    sdpa = by_name["sdpa_backend"]
    assert sdpa["expected"] is None and isinstance(sdpa["backends"], dict)
    assert set(sdpa["backends"]) <= {"flash", "efficient", "cudnn", "math", "cpu_flash"}
    assert by_name["environment"]["device"] == "cpu" and by_name["environment"]["cuda_available"] is False


def test_sdpa_ops_are_read_from_the_profiler(load_tool):
    """The detection itself: a plain SDPA call on the CPU shows up under one of the known aten ops."""
    import torch

    tool = load_tool(GPU_CHECK)
    q = torch.randn(1, 2, 16, 8)
    counts = tool.sdpa_ops_used(lambda: torch.nn.functional.scaled_dot_product_attention(q, q, q),
                                torch.device("cpu"))
    assert sum(counts.values()) == 1 and set(counts) <= {"cpu_flash", "math"}, counts
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(SDPBackend.MATH):
        counts = tool.sdpa_ops_used(lambda: torch.nn.functional.scaled_dot_product_attention(q, q, q),
                                    torch.device("cpu"))
    assert counts == {"math": 1}, counts
