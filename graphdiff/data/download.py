"""Checksum-verified files of the data root: locate, verify, download.

Every raw file a loader reads is described in ``datasets/manifest.json`` by one or more *forms*: the bytes as
they are staged (e.g. a zip wrapper, a file with an added header line) and the canonical download where its bytes
differ. A form lists what identifies its bytes:

* ``sha256`` -- the SHA-256 of the file itself;
* ``git_sha1`` -- the git blob id of the file (``sha1(b"blob <size>\\0" + bytes)``), for canonical files whose
  SHA-256 could not be computed offline but whose repository blob id is known;
* ``archive`` (``"zip"``, ``"gzip"`` or ``"tar"``) with ``member`` and ``content_sha256`` /
  ``content_git_sha1`` -- a wrapper
  whose decompressed content is verified instead (the wrapper's own ``sha256`` is checked too when given).

A file is used only after one of its identifiers matches; a mismatch raises :class:`ChecksumError` naming the file,
the expected and the actual digest, and the file is never read. A download goes to a temporary file in the target
directory and is renamed into place (:func:`os.replace`, atomic on POSIX) only after its checksum matches, so an
interrupted or corrupt download never leaves a file that looks valid. Offline or missing files raise
:class:`MissingDataError` naming the file, the directory it belongs in and the URL to fetch it from.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

__all__ = [
    "ChecksumError",
    "MissingDataError",
    "sha256_file",
    "git_blob_sha1",
    "verify_form",
    "find_form",
    "download_form",
    "open_form",
]

_CHUNK = 1 << 20


class MissingDataError(FileNotFoundError):
    """A raw data file is not in the data root (and was not, or could not be, downloaded)."""


class ChecksumError(ValueError):
    """A raw data file is present but its bytes do not match any accepted checksum (corrupt or wrong version)."""


def _hash_stream(stream, algo: str, prefix: bytes = b"") -> str:
    h = hashlib.new(algo)
    h.update(prefix)
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        h.update(chunk)
    return h.hexdigest()


def sha256_file(path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB chunks.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = path.write_bytes(b"abc")
    >>> sha256_file(path)[:16]
    'ba7816bf8f01cfea'
    """
    with open(path, "rb") as f:
        return _hash_stream(f, "sha256")


