import json
from pathlib import Path

import pytest
import torch
from transformers import BertConfig, BertModel

from companion.minibert import SingleTokenizer, masked_eval_batches
from companion.minibert import pretrain
from companion.reproduce import reproduce_file

REPO = Path(__file__).resolve().parents[2]
TINY = ["--steps", "4", "--head-steps", "2", "--warmup", "1", "--checkpoint-every", "2", "--eval-every", "2",
        "--max-per-library", "30", "--eval-sentences", "40", "--scratch-steps", "2", "--hidden", "32", "--layers", "1",
        "--student-vocab", "300", "--seeds", "0", "1", "--no-progress"]


def _small_body(vocab_size: int) -> BertModel:
    """A small random BERT on the real teacher vocabulary (fast; its weights do not matter here)."""
    torch.manual_seed(0)
    return BertModel(BertConfig(vocab_size=vocab_size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                intermediate_size=32, max_position_embeddings=40)).eval()


def _train(body, tok, sentences, cfg, **kw):
    model = pretrain.build_teacher_mlm(body, cfg.seed)
    state = pretrain.pretrain_teacher(model, tok, sentences, cfg, **kw)
    return model, state


def test_a_killed_run_resumes_to_the_same_weights(tmp_path, teacher_tokenizer, corpus):
    tok = SingleTokenizer(teacher_tokenizer, 16)
    body = _small_body(tok.vocab_size)
    xs = corpus["train"][:200]
    cfg = pretrain.TeacherConfig(steps=6, head_steps=2, warmup=1, batch_size=4, seed=3)
    straight, s_state = _train(body, tok, xs, cfg)
    ckpt = tmp_path / "ckpt.pt"
    model = pretrain.build_teacher_mlm(body, cfg.seed)
    first = pretrain.pretrain_teacher(model, tok, xs, cfg, checkpoint=ckpt, checkpoint_every=10, stop_after=3)
    assert first["step"] == 3 and ckpt.is_file()
    resumed_model = pretrain.build_teacher_mlm(body, cfg.seed)  # a fresh process would start like this
    resumed = pretrain.pretrain_teacher(resumed_model, tok, xs, cfg, checkpoint=ckpt, checkpoint_every=10)
    assert resumed["step"] == 6 and resumed["resumed"] == 1
    assert resumed["history"]["loss"] == s_state["history"]["loss"]
    for (name, a), b in zip(straight.state_dict().items(), resumed_model.state_dict().values()):
        assert torch.equal(a, b), name
    # the head-only phase leaves the body alone and trains the head; phase 2 trains the body
    head_only = pretrain.build_teacher_mlm(body, cfg.seed)
    pretrain.pretrain_teacher(head_only, tok, xs, pretrain.TeacherConfig(steps=2, head_steps=2, batch_size=4))
    assert torch.equal(head_only.bert.encoder.layer[0].output.dense.weight, body.encoder.layer[0].output.dense.weight)
    assert not torch.equal(head_only.cls.predictions.transform.dense.weight,
                           pretrain.build_teacher_mlm(body, cfg.seed).cls.predictions.transform.dense.weight)
    assert not torch.equal(straight.bert.encoder.layer[0].output.dense.weight, body.encoder.layer[0].output.dense.weight)
    # a checkpoint of other settings is refused
    with pytest.raises(ValueError, match="other settings"):
        pretrain.pretrain_teacher(pretrain.build_teacher_mlm(body, 0), tok, xs,
                                  pretrain.TeacherConfig(steps=7, head_steps=2, batch_size=4, seed=3), checkpoint=ckpt)


def test_teacher_is_tied_and_masking_is_dynamic(teacher_tokenizer, corpus):
    tok = SingleTokenizer(teacher_tokenizer, 16)
    model = pretrain.build_teacher_mlm(_small_body(tok.vocab_size))
    assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    # fresh masks every step: two steps on the same single sentence see different masked positions
    seen = []
    real_mask = pretrain.mask_tokens

    def spy(ids, word_ids, mask_id, p, g):
        out = real_mask(ids, word_ids, mask_id, p, g)
        seen.append(out[1].clone())
        return out

    pretrain.mask_tokens = spy
    try:
        pretrain.pretrain_teacher(model, tok, corpus["train"][:1],
                                  pretrain.TeacherConfig(steps=4, head_steps=1, batch_size=8, mask_prob=0.3))
    finally:
        pretrain.mask_tokens = real_mask
    assert len(seen) == 4 and len({tuple(s.flatten().tolist()) for s in seen}) > 1


