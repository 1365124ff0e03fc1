"""The metric through evaluate (by path and by name, offline), its doctests and its Gradio widget."""

import doctest
import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import evaluate
import pytest

import _seed_consistency_evaluate
import seed_consistency_metric.predictions_io as predictions_io

metric_module = importlib.import_module("seed_consistency_metric.seed_consistency")
SCRIPT = Path(metric_module.__file__)
FIGURE_1 = {"predictions": [[1, 1], [1, 0], [1, 0], [0, 1], [0, 1]], "references": [1, 1, 1, 1, 1]}


def require_installed_hook() -> None:
    """Fail with the fix when the .pth hook that lets evaluate.load("seed_consistency") find the metric is absent."""
    if not any((Path(p) / "seed_consistency_evaluate.pth").exists() for p in sys.path if p):
        pytest.fail("seed-consistency is not installed: run the README's test command (it runs `pip install .`)")


def test_load_by_path_computes_figure_1():
    result = evaluate.load(str(SCRIPT)).compute(**FIGURE_1)
    assert (result["con"], result["ccon"], result["var"], result["zeta"]) == (0.2, 0.2, 0.0, [0.6, 0.6])


def test_load_by_path_with_string_labels_configs_and_options():
    metric = evaluate.load(str(SCRIPT))
    result = metric.compute(
        predictions=[["pos", "pos", "neg"], ["neg", "neg", "neg"]], references=["pos", "neg"], pairwise=True
    )
    assert result["con"] == pytest.approx((1 / 3 + 1) / 2)
    assert result["con_matrix"][0][2] == 0.5
    regression = evaluate.load(str(SCRIPT), "regression")
    result = regression.compute(predictions=[[1.0, 1.1], [2.0, 3.0]], references=[1.0, 2.0], tolerance=0.2)
    assert (result["con"], result["ccon"], result["zeta_name"]) == (0.5, 0.5, "mae")
    tokens = evaluate.load(str(SCRIPT), "token_classification")
    result = tokens.compute(predictions=[[[1, 2], [1, 0]]], references=[[1, 2]])
    assert result["con"] == 0.5 and result["zeta"] == [1.0, 0.5]


def test_ragged_rows_through_evaluate_name_the_example():
    with pytest.raises(ValueError, match="example 0 has 2 predictions .* but example 1 has 3"):
        evaluate.load(str(SCRIPT)).compute(predictions=[[1, 0], [1, 0, 1]], references=[1, 0])


def test_load_by_name_offline_from_any_directory_with_a_fresh_cache(tmp_path):
    require_installed_hook()
    env = {**os.environ, "HF_HOME": str(tmp_path / "fresh-hf-home"), "HF_HUB_OFFLINE": "1"}
    env.pop("HF_MODULES_CACHE", None)
    code = f"import evaluate, json;m = evaluate.load('seed_consistency');print(json.dumps(m.compute(**{FIGURE_1!r})))"
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert (result["con"], result["ccon"], result["zeta"]) == (0.2, 0.2, [0.6, 0.6])


def test_register_copies_the_script_once_per_version(tmp_path):
    target = _seed_consistency_evaluate.register(tmp_path)
    assert target.read_bytes() == SCRIPT.read_bytes()
    for name, data in _seed_consistency_evaluate.metric_files(SCRIPT.parent).items():
        assert (target.parent / name).read_bytes() == data
    assert target.parent.parent.name == "evaluate-metric--seed_consistency" and len(target.parent.name) == 64
    assert _seed_consistency_evaluate.register(tmp_path) == target


def test_metric_files_are_the_script_and_the_siblings_it_imports_at_column_0(tmp_path):
    (tmp_path / "seed_consistency.py").write_text(
        "import numpy\nfrom .kernels import count\nfrom .kernels import other\n"
        "from .intervals import ci  # noqa\n    from .indented import ignored\n"
    )
    for name in ("kernels", "intervals", "indented"):
        (tmp_path / f"{name}.py").write_text(f"# {name}\n")
    files = _seed_consistency_evaluate.metric_files(tmp_path)
    assert sorted(files) == ["intervals.py", "kernels.py", "seed_consistency.py"]
    assert files["kernels.py"] == b"# kernels\n"


@pytest.mark.parametrize("module", [metric_module, predictions_io])
def test_docstring_examples_run(module):
    if module is metric_module:
        require_installed_hook()  # its evaluate.load("seed_consistency") example needs the hook
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 5 and failures == 0


def load_widget():
    """The metric Space's app.py as the Space runs it: its folder first on sys.path (kept out of sys.modules)."""
    spec = importlib.util.spec_from_file_location("seed_consistency_widget", SCRIPT.parent / "app.py")
    widget = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        spec.loader.exec_module(widget)
    finally:
        sys.path.remove(str(SCRIPT.parent))
        sys.modules.pop("seed_consistency", None)
    return widget


def test_gradio_widget_computes_through_its_named_endpoint():
    gradio_client = pytest.importorskip("gradio_client")
    app = load_widget()
    demo = app.build_demo()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        client = gradio_client.Client(demo.local_url, verbose=False)
        table = {"headers": ["predictions", "reference"], "data": app.EXAMPLE}
        result = client.predict(table, "classification", "accuracy", 0, api_name="/compute")
        assert (result["con"], result["ccon"], result["var"]) == (0.2, 0.2, 0.0)
        with pytest.raises(Exception, match="at least 2 seeds"):
            client.predict(
                {"headers": ["p", "r"], "data": [["1", "1"]]}, "classification", "accuracy", 0, api_name="/compute"
            )
    finally:
        demo.close()


def test_package_exports_the_function_even_after_the_submodule_is_imported():
    code = (
        "import importlib, sys;"
        "importlib.import_module('seed_consistency_metric.seed_consistency');"
        "from seed_consistency_metric import seed_consistency;"
        "print(seed_consistency({1: [0, 1], 2: [0, 0]})['con'])"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=SCRIPT.parents[1])
    assert run.returncode == 0 and run.stdout.strip() == "0.5", run.stderr


def test_light_modules_do_not_import_evaluate():
    code = "import sys, seed_consistency_metric.predictions_io; print('evaluate' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=SCRIPT.parents[1])
    assert run.stdout.strip() == "False", run.stderr


def test_unknown_config_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown config 'ranking'; choose one of"):
        evaluate.load(str(SCRIPT), "ranking")
