"""Tell, before training, when the seeds of a MultiSeedTrainer cannot differ: nothing random follows the seed.

That is the case when the varied seed cannot change the data order (``vary="init"``), the checkpoint already
holds every weight of the model (``from_pretrained`` draws nothing new: no head, no adapter to initialise) and
every dropout probability is 0. Then every seed trains to the same model and CON is 1 by construction.

Example::

    message = unvaried_randomness(factory, args, vary="init", data_collator=collator)
    if message:
        warnings.warn(message)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import nn

_WEIGHTS, _WEIGHTS_INDEX = "model.safetensors", "model.safetensors.index.json"


def _checkpoint_shapes(model_name_or_path: str) -> dict[str, tuple] | None:
    """{weight name: shape} of a safetensors checkpoint, read from the file headers only (None: not found)."""
    from safetensors import safe_open
    from transformers.utils import cached_file

    def resolve(name: str) -> Path | None:
        try:
            found = cached_file(model_name_or_path, name, _raise_exceptions_for_missing_entries=False)
        except OSError:
            return None
        return Path(found) if found else None

    single = resolve(_WEIGHTS)
    if single is not None:
        files = [single]
    else:
        index = resolve(_WEIGHTS_INDEX)
        if index is None:
            return None
        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        files = [resolve(shard) for shard in shards]
        if any(file is None for file in files):
            return None
    shapes = {}
    for file in files:
        with safe_open(str(file), framework="pt") as weights:
            shapes.update({key: tuple(weights.get_slice(key).get_shape()) for key in weights.keys()})
    return shapes


def _has_dropout(model: nn.Module, config: Any) -> bool:
    modules = any(isinstance(module, nn.Dropout) and module.p > 0 for module in model.modules())
    settings = any(
        "dropout" in key and isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        for key, value in config.to_dict().items()
    )
    return modules or settings


def unvaried_randomness(factory: Any, args: Any, vary: str, data_collator: Any = None) -> str | None:
    """Why nothing random would differ between the seeds, or None when something does or it cannot tell.

    Only decided for ``model_name_or_path`` models without peft (a ``model`` gets its head re-drawn per seed, a
    peft adapter is drawn per seed, ``model_init`` is the user's code).
    """
    if vary != "init" or factory.model_name_or_path is None or factory.peft_config is not None:
        return None
    if getattr(args, "neftune_noise_alpha", None) or getattr(data_collator, "mlm_probability", 0):
        return None  # seeded noise on the embeddings, or seeded masking
    import torch
    from transformers import AutoConfig

    path = factory.model_name_or_path
    shapes = _checkpoint_shapes(path)
    if shapes is None:
        return None
    try:
        config, _ = AutoConfig.from_pretrained(path, return_unused_kwargs=True, **factory.model_kwargs)
        build = getattr(factory.model_class, "from_config", None) or factory.model_class._from_config
        with torch.device("meta"):
            model = build(config)
    except (OSError, ValueError, TypeError):
        return None
    expected = {key: tuple(tensor.shape) for key, tensor in model.state_dict().items()}
    if any(shapes.get(key) != shape for key, shape in expected.items()) or _has_dropout(model, config):
        return None
    return (
        f"nothing random varies between the seeds: vary='init' keeps the data order fixed, {path} already holds "
        f"every weight of {type(model).__name__} (from_pretrained draws nothing new) and every dropout "
        "probability is 0, so every seed will train to the same model and CON will be 1 by construction. "
        "Use vary='both' or 'data', a checkpoint without its task head, or dropout > 0."
    )
