"""Padding for decoder-only models (Llama, GPT-2, ...), whose tokenizers ship without a pad token.

``with_pad_token`` returns a tokenizer that has one: the tokenizer itself, or a copy that pads with its eos
token, as Llama fine-tuning recipes do (the user's tokenizer is never changed). ``MultiSeedTrainer`` applies
it to ``processing_class`` and gives every seed model that id as ``config.pad_token_id`` when the model has
none, so that ``LlamaForSequenceClassification`` classifies each padded row from its last real token.

Example::

    tokenizer = with_pad_token(AutoTokenizer.from_pretrained("meta-llama/Llama-3.2-3B"))
    tokenizer.pad_token == tokenizer.eos_token  # True: '<|end_of_text|>'
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

from transformers import PreTrainedTokenizerBase


def with_pad_token(tokenizer: Any) -> Any:
    """``tokenizer`` if it has a pad token (or is not a tokenizer), else a copy that pads with its eos token."""
    if not isinstance(tokenizer, PreTrainedTokenizerBase) or tokenizer.pad_token is not None:
        return tokenizer
    if tokenizer.eos_token is None:
        raise ValueError(
            f"the tokenizer ({type(tokenizer).__name__}) has neither a pad token nor an eos token to pad with: "
            "set tokenizer.pad_token before building MultiSeedTrainer"
        )
    padded = copy.deepcopy(tokenizer)
    padded.pad_token = padded.eos_token
    warnings.warn(
        f"the tokenizer has no pad token (decoder-only models such as Llama have none): padding with its eos "
        f"token {padded.eos_token!r} (id {padded.pad_token_id}), which every seed model also gets as "
        "config.pad_token_id; set tokenizer.pad_token yourself to choose another",
        stacklevel=3,
    )
    return padded


def fill_pad_token_id(model: Any, pad_token_id: int | None) -> None:
    """Set ``model.config.pad_token_id`` (of its text config) to ``pad_token_id`` where it is None."""
    config = getattr(model, "config", None)
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    if pad_token_id is not None and config is not None and getattr(config, "pad_token_id", 0) is None:
        config.pad_token_id = pad_token_id
