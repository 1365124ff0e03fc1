"""Test environment: offline Hub, no Gradio analytics, a private HF cache per test session; shared fixtures."""

import os
import socket
import tempfile

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_EVALUATE_OFFLINE"] = "1"  # else evaluate 0.4.x retries the Hub for ~1.5 s per load
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("WANDB_DISABLED", "true")
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="seed-consistency-hf-home-"))


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a whole module (`pytestmark = pytest.mark.usefixtures("one_torch_thread")`)."""
    from trainer_helpers import single_torch_thread

    with single_torch_thread():
        yield


@pytest.fixture(scope="module")
def server():
    """The report Space launched on a free localhost port for one test module; yields its URL."""
    from spaces_app import app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    demo = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def client(server):
    """A gradio_client Client of that Space."""
    from gradio_client import Client

    return Client(server, verbose=False)