def git_blob_sha1(path) -> str:
    """The git blob id of a file: ``sha1(b"blob <size>\\0" + content)`` (what ``git hash-object`` prints).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "empty"
    >>> _ = path.write_bytes(b"")
    >>> git_blob_sha1(path)  # git's id of the empty blob
    'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        return _hash_stream(f, "sha1", prefix=b"blob %d\0" % size)


def _content_digests(path: Path, form: Mapping) -> tuple[str, str | None]:
    """(sha256, git blob sha1 or None) of the decompressed content of an archive form.

    The git blob id needs the content size up front, so it is computed (in a second pass) only when the form
    identifies its content by ``content_git_sha1`` alone.
    """
    kind = form["archive"]
    want_sha1 = not form.get("content_sha256")
    if kind == "zip":
        member = form["member"]
        with zipfile.ZipFile(path) as zf:
            try:
                info = zf.getinfo(member)
            except KeyError:
                raise ChecksumError(
                    f"{path} is not the expected archive: it has no member {member!r} (members: {zf.namelist()[:5]})"
                ) from None
            with zf.open(info) as f:
                data_sha256 = _hash_stream(f, "sha256")
            data_sha1 = None
            if want_sha1:
                with zf.open(info) as f:
                    data_sha1 = _hash_stream(f, "sha1", prefix=b"blob %d\0" % info.file_size)
        return data_sha256, data_sha1
    if kind == "gzip":
        h, size = hashlib.sha256(), 0
        with gzip.open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
                size += len(chunk)
        data_sha1 = None
        if want_sha1:
            with gzip.open(path, "rb") as f:
                data_sha1 = _hash_stream(f, "sha1", prefix=b"blob %d\0" % size)
        return h.hexdigest(), data_sha1
    if kind == "tar":
        with tarfile.open(path, "r:*") as tf:
            try:
                info = tf.getmember(form["member"])
            except KeyError:
                raise ChecksumError(
                    f"{path} is not the expected archive: it has no member {form['member']!r}"
                ) from None
            data_sha256 = _hash_stream(tf.extractfile(info), "sha256")
            data_sha1 = None
            if want_sha1:
                data_sha1 = _hash_stream(tf.extractfile(info), "sha1", prefix=b"blob %d\0" % info.size)
        return data_sha256, data_sha1
    raise ValueError(f"unknown archive kind {kind!r} in manifest form {form.get('name')!r}")


def verify_form(path, form: Mapping) -> None:
    """Raise :class:`ChecksumError` unless the file at ``path`` matches the manifest ``form``.

    Checks the file's ``sha256`` (or ``git_sha1``) when the form lists one, and for archive forms the
    decompressed content's ``content_sha256`` (or ``content_git_sha1``). A form without any identifier is rejected:
    an unverifiable file is never used.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    form : mapping
        A manifest form: ``name`` and at least one of ``sha256``, ``git_sha1``, or ``archive`` with ``member``
        and ``content_sha256`` / ``content_git_sha1``.

    Raises
    ------
    ChecksumError
        Naming the file, the expected and the actual digest.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = path.write_bytes(b"abc")
    >>> verify_form(path, {"name": "a.txt", "sha256": sha256_file(path)})  # silent: it matches
    >>> verify_form(path, {"name": "a.txt", "sha256": "0" * 64})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphdiff.data.download.ChecksumError: checksum mismatch for .../a.txt: sha256 is ba7816bf..., expected 000...
    """
    path = Path(path)
    checked = False
    if form.get("sha256"):
        actual = sha256_file(path)
        if actual != form["sha256"]:
            raise ChecksumError(
                f"checksum mismatch for {path}: sha256 is {actual}, expected {form['sha256']}. "
                f"The file is corrupt or a different version; delete it and fetch it again from {form.get('url')}"
            )
        checked = True
    elif form.get("git_sha1"):
        actual = git_blob_sha1(path)
        if actual != form["git_sha1"]:
            raise ChecksumError(
                f"checksum mismatch for {path}: git blob id is {actual}, expected {form['git_sha1']}. "
                f"The file is corrupt or a different version; delete it and fetch it again from {form.get('url')}"
            )
        checked = True
    if form.get("archive") and (form.get("content_sha256") or form.get("content_git_sha1")):
        try:
            got256, got1 = _content_digests(path, form)
        except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as exc:
            raise ChecksumError(f"{path} is not a readable {form['archive']} archive: {exc}") from None
        want256, want1 = form.get("content_sha256"), form.get("content_git_sha1")
        if (want256 and got256 != want256) or (not want256 and got1 != want1):
            raise ChecksumError(
                f"checksum mismatch for the content of {path}: sha256 {got256}, expected "
                f"{want256 or ('git blob ' + str(want1))}. The file is corrupt; fetch it again from {form.get('url')}"
            )
        checked = True
    if not checked:
        raise ChecksumError(f"the manifest lists no checksum for {form.get('name')!r}; refusing to use {path}")


# Verified files, keyed by path, size, mtime, ctime, device and inode (and the form): a file is hashed once per
# process unless it changes. The ctime is in the key because an in-place edit can restore size and mtime (os.utime)
# but not the ctime, which every write and every utime call sets to the current time; the inode catches a file
# replaced by another one with the same size and times.
_VERIFIED: set[tuple] = set()


def _verify_cached(path: Path, form: Mapping) -> None:
    st = path.stat()
    key = (
        str(path.resolve()),
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
        st.st_dev,
        st.st_ino,
        form.get("name"),
        form.get("sha256"),
        form.get("git_sha1"),
        form.get("content_sha256"),
        form.get("content_git_sha1"),
    )
    if key in _VERIFIED:
        return
    verify_form(path, form)
    _VERIFIED.add(key)


def find_form(directory, forms: Iterable[Mapping], verify: bool = True) -> tuple[Path, Mapping] | None:
    """Return ``(path, form)`` for the first form present in ``directory`` (verified), or ``None``.

    Several forms may share a file name (the canonical download and a variant with an added header line): a
    present file is accepted if it matches any form of its name. A present file that matches none raises
    :class:`ChecksumError` (it is reported, never skipped over or used).

    Parameters
    ----------
    directory : str or os.PathLike
        Where the files are looked for.
    forms : iterable of mapping
        The accepted forms of one file role, in order of preference.
    verify : bool, default True
        Check the checksum (once per process per unchanged file); ``False`` takes the first present file as is.

    Returns
    -------
    tuple of (pathlib.Path, mapping) or None

    Examples
    --------
    >>> import pathlib, tempfile
    >>> directory = pathlib.Path(tempfile.mkdtemp())
    >>> form = {"name": "a.txt", "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}
    >>> find_form(directory, [form]) is None
    True
    >>> _ = (directory / "a.txt").write_bytes(b"abc")
    >>> find_form(directory, [form])[0].name
    'a.txt'
    """
    directory = Path(directory)
    forms = list(forms)
    for name in dict.fromkeys(f["name"] for f in forms):
        path = directory / name
        if not path.is_file():
            continue
        candidates = [f for f in forms if f["name"] == name]
        if not verify:
            return path, candidates[0]
        errors = []
        for form in candidates:
            try:
                _verify_cached(path, form)
                return path, form
            except ChecksumError as exc:
                errors.append(str(exc))
        if len(errors) == 1:
            raise ChecksumError(errors[0])
        raise ChecksumError(f"{path} matches none of its {len(errors)} accepted forms:\n  " + "\n  ".join(errors))
    return None


def _default_opener(url: str, timeout: float):
    req = urllib.request.Request(url, headers={"User-Agent": "graphdiff"})
    return urllib.request.urlopen(req, timeout=timeout)


def download_form(
    directory,
    form: Mapping,
    opener: Callable | None = None,
    timeout: float = 60.0,
    verbose: bool = True,
) -> Path:
    """Download one form into ``directory``; rename into place only after its checksum matches.

    The bytes go to a temporary file next to the target (same filesystem, so the final :func:`os.replace` is
    atomic). On a checksum mismatch the temporary file is deleted and :class:`ChecksumError` raised; on a network
    error :class:`MissingDataError` names the file, the directory and the URL.

    Parameters
    ----------
    directory : str or os.PathLike
        Target directory (created if needed).
    form : mapping
        A manifest form with ``name``, ``url`` and its checksum.
    opener : callable, optional
        ``opener(url, timeout)`` returning a readable response (default :func:`urllib.request.urlopen`).
    timeout : float, default 60.0
        Seconds before a stalled connection fails.
    verbose : bool, default True
        Show a progress bar.

    Returns
    -------
    pathlib.Path
        The verified file.

    Examples
    --------
    >>> import io, pathlib, tempfile
    >>> form = {"name": "a.txt", "url": "https://example.org/a.txt",
    ...         "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}
    >>> path = download_form(tempfile.mkdtemp(), form, opener=lambda url, timeout: io.BytesIO(b"abc"), verbose=False)
    >>> path.read_bytes()
    b'abc'
    """
    directory = Path(directory)
    url = form.get("url")
    target = directory / form["name"]
    if not url:
        raise MissingDataError(f"missing {form['name']} in {directory} and the manifest gives no URL for it")
    target.parent.mkdir(parents=True, exist_ok=True)  # a form name may hold a sub-folder ("splits/x.npz")
    opener = opener or _default_opener
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        try:
            with os.fdopen(fd, "wb") as out, opener(url, timeout) as response:
                total = getattr(response, "length", None)
                from tqdm.auto import tqdm

                with tqdm(total=total, unit="B", unit_scale=True, desc=form["name"], disable=not verbose) as bar:
                    while True:
                        chunk = response.read(_CHUNK)
                        if not chunk:
                            break
                        out.write(chunk)
                        bar.update(len(chunk))
        except (OSError, ValueError) as exc:  # URLError is an OSError; ValueError: malformed URL
            raise MissingDataError(
                f"could not download {form['name']} from {url} ({exc}). Place the file by hand in {directory}"
            ) from exc
        verify_form(tmp, form)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def open_form(path, form: Mapping):
    """Open the verified file of a form for binary reading (the archive member for zip, gzip and tar forms).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = path.write_bytes(b"abc")
    >>> with open_form(path, {"name": "a.txt"}) as f:
    ...     f.read()
    b'abc'
    """
    kind = form.get("archive")
    if kind == "zip":
        zf = zipfile.ZipFile(path)
        return _ZipMember(zf, zf.open(form["member"]))
    if kind == "gzip":
        return gzip.open(path, "rb")
    if kind == "tar":
        tf = tarfile.open(path, "r:*")
        return _ZipMember(tf, tf.extractfile(form["member"]))
    return open(path, "rb")


class _ZipMember:
    """A file object for a zip or tar member that closes its archive too."""

    def __init__(self, zf: zipfile.ZipFile, fh):
        self._zf, self._fh = zf, fh

    def read(self, *args):
        return self._fh.read(*args)

    def close(self):
        self._fh.close()
        self._zf.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
