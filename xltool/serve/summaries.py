"""The round's summary files, cached per version set.

A summary is a function of its *version set* (each merged unit's latest version: unit, version
number, stored file and the name the summary gives it), of the roster it is checked against, of the
collecting unit's name, and of the code (:func:`xltool.serve.parts.fingerprint`). :func:`key` digests
all of them, and ``summaries/<key>.xlsx`` (``.docx``) is the file built for that key: a second request
with no new upload is served the very same file, and a new upload (or a roster update) makes another
key, so a cached summary is never served for a set it was not built from. Only the files of the
latest key are kept. A response is given its own hard link (or copy) of the cached file, so that
removing an old summary never cuts a download short.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from xltool.serve import parts
from xltool.serve.collection import private_folder, temp_dir

CACHE = "summaries"
Version = tuple[int, int, str, str]  # unit id, version, SHA-256 of the file, its name in the summary


def key(versions: list[Version], listed: list[str], unit: str) -> str:
    """The digest of everything a summary is made from."""
    made_of = [parts.fingerprint(), unit, listed, sorted(versions)]
    return hashlib.sha256(json.dumps(made_of, ensure_ascii=False).encode()).hexdigest()[:32]


def path(folder: Path, digest: str, suffix: str) -> Path:
    return private_folder(folder / CACHE) / f"{digest}{suffix}"


def copy(folder: Path, digest: str, suffix: str) -> Path | None:
    """A private copy (a hard link where the file system allows) of the cached summary, in the data
    folder's temporary folder, for one response; None when there is no such summary."""
    fd, name = tempfile.mkstemp(suffix=suffix, dir=temp_dir(folder))
    os.close(fd)
    out = Path(name)
    out.unlink()
    cached = path(folder, digest, suffix)
    try:
        try:
            os.link(cached, out)
        except FileNotFoundError:
            return None
        except OSError:  # a file system without hard links
            shutil.copyfile(cached, out)
    except FileNotFoundError:
        out.unlink(missing_ok=True)
        return None
    return out


def keep(made: Path, folder: Path, digest: str) -> None:
    """``made`` (a finished summary file) becomes the cached one of ``digest``; older ones go."""
    os.replace(made, path(folder, digest, made.suffix))
    for old in (folder / CACHE).iterdir():
        if not old.name.startswith(digest):
            old.unlink(missing_ok=True)
