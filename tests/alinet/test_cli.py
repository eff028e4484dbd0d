from companion.alinet.__main__ import main
from companion.results import load_results


def test_cli_end_to_end_tiny(tmp_path):
    paths = main(["--data", "kg_pair", "--noises", "0", "--ablation-noise", "0.5", "--seeds", "1",
                  "--epochs", "2", "--dims", "8,8,4", "--out", str(tmp_path)])
    ablation = load_results(paths["ablation"])
    assert [r["variant"] for r in ablation["rows"]][-1] == "AliNet"
    assert len(ablation["rows"]) == 6 and ablation["seeds"] == [0]
    sweep = load_results(paths["noise"])
    assert {r["noise"] for r in sweep["rows"]} == {0.0, 0.5}
    assert all(0.0 <= r["hits@1"] <= r["hits@10"] <= 1.0 for r in sweep["rows"])
