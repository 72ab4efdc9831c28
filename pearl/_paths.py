"""Where pearl keeps its files: caches under one root (`PEARL_HOME`), settings in the user's config folder.

`PEARL_HOME` moves the caches and indexes only, never the settings file: a cache folder may
be wiped or pointed elsewhere for one run (tests point it at a tmp dir), and the settings
must not silently change with it. `PEARL_CONFIG` names the settings file explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

from pearl.errors import ConfigError

__all__ = ["config_file", "data_dir"]


def data_dir(*, create: bool = True) -> Path:
    """The root for caches and indexes: `$PEARL_HOME`, else `$XDG_CACHE_HOME/pearl`, else `~/.cache/pearl`.

    Args:
        create: make the folder if it is missing, and check it can be written.

    Raises:
        ConfigError: `create` is set and the folder cannot be made or written (e.g. `PEARL_HOME`
            names a path under a file, or a folder without write permission).
    """
    home = os.environ.get("PEARL_HOME")
    xdg = os.environ.get("XDG_CACHE_HOME")
    if home:
        path, variable = Path(home).expanduser(), "PEARL_HOME"
    else:
        path = (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "pearl"
        variable = "XDG_CACHE_HOME or PEARL_HOME" if xdg else "PEARL_HOME"
    if create:
        fix = f"set {variable} to a folder you can write to"
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create pearl's data folder {path} ({exc.strerror or exc}); {fix}") from None
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(f"pearl's data folder {path} is not writable; {fix}")
    return path


def config_file() -> Path:
    """The TOML settings file: `$PEARL_CONFIG`, else `$XDG_CONFIG_HOME/pearl/config.toml`, else `~/.config/...`."""
    explicit = os.environ.get("PEARL_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".config"
    return base / "pearl" / "config.toml"
