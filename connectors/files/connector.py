"""The file drop folder connector: pick up dropped files, write files out.

A connection watches one folder below ``XCONNECTOR_FILES_ROOT``::

    <folder>/            files are dropped here
    <folder>/.processing/  claimed, a run is (or will be) working on them
    <folder>/done/       the run finished
    <folder>/failed/     the run failed; <name>.reason.txt says why

A poll claims each ready file by renaming it into ``.processing/`` (one
rename: two pollers cannot both claim it) under a name that keeps its
original name, size and modification time, so the event id
``<name>:<size>:<mtime_ns>`` can be rebuilt from it. Claimed files are
emitted again on every poll until they are acknowledged: after a crash
between the claim and the run's creation nothing is lost, and the engine
drops the repeats by event id.
"""

from __future__ import annotations

import mimetypes
import os
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.base import (
    ActionContext,
    CheckResult,
    Config,
    Connector,
    Document,
    Empty,
    PollResult,
    TriggerEvent,
    action,
    trigger,
)
from connectors.errors import PermanentError
from connectors.files.paths import (
    file_name_problem,
    files_root,
    folder_problem,
    invalid,
    move_no_clobber,
    move_to_free_name,
    numbered,
    relative,
    resolve_folder,
    same_content,
    write_temp,
)

PROCESSING, DONE, FAILED = ".processing", "done", "failed"
MAX_FILES_PER_POLL = 100  # the rest wait for the next poll
REASON_SUFFIX = ".reason.txt"


class FilesSettings(Config):
    """The folder a connection watches and writes to."""

    folder: str = Field(
        title="Folder",
        description=(
            "A folder inside the files root (XCONNECTOR_FILES_ROOT), such as "
            "inbox/invoices. It is created when missing."
        ),
        max_length=500,
    )
    pattern: str = Field(
        "*",
        title="File name pattern",
        description="Only files whose names match, such as *.pdf (any case).",
        max_length=200,
    )
    min_age_seconds: int = Field(
        2,
        ge=0,
        le=86_400,
        title="Minimum age (seconds)",
        description=(
            "Files changed more recently than this are still being written "
            "and wait for a later poll."
        ),
    )

    @field_validator("folder")
    @classmethod
    def _folder(cls, value: str) -> str:
        if problem := folder_problem(value):
            raise invalid(problem)
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        if not value or "/" in value or "\\" in value:
            raise invalid("must be a file name pattern such as *.pdf, without folders")
        return value


class DroppedFile(BaseModel):
    """A file picked up from the drop folder."""

    name: str = Field(title="File name")
    size: int = Field(title="Size (bytes)")
    modified_at: datetime = Field(title="Last modified")
    path: str = Field(title="Path", description="Where it was dropped, from the root.")


class WriteFileInput(BaseModel):
    """Which bytes to write, where, and what to do when the name is taken."""

    model_config = ConfigDict(extra="forbid")

    folder: str = Field(
        "",
        title="Folder",
        description="Inside the files root; empty: the connection's folder.",
        max_length=500,
    )
    file_name: str = Field(
        "",
        title="File name",
        description="A plain name such as invoice-42.pdf; empty: the document's.",
        max_length=255,
    )
    overwrite: Literal["fail", "replace", "add_suffix"] = Field(
        "fail",
        title="When the file exists",
        description=(
            "fail: stop with an error; replace: write over it; add_suffix: "
            "write name-1.ext, name-2.ext … A file with identical content "
            "counts as already written."
        ),
    )
    content: str | None = Field(
        None,
        title="Text content",
        description="Write this text (UTF-8) instead of the run's document.",
    )
    document: str = Field(
        "",
        title="Document",
        description="The name of the run's document to write, if it has several.",
    )

    @field_validator("folder")
    @classmethod
    def _folder(cls, value: str) -> str:
        if value and (problem := folder_problem(value)):
            raise invalid(problem)
        return value

    @field_validator("file_name")
    @classmethod
    def _file_name(cls, value: str) -> str:
        if value and (problem := file_name_problem(value)):
            raise invalid(problem)
        return value


class WrittenFile(BaseModel):
    """The file as written."""

    path: str = Field(title="Path", description="Relative to the files root.")
    size: int = Field(title="Size (bytes)")
    sha256: str = Field(title="SHA-256")


