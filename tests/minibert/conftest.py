import pytest
import torch
from transformers import BertConfig, BertModel

from companion import data
from companion.minibert import train_student_vocab

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def corpus():
    return data.load("docstring_corpus", max_per_library=200)


@pytest.fixture(scope="session")
def teacher_tokenizer():
    return data.load("minilm", model=False)["tokenizer"]


@pytest.fixture(scope="session")
def student_tokenizer(corpus):
    return train_student_vocab(corpus["train"], 600)


@pytest.fixture
def tiny_bert():
    """A small random BERT standing in for the teacher where its weights do not matter."""
    torch.manual_seed(0)
    return BertModel(BertConfig(vocab_size=50, hidden_size=24, num_hidden_layers=2, num_attention_heads=2,
                                intermediate_size=48, max_position_embeddings=40)).eval()
