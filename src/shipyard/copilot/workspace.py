"""A Copilot workspace read as untrusted input: the files `copilot init` and `copilot env init` write, each parsed
with limits, and anything a manifest should never hold refused with one line naming the file and key.

Layout (Copilot CLI docs, "Concepts: Applications / Environments / Services / Jobs / Pipelines"):
copilot/.workspace (the application's name), copilot/environments/<env>/manifest.yml,
copilot/<workload>/manifest.yml, copilot/<workload>/addons/*.yml, copilot/environments/addons/*.yml,
copilot/pipelines/<pipeline>/manifest.yml.

YAML is read as data, never as objects: anchors and aliases (the billion-laughs bomb), merge keys, duplicate keys
and explicit tags are refused; CloudFormation's short-form tags (!Ref, !Sub, ...) are read in addon templates only,
as their long forms. Files, values and nesting have sizes a manifest never needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from shipyard.errors import ConfigError

MAX_FILE_BYTES = 16 * 1024 * 1024  # a file past this is refused unread
MAX_VALUE_CHARS = 64 * 1024  # a manifest's longest real value is a policy or a command, far below this
MAX_DEPTH = 32
MAX_NODES = 100_000

STANDARD_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")}
# CloudFormation's short forms (CloudFormation user guide, "Intrinsic function reference"): !Ref and !Condition keep
# their own names, the rest become Fn::<Name>.
CLOUDFORMATION_TAGS = {"!Ref": "Ref", "!Condition": "Condition",
                       **{f"!{name}": f"Fn::{name}" for name in ("Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue",
                                                                  "Join", "Select", "Split", "Sub", "Transform", "And", "Equals",
                                                                  "If", "Not", "Or", "Length", "ToJsonString")}}


class ManifestError(ConfigError):
    """A workspace file that cannot be read as a manifest; nothing was written."""


@dataclass(frozen=True)
class Manifest:
    path: str  # relative to the app's directory, as the report names it
    data: dict[str, Any]


@dataclass(frozen=True)
class Workspace:
    root: Path  # the app's directory: the parent of copilot/
    application: str
    environments: dict[str, Manifest]
    workloads: dict[str, Manifest]
    pipelines: dict[str, Manifest] = field(default_factory=dict)
    addons: dict[str, list[Manifest]] = field(default_factory=dict)  # "environments" or a workload's name -> templates

    def inside(self, manifest: Manifest, key: str, relative: str) -> Path:
        """A path a manifest names (a Dockerfile, a site's files), refused where it leaves the app's directory."""
        resolved = (self.root / relative).resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise ManifestError(f"{manifest.path}: {key}", f"{relative!r} leaves the workspace; every path must stay inside {self.root}")
        return resolved


def read_workspace(root: Path) -> Workspace:
    root = root.resolve()
    copilot = root / "copilot"
    marker = copilot / ".workspace"
    if not marker.is_file():
        raise ManifestError(str(marker), "is missing: not a Copilot workspace", "run this in the directory that holds copilot/")
    settings = _read(root, marker, tags=False)
    application = settings.data.get("application")
    if not isinstance(application, str) or not application:
        raise ManifestError(f"{settings.path}: application", "must name the application")
    environments = {d.name: _read(root, d / "manifest.yml", tags=False)
                    for d in _folders(root, copilot / "environments") if (d / "manifest.yml").exists()}
    workloads = {d.name: _read(root, d / "manifest.yml", tags=False)
                 for d in _folders(root, copilot) if d.name not in ("environments", "pipelines") and (d / "manifest.yml").exists()}
    pipelines = {d.name: _read(root, d / "manifest.yml", tags=False)
                 for d in _folders(root, copilot / "pipelines") if (d / "manifest.yml").exists()}
    addons = {}
    for owner, folder in [("environments", copilot / "environments" / "addons"), *((n, copilot / n / "addons") for n in workloads)]:
        if folder.is_dir():
            addons[owner] = [_read(root, f, tags=True) for f in sorted(folder.iterdir())
                             if f.suffix in (".yml", ".yaml") and f.name != "addons.parameters.yml"]
    for name, manifest in [*environments.items(), *workloads.items()]:
        declared = manifest.data.get("name", name)
        if declared != name:
            raise ManifestError(f"{manifest.path}: name", f"is {declared!r} but the folder is {name!r}; Copilot deploys it by the folder's name")
    return Workspace(root, application, environments, workloads, pipelines, addons)


def _folders(root: Path, parent: Path) -> list[Path]:
    if not parent.is_dir():
        return []
    return sorted(d for d in parent.iterdir() if d.is_dir() and not d.name.startswith(".") and _contained(root, d))


def _contained(root: Path, path: Path) -> bool:
    if not path.resolve().is_relative_to(root):
        raise ManifestError(str(path.relative_to(root)), f"leads outside the workspace (to {path.resolve()}); refusing to read it")
    return True


def _read(root: Path, path: Path, *, tags: bool) -> Manifest:
    _contained(root, path)
    relative = str(path.relative_to(root))
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ManifestError(relative, f"is {size / 2**20:.0f} MiB; a manifest is at most {MAX_FILE_BYTES // 2**20} MiB")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(relative, f"is not UTF-8 text (byte {exc.start})") from None
    try:
        documents = list(yaml.compose_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ManifestError(relative, f"is not valid YAML{where}: {problem}") from None
    documents = [d for d in documents if d is not None]
    if len(documents) != 1:
        raise ManifestError(relative, f"holds {len(documents)} YAML documents; a manifest is exactly one")
    data = _Reader(relative, tags).value(documents[0], "", 0)
    if not isinstance(data, dict):
        raise ManifestError(relative, "is not a mapping of keys to values")
    return Manifest(relative, data)


class _Reader:
    """Nodes to plain data, refusing what a manifest never needs. Every node is visited once: a node met twice is an
    alias (the composer shares aliased nodes), refused before it can multiply."""

    def __init__(self, file: str, tags: bool) -> None:
        self.file, self.tags = file, tags
        self.seen: set[int] = set()
        self.constructor = SafeConstructor()

    def fail(self, key: str, what: str) -> ManifestError:
        return ManifestError(f"{self.file}: {key or '(top)'}", what)

    def value(self, node: Node, key: str, depth: int) -> Any:
        if id(node) in self.seen:
            raise self.fail(key, f"uses an anchor and alias (line {node.start_mark.line + 1}); aliases are not read, write the value out")
        self.seen.add(id(node))
        if len(self.seen) > MAX_NODES:
            raise self.fail(key, f"has more than {MAX_NODES} values; a manifest needs far fewer")
        if depth > MAX_DEPTH:
            raise self.fail(key, f"nests deeper than {MAX_DEPTH} levels")
        function = None
        if node.tag not in STANDARD_TAGS:
            function = CLOUDFORMATION_TAGS.get(node.tag) if self.tags else None
            if function is None:
                raise self.fail(key, f"has the tag {node.tag!r} (line {node.start_mark.line + 1}); "
                                     + ("only CloudFormation's short forms are read" if self.tags else "a manifest holds plain values only"))
        if isinstance(node, MappingNode):
            result = self.mapping(node, key, depth)
        elif isinstance(node, SequenceNode):
            result = [self.value(item, f"{key}[{i}]", depth + 1) for i, item in enumerate(node.value)]
        else:
            result = self.scalar(node, key)
        if function is not None:
            if function == "Fn::GetAtt" and isinstance(result, str):
                result = result.split(".", 1)
            return {function: result}
        return result

    def mapping(self, node: MappingNode, key: str, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self.fail(key, f"uses a merge key '<<' (line {key_node.start_mark.line + 1}); write the keys out")
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key, f"has a key that is not text (line {key_node.start_mark.line + 1})")
            # Keys are text as written: YAML 1.1 would read `on:` (a job's trigger) as true; Copilot reads YAML 1.2.
            name = str(self.scalar(key_node, key)) if key_node.tag not in STANDARD_TAGS else key_node.value
            path = f"{key}.{name}" if key else name
            if name in result:
                raise self.fail(path, f"is given twice (line {key_node.start_mark.line + 1}); YAML keys are unique")
            result[name] = self.value(value_node, path, depth + 1)
        return result

    def scalar(self, node: ScalarNode, key: str) -> Any:
        if len(node.value) > MAX_VALUE_CHARS:
            raise self.fail(key, f"holds a value of {len(node.value):,} characters; a manifest value is at most {MAX_VALUE_CHARS:,}")
        if node.tag not in STANDARD_TAGS:  # a CloudFormation short form's argument
            return node.value
        try:
            value = self.constructor.construct_object(node)
        except (ConstructorError, ValueError) as exc:
            raise self.fail(key, f"cannot be read: {str(exc).splitlines()[0]}") from None
        return value.isoformat() if hasattr(value, "isoformat") else value