class FilesConnector(Connector):
    """Picks up files dropped in a folder and writes files to folders."""

    key = "files"
    label = "File drop folder"
    version = "1.0"
    category = "generic"
    icon = "folder"
    description = (
        "Start a flow for each file dropped in a folder, and write documents "
        "to folders."
    )
    Config = FilesSettings
    config: FilesSettings

    def check(self) -> CheckResult:
        folder = self._folder()
        waiting = sum(1 for _ in self._matching(folder))
        noun = "file" if waiting == 1 else "files"
        return CheckResult(f"Watching {self.config.folder} ({waiting} {noun} waiting).")

    # -- The drop folder --

    @trigger(
        "new_file",
        "When a file is dropped",
        kind="poll",
        description="One run per file; the file moves to done/ or failed/ after.",
        output=DroppedFile,
    )
    def new_file(self, params: Empty, cursor: str | None) -> PollResult:
        folder = self._folder()
        processing = folder / PROCESSING
        events = []
        for name, size, mtime_ns in sorted(self._claimed(processing), key=_by_age):
            if event := self._event(folder, name, size, mtime_ns):
                events.append(event)
        for name, size, mtime_ns in self._ready(folder)[:MAX_FILES_PER_POLL]:
            try:
                os.rename(folder / name, processing / _claim(name, size, mtime_ns))
            except FileNotFoundError:
                continue  # claimed by another poll in the meantime
            if event := self._event(folder, name, size, mtime_ns):
                events.append(event)
        return PollResult(events, cursor)

    def acknowledge(
        self,
        key: str,
        params: Any,
        event: TriggerEvent,
        *,
        ok: bool,
        reason: str = "",
    ) -> None:
        """Move the claimed file to ``done/``, or to ``failed/`` with the reason."""
        parsed = _parse_event_id(event.event_id) if key == "new_file" else None
        if parsed is None:
            return
        folder = self._folder()
        claimed = folder / PROCESSING / _claim(*parsed)
        name = parsed[0]
        try:
            final = move_to_free_name(claimed, folder / (DONE if ok else FAILED) / name)
        except FileNotFoundError:
            return  # acknowledged already
        if not ok:
            text = (reason or "No reason was given.").rstrip() + "\n"
            note = final.with_name(final.name + REASON_SUFFIX)
            temp, _, _ = write_temp(note.parent, [text.encode()], 1 << 20)
            os.replace(temp, note)

    # -- Writing --

    @action(
        "write_file",
        "Write a file",
        description="Writes the run's document, or a text, to a folder.",
        input=WriteFileInput,
        output=WrittenFile,
    )
    def write_file(self, data: WriteFileInput, context: ActionContext) -> WrittenFile:
        chunks, default_name = _source(data, context)
        name = data.file_name or default_name
        if problem := file_name_problem(name):
            raise PermanentError(
                f"{problem} Set “File name” to a plain name."
                if data.file_name
                else f"The document's name cannot be used: {problem} Set “File name”."
            )
        folder = resolve_folder(data.folder or self.config.folder)
        _make_folders(folder)
        temp, size, sha256 = write_temp(
            folder, chunks, settings.XCONNECTOR_MAX_DOCUMENT_BYTES
        )
        try:
            final = _place(temp, folder / name, data.overwrite, size, sha256)
        finally:
            temp.unlink(missing_ok=True)
        return WrittenFile(path=relative(final), size=size, sha256=sha256)

    # -- Helpers --

    def _folder(self) -> Path:
        """The watched folder with its subfolders, created when missing."""
        folder = resolve_folder(self.config.folder)
        _make_folders(folder, PROCESSING, DONE, FAILED)
        return folder

    def _matching(self, folder: Path) -> Iterator[os.DirEntry[str]]:
        """Regular, visible files in ``folder`` whose names match the pattern."""
        pattern = self.config.pattern.lower()
        with os.scandir(folder) as entries:
            for entry in entries:
                if (
                    not entry.name.startswith(".")
                    and entry.is_file(follow_symlinks=False)
                    and fnmatchcase(entry.name.lower(), pattern)
                ):
                    yield entry

    def _ready(self, folder: Path) -> list[tuple[str, int, int]]:
        """(name, size, mtime_ns) of matching files old enough, oldest first."""
        newest = time.time_ns() - self.config.min_age_seconds * 1_000_000_000
        found = []
        for entry in self._matching(folder):
            stat = entry.stat(follow_symlinks=False)
            if stat.st_mtime_ns <= newest:
                found.append((entry.name, stat.st_size, stat.st_mtime_ns))
        return sorted(found, key=_by_age)

    def _claimed(self, processing: Path) -> Iterator[tuple[str, int, int]]:
        with os.scandir(processing) as entries:
            for entry in entries:
                parsed = _parse_claim(entry.name)
                if parsed and entry.is_file(follow_symlinks=False):
                    yield parsed

    def _event(
        self, folder: Path, name: str, size: int, mtime_ns: int
    ) -> TriggerEvent | None:
        claimed = folder / PROCESSING / _claim(name, size, mtime_ns)
        modified = _from_ns(mtime_ns)
        path = relative(folder / name)
        try:
            document = Document.from_path(
                claimed,
                name=name,
                media_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
                source_ref=path,
                max_bytes=settings.XCONNECTOR_MAX_DOCUMENT_BYTES,
            )
        except FileNotFoundError:
            return None  # acknowledged while this poll ran
        return TriggerEvent(
            event_id=f"{name}:{size}:{mtime_ns}",
            payload={
                "name": name,
                "size": size,
                "modified_at": modified.isoformat(),
                "path": path,
            },
            documents=[document],
            occurred_at=modified,
        )


