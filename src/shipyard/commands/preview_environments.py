"""Commands for preview environments: preview deploy, list, destroy, prune (docs/previews.md)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from shipyard import render
from shipyard.app import previewing
from shipyard.app.target import Choice
from shipyard.cli_options import app, command, config, exit_with
from shipyard.errors import UsageError

preview_app = typer.Typer(name="preview", no_args_is_help=True,
                          help="Preview environments per pull request, inside [previews]' base environment.")
app.add_typer(preview_app)
NameArg = Annotated[str, typer.Argument(help="the preview's name: pr-<number> or a branch name (made safe, or refused)")]


def _images(given: list[str] | None) -> dict[str, str] | None:
    if not given:
        return None
    images = {}
    for item in given:
        workload, sep, reference = item.partition("=")
        if not sep or "@sha256:" not in reference:
            raise UsageError("--image", f"{item!r} is not NAME=REPOSITORY@sha256:DIGEST", "e.g. --image web=<uri>@sha256:<64 hex>")
        images[workload] = reference
    return images


@command("deploy", on=preview_app)
def deploy(name: NameArg, target: Choice,
           image: Annotated[Optional[list[str]], typer.Option(
               "--image", help="NAME=REPOSITORY@sha256:DIGEST for each workload (web is [service]); on the embedded AWS "
                               "they are built from the workloads' directories")] = None) -> None:
    """Create or update a preview: every workload once, its site under /pv/<name>/, and print its URL."""
    report = previewing.deploy_preview(config(), target.target(), name, images=_images(image))
    render.preview_deployed(report)
    exit_with(0 if report.passed else 1)


@command("destroy", on=preview_app)
def destroy(name: NameArg, target: Choice) -> None:
    """Delete a preview: its stack, every version of its site files, and the images it pushed."""
    render.preview_destroyed([previewing.destroy_preview(config(), target.target(), name)])


@command("list", on=preview_app)
def list_(target: Choice) -> None:
    """Each preview with its age, expiry and monthly cost."""
    found = previewing.list_previews(config(), target.target())
    render.previews(found, previewing.preview_cost(config()).total if found else None)


@command("prune", on=preview_app)
def prune(target: Choice) -> None:
    """Destroy every preview past its expiry (the preview job runs this before each deploy)."""
    render.preview_destroyed(previewing.prune_previews(config(), target.target()))
