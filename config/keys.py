"""`python -m config.keys`: create the var folder and a secret key in it, once.

`make run` calls this before anything loads the settings, so the embedded default needs no
configuration; a SECRET_KEY in the environment always wins over the file. It does not import
Django settings (they refuse to load without a key)."""
from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path


def var_dir() -> Path:
    return Path(os.environ.get("ATELIER_VAR_DIR") or Path(__file__).resolve().parent.parent / "var")


def ensure_secret_key(folder: Path) -> tuple[Path, bool]:
    """(path, created). Writes a fresh 64-byte key readable by this user only, atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret_key"
    if path.exists():
        return path, False
    staged = folder / f".secret_key.{os.getpid()}"
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(64) + "\n")
    try:
        os.link(staged, path)  # fails if another process created it first: theirs wins
        created = True
    except FileExistsError:
        created = False
    finally:
        os.unlink(staged)
    return path, created


def main() -> int:
    path, created = ensure_secret_key(var_dir())
    if created and not os.environ.get("SECRET_KEY"):
        print(f"Generated a secret key in {path} (keep it; set SECRET_KEY to override).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
