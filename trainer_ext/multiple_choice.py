"""Multiple choice (COPA) for architectures without a multiple-choice head (Llama and other decoders).

``AutoModelForMultipleChoice`` knows encoders only (BERT, RoBERTa, ...). For the others,
``ChoiceScoringModel.from_pretrained`` loads the architecture's sequence-classification model with one label:
each (premise, choice) row gets one score from the ``score`` head, and the scores of a question's choices are
its logits. As ``BertForMultipleChoice``: inputs (batch, n_choices, seq) -> (batch * n_choices, seq) -> logits
(batch, n_choices), loss = cross-entropy over the choices. The weights keep their sequence-classification names,
so a peft ``SEQ_CLS`` LoRA config saves the head (``score``) with each adapter as for classification.

Example::

    model_class = multiple_choice_class("meta-llama/Llama-3.2-3B")  # ChoiceScoringModel (Llama has no MC head)
    model = model_class.from_pretrained("meta-llama/Llama-3.2-3B")  # LlamaForSequenceClassification, 1 label
    model(input_ids=ids, attention_mask=mask, labels=labels).logits.shape  # (batch, n_choices)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import AutoConfig, AutoModelForMultipleChoice, AutoModelForSequenceClassification
from transformers.modeling_outputs import MultipleChoiceModelOutput
from transformers.models.auto.modeling_auto import MODEL_FOR_MULTIPLE_CHOICE_MAPPING_NAMES

_CLASSES: dict[type, type] = {}


class _ScoreEachChoice:
    """Mixin over a ``...ForSequenceClassification`` class with ``num_labels=1``: one score per choice."""

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> MultipleChoiceModelOutput:
        rows = input_ids if input_ids is not None else inputs_embeds
        n_choices = rows.shape[1]

        def flat(tensor: torch.Tensor | None) -> torch.Tensor | None:
            return None if tensor is None else tensor.reshape(-1, *tensor.shape[2:])

        output = super().forward(
            input_ids=flat(input_ids), attention_mask=flat(attention_mask), position_ids=flat(position_ids),
            inputs_embeds=flat(inputs_embeds), **kwargs,
        )  # fmt: skip
        logits = output.logits.reshape(-1, n_choices)
        loss = None if labels is None else nn.functional.cross_entropy(logits, labels.to(logits.device))
        return MultipleChoiceModelOutput(loss=loss, logits=logits)


def choice_scoring_class(sequence_classification_class: type) -> type:
    """The class that scores each choice with ``sequence_classification_class`` (made once per class)."""
    if sequence_classification_class not in _CLASSES:
        name = f"{sequence_classification_class.__name__}ForChoices"
        _CLASSES[sequence_classification_class] = type(
            name, (_ScoreEachChoice, sequence_classification_class), {"__module__": __name__}
        )
    return _CLASSES[sequence_classification_class]


class ChoiceScoringModel:
    """``from_pretrained`` gives the architecture's sequence-classification model, 1 label, scoring each choice."""

    @classmethod
    def from_pretrained(cls, model_name_or_path: str | Path, **kwargs: Any) -> nn.Module:
        config = AutoConfig.from_pretrained(model_name_or_path, id2label={0: "score"}, label2id={"score": 0})
        sequence_classification_class = AutoModelForSequenceClassification._model_mapping[type(config)]
        model_class = choice_scoring_class(sequence_classification_class)
        # a checkpoint's head for other labels is re-drawn (as every seed's head is)
        kwargs.setdefault("ignore_mismatched_sizes", True)
        return model_class.from_pretrained(model_name_or_path, config=config, **kwargs)


def multiple_choice_class(model_name_or_path: str | Path) -> type:
    """``AutoModelForMultipleChoice`` where the architecture has a multiple-choice head, else ``ChoiceScoringModel``."""
    model_type = AutoConfig.from_pretrained(model_name_or_path).model_type
    return AutoModelForMultipleChoice if model_type in MODEL_FOR_MULTIPLE_CHOICE_MAPPING_NAMES else ChoiceScoringModel
