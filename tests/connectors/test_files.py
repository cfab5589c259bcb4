"""The file drop folder: claim dropped files once, finish them, write files."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors.base import ActionContext, Document, TriggerEvent
from connectors.errors import PermanentError
from connectors.files.connector import FilesConnector

HOUR_NS = 3600 * 1_000_000_000


@pytest.fixture
def root(settings, tmp_path: Path) -> Path:
    settings.XCONNECTOR_FILES_ROOT = tmp_path / "files"
    settings.XCONNECTOR_FILES_ROOT.mkdir()
    return settings.XCONNECTOR_FILES_ROOT


def files(**settings: object) -> FilesConnector:
    return FilesConnector(
        FilesConnector.Config.model_validate({"folder": "inbox", **settings})
    )


def drop(folder: Path, name: str, data: bytes, age_ns: int = HOUR_NS) -> int:
    """Write a file whose last change lies ``age_ns`` ago; its mtime in ns."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    mtime_ns = time.time_ns() - age_ns
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return mtime_ns


def poll(connector: FilesConnector) -> list[TriggerEvent]:
    result = connector.poll("new_file", {}, "cursor-1")
    assert result.cursor == "cursor-1"
    return result.events


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# --- Check --------------------------------------------------------------------------


def test_check_creates_the_folders_and_counts_waiting_files(root):
    drop(root / "inbox", "a.pdf", b"A")
    drop(root / "inbox", "b.pdf", b"B")
    drop(root / "inbox", "notes.txt", b"N")

    message = files(pattern="*.PDF").check().message

    assert message == "Watching inbox (2 files waiting)."
    assert listing(root / "inbox") == [
        ".processing",
        "a.pdf",
        "b.pdf",
        "done",
        "failed",
        "notes.txt",
    ]


def test_check_of_an_empty_new_folder(root):
    assert (
        files(folder="in/deep").check().message == "Watching in/deep (0 files waiting)."
    )
    assert (root / "in" / "deep" / ".processing").is_dir()


# --- Polling -------------------------------------------------------------------------


def test_exactly_the_dropped_matching_files_become_events(root):
    inbox = root / "inbox"
    mtime = drop(inbox, "invoice.pdf", b"%PDF-1.7 invoice")
    drop(inbox, "readme.txt", b"not a pdf")
    drop(inbox, ".hidden.pdf", b"a temp file")
    (inbox / "sub.pdf").mkdir()
    (inbox / "link.pdf").symlink_to(root / "inbox" / "readme.txt")

    [event] = poll(files(pattern="*.pdf"))

    assert event.event_id == f"invoice.pdf:16:{mtime}"
    assert event.payload == {
        "name": "invoice.pdf",
        "size": 16,
        "modified_at": event.occurred_at.isoformat(),
        "path": "inbox/invoice.pdf",
    }
    assert event.occurred_at.timestamp() == pytest.approx(mtime / 1e9, abs=1e-6)
    [document] = event.documents
    assert (document.name, document.media_type) == ("invoice.pdf", "application/pdf")
    assert document.read() == b"%PDF-1.7 invoice"
    assert document.sha256 == hashlib.sha256(b"%PDF-1.7 invoice").hexdigest()
    assert listing(inbox / ".processing") == [f"{mtime}-16-invoice.pdf"]
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == [
        ".hidden.pdf",
        "link.pdf",
        "readme.txt",
    ]


def test_a_file_still_being_written_waits_for_a_later_poll(root):
    connector = files(min_age_seconds=60)
    drop(root / "inbox", "fresh.csv", b"a,b", age_ns=5 * 1_000_000_000)

    assert poll(connector) == []
    assert (root / "inbox" / "fresh.csv").exists()

    mtime = drop(root / "inbox", "fresh.csv", b"a,b\n1,2", age_ns=61 * 1_000_000_000)
    assert [event.event_id for event in poll(connector)] == [f"fresh.csv:7:{mtime}"]


def test_a_claimed_file_is_emitted_again_with_the_same_id_until_acknowledged(root):
    connector = files()
    drop(root / "inbox", "order.xml", b"<order/>")
    [first] = poll(connector)

    # The worker died between the claim and the run's creation: the next poll
    # hands the same event over again, and the engine drops it by event id.
    [again] = poll(files())

    assert again.event_id == first.event_id
    assert again.payload == first.payload
    assert again.documents[0].read() == b"<order/>"

    connector.acknowledge("new_file", {}, first, ok=True)
    assert poll(connector) == []


