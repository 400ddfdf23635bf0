"""Run one generated model file through TensorFlow (the oracle) and gradflow, in-process.

``check_source(source, folder)`` writes the file, asks ``tests/oracle.py``'s
``tf_answer`` for TensorFlow's verdict, runs ``gradflow.inspect_file(path,
strict=True)`` and returns the disagreements (empty when they agree), with the
same agreement rule as tests/test_differential.py (and runs the static mode,
``inspect_file(path, static=True)``, against TensorFlow's None / not-None), plus: every ``blocked``
trainable variable names at least one blocker with a type and a location in the
generated file.

Hypothesis settings profiles (pick one with ``GRADFLOW_FUZZ_PROFILE``):
    ``ci`` (default; `make test`): ``CI_EXAMPLES`` examples per fuzz test,
        derandomized, no example database, so every run tests the same programs.
    ``fuzz`` (`make fuzz`): ``GRADFLOW_FUZZ_EXAMPLES`` (default 2000) random
        examples per fuzz test; failures are kept in .hypothesis/ and replayed first.
"""

from __future__ import annotations

import gc
import hashlib
import linecache
import os
import shutil
import sys
import time
import traceback
from pathlib import Path

from hypothesis import HealthCheck, Phase, event, reject, settings

TESTS = Path(__file__).resolve().parent.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from oracle import tf_answer  # noqa: E402
from differential import check_blockers, compare, compare_static  # noqa: E402

CI_EXAMPLES = 150
# No explain phase: after a failure it traces every line of every shrink step
# (sys.settrace on Python 3.11), which makes shrinking slow and memory grow.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]

settings.register_profile(
    "ci",
    max_examples=CI_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    phases=PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("GRADFLOW_FUZZ_EXAMPLES", "2000")),
    derandomize=False,
    deadline=None,
    print_blob=True,
    phases=PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = os.environ.get("GRADFLOW_FUZZ_PROFILE", "ci")
FUZZ_SETTINGS = settings.get_profile(PROFILE)

# GRADFLOW_FUZZ_LOG=FILE appends "pid seconds rss_mb" per example (to check it stays flat).
_LOG = os.environ.get("GRADFLOW_FUZZ_LOG")


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _forget_module(stem: str) -> None:
    """Drop the oracle's and gradflow's imports of one generated file."""
    for name in [k for k in sys.modules if stem in k]:
        del sys.modules[name]


def write_program(source: str, folder: str | os.PathLike) -> Path:
    """Write the generated file under a name made from its content.

    Distinct programs get distinct files, so a location that names an earlier
    program's file is caught (TensorFlow's autograph caches converted functions by
    code object, and code objects compare equal across files: see
    tests/test_fuzz_regressions.py). The bytecode cache and linecache are cleared,
    so that no stale compilation or line of an earlier program is ever used.
    """
    folder = Path(folder)
    shutil.rmtree(folder / "__pycache__", ignore_errors=True)
    digest = hashlib.sha1(source.encode()).hexdigest()[:16]
    path = folder / f"fuzz_{digest}.py"
    path.write_text(source)
    linecache.checkcache(str(path))
    return path


def _same_file(reported: str, path: Path) -> bool:
    return os.path.realpath(os.path.join(os.getcwd(), reported)) == os.path.realpath(path)


def check_blocked_located(report: dict, path: Path, n_lines: int) -> list[str]:
    """Every blocked trainable variable has a blocker with a type and a line of `path`."""
    problems = []
    for e in report["variables"]:
        if e.get("status") != "blocked" or not e.get("trainable", True):
            continue
        ok = False
        for b in e.get("blockers") or []:
            loc = b.get("location") or {}
            line = loc.get("line")
            if (b.get("type") and isinstance(loc.get("file"), str) and _same_file(loc["file"], path)
                    and isinstance(line, int) and 1 <= line <= n_lines):
                ok = True
        if not ok:
            problems.append(
                f"  blocked variable {e.get('name')!r}: no blocker with a type and a location "
                f"in the generated file: {e.get('blockers')!r}"
            )
    return problems


class TensorFlowCannotDifferentiate(Exception):
    """TensorFlow's own tape.gradient raised on the program (the forward pass ran)."""


def _in_tape_gradient(exc: BaseException) -> bool:
    return any(f.name == "_answer_eager" and "tape.gradient" in (f.line or "")
               for f in traceback.extract_tb(exc.__traceback__))


def check_path(path: Path) -> list[str]:
    """Disagreements between TensorFlow and gradflow on the model file at `path`."""
    import gradflow

    import tensorflow as tf

    source = path.read_text()
    try:
        oracle = tf_answer(str(path))
    except tf.errors.OpError as exc:
        if _in_tape_gradient(exc):  # TensorFlow's own autodiff broke: no truth to compare with
            detail = " ".join(line.strip() for line in str(exc).splitlines()[-3:] if line.strip())
            raise TensorFlowCannotDifferentiate(f"{type(exc).__name__}: {detail}") from None
        raise AssertionError(
            f"TensorFlow (the oracle) failed on the generated program {path}:\n{source}\n"
            f"{traceback.format_exc()}"
        ) from None
    except Exception:  # the generator wrote a program TensorFlow rejects: a strategy bug
        raise AssertionError(
            f"TensorFlow (the oracle) failed on the generated program {path}:\n{source}\n"
            f"{traceback.format_exc()}"
        ) from None
    try:
        report = gradflow.inspect_file(str(path), strict=True).to_dict()
    except Exception as exc:
        return [f"  gradflow raised {type(exc).__name__}: {exc}\n{traceback.format_exc()}",
                f"  oracle (TensorFlow): {oracle}"]
    problems = compare(oracle, report) + check_blockers(report)
    problems += check_blocked_located(report, path, len(source.splitlines()))
    # The static mode (no autodiff) must give TensorFlow's None / not-None verdicts too.
    try:
        static = gradflow.inspect_file(str(path), static=True).to_dict()
    except Exception as exc:
        return problems + [f"  gradflow --static raised {type(exc).__name__}: {exc}\n{traceback.format_exc()}"]
    problems += compare_static(oracle, static) + check_blockers(static)
    problems += check_blocked_located(static, path, len(source.splitlines()))
    return problems


def check_source(source: str, folder: str | os.PathLike) -> None:
    """Assert gradflow agrees with TensorFlow on `source`; the message shows the program."""
    start = time.perf_counter()
    path = write_program(source, folder)
    try:
        problems = check_path(path)
    except TensorFlowCannotDifferentiate as exc:
        # A TensorFlow bug, not gradflow's (the strategy avoids the ones we know:
        # see strategies.py); the example is dropped, and counted in the statistics.
        event("TensorFlow's autodiff raised (example rejected)")
        print(f"TensorFlow's autodiff raised {exc} on:\n{source}", file=sys.stderr)
        reject()
    finally:
        _forget_module(path.stem)
        path.unlink(missing_ok=True)
    if _LOG:
        gc.collect()
        rss = _rss_mb()
        with open(_LOG, "a") as fh:
            fh.write(f"{os.getpid()} {time.perf_counter() - start:.3f} {rss:.1f}\n")
    if problems:
        raise AssertionError(
            "gradflow disagrees with TensorFlow on this generated program:\n"
            f"{source}\n" + "\n".join(problems)
        )
