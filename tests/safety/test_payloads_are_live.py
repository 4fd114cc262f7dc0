"""The crafted files of tests/safety are real: loaded the unsafe way, each one runs its code.

Without this the refusal tests could pass on files that would never have done anything.
"""

from tests.safety.payloads import run_unsafely


def test_each_crafted_file_runs_its_code_when_loaded_unsafely(payload):
    assert not payload.ran()
    try:
        run_unsafely(payload)
    except Exception:  # noqa: BLE001 - the payload has run by the time the loader trips on its result
        pass
    assert payload.ran(), f"{payload.kind}: the crafted file did not run its code"