def test_a_new_file_with_the_name_of_a_claimed_one_is_a_new_event(root):
    connector = files()
    drop(root / "inbox", "daily.csv", b"monday", age_ns=2 * HOUR_NS)
    [monday] = poll(connector)
    tuesday = drop(root / "inbox", "daily.csv", b"tuesday!")

    events = poll(connector)

    assert [event.event_id for event in events] == [
        monday.event_id,
        f"daily.csv:8:{tuesday}",
    ]
    assert [event.documents[0].read() for event in events] == [
        b"monday",
        b"tuesday!",
    ]


# --- Acknowledging ------------------------------------------------------------------


def test_a_finished_file_moves_to_done_and_a_second_acknowledge_does_nothing(root):
    connector = files()
    drop(root / "inbox", "a.pdf", b"first")
    drop(root / "inbox" / "done", "a.pdf", b"an older a.pdf")
    [event] = poll(connector)

    connector.acknowledge("new_file", {}, event, ok=True)
    connector.acknowledge("new_file", {}, event, ok=True)

    assert listing(root / "inbox") == [
        ".processing",
        "done",
        "done/a-1.pdf",
        "done/a.pdf",
        "failed",
    ]
    assert (root / "inbox" / "done" / "a-1.pdf").read_bytes() == b"first"


def test_a_failed_file_moves_to_failed_with_its_reason(root):
    connector = files()
    drop(root / "inbox", "bad.pdf", b"broken")
    [event] = poll(connector)

    connector.acknowledge(
        "new_file", {}, event, ok=False, reason="Content Server refused it."
    )
    connector.acknowledge("new_file", {}, event, ok=False, reason="again")

    failed = root / "inbox" / "failed"
    assert listing(failed) == ["bad.pdf", "bad.pdf.reason.txt"]
    assert (failed / "bad.pdf").read_bytes() == b"broken"
    assert (failed / "bad.pdf.reason.txt").read_text() == "Content Server refused it.\n"
    assert listing(root / "inbox" / ".processing") == []


# --- Paths --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "message"),
    [
        (
            "/etc",
            "“/etc” is an absolute path: give a folder relative to the files root, "
            "such as inbox/invoices.",
        ),
        (
            "../outside",
            "“../outside” climbs out with “..”: give a folder inside the files root.",
        ),
        (
            "in/../../x",
            "“in/../../x” climbs out with “..”: give a folder inside the files root.",
        ),
        (".", "Give a folder inside the files root, such as inbox."),
    ],
)
def test_folders_outside_the_root_are_refused_in_the_settings(root, folder, message):
    with pytest.raises(ValidationError) as caught:
        files(folder=folder)

    [error] = caught.value.errors()
    assert error["msg"] == message.rstrip(".")


