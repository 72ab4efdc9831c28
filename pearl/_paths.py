"""Where pearl keeps its files: caches under one root (`PEARL_HOME`), settings in the user's config folder.

`PEARL_HOME` moves the caches and indexes only, never the settings file: a cache folder may
be wiped or pointed elsewhere for one run (tests point it at a tmp dir), and the settings
must not silently change with it. `PEARL_CONFIG` names the settings file explicitly.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pearl.errors import ConfigError

__all__ = ["config_file", "data_dir", "in_read_only_home"]

_log = logging.getLogger(__name__)
_READ_ONLY: set[Path] = set()  # data folders already said to be read-only, said once a process


def data_dir(*, create: bool = True) -> Path:
    """The root for caches and indexes: `$PEARL_HOME`, else `$XDG_CACHE_HOME/pearl`, else `~/.cache/pearl`.

    Args:
        create: make the folder if it is missing, and check it can be used.

    A folder that can be read but not written (a cache shared read-only, a read-only mount) is used
    as it is: what its caches hold is read, nothing new is kept, and a warning says so once; so is the
    usual place when it cannot be made (a read-only home), which holds nothing.

    Raises:
        ConfigError: `create` is set and the folder cannot be read, or `PEARL_HOME` names one that cannot be
            made (a path under a file).
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
            if home:  # named on purpose: a mistake to mend
                raise ConfigError(f"cannot create pearl's data folder {path} ({exc.strerror or exc}); {fix}") from None
            # The usual place, in a home that cannot be written (a read-only mount): used as a read-only folder is,
            # nothing kept, said once; a command without caches runs as it would anywhere.
            if path not in _READ_ONLY:
                _READ_ONLY.add(path)
                _log.warning(
                    "pearl's data folder %s cannot be created (%s): nothing is kept between runs (%s)",
                    path,
                    exc.strerror or exc,
                    fix,
                )
            return path
        if not os.access(path, os.R_OK | os.X_OK):
            raise ConfigError(f"pearl's data folder {path} cannot be read; {fix}")
        if not os.access(path, os.W_OK) and path not in _READ_ONLY:
            _READ_ONLY.add(path)
            _log.warning(
                "pearl's data folder %s is read-only: what its caches hold is used, nothing new is kept (%s)", path, fix
            )
    return path


def in_read_only_home(path: Path) -> bool:
    """Whether `path` is in a data folder already said to be read-only: a failure to write there needs no word more."""
    return any(folder == path or folder in path.parents for folder in _READ_ONLY)


def config_file() -> Path:
    """The TOML settings file: `$PEARL_CONFIG`, else `$XDG_CONFIG_HOME/pearl/config.toml`, else `~/.config/...`."""
    explicit = os.environ.get("PEARL_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".config"
    return base / "pearl" / "config.toml"
