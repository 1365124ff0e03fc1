"""Fresh models per seed: from ``model_init``, a model name/path, or a ``model`` object (never mutated).

Full fine-tuning gets a new model per seed. With a peft config the base weights are loaded once, and each
seed gets a new task head and a new adapter on top of that shared base, removed again after the seed.

Example::

    factory = SeedModelFactory(model_name_or_path="bert-base-uncased", model_kwargs={"num_labels": 2})
    with factory.seed_model(seed=42) as model:
        ...  # train it
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
import transformers
from torch import nn
from transformers import AutoModelForSequenceClassification, PreTrainedModel
from transformers.trainer_utils import set_seed

from .padding import fill_pad_token_id


def reinit_head(model: nn.Module) -> None:
    """Re-draw the task head of a transformers model from the current torch RNG.

    The head is every child module outside ``model.base_model`` (for ``BertForSequenceClassification``:
    ``classifier``); it is initialised by the model's own ``_init_weights``, as ``from_pretrained`` does
    for weights missing from a checkpoint. Models without a separate base model are left as they are.
    """
    if not isinstance(model, PreTrainedModel):
        return
    prefix = model.base_model_prefix
    heads = [module for name, module in model.named_children() if name != prefix]
    if not prefix or not hasattr(model, prefix) or not heads:
        return
    with torch.no_grad():
        for head in heads:
            for module in head.modules():
                module.__dict__.pop("_is_hf_initialized", None)
                for tensor in [*module.parameters(recurse=False), *module.buffers(recurse=False)]:
                    tensor.__dict__.pop("_is_hf_initialized", None)
                model._init_weights(module)


class SeedModelFactory:
    """Build the model of one seed from exactly one of ``model_init``, ``model_name_or_path`` or ``model``.

    ``model_class`` (default ``AutoModelForSequenceClassification``) and ``model_kwargs`` are used with
    ``model_name_or_path``. A ``model`` object is copied once when the factory is made; its body is restored
    exactly for every seed and its head is re-drawn from the seed. ``pad_token_id`` (the tokenizer's) becomes
    ``config.pad_token_id`` of every model that has none (Llama): decoder classifiers pool at the last real token.
    """

    def __init__(
        self,
        *,
        model: nn.Module | None = None,
        model_init: Callable[[], nn.Module] | None = None,
        model_name_or_path: str | Path | None = None,
        model_class: Any = None,
        model_kwargs: Mapping[str, Any] | None = None,
        peft_config: Any = None,
        pad_token_id: int | None = None,
    ) -> None:
        given = [
            name
            for name, value in [
                ("model", model),
                ("model_init", model_init),
                ("model_name_or_path", model_name_or_path),
            ]
            if value is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "MultiSeedTrainer needs exactly one of `model`, `model_init` or `model_name_or_path`, got "
                + (", ".join(f"`{name}`" for name in given) if given else "none")
            )
        if model_kwargs and model_name_or_path is None:
            raise ValueError("`model_kwargs` is only used with `model_name_or_path`")
        self.model_init = model_init
        self.model_name_or_path = None if model_name_or_path is None else str(model_name_or_path)
        self.model_class = model_class or AutoModelForSequenceClassification
        self.model_kwargs = dict(model_kwargs or {})
        self.peft_config = peft_config
        self.pad_token_id = pad_token_id
        self._pristine = copy.deepcopy(model) if model is not None else None
        self._base: nn.Module | None = None

    @property
    def description(self) -> str:
        """What the models are made from, for run_config.json."""
        if self.model_name_or_path is not None:
            return self.model_name_or_path
        if self._pristine is not None:
            return getattr(getattr(self._pristine, "config", None), "name_or_path", "") or type(self._pristine).__name__
        return getattr(self.model_init, "__qualname__", repr(self.model_init))

    def _load(self) -> nn.Module:
        if self.model_init is not None:
            model = self.model_init()
        elif self.model_name_or_path is not None:
            model = self.model_class.from_pretrained(self.model_name_or_path, **self.model_kwargs)
        else:
            model = copy.deepcopy(self._pristine)
        fill_pad_token_id(model, self.pad_token_id)
        return model

    def _shared_base(self) -> nn.Module:
        """The base model of LoRA runs, loaded (or copied) once per process."""
        if self._base is None:
            self._base = self._load()
        return self._base

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_base"] = None  # each worker process loads its own base
        return state

    @contextlib.contextmanager
    def seed_model(self, seed: int) -> Iterator[nn.Module]:
        """A freshly initialised model for ``seed`` (a peft model when a peft config is set).

        The torch RNG is seeded with ``seed`` before the head (and adapter) are drawn; on exit a peft
        adapter is removed from the shared base again.
        """
        if self.peft_config is None:
            set_seed(seed)
            model = self._load()
            if self._pristine is not None:
                reinit_head(model)
            yield model
            return
        from peft import get_peft_model

        # loaded before seeding: a load that initialises missing weights (a head) draws from the RNG, and only
        # the first seed of a process loads, so drawing the adapter after it would depend on the seed order
        base = self._shared_base()
        set_seed(seed)
        reinit_head(base)
        peft_model = get_peft_model(base, copy.deepcopy(self.peft_config))
        try:
            yield peft_model
        finally:
            peft_model.unload()

    @contextlib.contextmanager
    def trained_model(self, seed: int, seed_dir: Path) -> Iterator[nn.Module]:
        """The model of ``seed`` as saved in ``seed_dir`` by ``Trainer.save_model``."""
        if self.peft_config is None:
            yield self._load_full_model(seed_dir)
            return
        from peft import PeftModel

        peft_model = PeftModel.from_pretrained(self._shared_base(), seed_dir)
        try:
            yield peft_model
        finally:
            peft_model.unload()

    def _load_full_model(self, seed_dir: Path) -> nn.Module:
        config_file = seed_dir / "config.json"
        architectures = json.loads(config_file.read_text()).get("architectures") if config_file.exists() else None
        if architectures and hasattr(transformers, architectures[0]):  # not ChoiceScoringModel's classes
            return getattr(transformers, architectures[0]).from_pretrained(seed_dir)
        from safetensors.torch import load_file

        model = self._load()
        model.load_state_dict(load_file(seed_dir / "model.safetensors"))
        return model