def test_a_symbolic_link_out_of_the_root_is_refused(root, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (root / "escape").symlink_to(tmp_path / "elsewhere")

    with pytest.raises(PermanentError) as caught:
        files(folder="escape").check()

    assert caught.value.message == (
        "The folder “escape” leads outside the files root through a symbolic "
        "link: choose a folder that really lies inside it."
    )
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_subfolder_linked_out_of_the_root_is_refused(root, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (root / "inbox").mkdir()
    (root / "inbox" / "done").symlink_to(tmp_path / "elsewhere")

    with pytest.raises(PermanentError) as caught:
        files().check()

    assert caught.value.message == (
        "inbox/done is a symbolic link that leads outside the files root: "
        "replace it with a real folder."
    )


# --- Writing ------------------------------------------------------------------------


def write(connector: FilesConnector, documents=(), **params: object) -> dict:
    output, _ = connector.run_action(
        "write_file", params, ActionContext(documents=list(documents))
    )
    return output


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_write_file_streams_the_document_and_reports_its_sha256(root):
    data = b"%PDF-1.7 " + os.urandom(200_000)
    document = Document("scan.pdf", [data[:70_000], data[70_000:]])

    output = write(files(), [document], folder="out/2024")

    assert output == {
        "path": "out/2024/scan.pdf",
        "size": len(data),
        "sha256": sha(data),
    }
    assert (root / "out" / "2024" / "scan.pdf").read_bytes() == data
    assert listing(root / "out" / "2024") == ["scan.pdf"]


def test_write_file_with_text_content_into_the_connection_folder(root):
    output = write(files(), content="name;amount\nAda;42\n", file_name="totals.csv")

    assert output == {
        "path": "inbox/totals.csv",
        "size": 19,
        "sha256": sha(b"name;amount\nAda;42\n"),
    }


def test_overwrite_fail_refuses_other_content_but_accepts_its_own_retry(root):
    drop(root / "out", "a.txt", b"old")

    with pytest.raises(PermanentError) as caught:
        write(files(), content="new", file_name="a.txt", folder="out")
    retry = write(files(), content="old", file_name="a.txt", folder="out")

    assert caught.value.message == (
        "out/a.txt already exists: choose “replace” or “add suffix”, or another "
        "file name."
    )
    assert retry == {"path": "out/a.txt", "size": 3, "sha256": sha(b"old")}
    assert listing(root / "out") == ["a.txt"]
    assert (root / "out" / "a.txt").read_bytes() == b"old"


def test_overwrite_replace_writes_over_the_file(root):
    drop(root / "out", "a.txt", b"old")

    output = write(
        files(), content="new", file_name="a.txt", folder="out", overwrite="replace"
    )

    assert output == {"path": "out/a.txt", "size": 3, "sha256": sha(b"new")}
    assert (root / "out" / "a.txt").read_bytes() == b"new"
    assert listing(root / "out") == ["a.txt"]


def test_overwrite_add_suffix_numbers_the_new_file(root):
    drop(root / "out", "a.txt", b"one")
    drop(root / "out", "a-1.txt", b"two")

    output = write(
        files(),
        content="three",
        file_name="a.txt",
        folder="out",
        overwrite="add_suffix",
    )
    retry = write(
        files(),
        content="three",
        file_name="a.txt",
        folder="out",
        overwrite="add_suffix",
    )

    assert output == {"path": "out/a-2.txt", "size": 5, "sha256": sha(b"three")}
    assert retry == output
    assert listing(root / "out") == ["a-1.txt", "a-2.txt", "a.txt"]
    assert (root / "out" / "a-2.txt").read_bytes() == b"three"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "../a.txt",
            "“../a.txt” is not a plain file name: it cannot contain / or \\. "
            "Choose the folder separately",
        ),
        (
            "a\\b.txt",
            "“a\\b.txt” is not a plain file name: it cannot contain / or \\. "
            "Choose the folder separately",
        ),
        (
            "sub/a.txt",
            "“sub/a.txt” is not a plain file name: it cannot contain / or \\. "
            "Choose the folder separately",
        ),
        ("..", "“..” is not a file name"),
    ],
)
def test_write_file_refuses_a_file_name_with_a_path(root, name, message):
    with pytest.raises(PermanentError) as caught:
        write(files(), content="x", file_name=name)

    assert caught.value.message == (
        f"The input of “Write a file” is not valid: file_name: {message}."
    )
    assert listing(root) == []


def test_write_file_refuses_a_folder_outside_the_root(root):
    with pytest.raises(PermanentError) as caught:
        write(files(), content="x", file_name="a.txt", folder="../../tmp")

    assert caught.value.message == (
        "The input of “Write a file” is not valid: folder: "
        "“../../tmp” climbs out with “..”: give a folder inside the files root."
    )


def test_write_file_needs_one_document_or_a_name(root):
    two = [Document.from_bytes("a.pdf", b"A"), Document.from_bytes("b.pdf", b"B")]

    with pytest.raises(PermanentError) as nothing:
        write(files())
    with pytest.raises(PermanentError) as several:
        write(files(), two)
    chosen = write(files(), two, document="b.pdf", file_name="chosen.pdf")

    assert nothing.value.message == (
        "There is nothing to write: the run carries no document and no text "
        "content was given."
    )
    assert several.value.message == (
        "The run carries 2 documents (“a.pdf”, “b.pdf”): name the one to write "
        "in “Document”."
    )
    assert chosen == {"path": "inbox/chosen.pdf", "size": 1, "sha256": sha(b"B")}


def test_a_document_cut_short_leaves_no_file_behind(root):
    document = Document("short.bin", [b"12345"], size=10)

    with pytest.raises(PermanentError) as caught:
        write(files(), [document])

    assert caught.value.message == "short.bin was cut short: 5 of 10 bytes arrived."
    assert listing(root / "inbox") == []
