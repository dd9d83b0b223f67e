"""Hash-locked requirement files for the pipeline: every package pinned, every file's SHA-256 listed.

`pip install --require-hashes --no-deps -r <lock>` installs exactly these bytes or nothing, so a package
registered later under the same name (shipyard is not on PyPI) cannot run in CI. Versions are resolved by pip
itself (`pip install --dry-run --report`); the hashes of every file PyPI publishes for each version come from
PyPI's JSON API, so the lock holds on any platform the runners use. shipyard itself is a wheel built from the
running installation and kept beside the lock (its hash in the lock), until it is published on an index.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from shipyard.errors import ShipyardError

PYPI_JSON = "https://pypi.org/pypi/{name}/json"
_LINE = re.compile(r"^(?P<spec>\S+)((?:\s+\\\s*)?(?:\s+--hash=sha256:[0-9a-f]{64})+)$")
_HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")


class LockError(ShipyardError):
    """A lock could not be written or does not hold."""


@dataclass(frozen=True)
class Pin:
    spec: str  # name==version, or a path to a wheel
    hashes: tuple[str, ...]


def python_version(text: str) -> str:
    """The Python the lock was resolved for, from its header."""
    match = re.search(r"^# python (\d+\.\d+)$", text, re.MULTILINE)
    if not match:
        raise LockError("lock", "has no '# python X.Y' header; regenerate it with `shipyard init --lock`")
    return match.group(1)


def parse(text: str) -> list[Pin]:
    pins = []
    for raw in text.replace("\\\n", " ").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise LockError("lock", f"line {line[:60]!r} is not '<spec> --hash=sha256:...'")
        pins.append(Pin(match["spec"], tuple(_HASH.findall(line))))
    return pins


def render(pins: Iterable[Pin], *, purpose: str) -> str:
    lines = [f"# {purpose}", "# Written by `shipyard init --lock`; install with pip install --require-hashes --no-deps -r <this file>.",
             f"# python {sys.version_info.major}.{sys.version_info.minor}"]
    for pin in sorted(pins, key=lambda p: p.spec.lower()):
        lines.append(" \\\n    ".join([pin.spec, *(f"--hash=sha256:{h}" for h in pin.hashes)]))
    return "\n".join(lines) + "\n"


def resolve(requirements: list[str], progress: Callable[[str], None]) -> list[tuple[str, str]]:
    """(name, version) of every package pip would install for these requirements, dependencies included."""
    progress(f"resolving {len(requirements)} requirements with pip")
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                                 "--report", str(report), *requirements], capture_output=True, text=True)
        if result.returncode != 0:
            raise LockError("pip", f"could not resolve {' '.join(requirements)}: {result.stderr.strip().splitlines()[-1:]}",
                            "check the network and the package index pip uses")
        installed = json.loads(report.read_text())["install"]
    return sorted((item["metadata"]["name"], item["metadata"]["version"]) for item in installed)


def pypi_hashes(name: str, version: str) -> tuple[str, ...]:
    """SHA-256 of every file PyPI publishes for name==version (all platforms, so any runner can install it)."""
    try:
        # The project's JSON (PyPI JSON API) lists every release's files with their digests.
        with urllib.request.urlopen(PYPI_JSON.format(name=name), timeout=60) as response:
            files = json.load(response)["releases"].get(version, [])
    except (OSError, KeyError, ValueError) as exc:
        raise LockError(f"PyPI {name}=={version}", f"could not read its file hashes: {exc}", "check the network") from None
    hashes = tuple(sorted(f["digests"]["sha256"] for f in files))
    if not hashes:
        raise LockError(f"PyPI {name}=={version}", "publishes no files")
    return hashes


def build_own_wheel(destination: Path) -> Path:
    """A wheel of the running shipyard, built from its installed sources with fixed timestamps."""
    import shipyard

    source = Path(shipyard.__file__).resolve().parents[2]
    if not (source / "pyproject.toml").exists():
        raise LockError("shipyard", f"is not installed from a source tree ({source}); pass --shipyard-wheel PATH")
    destination.mkdir(parents=True, exist_ok=True)
    for old in destination.glob("shipyard-*.whl"):
        old.unlink()
    environment = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(destination), str(source)],
                            capture_output=True, text=True, env=environment)
    wheels = sorted(destination.glob("shipyard-*.whl"))
    if result.returncode != 0 or not wheels:
        raise LockError("shipyard", f"could not build its wheel: {result.stderr.strip()[-300:]}")
    return wheels[0]


def file_pin(path: Path, relative_to: Path) -> Pin:
    return Pin("./" + path.relative_to(relative_to).as_posix(), (hashlib.sha256(path.read_bytes()).hexdigest(),))


def vendor_wheel(repository: Path, progress: Callable[[str], None], given: Path | None = None) -> Path:
    """The shipyard wheel the locks name, in .github/shipyard/: `given`, or one built from the running shipyard."""
    target = repository / ".github" / "shipyard"
    if given is None:
        progress("building the shipyard wheel")
        return build_own_wheel(target)
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("shipyard-*.whl"):
        if old.name != given.name:
            old.unlink()
    kept = target / given.name
    if given.resolve() != kept.resolve():
        shutil.copyfile(given, kept)
    return kept


def lock_shipyard(repository: Path, wheel: Path, progress: Callable[[str], None], *, extra: list[str], purpose: str) -> str:
    """The shipyard wheel and every dependency it installs, with `extra` requirements resolved together with them."""
    from importlib.metadata import requires

    dependencies = [r for r in requires("shipyard") or [] if "extra ==" not in r]
    pins = [file_pin(wheel, repository)]
    for name, version in resolve([*dependencies, *extra], progress):
        if name.lower() != "shipyard":
            progress(f"hashes of {name}=={version}")
            pins.append(Pin(f"{name}=={version}", pypi_hashes(name, version)))
    return render(pins, purpose=purpose)
