"""Checksum verification and downloads: failure paths, atomic rename, missing-file messages (no network)."""

import gzip
import hashlib
import io
import urllib.error
import zipfile

import pytest

import graphdiff.data as gd
from graphdiff.data import download
from graphdiff.data.download import ChecksumError, MissingDataError

PAYLOAD = b"0 1\n1 2\n2 0\n"
SHA = hashlib.sha256(PAYLOAD).hexdigest()


def _form(**kw):
    form = {"name": "edges.txt", "url": "https://example.invalid/edges.txt", "sha256": SHA}
    form.update(kw)
    return form


class _Response(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.length = len(data)


def _opener(data):
    calls = []

    def opener(url, timeout):
        calls.append(url)
        return _Response(data)

    opener.calls = calls
    return opener


def test_sha256_and_git_blob_id(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(PAYLOAD)
    assert download.sha256_file(path) == SHA
    # git hash-object of the same bytes
    assert download.git_blob_sha1(path) == hashlib.sha1(b"blob %d\0" % len(PAYLOAD) + PAYLOAD).hexdigest()


def test_verify_form_accepts_and_rejects(tmp_path):
    path = tmp_path / "edges.txt"
    path.write_bytes(PAYLOAD)
    download.verify_form(path, _form())
    download.verify_form(path, _form(sha256=None, git_sha1=download.git_blob_sha1(path)))
    path.write_bytes(PAYLOAD + b"3 0\n")
    with pytest.raises(ChecksumError) as exc:
        download.verify_form(path, _form())
    assert str(path) in str(exc.value) and SHA in str(exc.value)
    with pytest.raises(ChecksumError, match="git blob"):
        download.verify_form(path, _form(sha256=None, git_sha1="0" * 40))
    with pytest.raises(ChecksumError, match="no checksum"):
        download.verify_form(path, _form(sha256=None))


def test_verify_zip_and_gzip_content(tmp_path):
    zpath = tmp_path / "w.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("edges.txt", PAYLOAD)
    form = _form(name="w.zip", sha256=None, archive="zip", member="edges.txt", content_sha256=SHA)
    download.verify_form(zpath, form)
    with download.open_form(zpath, form) as f:
        assert f.read() == PAYLOAD
    with pytest.raises(ChecksumError, match="no member"):
        download.verify_form(zpath, dict(form, member="other.txt"))
    with pytest.raises(ChecksumError, match="content"):
        download.verify_form(zpath, dict(form, content_sha256="0" * 64))
    # the wrapper's own checksum is checked as well when given
    with pytest.raises(ChecksumError):
        download.verify_form(zpath, dict(form, sha256="0" * 64))
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(ChecksumError, match="not a readable zip"):
        download.verify_form(tmp_path / "bad.zip", dict(form, name="bad.zip"))
    gpath = tmp_path / "edges.txt.gz"
    gpath.write_bytes(gzip.compress(PAYLOAD))
    gform = _form(name="edges.txt.gz", sha256=None, archive="gzip", content_sha256=SHA)
    download.verify_form(gpath, gform)
    blob = hashlib.sha1(b"blob %d\0" % len(PAYLOAD) + PAYLOAD).hexdigest()
    download.verify_form(gpath, dict(gform, content_sha256=None, content_git_sha1=blob))
    with pytest.raises(ChecksumError):
        download.verify_form(gpath, dict(gform, content_sha256=None, content_git_sha1="0" * 40))


def test_download_renames_into_place_after_checksum(tmp_path):
    opener = _opener(PAYLOAD)
    target = download.download_form(tmp_path / "raw", _form(), opener=opener, verbose=False)
    assert target == tmp_path / "raw" / "edges.txt" and target.read_bytes() == PAYLOAD
    assert opener.calls == ["https://example.invalid/edges.txt"]
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == ["edges.txt"]  # no temporary file left


def test_download_with_wrong_bytes_leaves_nothing(tmp_path):
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        download.download_form(tmp_path, _form(), opener=_opener(b"tampered"), verbose=False)
    assert list(tmp_path.iterdir()) == []


def test_download_does_not_replace_good_file_with_bad_bytes(tmp_path):
    (tmp_path / "edges.txt").write_bytes(PAYLOAD)
    with pytest.raises(ChecksumError):
        download.download_form(tmp_path, _form(), opener=_opener(b"tampered"), verbose=False)
    assert (tmp_path / "edges.txt").read_bytes() == PAYLOAD
    assert [p.name for p in tmp_path.iterdir()] == ["edges.txt"]


def test_offline_download_names_file_directory_and_url(tmp_path):
    def offline(url, timeout):
        raise urllib.error.URLError("no network")

    with pytest.raises(MissingDataError) as exc:
        download.download_form(tmp_path / "raw", _form(), opener=offline, verbose=False)
    msg = str(exc.value)
    assert "edges.txt" in msg and str(tmp_path / "raw") in msg and "https://example.invalid/edges.txt" in msg
    assert [p.name for p in (tmp_path / "raw").iterdir()] == []


def test_interrupted_download_leaves_nothing(tmp_path):
    class Broken(_Response):
        def read(self, *args):
            raise ConnectionResetError("connection reset")

    with pytest.raises(MissingDataError, match="connection reset"):
        download.download_form(tmp_path, _form(), opener=lambda url, timeout: Broken(PAYLOAD), verbose=False)
    assert list(tmp_path.iterdir()) == []


def test_file_url_with_default_opener(tmp_path):
    src = tmp_path / "src" / "edges.txt"
    src.parent.mkdir()
    src.write_bytes(PAYLOAD)
    target = download.download_form(tmp_path / "dst", _form(url=src.as_uri()), verbose=False)
    assert target.read_bytes() == PAYLOAD


def test_find_form_prefers_listed_order_and_reports_corruption(tmp_path):
    assert download.find_form(tmp_path, [_form()]) is None
    (tmp_path / "edges.txt").write_bytes(PAYLOAD)
    path, _form_found = download.find_form(tmp_path, [_form(name="other.txt"), _form()])
    assert path.name == "edges.txt"
    (tmp_path / "edges.txt").write_bytes(b"corrupt")
    with pytest.raises(ChecksumError):
        download.find_form(tmp_path, [_form()])
    assert download.find_form(tmp_path, [_form()], verify=False)[0].name == "edges.txt"


def test_load_download_true_uses_manifest_url_and_verifies(monkeypatch, tmp_path):
    """load(..., download=True) fetches from the manifest URL; wrong bytes are rejected and nothing is kept."""
    served = []

    def opener(url, timeout):
        served.append(url)
        return _Response(b"graph [ ]")

    monkeypatch.setattr(download, "_default_opener", opener)
    with pytest.raises(ChecksumError):
        gd.load("karate", root=tmp_path, download=True)
    assert served == [gd.dataset_info("karate")["files"]["graph"][0]["url"]]
    assert list((tmp_path / "community_graphs" / "raw").iterdir()) == []


def test_load_download_true_real_bytes(monkeypatch, tmp_path, real_data_root):
    """With the right bytes served, the file lands in <root>/<folder>/raw and loads."""
    monkeypatch.setattr(
        download,
        "_default_opener",
        lambda url, timeout: _Response((real_data_root / "community_graphs" / "raw" / "karate.gml").read_bytes()),
    )
    data = gd.load("karate", root=tmp_path, download=True)
    assert data.num_nodes == 34 and (tmp_path / "community_graphs" / "raw" / "karate.gml").is_file()


def test_load_offline_download_error(monkeypatch, tmp_path):
    def offline(url, timeout):
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(download, "_default_opener", offline)
    with pytest.raises(MissingDataError) as exc:
        gd.load("karate", root=tmp_path, download=True)
    assert "karate.gml" in str(exc.value) and str(tmp_path / "community_graphs" / "raw") in str(exc.value)


def test_forms_sharing_a_name_accept_either_variant(tmp_path):
    """The canonical file and a staged variant (e.g. with an added header line) may share one file name."""
    staged = b"header\n" + PAYLOAD
    forms = [_form(), _form(sha256=hashlib.sha256(staged).hexdigest(), form="staged")]
    (tmp_path / "edges.txt").write_bytes(staged)
    _path, form = download.find_form(tmp_path, forms)
    assert form["form"] == "staged"
    (tmp_path / "edges.txt").write_bytes(PAYLOAD)
    assert download.find_form(tmp_path, forms)[1] is forms[0]
    (tmp_path / "edges.txt").write_bytes(b"neither")
    with pytest.raises(ChecksumError, match="none of its 2 accepted forms"):
        download.find_form(tmp_path, forms)


def test_verify_tar_member(tmp_path):
    import tarfile

    src = tmp_path / "edges.txt"
    src.write_bytes(PAYLOAD)
    tpath = tmp_path / "w.tgz"
    with tarfile.open(tpath, "w:gz") as tf:
        tf.add(src, arcname="edges.txt")
    form = _form(name="w.tgz", sha256=None, archive="tar", member="edges.txt", content_sha256=SHA)
    download.verify_form(tpath, form)
    with download.open_form(tpath, form) as f:
        assert f.read() == PAYLOAD
    with pytest.raises(ChecksumError, match="no member"):
        download.verify_form(tpath, dict(form, member="x.txt"))
    with pytest.raises(ChecksumError, match="content"):
        download.verify_form(tpath, dict(form, content_sha256="0" * 64))


def test_download_into_sub_folder(tmp_path):
    target = download.download_form(tmp_path, _form(name="splits/edges.txt"), opener=_opener(PAYLOAD), verbose=False)
    assert target == tmp_path / "splits" / "edges.txt" and target.read_bytes() == PAYLOAD
    assert [p.name for p in (tmp_path / "splits").iterdir()] == ["edges.txt"]
