"""An OCI image built from the service directory without a container engine, and its push through the ECR API.

The Dockerfile's final stage says what the image is: each `COPY` from the build context becomes a layer (the
files at their destination), `ENV`, `WORKDIR`, `EXPOSE`, `USER`, `STOPSIGNAL`, `CMD` and `ENTRYPOINT` its
configuration. A `COPY --from=<stage>` of a virtualenv that stage filled with `pip install -r <file>` becomes a
layer holding that requirements file (the embedded AWS installs it into a cached virtualenv). Layers are
written byte for byte the same for the same files (sorted, owner 0, fixed times), so the digest changes exactly
when the code does. A `RUN` of the final stage needs a container engine: the image records each one it did not
run (BuiltImage.not_run), and whoever builds says so; other instructions it cannot follow are refused by name.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shlex
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.aws import Aws
from shipyard.aws.ecr import Manifest
from shipyard.config import Environment
from shipyard.errors import UsageError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
# Where an image's requirements file sits beside the virtualenv it stands for.
REQUIREMENTS_MARKER = ".shipyard-requirements.txt"
_IGNORED = {"__pycache__", ".pytest_cache", ".venv", "tests", ".git"}


@dataclass
class _Stage:
    name: str
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    copies: list[tuple[str | None, list[str], str]] = field(default_factory=list)  # (from stage, sources, destination)
    runs: list[tuple[int, str]] = field(default_factory=list)  # (line, command)
    cmd: list[str] | None = None
    entrypoint: list[str] | None = None
    user: str | None = None
    stop_signal: str | None = None
    ports: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BuiltImage:
    config: bytes
    layers: tuple[bytes, ...]  # gzip-compressed tars
    # RUN steps of the final stage this builder did not run ("Dockerfile:LINE RUN ..."): only a container engine can.
    not_run: tuple[str, ...] = ()

    @property
    def manifest(self) -> str:
        return json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "size": len(self.config), "digest": _sha(self.config)},
            "layers": [{"mediaType": OCI_LAYER, "size": len(layer), "digest": _sha(layer)} for layer in self.layers],
        }, separators=(",", ":"))

    @property
    def digest(self) -> str:
        return _sha(self.manifest.encode())


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _instructions(text: str) -> list[tuple[int, str, str]]:
    """(line number, INSTRUCTION, arguments), continuations joined and comments dropped."""
    found, buffer, start = [], "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not buffer and (not line or line.startswith("#")):
            continue
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        keyword, _, rest = buffer.partition(" ")
        found.append((start, keyword.upper(), rest.strip()))
        buffer = ""
    return found


def _substitute(value: str, variables: dict[str, str]) -> str:
    """${NAME} and $NAME from the variables known; others (the base image's, such as PATH) stay for the runtime."""
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), value)


def _command(value: str) -> list[str]:
    return json.loads(value) if value.startswith("[") else ["/bin/sh", "-c", value]


def _pairs(value: str) -> dict[str, str]:
    parts = shlex.split(value)
    if len(parts) == 2 and "=" not in parts[0]:  # ENV KEY value
        return {parts[0]: parts[1]}
    return dict(part.split("=", 1) for part in parts)


def parse_dockerfile(path: Path) -> list[_Stage]:
    stages: list[_Stage] = []
    arguments: dict[str, str] = {}
    for number, keyword, rest in _instructions(path.read_text()):
        where = f"{path}:{number}"
        if keyword == "ARG":
            name, _, default = rest.partition("=")
            arguments.setdefault(name.strip(), default.strip())
        elif keyword == "FROM":
            words = _substitute(rest, arguments).split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(stages))
            base = next((s for s in stages if s.name == words[0]), None)
            stage = _Stage(name, env=dict(base.env) if base else {}, workdir=base.workdir if base else "/")
            stages.append(stage)
        elif not stages:
            raise UsageError(where, f"{keyword} before FROM")
        else:
            stage = stages[-1]
            if keyword == "ENV":
                stage.env.update({k: _substitute(v, {**arguments, **stage.env}) for k, v in _pairs(rest).items()})
            elif keyword == "WORKDIR":
                stage.workdir = str(Path(stage.workdir, _substitute(rest, stage.env)))
            elif keyword == "COPY":
                words = shlex.split(rest)
                source_stage = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
                paths = [w for w in words if not w.startswith("--")]
                stage.copies.append((source_stage, paths[:-1], paths[-1]))
            elif keyword == "RUN":
                stage.runs.append((number, rest))
            elif keyword == "CMD":
                stage.cmd = _command(rest)
            elif keyword == "ENTRYPOINT":
                stage.entrypoint = _command(rest)
            elif keyword == "USER":
                stage.user = rest
            elif keyword == "STOPSIGNAL":
                stage.stop_signal = rest
            elif keyword == "EXPOSE":
                stage.ports += [p if "/" in p else f"{p}/tcp" for p in rest.split()]
            elif keyword in ("LABEL", "HEALTHCHECK", "SHELL", "VOLUME", "ONBUILD", "MAINTAINER"):
                continue
            else:
                raise UsageError(where, f"{keyword} is not something shipyard's builder can follow without a container engine")
    if not stages:
        raise UsageError(str(path), "has no FROM")
    return stages


