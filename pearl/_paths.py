"""Where pearl keeps its files: one root, overridable by `PEARL_HOME` (tests point it at a tmp dir)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["config_file", "data_dir"]


def data_dir() -> Path:
    """The root for caches and indexes: `$PEARL_HOME`, else `$XDG_CACHE_HOME/pearl`, else `~/.cache/pearl`."""
    home = os.environ.get("PEARL_HOME")
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "pearl"


def config_file() -> Path:
    """The TOML config file: `$PEARL_CONFIG`, else `$PEARL_HOME/config.toml`, else `~/.config/pearl/config.toml`."""
    explicit = os.environ.get("PEARL_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("PEARL_HOME")
    if home:
        return Path(home).expanduser() / "config.toml"
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".config"
    return base / "pearl" / "config.toml"