def test_most_frequent_baseline_counts_pieces(teacher_tokenizer):
    tok = SingleTokenizer(teacher_tokenizer, 16)
    train = ["the cat sat on the mat."] * 3
    batches = masked_eval_batches(tok.encode, tok.mask_id, ["the the the the cat."] * 8, mask_prob=0.5, seed=0)
    out = pretrain.most_frequent_baseline(tok, train, batches)
    labels = torch.cat([b["labels"][b["labels"] != -100] for b in batches])
    the = teacher_tokenizer.convert_tokens_to_ids("the")
    assert out["piece"] == "the" and out["mlm_accuracy"] == pytest.approx(float((labels == the).float().mean()))
    assert 1 < out["perplexity"] < tok.vocab_size


def test_cli_tiny_run_writes_and_reproduces_with_a_fresh_cache(tmp_path, monkeypatch, no_network):
    before = set((REPO / "book" / "05_minibert" / "results").glob("*"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COMPANION_CACHE", str(tmp_path / "cache"))
    out = pretrain.main(TINY)
    path = tmp_path / "results" / "teacher_mlm.json"
    payload = json.loads(path.read_text())
    assert set((REPO / "book" / "05_minibert" / "results").glob("*")) == before
    assert payload["command"].startswith("python -m companion.minibert.pretrain --steps 4")
    methods = [(r["method"], r["setting"]["vocab"], r["seed"]) for r in payload["rows"]]
    assert methods == [("most frequent piece", 30522, 0), ("most frequent piece", 300, 0),
                       ("teacher: MLM head only", 30522, 0), ("teacher: continued MLM", 30522, 0),
                       ("scratch student", 300, 0), ("scratch student", 300, 1)]
    teacher = payload["rows"][3]
    assert teacher["steps"] == 4 and [v["step"] for v in teacher["curve"]["validation"]] == [2, 4]
    assert payload["teacher"]["steps"] == 4 and payload["teacher"]["loaded_from_cache"] is False
    assert all(0 <= r["mlm_accuracy"] <= 1 and r["perplexity"] > 1 for r in payload["rows"])
    # the weights live in the cache, outside the results folder and the repository
    assert (Path(out["record"]["path"]) / "model").is_dir() and str(tmp_path / "cache") in out["record"]["path"]
    assert not (Path(out["record"]["path"]) / "checkpoint.pt").exists()
    # a second run with the same settings loads the finished teacher instead of training it
    again = pretrain.main(TINY + ["--out", str(tmp_path / "again")])
    assert again["record"]["cached"] is True
    # a fresh process with an empty cache retrains the teacher and gets the same summary (tolerance 0)
    monkeypatch.setenv("COMPANION_CACHE", str(tmp_path / "cache2"))
    assert reproduce_file(path, tmp_path / "rerun") == []
    assert (tmp_path / "cache2" / "minibert").is_dir()


@pytest.mark.parametrize("flag, value", [
    ("--steps", "0"), ("--head-steps", "-1"), ("--lr", "0"), ("--hidden", "100"), ("--student-vocab", "10"),
    ("--seeds", "-1"), ("--max-length", "200"), ("--eval-every", "-2"),
])
def test_bad_flag_fails_fast_naming_it(flag, value, rejects_before_work):
    rejects_before_work(pretrain.main, [flag, value], flag, forbid=((pretrain, "load_or_pretrain_teacher"),))


def test_head_steps_above_steps_is_refused(capsys):
    with pytest.raises(SystemExit) as e:
        pretrain.main(["--steps", "5", "--head-steps", "6"])
    assert e.value.code == 2 and "--head-steps" in capsys.readouterr().err


def test_dual_teacher_from_a_pretrained_masked_lm_scores_as_it_does(teacher_tokenizer, corpus):
    from companion.minibert import DualTeacher, IGNORE

    tok = SingleTokenizer(teacher_tokenizer, 16)
    mlm = pretrain.build_teacher_mlm(_small_body(tok.vocab_size), seed=1)
    pretrain.pretrain_teacher(mlm, tok, corpus["train"][:50], pretrain.TeacherConfig(steps=3, head_steps=1, batch_size=4))
    dual = DualTeacher.from_masked_lm(mlm, torch.randn(7, 16)).eval()
    b = masked_eval_batches(tok.encode, tok.mask_id, corpus["held_out"][:4], seed=0)[0]
    sel = b["labels"] != IGNORE
    want = mlm(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits[sel]
    got = dual.logits(dual(b["input_ids"], b["attention_mask"])[sel], "teacher")
    assert torch.allclose(got, want, atol=1e-4)


def test_teacher_key_names_a_non_default_numerics_policy(monkeypatch):
    from companion.minibert.pretrain import TeacherConfig, teacher_key

    portable = teacher_key(TeacherConfig())
    monkeypatch.setenv("COMPANION_NUMERICS", "native")  # read again at each call
    native = teacher_key(TeacherConfig())
    assert native != portable and native.startswith("teacher-")
    monkeypatch.setenv("COMPANION_NUMERICS", "portable")
    assert teacher_key(TeacherConfig()) == portable
