"""``gradflow docs --shard K/N`` and ``gradflow docs --merge PART... -o SITE``: a site over a CI matrix.

A shard is a deterministic part of the site: every job of the matrix finds the
same sorted model list and names the pages from all of it (so names match an
unsharded build), then analyses the models ``i`` with ``i % N == K - 1`` and
writes their pages plus ``gradflow-part.json`` (what the index needs: each
model's target, counts or error) into its PART folder. No index is written.

``--merge`` checks that the parts are shards ``1..N`` of one and the same model
list and format, reads their pages back and writes the site with the same code
as an unsharded build (:func:`gradflow.site.write_site`): the merged folder is
byte-identical to ``gradflow docs PATHS -o SITE``.

The scheduling is the CI runner's (a matrix job per shard, an artifact per
part, one job that merges); gradflow only cuts and joins.
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from typing import Sequence

from .errors import UsageError

__all__ = ["PART_FILE", "PART_SCHEMA", "parse_shard", "build_part", "merge_parts"]

PART_FILE = "gradflow-part.json"
PART_SCHEMA = "gradflow.site-part/1"


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` -> ``(2, 4)``.

    Raises:
        UsageError: not ``K/N`` with ``1 <= K <= N``.
    """
    k, sep, n = str(text).partition("/")
    if sep and k.strip().isdigit() and n.strip().isdigit() and 1 <= int(k) <= int(n):
        return int(k), int(n)
    raise UsageError(f"--shard {text}: give K/N with 1 <= K <= N (e.g. --shard 1/4 ... --shard 4/4).")


def shard_of(models: Sequence[str], k: int, n: int) -> list[str]:
    """The models shard ``k`` of ``n`` analyses: every n-th, starting at the (k-1)-th.

    Examples:
        >>> shard_of(["a", "b", "c", "d", "e"], 2, 2)
        ['b', 'd']
    """
    return [m for i, m in enumerate(models) if i % n == k - 1]


def build_part(paths: Sequence[str], out_dir: str, shard: tuple[int, int], *, fmt: str = "html",
               jobs: int | None = None, timeout: float | None = None, on_event=None):
    """Analyse shard ``K/N`` of the models under ``paths`` and write its pages and part file to ``out_dir``.

    Returns:
        The :class:`gradflow.site.SiteResult` of the part (its results: this shard's models).
    """
    from .site import (DEFAULT_TIMEOUT, SiteResult, analyse_models, check_output_dir, find_models, page_names,
                       renamed_pages, site_files, write_if_changed)

    if fmt not in ("html", "markdown"):
        raise UsageError(f"format {fmt!r}: choose html or markdown")
    k, n = shard
    models = find_models(paths)
    check_output_dir(out_dir)
    names = page_names(models)
    mine = shard_of(models, k, n)
    results, interrupted = [], None
    if mine:
        results, interrupted = analyse_models(mine, names, fmt, jobs=jobs or os.cpu_count() or 1,
                                              timeout=timeout or DEFAULT_TIMEOUT, on_event=on_event)
    written, unchanged = [], []
    part = {"schema": PART_SCHEMA, "format": fmt, "shard": [k, n], "models": list(models),
            "names": {m: names[m] for m in models},
            "results": [{f.name: getattr(r, f.name) for f in fields(r) if f.name not in ("page", "svg")}
                        for r in results]}
    files = site_files(results, names, fmt, index=False)
    files.append((PART_FILE, json.dumps(part, indent=1, ensure_ascii=False, sort_keys=True) + "\n"))
    for name, data in files:
        path = os.path.join(out_dir, name)
        (written if write_if_changed(path, data) else unchanged).append(path)
    return SiteResult(results=results, written=written, unchanged=unchanged,
                      renamed=[(m, s) for m, s in renamed_pages(models, names) if m in mine],
                      interrupted=interrupted)


def _read_part(folder: str) -> dict:
    path = os.path.join(folder, PART_FILE)
    try:
        with open(path, encoding="utf-8") as fh:
            part = json.load(fh)
    except FileNotFoundError:
        raise UsageError(f"--merge {folder}: no {PART_FILE} there. Give the folders that "
                         "`gradflow docs ... --shard K/N -o PART` wrote.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"--merge {folder}: {PART_FILE} is unreadable ({exc}). Build that shard again.") from None
    if not isinstance(part, dict) or part.get("schema") != PART_SCHEMA:
        raise UsageError(f"--merge {folder}: {PART_FILE} is not a {PART_SCHEMA} file. Build that shard again.")
    return part


def _read_page(folder: str, name: str) -> str:
    try:
        with open(os.path.join(folder, name), encoding="utf-8", newline="") as fh:
            return fh.read()
    except OSError:
        raise UsageError(f"--merge {folder}: the page {name} is missing. Build that shard again.") from None


def merge_parts(parts: Sequence[str], out_dir: str):
    """Join the PART folders of shards ``1..N`` into one site in ``out_dir``.

    Raises:
        UsageError: a part is missing or duplicated, or the parts were built
            from different model lists or formats.
    """
    from .site import PageResult, SiteResult, check_output_dir, renamed_pages, write_site

    loaded = [(folder, _read_part(folder)) for folder in parts]
    first_folder, first = loaded[0]
    n = first["shard"][1]
    seen: dict[int, str] = {}
    for folder, part in loaded:
        if part["models"] != first["models"] or part["format"] != first["format"] or part["names"] != first["names"]:
            raise UsageError(f"--merge: {folder} and {first_folder} were built from different models or formats. "
                             "Build every shard from the same checkout with the same PATHS and --format.")
        k, this_n = part["shard"]
        if this_n != n:
            raise UsageError(f"--merge: {folder} is shard {k}/{this_n}, {first_folder} is of {n}. "
                             "Merge shards of one split.")
        if k in seen:
            raise UsageError(f"--merge: shard {k}/{n} given twice ({seen[k]} and {folder}).")
        seen[k] = folder
    missing = [f"{k}/{n}" for k in range(1, n + 1) if k not in seen]
    if missing:
        raise UsageError(f"--merge: shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing. "
                         "Give every part folder.")
    fmt, names, models = first["format"], first["names"], first["models"]
    check_output_dir(out_dir)
    known = {f.name for f in fields(PageResult)}
    by_model: dict[str, PageResult] = {}
    for folder, part in loaded:
        for entry in part["results"]:
            r = PageResult(**{key: value for key, value in entry.items() if key in known})
            stem = names[r.path]
            if r.ok:
                if fmt == "markdown":
                    r.page = _read_page(folder, stem + ".md")
                    r.svg = _read_page(folder, stem + ".svg")
                else:
                    r.page = _read_page(folder, stem + ".html")
            by_model[r.path] = r
    absent = [m for m in models if m not in by_model]
    if absent:
        raise UsageError(f"--merge: no result for {', '.join(absent[:3])}"
                         f"{' ...' if len(absent) > 3 else ''}. Build its shard again.")
    results = [by_model[m] for m in models]
    written, unchanged, removed = write_site(out_dir, results, names, fmt)
    return SiteResult(results=results, written=written, unchanged=unchanged, removed=removed,
                      renamed=renamed_pages(models, names))


