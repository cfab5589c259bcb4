"""Keeping file paths inside ``XCONNECTOR_FILES_ROOT``, and moving without loss.

Every folder a files connection reads or writes is given relative to the
files root and resolved here: absolute paths, ``..`` and symbolic links that
lead out of the root are refused. Files are placed with a rename, never
copied in place, so a reader sees either nothing or the whole file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from django.conf import settings
from pydantic_core import PydanticCustomError

from connectors.errors import PermanentError

MAX_NAME_BYTES = 255  # the usual file-system limit for one name
MAX_SUFFIX = 10_000


def files_root() -> Path:
    return Path(settings.XCONNECTOR_FILES_ROOT).resolve()


def folder_problem(value: str) -> str | None:
    """Why ``value`` cannot be a folder relative to the files root, or None."""
    if "\\" in value or "\x00" in value:
        return f"“{value}” contains \\ or a NUL character: separate folders with /."
    path = PurePosixPath(value)
    if path.is_absolute():
        return (
            f"“{value}” is an absolute path: give a folder relative to the files "
            "root, such as inbox/invoices."
        )
    if ".." in path.parts:
        return f"“{value}” climbs out with “..”: give a folder inside the files root."
    if not path.parts:
        return "Give a folder inside the files root, such as inbox."
    return None


def file_name_problem(value: str) -> str | None:
    """Why ``value`` cannot be a plain file name, or None."""
    if not value.strip():
        return "The file name is empty."
    if "/" in value or "\\" in value or "\x00" in value:
        return (
            f"“{value}” is not a plain file name: it cannot contain / or \\. "
            "Choose the folder separately."
        )
    if value in (".", ".."):
        return f"“{value}” is not a file name."
    if len(value.encode()) > MAX_NAME_BYTES:
        return f"The file name is longer than {MAX_NAME_BYTES} bytes."
    return None


def invalid(problem: str) -> PydanticCustomError:
    """A settings or input error that reads well after the field's name."""
    return PydanticCustomError("invalid", problem.rstrip("."))


def resolve_folder(value: str) -> Path:
    """The real path of a folder given relative to the files root.

    Raises ``PermanentError`` when the value is not a relative folder or
    when a symbolic link leads out of the root.
    """
    if problem := folder_problem(value):
        raise PermanentError(problem)
    root = files_root()
    resolved = (root / value).resolve()
    if not resolved.is_relative_to(root):
        raise PermanentError(
            f"The folder “{value}” leads outside the files root through a "
            "symbolic link: choose a folder that really lies inside it."
        )
    return resolved


def relative(path: Path) -> str:
    """A path as shown to users: relative to the files root, with /."""
    return path.relative_to(files_root()).as_posix()


def numbered(target: Path) -> Iterator[Path]:
    """``target``, then ``name-1.ext``, ``name-2.ext`` … in the same folder."""
    yield target
    for number in range(1, MAX_SUFFIX):
        yield target.with_name(f"{target.stem}-{number}{target.suffix}")


def move_no_clobber(source: Path, target: Path) -> None:
    """Move ``source`` to ``target``; FileExistsError if ``target`` exists.

    A hard link refuses an existing target atomically, where ``rename``
    would silently replace it.
    """
    try:
        os.link(source, target)
    except (FileExistsError, FileNotFoundError):
        raise  # the target is taken, or the source is gone (moved by another)
    except OSError:
        # No hard links here (some network shares): check, then rename. Two
        # writers racing for one name within microseconds could still collide.
        if target.exists():
            raise FileExistsError(target) from None
        os.rename(source, target)
        return
    os.unlink(source)


def move_to_free_name(source: Path, target: Path) -> Path:
    """Move ``source`` to ``target`` or the first free numbered variant.

    FileNotFoundError when ``source`` is gone.
    """
    for candidate in numbered(target):
        try:
            move_no_clobber(source, candidate)
        except FileExistsError:
            continue
        return candidate
    raise PermanentError(f"{target.name} has {MAX_SUFFIX} copies already.")


def write_temp(
    folder: Path, chunks: Iterable[bytes], max_bytes: int
) -> tuple[Path, int, str]:
    """Stream ``chunks`` to a hidden temporary file in ``folder``.

    Returns the temporary path, the size and the SHA-256. The file is
    removed again if the stream fails.
    """
    handle, name = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
    temp = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise PermanentError(
                        f"The file is larger than the {max_bytes:,} bytes "
                        "allowed for one document."
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp, size, digest.hexdigest()


def same_content(path: Path, size: int, sha256: str) -> bool:
    """Whether the regular file at ``path`` holds exactly these bytes."""
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size != size:
            return False
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest() == sha256
    except OSError:
        return False