def _tar(entries: dict[str, bytes | None]) -> bytes:
    """A gzip'd tar of path -> bytes (None: a directory), the same bytes for the same files."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(entries):
            info = tarfile.TarInfo(name.lstrip("/"))
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "root", "root"
            data = entries[name]
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                archive.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                archive.addfile(info, io.BytesIO(data))
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return compressed.getvalue()


def _context_files(context: Path, sources: list[str], destination: str, workdir: str) -> dict[str, bytes]:
    target = destination if destination.startswith("/") else str(Path(workdir, destination))
    files: dict[str, bytes] = {}
    for source in sources:
        path = (context / source).resolve()
        if not path.is_relative_to(context.resolve()) or not path.exists():
            raise UsageError(f"{context / 'Dockerfile'}", f"COPY {source}: not a file or directory of the build context {context}")
        if path.is_file():
            name = str(Path(target, path.name)) if target.endswith("/") or len(sources) > 1 else target
            files[name] = path.read_bytes()
            continue
        for item in sorted(path.rglob("*")):
            if item.is_file() and not (set(item.relative_to(path).parts) & _IGNORED) and item.suffix != ".pyc":
                files[str(Path(target, item.relative_to(path)))] = item.read_bytes()
    return files


def _venv_requirements(stage: _Stage, context: Path, venv: str) -> bytes:
    """The requirements file a stage installed into `venv` with pip, read from the build context."""
    for _, run in stage.runs:
        if venv in run and "pip install" in run:
            match = re.search(r"-r\s+(\S+)", run)
            if match:
                inside = match.group(1)
                for source_stage, sources, destination in stage.copies:
                    if source_stage is None and (destination == inside or Path(destination, Path(sources[0]).name).as_posix() == inside):
                        return (context / sources[0]).read_bytes()
    raise UsageError(str(context / "Dockerfile"), f"stage {stage.name} fills {venv} in a way shipyard's builder cannot follow; "
                     "install requirements with `pip install -r <file>` into the virtualenv")


def build(context: Path, *, architecture: str, command: list[str] | None = None, labels: dict[str, str] | None = None) -> BuiltImage:
    """The image the Dockerfile in `context` describes, built from its files."""
    dockerfile = context / "Dockerfile"
    if not dockerfile.exists():
        raise UsageError(str(dockerfile), "not found; the service directory needs a Dockerfile", "set service.directory")
    stages = parse_dockerfile(dockerfile)
    final = stages[-1]
    layers = []
    for source_stage, sources, destination in final.copies:
        if source_stage is None:
            layers.append(_tar(_context_files(context, sources, destination, final.workdir)))
            continue
        stage = next((s for s in stages if s.name == source_stage), None)
        if stage is None:
            raise UsageError(str(dockerfile), f"COPY --from={source_stage}: no such stage")
        venv = sources[0].rstrip("/")
        layers.append(_tar({venv: None, f"{destination.rstrip('/')}/{REQUIREMENTS_MARKER}": _venv_requirements(stage, context, venv)}))
    if not layers:
        raise UsageError(str(dockerfile), "copies no files into the final image")
    diff_ids = [_sha(gzip.decompress(layer)) for layer in layers]
    run = command or final.cmd
    if not run and not final.entrypoint:
        raise UsageError(str(dockerfile), "has no CMD or ENTRYPOINT", "add CMD [\"python\", \"app.py\"] or set service.command")
    configuration = {"Env": [f"{k}={v}" for k, v in final.env.items()], "WorkingDir": final.workdir,
                     "ExposedPorts": {port: {} for port in final.ports}, "Labels": dict(labels or {})}
    for key, value in (("Cmd", run), ("Entrypoint", final.entrypoint), ("User", final.user), ("StopSignal", final.stop_signal)):
        if value:
            configuration[key] = value
    config = json.dumps({"architecture": "arm64" if architecture == "arm64" else "amd64", "os": "linux",
                         "config": configuration, "rootfs": {"type": "layers", "diff_ids": diff_ids}},
                        sort_keys=True, separators=(",", ":")).encode()
    return BuiltImage(config, tuple(layers), tuple(f"{dockerfile.name}:{line} RUN {text}" for line, text in final.runs))


def push(aws: Aws, env: Environment, image: BuiltImage, *, tag: str) -> str:
    """Blobs, then the manifest under `tag`, through the ECR API as a registry client does; returns the digest."""
    ecr, repository = aws.ecr(env.region), env.names.repository
    for blob in (image.config, *image.layers):
        if _sha(blob) not in ecr.available_layers(repository, [_sha(blob)]):
            ecr.upload_layer(repository, _sha(blob), [blob])
    if not ecr.put_image(repository, Manifest(image.manifest, OCI_MANIFEST), tag=tag):
        # The tag exists; tags are immutable, so it must name these very bytes.
        listed = ecr.image(repository, tag=tag)
        if listed is None or listed.digest != image.digest:
            raise UsageError(f"tag {tag}", f"already names {listed.digest if listed else 'another image'} in {repository}; "
                             "tags are immutable", "use another tag (e.g. the commit SHA)")
    return image.digest
