"""frontend/src/wire.generated.ts is what scripts/wire_ts.py makes of the Python wire format."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dfws_celery.errors import ErrorType
from dfws_celery.wire import HEARTBEAT, CloseCode
from scripts.wire_ts import DEFAULT_OUTPUT, main, ts_type

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / DEFAULT_OUTPUT


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> str:
    output = tmp_path_factory.mktemp("wire") / "wire.generated.ts"
    subprocess.run(
        [sys.executable, "-m", "scripts.wire_ts", str(output)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return output.read_text()


def test_the_committed_file_is_up_to_date(generated: str):
    assert COMMITTED.read_text() == generated, "run 'python -m scripts.wire_ts' and commit it"


def test_every_error_type_and_close_code_is_in_the_typescript():
    committed = COMMITTED.read_text()
    for error_type in ErrorType:
        assert f'  | "{error_type.value}"' in committed
        assert f'  "{error_type.value}",' in committed
    for code in CloseCode:
        assert f"  {code.name}: {code.value}," in committed
    assert f'export const HEARTBEAT = "{HEARTBEAT}";' in committed


def test_check_fails_on_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    stale = tmp_path / "wire.generated.ts"
    stale.write_text(COMMITTED.read_text().replace('"rate_limited"', '"rate_limit"'))
    assert main(["--check", str(stale)]) == 1
    assert "is stale: run 'python -m scripts.wire_ts' and commit it" in capsys.readouterr().err
    assert main([str(stale)]) == 0
    assert main(["--check", str(stale)]) == 0


def test_a_type_without_a_mapping_fails_naming_its_field():
    assert ts_type(list[float | None], "Progress.fractions") == "(number | null)[]"
    with pytest.raises(TypeError, match=r"CallFrame\.tags: no TypeScript type for set\[str\]"):
        ts_type(set[str], "CallFrame.tags")
