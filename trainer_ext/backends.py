"""Run the seeds of a ``SeedRun``: in this process, in worker processes (``seeds_per_gpu`` on each GPU), or as
Ray tasks.

Every backend calls ``SeedRun.train_seed`` and communicates only through the seed directories, so a run
started with one backend can be resumed with another.

Example::

    run_seeds(run, [42, 52, 62, 72], backend="parallel", n_workers=2)  # 2 CPU workers
    run_seeds(run, [42, 52, 62, 72], backend="parallel", seeds_per_gpu=2)  # 2 workers on each visible GPU
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import cloudpickle
from tqdm.auto import tqdm

from .seed_run import SeedRun

BACKENDS = ("sequential", "parallel", "ray")


def _progress(run: SeedRun, seeds: Sequence[int]) -> tqdm:
    done = sum(run.is_done(seed) for seed in seeds)
    return tqdm(total=len(seeds), initial=done, desc="seeds", unit="seed", disable=bool(run.args.disable_tqdm))


def run_sequential(run: SeedRun, seeds: Sequence[int], resume: bool = True) -> list[int]:
    """Train the unfinished seeds one after another in this process; returns the seeds trained."""
    trained = []
    with _progress(run, seeds) as bar:
        for seed in seeds:
            if run.is_done(seed):
                continue
            bar.set_postfix(seed=seed)
            run.train_seed(seed, resume=resume)
            trained.append(seed)
            bar.update(1)
    return trained


def _visible_gpus() -> list[str]:
    import torch

    if not torch.cuda.is_available():
        return []
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible:
        return [device.strip() for device in visible.split(",") if device.strip()]
    return [str(index) for index in range(torch.cuda.device_count())]


def check_backend(backend: str, n_workers: int | None = None, seeds_per_gpu: int = 1) -> None:
    """ValueError unless ``backend`` is known and ``n_workers``/``seeds_per_gpu`` are valid for it."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    for name, value in (("n_workers", n_workers), ("seeds_per_gpu", seeds_per_gpu)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if n_workers is not None and backend != "parallel":
        raise ValueError(f'n_workers is an option of backend="parallel", not {backend!r}')
    if seeds_per_gpu != 1 and backend == "sequential":
        raise ValueError('seeds_per_gpu is an option of backend="parallel" or "ray", not "sequential"')


def worker_devices(gpus: Sequence[str], n_workers: int | None = None, seeds_per_gpu: int = 1) -> list[str]:
    """``CUDA_VISIBLE_DEVICES`` of each parallel worker: up to ``seeds_per_gpu`` workers share each GPU.

    Without GPUs there are ``n_workers`` CPU workers (``seeds_per_gpu`` has no effect).

    >>> worker_devices(["0", "1"], seeds_per_gpu=2)
    ['0', '1', '0', '1']
    >>> worker_devices(["3"], n_workers=2, seeds_per_gpu=4), worker_devices([], n_workers=2)
    (['3', '3'], ['', ''])
    """
    check_backend("parallel", n_workers, seeds_per_gpu)
    if not gpus:
        if n_workers is None:
            raise ValueError('backend="parallel" found no GPU; pass n_workers=<number of CPU worker processes>')
        return [""] * n_workers
    slots = len(gpus) * seeds_per_gpu
    if n_workers is not None and n_workers > slots:
        raise ValueError(
            f'backend="parallel": n_workers={n_workers} but {len(gpus)} visible GPUs x seeds_per_gpu={seeds_per_gpu} '
            f"give {slots} worker slots; raise seeds_per_gpu to train more seeds at once on each GPU"
        )
    return [gpus[index % len(gpus)] for index in range(n_workers or slots)]


