"""pearl's version, kept here once: the package's `__version__`, the built distribution's (hatchling reads
this file), `pearl --version` and an evaluation run's `run.json`."""

__version__ = "0.1.0"
