"""The embedded demo dataset: word/emoticon polarity from VADER's human ratings (``vader_polarity``).

Source: ``vaderSentiment/vader_lexicon.txt`` (Hutto & Gilbert, ICWSM 2014; MIT licence), installed with the
project's ``trainer`` extra. Each of its 7,519 entries (a word, slang term or emoticon) was rated by 10 human
raters from -4 (extremely negative) to +4 (extremely positive); the file holds the token, the mean rating, the
standard deviation and the 10 ratings. Here a token is labelled ``positive`` when its mean rating is > 0
and ``negative`` when < 0; near-neutral tokens (|mean| < 1.0) are dropped because the raters themselves do
not agree on their polarity. 14 tokens are listed twice (the lexicon is lower-cased, so e.g. ``D:`` and
``d:`` collide): such a token gets the average of its entries' means, and is dropped when its entries
disagree in polarity (``d:``, ``d=``). That leaves 5,815 tokens. They are shuffled with a fixed seed and
split 80/20 into train / evaluation; the split is the same on every machine.

Example:
    >>> data = load_vader_polarity()
    >>> len(data.train) + len(data.eval), data.label_names
    (5815, ['negative', 'positive'])
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .loaders import TaskData

NAME = "vader_polarity"
LABEL_NAMES = ("negative", "positive")
MIN_ABS_MEAN_RATING = 1.0
EVAL_FRACTION = 0.2
SPLIT_SEED = 0


def lexicon_path() -> Path:
    """Where the installed vaderSentiment keeps ``vader_lexicon.txt``."""
    try:
        import vaderSentiment
    except ImportError:
        raise ValueError("the demo needs the vaderSentiment package: pip install 'seed-consistency[trainer]'") from None
    return Path(vaderSentiment.__file__).resolve().parent / "vader_lexicon.txt"


def read_lexicon(path: Path) -> list[tuple[str, float]]:
    """(token, mean human rating) for every entry of a VADER lexicon file."""
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split("\t")
        if len(fields) < 2:
            raise ValueError(f"{path}, line {number}: expected token<TAB>mean rating<TAB>...")
        entries.append((fields[0], float(fields[1])))
    return entries


def load_vader_polarity(path: Path | None = None) -> TaskData:
    """The demo task: binary polarity of VADER lexicon entries (see the module docstring)."""
    from datasets import Dataset

    path = path or lexicon_path()
    ratings: dict[str, list[float]] = {}
    for token, mean in read_lexicon(path):
        ratings.setdefault(token, []).append(mean)
    rows = [
        {"text": token, "label": int(means[0] > 0)}
        for token, means in ratings.items()
        if len({mean > 0 for mean in means}) == 1 and abs(sum(means) / len(means)) >= MIN_ABS_MEAN_RATING
    ]
    order = np.random.default_rng(SPLIT_SEED).permutation(len(rows))
    n_eval = round(EVAL_FRACTION * len(rows))
    eval_rows = [rows[i] for i in order[:n_eval]]
    train_rows = [rows[i] for i in order[n_eval:]]
    return TaskData(
        name=NAME, display_name="VADER polarity", benchmark="demo", train=Dataset.from_list(train_rows),
        eval=Dataset.from_list(eval_rows), label_names=list(LABEL_NAMES), format=lambda row: (row["text"], None),
        zeta="accuracy", multiple_choice=False, source=str(path),
    )  # fmt: skip