def run_parallel(
    run: SeedRun, seeds: Sequence[int], n_workers: int | None = None, seeds_per_gpu: int = 1, resume: bool = True
) -> list[int]:
    """Train the unfinished seeds in worker processes: ``seeds_per_gpu`` per GPU (``CUDA_VISIBLE_DEVICES`` =
    that GPU), or ``n_workers`` CPU processes without GPUs. Seeds are dealt round-robin to the workers.
    """
    pending = [seed for seed in seeds if not run.is_done(seed)]
    devices = worker_devices(_visible_gpus(), n_workers, seeds_per_gpu)
    n_workers = len(devices)
    shares = [pending[index::n_workers] for index in range(n_workers)]
    shares = [share for share in shares if share]
    run.output_dir.mkdir(parents=True, exist_ok=True)
    threads = max(1, (os.cpu_count() or 1) // max(1, len(shares)))
    with tempfile.TemporaryDirectory(dir=run.output_dir, prefix=".workers-") as workdir:
        payload = Path(workdir) / "seed_run.pkl"
        payload.write_bytes(cloudpickle.dumps(run))
        workers = []
        for index, share in enumerate(shares):
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
            env["CUDA_VISIBLE_DEVICES"] = devices[index]
            env.setdefault("OMP_NUM_THREADS", str(threads))
            command = [sys.executable, "-m", "trainer_ext.worker", str(payload), str(int(resume))]
            workers.append((share, subprocess.Popen([*command, *map(str, share)], env=env)))
        try:
            with _progress(run, seeds) as bar:
                while any(process.poll() is None for _, process in workers):
                    time.sleep(1.0)
                    bar.n = sum(run.is_done(seed) for seed in seeds)
                    bar.refresh()
                bar.n = sum(run.is_done(seed) for seed in seeds)
        finally:
            for _, process in workers:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    failed = [(share, process.returncode) for share, process in workers if process.returncode != 0]
    if failed:
        details = "; ".join(f"seeds {share} exited with code {code}" for share, code in failed)
        raise RuntimeError(f'backend="parallel": a worker failed ({details}); rerun to resume')
    return pending


def _train_seed_task(run: SeedRun, seed: int, resume: bool) -> int:
    run.train_seed(seed, resume=resume)
    return seed


def _ray_gpus() -> float:
    import ray

    if not ray.is_initialized():
        ray.init()
    return ray.cluster_resources().get("GPU", 0)


def run_ray(run: SeedRun, seeds: Sequence[int], seeds_per_gpu: int = 1, resume: bool = True) -> list[int]:
    """Train the unfinished seeds as Ray tasks (1/``seeds_per_gpu`` of a GPU each when the cluster has GPUs).

    Uses the running Ray cluster (``ray.init()`` first to pick one; else a local one is started). Every node
    must see ``output_dir`` (shared storage on a multi-node cluster).
    """
    import ray

    check_backend("ray", None, seeds_per_gpu)
    num_gpus_per_seed = 1 / seeds_per_gpu if _ray_gpus() >= 1 else 0
    task = ray.remote(num_cpus=1, num_gpus=num_gpus_per_seed, max_retries=0)(_train_seed_task)
    run_ref = ray.put(run)
    pending = [seed for seed in seeds if not run.is_done(seed)]
    futures = {task.remote(run_ref, seed, resume): seed for seed in pending}
    with _progress(run, seeds) as bar:
        while futures:
            ready, _ = ray.wait(list(futures), num_returns=1)
            seed = futures.pop(ready[0])
            try:
                ray.get(ready[0])
            except Exception as error:
                for future in futures:
                    ray.cancel(future, force=True)
                raise RuntimeError(f'backend="ray": seed {seed} failed; rerun to resume') from error
            bar.update(1)
    return pending


def backend_width(backend: str, n_workers: int | None = None, seeds_per_gpu: int = 1) -> int:
    """How many seeds ``backend`` trains at once (parallel: its workers; ray: the cluster's GPU or CPU slots)."""
    if backend == "parallel":
        return len(worker_devices(_visible_gpus(), n_workers, seeds_per_gpu))
    if backend == "ray":
        import ray

        gpus = _ray_gpus()
        return max(1, int(gpus * seeds_per_gpu) if gpus >= 1 else int(ray.cluster_resources().get("CPU", 1)))
    return 1


def run_seeds(run: SeedRun, seeds: Sequence[int], backend: str = "sequential", **options) -> list[int]:
    """Train every unfinished seed with ``backend``; returns the seeds trained in this call."""
    if backend == "sequential":
        return run_sequential(run, seeds, **options)
    if backend == "parallel":
        return run_parallel(run, seeds, **options)
    if backend == "ray":
        return run_ray(run, seeds, **options)
    raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
