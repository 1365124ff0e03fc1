"""Generated answers as strings: decoding token ids, and generation-based evaluation of decoder-only models.

``Seq2SeqTrainer`` with ``predict_with_generate=True`` already generates for encoder-decoder models (T5, BART).
``CausalLMGenerationTrainer`` does the same for decoder-only models (GPT-2, Llama): evaluation generates a
continuation of each prompt and returns only the new tokens, so they decode into the answer alone.

Example::

    tokenizer.padding_side = "left"  # prompts end where generation starts
    trainer = MultiSeedTrainer(
        model_name_or_path="gpt2", model_class=AutoModelForCausalLM, trainer_class=CausalLMGenerationTrainer,
        args=Seq2SeqTrainingArguments("runs/qa", predict_with_generate=True, generation_max_length=32),
        train_dataset=prompt_and_answer, eval_dataset=prompt_only, processing_class=tokenizer,
        data_collator=DataCollatorForSeq2Seq(tokenizer), consistency_kwargs={"pi": "token_f1"},
    )
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from transformers import Seq2SeqTrainer


def decode_generations(token_ids: Any, processing_class: Any) -> list[str]:
    """Decode generated token ids (examples, tokens) into stripped strings, without special tokens.

    Negative ids (the -100 that Trainer pads labels and batches with) count as padding. A processor
    (``processing_class`` with a ``tokenizer``) decodes with its tokenizer.
    """
    tokenizer = getattr(processing_class, "tokenizer", processing_class)
    if not hasattr(tokenizer, "batch_decode"):
        raise ValueError(
            "generation outputs are decoded with processing_class, which must be a tokenizer (or a processor "
            f"with one); got {type(processing_class).__name__}. Pass processing_class=tokenizer to MultiSeedTrainer"
        )
    ids = np.asarray(token_ids[0] if isinstance(token_ids, tuple) else token_ids)
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"expected generated token ids of shape (examples, tokens), got a {ids.dtype} array of shape {ids.shape} "
            "(logits? evaluate with predict_with_generate=True)"
        )
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else (tokenizer.eos_token_id or 0)
    ids = np.where(ids < 0, pad, ids)
    return [text.strip() for text in tokenizer.batch_decode(ids.tolist(), skip_special_tokens=True)]


class CausalLMGenerationTrainer(Seq2SeqTrainer):
    """``Seq2SeqTrainer`` for decoder-only models: with ``predict_with_generate=True``, evaluation generates.

    Each eval example holds a prompt (``input_ids``, ``attention_mask``; left-padded in a batch) and, in
    ``labels``, the reference answer's token ids (any length, -100 as padding). Evaluation returns only the
    newly generated tokens and the labels; it computes no loss (labels are not aligned with the prompt).
    Training is that of ``Trainer`` (``input_ids`` = prompt + answer, ``labels`` aligned with them).
    ``generation_max_length`` counts the prompt too; a ``GenerationConfig(max_new_tokens=...)`` bounds the answer.
    """

    def prediction_step(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        prediction_loss_only: bool,
        ignore_keys: list[str] | None = None,
        **gen_kwargs,
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
        if not self.args.predict_with_generate or prediction_loss_only:
            return super().prediction_step(model, inputs, prediction_loss_only, ignore_keys, **gen_kwargs)
        inputs = self._prepare_inputs(inputs)
        prompts = {key: value for key, value in inputs.items() if key != "labels"}
        mask = prompts.get("attention_mask")
        if mask is not None and bool((mask[:, -1] == 0).any()):
            raise ValueError(
                "CausalLMGenerationTrainer: an eval batch is right-padded, so generation would continue after the "
                "padding; pad prompts on the left (tokenizer.padding_side = 'left')"
            )
        _, generated, _ = super().prediction_step(model, prompts, False, ignore_keys, **gen_kwargs)
        return None, generated[:, prompts["input_ids"].shape[-1] :], inputs.get("labels")


def labels_task(
    args: Any, task: str | None, trainer_class: type, processing_class: Any, predictions_to_labels: Any
) -> str | None:
    """The task of the stored labels: "generation" with ``predict_with_generate``; a clear ValueError for a
    setup that cannot produce them (no tokenizer, a trainer that ignores predict_with_generate, ...)."""
    generates = bool(getattr(args, "predict_with_generate", False))
    if predictions_to_labels is not None:
        return task
    if generates and not issubclass(trainer_class, Seq2SeqTrainer):
        raise ValueError(
            f"predict_with_generate=True is honoured by Seq2SeqTrainer and its subclasses (CausalLMGenerationTrainer "
            f"for decoder-only models); trainer_class={trainer_class.__name__} would return logits"
        )
    if generates and task not in (None, "generation"):
        raise ValueError(
            f"predict_with_generate=True gives generated token ids, not {task} outputs: use task='generation' or "
            "pass predictions_to_labels to map the generations to labels"
        )
    if task == "generation" and not generates:
        raise ValueError(
            "task='generation' needs generated token ids: trainer_class=Seq2SeqTrainer (CausalLMGenerationTrainer "
            "for decoder-only models) with Seq2SeqTrainingArguments(predict_with_generate=True), or "
            "predictions_to_labels"
        )
    if generates and not hasattr(getattr(processing_class, "tokenizer", processing_class), "batch_decode"):
        raise ValueError(
            "generation needs a tokenizer to decode the generated token ids into strings: pass "
            "processing_class=tokenizer (or predictions_to_labels to decode them yourself)"
        )
    return "generation" if generates else task
