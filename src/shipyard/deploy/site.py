"""`publish-site`: sync the static site to its bucket by content hash and invalidate what changed.

plan_sync is pure (local files vs the bucket's listing); publish() carries the
plan out: uploads with Content-Type and Cache-Control, deletions, and one
CloudFront invalidation for the changed paths.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from shipyard.aws import Aws
from shipyard.config import Environment
from shipyard.errors import UsageError
from shipyard.naming import PREVIEW_PATH

# name.<8+ hex>.ext: the content hash is in the name, so the file never changes.
_FINGERPRINTED = re.compile(r"[.-][0-9a-f]{8,}\.[A-Za-z0-9]+$")
LONG_CACHE = "public, max-age=31536000, immutable"
HTML_CACHE = "public, max-age=60, must-revalidate"
DEFAULT_CACHE = "public, max-age=3600"
# Past this many paths one wildcard invalidation is cheaper than listing them.
MAX_INVALIDATION_PATHS = 30
MAX_OBJECT_BYTES = 50 * 2**20  # one PutObject each; larger files do not belong in a static site


@dataclass(frozen=True)
class SiteFile:
    key: str
    path: Path
    md5: str
    content_type: str
    cache_control: str


@dataclass(frozen=True)
class SyncPlan:
    uploads: tuple[SiteFile, ...]
    deletes: tuple[str, ...]
    unchanged: int

    @property
    def invalidation_paths(self) -> list[str]:
        keys = [f.key for f in self.uploads] + list(self.deletes)
        if not keys:
            return []
        if len(keys) > MAX_INVALIDATION_PATHS:
            return ["/*"]
        paths = {f"/{k}" for k in keys}
        paths |= {"/" + k[: -len("index.html")] for k in keys if k.endswith("index.html")}
        return sorted(paths)


def cache_control(key: str) -> str:
    if _FINGERPRINTED.search(key):
        return LONG_CACHE
    if key.endswith((".html", ".htm")):
        return HTML_CACHE
    return DEFAULT_CACHE


def _walk(directory: Path) -> list[Path]:
    """Regular files below `directory`, never through a link; every symlink is refused, by name."""
    if directory.is_symlink() or not directory.is_dir():
        raise UsageError(str(directory), "is not a directory of static files (a symlink is not followed)",
                         "set site.directory in shipyard.toml or pass DIR")
    links, regular = [], []
    for root, dirs, names in os.walk(directory, followlinks=False):
        for name in [*dirs, *names]:
            path = Path(root) / name
            if path.is_symlink():
                links.append(path.relative_to(directory).as_posix())
            elif name in names and path.is_file():
                regular.append(path)
    if links:
        # A link can point anywhere (/proc/self/environ holds the deploy role's credentials in CI): never publish through one.
        raise UsageError(str(directory), f"holds symlinks, which are never published: {', '.join(sorted(links))}; nothing was uploaded",
                         "replace each link with the file itself")
    return sorted(regular)


# .well-known/ is the one public dotfile convention (RFC 8615); site.public_dotfiles names the others a site publishes.
PUBLIC_DOTFILES = (".well-known",)


def _hidden(key: str, public: tuple[str, ...]) -> bool:
    """Dotfiles and dot-folders (.env, .git) stay private unless they are named public at the site's top."""
    parts = key.split("/")
    dotted = [i for i, part in enumerate(parts) if part.startswith(".")]
    return bool(dotted) and not (dotted == [0] and parts[0] in public)


def local_files(directory: Path, public_dotfiles: tuple[str, ...] = PUBLIC_DOTFILES) -> dict[str, SiteFile]:
    files = {}
    for path in _walk(directory):
        key = path.relative_to(directory).as_posix()
        if _hidden(key, tuple(public_dotfiles)):
            continue
        if path.stat().st_size > MAX_OBJECT_BYTES:
            raise UsageError(str(path), f"is {path.stat().st_size / 2**20:.0f} MiB; site files are capped at "
                             f"{MAX_OBJECT_BYTES // 2**20} MiB; nothing was uploaded", "serve large media from elsewhere")
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "application/json"):
            content_type += "; charset=utf-8"
        files[key] = SiteFile(key, path, hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest(),
                              content_type, cache_control(key))
    if not files:
        raise UsageError(str(directory), "holds no files to publish")
    return files


def plan_sync(local: dict[str, SiteFile], remote: dict[str, str]) -> SyncPlan:
    """remote maps key -> ETag (the MD5 of a single-part upload)."""
    uploads = tuple(f for key, f in local.items() if remote.get(key, "").strip('"') != f.md5)
    deletes = tuple(sorted(key for key in remote if key not in local))
    return SyncPlan(uploads, deletes, len(local) - len(uploads))


def publish(aws: Aws, *, bucket: str, region: str, distribution_id: str, directory: Path,
            progress: Callable[[str], None] = lambda key: None,
            public_dotfiles: tuple[str, ...] = PUBLIC_DOTFILES, prefix: str = "") -> tuple[SyncPlan, str | None]:
    """Sync the directory into the bucket (under `prefix`, a preview's) and invalidate what changed. The environment's
    own files are every key outside the previews' prefix: its publish never touches a preview's files."""
    s3 = aws.s3(region)
    local = {prefix + key: replace(f, key=prefix + key) for key, f in local_files(directory, public_dotfiles).items()}
    remote = {key: etag for key, etag in s3.etags(bucket).items()
              if (key.startswith(prefix) if prefix else not key.startswith(PREVIEW_SITE_PREFIX))}
    plan = plan_sync(local, remote)
    for site_file in plan.uploads:
        s3.put_object(bucket, site_file.key, site_file.path.read_bytes(), content_type=site_file.content_type,
                      cache_control=site_file.cache_control)
        progress(site_file.key)
    s3.delete(bucket, plan.deletes)
    invalidation = None
    paths = plan.invalidation_paths
    if paths:
        reference = hashlib.sha256("".join(paths).encode() + directory.as_posix().encode()).hexdigest()[:32] + str(len(plan.uploads))
        invalidation = aws.cloudfront().invalidate(distribution_id, paths, reference)
    return plan, invalidation


PREVIEW_SITE_PREFIX = PREVIEW_PATH.strip("/") + "/"  # pv/<name>/...: each preview's site files in its base's bucket


def publish_environment(aws: Aws, env: Environment, directory: Path, progress: Callable[[str], None] = lambda key: None,
                        public_dotfiles: tuple[str, ...] = PUBLIC_DOTFILES) -> tuple[SyncPlan, str | None]:
    """publish() to this environment's bucket and distribution, read from its edge stack."""
    from shipyard.deploy.state import edge_outputs

    return publish(aws, bucket=env.names.site_bucket, region=env.region, distribution_id=edge_outputs(aws, env).distribution_id,
                   directory=directory, progress=progress, public_dotfiles=public_dotfiles)
