"""The metric through evaluate (by path and by name, offline), its doctests and its Gradio widget."""

import doctest
import importlib
import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import evaluate
import numpy as np
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


def test_evaluate_local_module_test_load_passes_on_our_module(monkeypatch):
    """huggingface/evaluate's tests/test_metric_common.py LocalModuleTest.test_load, run against our script."""
    module_path = evaluate.loading.evaluation_module_factory(str(SCRIPT), module_type="metric").module_path
    module = importlib.import_module(module_path)
    metric_class = evaluate.loading.import_main_class(module.__name__)
    parameters = inspect.signature(metric_class._compute).parameters
    assert all(p.kind != p.VAR_KEYWORD for p in parameters.values()), "no **kwargs in _compute"
    real_load = evaluate.load  # as their use_local_metrics: evaluate.load(name) loads the local module

    def load_local(name, *args, **kwargs):
        return real_load(str(SCRIPT) if name == "seed_consistency" else name, *args, **kwargs)

    monkeypatch.setattr(evaluate, "load", load_local)
    monkeypatch.setattr(doctest, "ELLIPSIS_MARKER", "[...]")
    try:
        results = doctest.testmod(module, raise_on_error=True)
    except doctest.UnexpectedException as error:
        raise error.exc_info[1] from None
    assert results.failed == 0 and results.attempted > 1


def test_compute_takes_every_option_of_seed_consistency_with_the_same_default():
    options = {
        name: p.default
        for name, p in inspect.signature(metric_module.seed_consistency).parameters.items()
        if p.kind == p.KEYWORD_ONLY and name != "task"  # the task is the config name
    }
    compute = inspect.signature(metric_module.SeedConsistency._compute).parameters
    assert {name: compute[name].default for name in options if name in compute} == options
    assert set(compute) == {"self", "predictions", "references", *options}


BIG = 2**63
BAD_INPUTS = [  # (config, predictions per example, references, options, message naming seed / row)
    (None, [], [], {}, "Empty input: no predictions"),
    (None, [[1, 1], [1, 0], [0.5, 1]], [1, 1, 1], {}, "Seed 0 has a non-integer label 0.5 at row 2"),
    (None, [[1, 1], [1, 0]], [1, 1.7], {}, "references has a non-integer label 1.7 at row 1"),
    (None, [[1, 1], [1, 0]], ["1", "0"], {}, "seed 0 holds numbers but references holds strs"),
    (None, [["1", "1"], ["1", "0"]], [1, 0], {}, "seed 0 holds strs but references holds numbers"),
    (None, [[1, 1], [float("nan"), 0]], [1, 1], {}, "Seed 0 has a non-finite value (nan) at row 1"),
    ("regression", [[1.0, 2.0], [1.5, float("nan")]], [1.0, 2.0], {}, "Seed 1 has a non-finite value (nan) at row 1"),
    (None, [[1, 1], [1, "a"]], [1, 1], {}, "Seed 1 mixes label types (int at row 0, str at row 1)"),
    (None, [[1, 1], [[1], 0]], [1, 1], {}, "Seed 0 mixes label types (int at row 0, list at row 1)"),
    (None, [[[1], [1]], [[0], [1]]], [1, 1], {}, "Seed 0 must be one value per example"),
    (None, [[1, BIG], [1, 0]], [1, 1], {}, f"Seed 1 has a label {BIG} at row 0, outside the int64 range"),
    (None, [[1, 1], [1, 0]], [-BIG - 1, 1], {}, f"references has a label {-BIG - 1} at row 0, outside the int64"),
    (None, [1, 0, 1], [1, 0, 1], {}, "Example 0 is 1, not a list of the S seeds' predictions"),
    (None, [[1, 1], [1, 0]], [1, 0, 1], {}, "3 references for 2 examples"),
    (None, [[1, 1], [1, 0]], None, {}, "references are required"),
    ("generation", [["a", "b"], ["a", 3]], ["a", "b"], {}, "Seed 1 row 1 is int, generation needs strings"),
    ("token_classification", [[[1, 2], [1, 0.5]]], [[1, 2]], {}, "Seed 1 has a non-integer label 0.5 at row 1"),
    (None, [[1, 1], [1, 0]], [1, 1], {"n_bootstrap": -5}, "n_bootstrap must be a positive integer, got -5"),
    (None, [[1, 1], [1, 0]], [1, 1], {"n_bootstrap": 0.5}, "n_bootstrap must be a positive integer, got 0.5"),
]


@pytest.mark.parametrize(("config", "predictions", "references", "options", "message"), BAD_INPUTS)
def test_bad_input_through_evaluate_is_a_value_error_naming_the_problem(
    config, predictions, references, options, message
):
    metric = evaluate.load(str(SCRIPT), config)
    with pytest.raises(ValueError, match=re.escape(message)):
        metric.compute(predictions=predictions, references=references, **options)


def test_string_labels_that_look_like_ints_stay_strings_and_whole_floats_are_ints():
    metric = evaluate.load(str(SCRIPT))
    # "01" and "1" are different labels: seed 0 is right once, seed 1 twice (int64 storage would merge them)
    result = metric.compute(predictions=[["01", "1"], ["1", "1"]], references=["1", "1"])
    assert (result["zeta"], result["con"]) == ([0.5, 1.0], 0.5)
    result = metric.compute(predictions=[[1.0, 1], [0.0, 1]], references=[1, 1])  # 1.0 is the label 1
    assert (result["zeta"], result["con"]) == ([0.5, 1.0], 0.5)


def test_numpy_input_gives_the_numbers_of_lists():
    metric = evaluate.load(str(SCRIPT))
    predictions = np.array(FIGURE_1["predictions"])  # (N, S), as a Trainer's stacked predictions
    result = metric.compute(predictions=predictions, references=np.array(FIGURE_1["references"]))
    assert (result["con"], result["ccon"], result["zeta"]) == (0.2, 0.2, [0.6, 0.6])


def test_add_and_add_batch_are_checked_like_compute():
    metric = evaluate.load(str(SCRIPT))
    metric.add_batch(predictions=[[1, 1], [1, 0]], references=[1, 1])
    with pytest.raises(ValueError, match="This batch holds string labels but the earlier batches held int64"):
        metric.add_batch(predictions=[["1", "0"]], references=["1"])
    with pytest.raises(ValueError, match="Seed 1 has a non-integer label 0.5 at row 0"):
        metric.add(prediction=[1, 0.5], reference=1)
    metric.add(prediction=[0, 1], reference=1)
    result = metric.compute()
    assert (result["n_examples"], result["zeta"], result["con"]) == (3, [2 / 3, 2 / 3], pytest.approx(1 / 3))


def test_conftest_sets_evaluate_offline_so_load_by_name_does_not_retry_the_hub():
    assert os.environ["HF_EVALUATE_OFFLINE"] == "1" and evaluate.config.HF_EVALUATE_OFFLINE


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


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({"HF_HUB_OFFLINE": "1"}, "1"), ({"HF_HUB_OFFLINE": "0"}, None), ({}, None),
     ({"HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "0"}, "0")],
)  # fmt: skip
def test_the_cli_sets_evaluate_offline_when_the_hub_is_offline(environ, expected):
    from seed_consistency_metric.cli import follow_hub_offline

    follow_hub_offline(environ)
    assert environ.get("HF_EVALUATE_OFFLINE") == expected
