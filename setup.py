"""Metadata lives in setup.cfg; this file only ships `seed_consistency_evaluate.pth` into site-packages."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PTH = "seed_consistency_evaluate.pth"


class BuildWithPth(build_py):
    """build_py that also copies the .pth file to the root of the built tree (site-packages on install)."""

    def run(self):
        super().run()
        self.copy_file(PTH, str(Path(self.build_lib) / PTH))

    def get_outputs(self, include_bytecode=True):
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib) / PTH)]


setup(cmdclass={"build_py": BuildWithPth}, py_modules=["_seed_consistency_evaluate"])
