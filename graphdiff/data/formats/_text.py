"""Vectorised parsers for whitespace-separated integer text (SNAP edge lists and community files, node lists)."""

from __future__ import annotations

import numpy as np

__all__ = ["parse_int_lines", "parse_int_pairs", "parse_communities"]


def _strip_header(text: bytes) -> bytes:
    """Drop leading ``#`` comment lines (SNAP headers); only the header is scanned, the body stays one buffer."""
    while text.lstrip().startswith(b"#"):
        text = text.lstrip()
        newline = text.find(b"\n")
        text = b"" if newline < 0 else text[newline + 1 :]
    return text


def parse_int_lines(text: bytes, name: str = "file") -> np.ndarray:
    """All whitespace-separated integers of a text (leading ``#`` lines dropped), as int64.

    A token that is not an integer raises ``ValueError`` (never skipped).

    Examples
    --------
    >>> parse_int_lines(b"# a header\\n3\\n1 2\\n").tolist()
    [3, 1, 2]
    """
    tokens = _strip_header(text).split()
    if not tokens:
        return np.zeros(0, dtype=np.int64)
    try:
        return np.array(tokens, dtype=np.int64)
    except ValueError as exc:
        raise ValueError(f"{name}: expected whitespace-separated integers ({exc})") from None


def parse_int_pairs(text: bytes, name: str = "edge list") -> np.ndarray:
    """``(2, E)`` int64 array from a text with two integers per line (SNAP edge lists), vectorised.

    Examples
    --------
    >>> parse_int_pairs(b"# FromNodeId ToNodeId\\n0\\t1\\n2 3\\n").tolist()
    [[0, 2], [1, 3]]
    """
    flat = parse_int_lines(text, name)
    if flat.size % 2:
        raise ValueError(f"{name}: expected two integers per line, got {flat.size} integers in all")
    return flat.reshape(-1, 2).T.copy()


def parse_communities(text: bytes, name: str = "community file") -> tuple[np.ndarray, np.ndarray]:
    """SNAP community file (one community per line) -> (members, community id of each member).

    Examples
    --------
    >>> members, owner = parse_communities(b"5 6 7\\n8 9\\n")
    >>> members.tolist(), owner.tolist()
    ([5, 6, 7, 8, 9], [0, 0, 0, 1, 1])
    """
    lines = [line for line in _strip_header(text).split(b"\n") if line.strip()]
    sizes = np.fromiter((len(line.split()) for line in lines), dtype=np.int64, count=len(lines))
    members = parse_int_lines(b" ".join(lines), name)
    owner = np.repeat(np.arange(len(lines), dtype=np.int64), sizes)
    return members, owner
