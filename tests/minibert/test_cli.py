import json

from companion.minibert.__main__ import main


def test_cli_runs_end_to_end_on_a_tiny_setting(tmp_path, no_network):
    out = tmp_path / "mb.json"
    main(["--student-vocab", "300", "--hidden", "32", "--layers", "1", "--max-per-library", "30", "--head-epochs", "1",
          "--dual-steps", "2", "--student-steps", "3", "--label-per-library", "3", "--finetune-epochs", "1",
          "--coverage-sizes", "200", "--sweep-hidden", "--ablations", "false", "--teacher-finetune", "false",
          "--eval-sentences", "40", "--out", str(out)])
    payload = json.loads(out.read_text())
    methods = [r["method"] for r in payload["rows"]]
    assert methods == ["teacher", "mixed", "scratch", "logit-kd"]
    teacher, ours = payload["rows"][0], payload["rows"][1]
    assert teacher["parameters"] == 22_713_216 and ours["compression"] > 10
    assert all(0 <= r["mlm_accuracy"] <= 1 for r in payload["rows"])
    assert payload["command"].startswith("python -m companion.minibert") and payload["seeds"] == [0]
    assert {c["vocab"] for c in payload["coverage"]} == {"teacher (MiniLM)", "student 200"}
