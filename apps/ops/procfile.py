"""Read the Procfile: the one description of the processes, used by runall and by the tests."""
from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path

from django.conf import settings

_VAR = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}")


def _expand(text: str, env: dict) -> str:
    return _VAR.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), text)


def procfile_commands(path: Path | None = None, env: dict | None = None) -> dict[str, list[str]]:
    """{process name: argv}, with `python` and `celery` run by this interpreter."""
    env = dict(os.environ if env is None else env)
    commands = {}
    for line in (path or Path(settings.BASE_DIR) / "Procfile").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, command = line.partition(":")
        argv = shlex.split(_expand(command.strip(), env))
        if argv[0] == "python":
            argv[0] = sys.executable
        elif argv[0] == "celery":
            argv = [sys.executable, "-m", "celery"] + argv[1:]
        commands[name.strip()] = argv
    return commands