def _make_folders(folder: Path, *subfolders: str) -> None:
    root = files_root()
    for path in (folder, *(folder / sub for sub in subfolders)):
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise PermanentError(
                f"The folder {relative(path)} cannot be created: {error.strerror}."
            ) from None
        if not path.resolve().is_relative_to(root):
            raise PermanentError(
                f"{relative(path)} is a symbolic link that leads outside the "
                "files root: replace it with a real folder."
            )


def _source(
    data: WriteFileInput, context: ActionContext
) -> tuple[Iterable[bytes], str]:
    """The bytes to write and their own name ("" for text content)."""
    if data.content is not None:
        return [data.content.encode()], ""
    documents = context.documents
    if data.document:
        for document in documents:
            if document.name == data.document:
                return document, document.name
        raise PermanentError(f"The run carries no document named “{data.document}”.")
    if len(documents) == 1:
        return documents[0], documents[0].name
    if not documents:
        raise PermanentError(
            "There is nothing to write: the run carries no document and no "
            "text content was given."
        )
    names = ", ".join(f"“{document.name}”" for document in documents)
    raise PermanentError(
        f"The run carries {len(documents)} documents ({names}): name the one "
        "to write in “Document”."
    )


def _place(temp: Path, target: Path, policy: str, size: int, sha256: str) -> Path:
    """Move the written temporary file to its name, as ``policy`` says.

    A name that already holds identical bytes counts as written: a retry
    after a crash finds its own file instead of failing or copying it.
    """
    if policy == "replace":
        os.replace(temp, target)
        return target
    candidates = numbered(target) if policy == "add_suffix" else iter([target])
    for candidate in candidates:
        try:
            move_no_clobber(temp, candidate)
        except FileExistsError:
            if same_content(candidate, size, sha256):
                return candidate
            continue
        return candidate
    raise PermanentError(
        f"{relative(target)} already exists: choose “replace” or “add suffix”, "
        "or another file name."
    )


def _claim(name: str, size: int, mtime_ns: int) -> str:
    """The name a claimed file has in ``.processing/``."""
    return f"{mtime_ns}-{size}-{name}"


def _parse_claim(claimed: str) -> tuple[str, int, int] | None:
    mtime_ns, _, rest = claimed.partition("-")
    size, _, name = rest.partition("-")
    if not (mtime_ns.isdigit() and size.isdigit() and name):
        return None
    return name, int(size), int(mtime_ns)


def _parse_event_id(event_id: str) -> tuple[str, int, int] | None:
    parts = event_id.rsplit(":", 2)
    if len(parts) != 3 or not (parts[1].isdigit() and parts[2].isdigit()):
        return None
    name = parts[0]
    if file_name_problem(name):
        return None
    return name, int(parts[1]), int(parts[2])


def _by_age(item: tuple[str, int, int]) -> tuple[int, str]:
    return item[2], item[0]


def _from_ns(ns: int) -> datetime:
    seconds, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1000)
