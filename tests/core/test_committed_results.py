"""Every results file the book publishes is on the schema and can be rerun by its own command."""

import json
from pathlib import Path

import pytest

from companion.reproduce import rerun_argv
from companion.results import load_results
from companion.utils import repo_path

FILES = sorted(repo_path("book").glob("*/results/*.json"))


def test_the_book_has_results_files():
    assert len(FILES) >= 11


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_committed_results_file_is_on_schema_and_rerunnable(path: Path, tmp_path):
    payload = load_results(path)  # strict JSON, required keys, non-empty summary
    assert payload["seeds"] and all(isinstance(s, int) for s in payload["seeds"])
    for row in payload["summary"]:
        assert {"method", "metric", "mean", "std", "n", "higher_is_better"} <= set(row), row
        assert row["n"] >= 1
    argv = rerun_argv(payload["command"], tmp_path)  # refuses a command that is not a companion CLI
    assert argv[-2:] == ["--out", str(tmp_path)]
    assert "--publish" not in payload["command"] and "--out" not in payload["command"].split()
    json.dumps(payload, allow_nan=False)
