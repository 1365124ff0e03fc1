"""Test environment: offline Hub, no Gradio analytics, a private HF cache per test session."""

import os
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_EVALUATE_OFFLINE"] = "1"  # else evaluate 0.4.x retries the Hub for ~1.5 s per load
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WANDB_DISABLED", "true")
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="seed-consistency-hf-home-"))
