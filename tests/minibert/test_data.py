import pytest

from companion import data


def test_corpus_is_deterministic_deduplicated_and_split(no_network):
    a = data.load("docstring_corpus", max_per_library=100)
    b = data.load("docstring_corpus", max_per_library=100)
    assert a["train"] == b["train"] and a["held_out_labels"] == b["held_out_labels"]
    assert not set(a["train"]) & set(a["held_out"])
    everything = a["train"] + a["held_out"]
    assert len(everything) == len(set(everything))
    assert set(a["held_out_labels"]) == set(range(len(a["libraries"])))
    assert all(6 <= len(s.split()) <= 40 and s[0].isupper() and s.endswith(".") for s in everything)


def test_corpus_validates_arguments():
    with pytest.raises(ValueError, match="libraries"):
        data.load("docstring_corpus", libraries=["cobol"])
    with pytest.raises(ValueError, match="held_out_fraction"):
        data.load("docstring_corpus", held_out_fraction=1.0)


def test_minilm_loads_offline(no_network):
    pack = data.load("minilm")
    assert pack["model"].config.vocab_size == 30522 and pack["model"].config.hidden_size == 384
    assert pack["tokenizer"].tokenize("Return the graph.") == ["return", "the", "graph", "."]
