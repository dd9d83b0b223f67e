"""`shipyard init`: scaffold shipyard.toml and the GitHub Actions workflows into a repository.

The example app under examples/webapp is exactly what `shipyard init` writes
for it (a test regenerates and compares).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

FILES = {
    "shipyard.toml": "shipyard.toml.tmpl",
    ".github/workflows/ci.yml": "ci.yml.tmpl",
    ".github/workflows/deploy.yml": "deploy.yml.tmpl",
}


@dataclass(frozen=True)
class Answers:
    app: str
    repository: str
    region: str
    staging_account: str
    production_account: str
    alert_emails: tuple[str, ...] = ()


def render(answers: Answers) -> dict[str, str]:
    values = {
        "app": answers.app, "repository": answers.repository, "region": answers.region,
        "staging_account": answers.staging_account, "production_account": answers.production_account,
        "alert_emails": ", ".join(f'"{e}"' for e in answers.alert_emails),
    }
    rendered = {}
    for target, template in FILES.items():
        text = resources.files("shipyard.scaffold").joinpath("templates", template).read_text()
        for key, value in values.items():
            text = text.replace(f"<<{key}>>", value)
        rendered[target] = text
    return rendered


def write(directory: Path, answers: Answers, *, force: bool = False) -> list[Path]:
    files = render(answers)
    existing = [directory / name for name in files if (directory / name).exists()]
    if existing and not force:
        from shipyard.errors import UsageError

        raise UsageError(str(existing[0]), "already exists; nothing was written", "pass --force to overwrite")
    written = []
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written
