"""How each command's typed result looks to a person; everything goes through ui."""

from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from shipyard import ui
from shipyard.app.adopting import AdoptReport
from shipyard.app.importing import Imported
from shipyard.app.infrastructure import DeployReport, DestroyReport, PlanReport, PublishReport, SynthReport
from shipyard.app.policy import CheckReport
from shipyard.app.previewing import DeployedPreview, DestroyedPreview
from shipyard.app.up import UpReport
from shipyard.checks import report as formats
from shipyard.copilot.translate import CHANGED, MAPPED, NOT_CARRIED
from shipyard.cost.estimate import EnvironmentCost
from shipyard.cost.prices import PRICES_DATE
from shipyard.deploy.apply import Change
from shipyard.deploy.verify import LiveResult
from shipyard.diagnose.explain import Link
from shipyard.diagnose.service_logs import LogEvent
from shipyard.diagnose.status import StatusReport
from shipyard.diagnose.task_exec import ExecSession
from shipyard.previews import Preview, format_time
from shipyard.release.attempt import Outcome
from shipyard.release.one_off import OneOffRun

LOCK_HINT = "the pipeline installs from .github/*.lock: write them with `shipyard init --from shipyard.toml --lock` (needs PyPI)"


def scaffolded(paths: list[Path]) -> None:
    for path in paths:
        ui.result(f"wrote {os.path.relpath(path)}")
    if not any(path.name.endswith(".lock") for path in paths):
        ui.result(LOCK_HINT)
    # Only what the user has: the docs/ of shipyard's repository are not in their directory.
    shown = [Path(os.path.relpath(path)) for path in paths]
    started = [folder for folder in ("service", "site") if any(path.parts[0] == folder for path in shown)]
    home = paths[0].parent if paths else Path(".")  # shipyard.toml's directory: a workload's starter is NAME/main.py there
    workloads = sorted({path.parent.name for path in paths if path.name == "main.py" and path.parent.parent == home})
    ui.result((f"{' and '.join(f'{s}/' for s in started)} hold a starter (an app with /healthz and /api/hello, its tests, a page that shows "
               "what the API answers); " if started else "") +
              (f"{', '.join(f'{w}/' for w in workloads)}: a starter for each workload, which its kind's verdict passes; "
               if workloads else "") +
              "next: `shipyard up` runs both environments on the embedded AWS and prints their URLs; `shipyard COMMAND "
              "--help` explains each command")


def adopted(report: AdoptReport) -> None:
    ui.table(f"{report.environment}: moving into shipyard's stacks", ["resource", "name", "from", "to"],
             [(m.resource_type, m.physical_id, f"{m.source_stack}/{m.source_logical}" if m.source_stack else "(in no stack)",
               f"{m.target_stack}/{m.target_logical}" if m.target_stack else "") for m in report.moves])
    if report.kept:
        ui.table("staying where they are (keep the Copilot stacks named until each is handled)", ["resource", "name", "stack", "why"],
                 [(k.resource_type, k.physical_id, k.stack or "(none)", k.why) for k in report.kept], shown_whole_below=["why"])
    if report.recorded:
        ui.result(f"recorded in shipyard.toml:\n{report.recorded}")
    for step in report.steps:
        ui.result(step)
    ui.result(f"{report.environment}: " + (
        "adopted; next: `shipyard deploy` brings each resource to shipyard's template, then the cutover in docs/copilot.md"
        if report.executed else "nothing left to move: every adopted resource is in shipyard's stacks" if not report.moves
        else "nothing was changed (--dry-run)"))


def imported(result: Imported, output_format: str) -> None:
    """Where every manifest key went; then what was written, or what is left to decide."""
    if output_format == "json":
        ui.result(json.dumps({"rows": [dataclasses.asdict(r) for r in result.rows], "decisions": result.decisions,
                              "written": [str(p) for p in result.written]}, indent=2))
        return
    ui.table("Copilot manifest keys and where they went", ["file", "key", "outcome", "shipyard", "note"],
             [(r.file, r.key, r.outcome, r.target, r.note) for r in result.rows], shown_whole_below=["note"])
    counts = Counter(r.outcome for r in result.rows)
    ui.result(", ".join(f"{counts[o]} {o}" for o in (MAPPED, CHANGED, NOT_CARRIED)) + f" ({len(result.rows)} keys and tables)")
    for path in result.written:
        ui.result(f"wrote {os.path.relpath(path)}")
    if any(path.name == "pipeline.yml" for path in result.written):
        ui.result(LOCK_HINT)
    if result.written:
        ui.result("next: `shipyard validate`, then `shipyard up` rehearses the app on the embedded AWS")


def synth(result: SynthReport) -> None:
    assemblies = result.assemblies
    rows = [(a.environment.name, s.name, s.region, s.resource_count, os.path.relpath(s.template_path))
            for a in assemblies for s in a.stacks]
    ui.table("stacks (deploy order)", ["environment", "stack", "region", "resources", "template"], rows)
    cached = [a.environment.name for a in assemblies if a.from_cache]
    ui.info(f"synthesized {len(rows)} stacks for {len(assemblies)} environments in {result.seconds:.1f}s"
            + (f" ({', '.join(cached)} from shipyard's cache: configuration and code unchanged)" if cached else ""))


def check(report: CheckReport, output_format: str, output: Path | None) -> None:
    if output_format == "table":
        formats.table(report.findings)
    else:
        text = formats.as_json(report.findings) if output_format == "json" else formats.as_sarif(report.findings)
        if output:
            output.write_text(text)
        else:
            ui.write(text)
    ui.info(f"{len(report.findings)} findings: {len(report.blocking)} failing at --fail-on {report.fail_on}, "
            f"{report.suppressed} suppressed with reasons ({report.seconds:.1f}s)")


def plan(report: PlanReport) -> None:
    rows = [(p.stack.name, c.action, c.logical_id, c.resource_type, c.replacement or "-", c.why or "-")
            for p in report.previews for c in p.changes]
    if rows:
        ui.table(f"changes to {report.environment}", ["stack", "action", "resource", "type", "replacement", "why"], rows)
    ui.result("deploy order: " + " -> ".join(
        f"{p.stack.name} ({p.change_set_type.lower() if p.changes else 'no change'})" for p in report.previews))
    if not report.pending:
        ui.result(f"{report.environment} is up to date: no changes")
        return
    ui.result(f"{report.pending} resource changes pending")
    ui.result(f"monthly cost: {report.cost_before:.2f} -> {report.cost_after:.2f} USD ({report.cost_after - report.cost_before:+.2f}; "
              f"`shipyard cost {report.environment}` for the lines)")


def deployed(report: DeployReport) -> None:
    ui.table(f"deployed {report.environment}", ["stack", "outcome", "changes", "seconds"],
             [(r.stack, r.outcome, r.changes, f"{r.seconds:.1f}") for r in report.stacks])
    changed = [r for r in report.stacks if r.outcome is not Change.UNCHANGED]
    ui.info(f"{report.environment}: {'no changes; nothing to do' if not changed else f'{len(changed)} stacks changed'} "
            f"({report.seconds:.1f}s)")
    if report.dns_records:
        ui.table(f"{report.environment}: DNS records to keep at your DNS provider", ["name", "type", "value", "why"],
                 [(r.name.rstrip("."), r.type, r.value.rstrip("."), r.why) for r in report.dns_records])


def log_event(event: LogEvent, output_format: str) -> None:
    """One event per line: JSON for scripts; on a terminal a request log's fields as columns, other text as is."""
    if output_format == "json":
        ui.result(json.dumps({"time": event.time.isoformat(), "task": event.task, "message": event.message,
                              **({"fields": event.fields} if event.fields is not None else {})}))
        return
    stamp, task, fields = event.time.strftime("%Y-%m-%d %H:%M:%S"), event.task[:12], event.fields
    if fields is not None and {"method", "path", "status"} <= fields.keys():
        latency = f"{fields['latency_ms']:>8.1f} ms" if isinstance(fields.get("latency_ms"), (int, float)) else ""
        ui.result(f"{stamp}  {task:<12}  {fields['status']!s:>3}  {fields['method']:<6} {fields['path']:<30} {latency}  "
                  f"{fields.get('request_id', '')}".rstrip())
    else:
        ui.result(f"{stamp}  {task:<12}  {event.message}")


def exec_session(environment: str, session: ExecSession, log_group: str) -> None:
    masked = f"; values of {', '.join(session.masked)} shown as ****" if session.masked else ""
    ui.info(f"{environment}: session in task {session.task_id[:12]} ended; logged to {log_group}{masked}")


def one_off(environment: str, run: OneOffRun) -> None:
    if run.exit_code is None:
        ui.error(f"{environment}: task {run.task_id} did not run its command: {run.stopped_reason or 'no exit code reported'}")
    else:
        ui.info(f"{environment}: task {run.task_id} exited with code {run.exit_code}")


def verified(name: str, results: list[LiveResult]) -> None:
    ui.table(f"verify {name}", ["id", "check", "result", "resource", "detail"],
             [(r.id, r.name, "pass" if r.passed else "FAIL", r.resource, r.detail) for r in results])


def published(report: PublishReport) -> None:
    sync = report.sync
    ui.info(f"{report.environment}: {len(sync.uploads)} uploaded, {len(sync.deletes)} deleted, {sync.unchanged} unchanged"
            + (f"; invalidation {report.invalidation} for {', '.join(sync.invalidation_paths)}" if report.invalidation
               else "; nothing to invalidate"))


def destroyed(report: DestroyReport) -> None:
    ui.info(f"{report.environment}: deleted {', '.join(report.deleted) or 'nothing (no stacks existed)'}")
    if report.retained:
        ui.table("retained (delete by hand when no longer needed)", ["stack", "resource", "type", "why"],
                 [(k.stack, k.logical_id, k.resource_type, k.why) for k in report.retained])


def up(report: UpReport) -> None:
    for env in report.environments:
        for check in env.failed_checks:
            ui.error(f"{env.environment}: verify failed: {check.id} {check.name}: {check.detail} ({check.resource})")
    local = any(e.url for e in report.environments)
    columns = ["environment", "account", "region", "stacks", "endpoint", "site", "verify", *(["release", "local URL"] if local else [])]
    ui.table(f"shipyard up on {report.target}", columns,
             [(e.environment, e.account, e.region, e.stacks, e.endpoint, e.site, f"{e.checks - len(e.failed_checks)}/{e.checks} pass",
               *([e.release, e.url] if local else [])) for e in report.environments],
             shown_whole_below=("endpoint", "local URL"))
    # A terminal's table would cut them to its width: the addresses a user opens stand whole, a line each.
    for e in report.environments:
        ui.result(f"{e.environment}: {e.url or e.endpoint}" + (f" (the local edge of {e.endpoint})" if e.url else ""))
        for name, routes, digest in e.workloads:
            ui.result(f"{e.environment}: {name} answers {routes} on the same address ({digest})" if routes.startswith("/") else
                      f"{e.environment}: {name}, a {routes[1:-1]}, runs {digest}")
    if report.browser is not None:
        ui.result(f"browser check: {report.browser.line()}")
    for step in report.not_run:
        ui.result(f"not run in the embedded AWS's image: {step} (shipyard's builder runs no commands; on AWS the image "
                  "CI builds with a container engine has run it)")
    ui.info("time: " + ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items()) + f"; total {report.total:.1f}s")


def costs(results: list[EnvironmentCost], output_format: str) -> None:
    if output_format == "json":
        ui.result(json.dumps({"prices_date": PRICES_DATE, "environments": [
            {**dataclasses.asdict(r), "share_of_reference": r.share_of_reference} for r in results]}, indent=2))
        return
    for result in results:
        ui.table(f"{result.environment} ({result.region}): monthly estimate, USD, prices: {result.prices}",
                 ["item", "detail", "USD/month"], [(line.item, line.detail, f"{line.monthly:.2f}") for line in result.lines])
        summary = f"{result.environment}: {result.total:.2f} USD/month"
        if result.reference_total is not None:
            without = result.total - result.comparable_total
            summary += (f"; reference design {result.reference_total:.2f} USD/month on the same table "
                        f"({100 * result.comparable_total / result.reference_total:.0f}% of it"
                        + (f", leaving out the database's {without:.2f}, which the reference design does not have)" if without else ")"))
        ui.result(summary)
        ui.table(f"{result.environment}: options that cut cost without cutting protection", ["option", "USD/month", "in this blueprint"],
                 [(o.option, f"{o.monthly:.2f}", "yes" if o.applied else o.why_not or "no") for o in result.savings])
        if result.per_wake is not None:
            ui.result(f"{result.environment}: a release outside the awake hours wakes it for {result.wake_hours:g} h "
                      f"after the release ends (wake_hours): {result.per_wake:.2f} USD a wake")


def attempts(result: Outcome) -> None:
    for label, attempt in (("release", result.attempt), ("rollback", result.rollback)):
        if attempt is not None:
            timings = ", ".join(f"{k} {v:.1f}s" for k, v in attempt.timings.items())
            ui.info(f"{result.environment}: {label} of {attempt.digest[:19]}: {attempt.verdict} ({timings})")


def released(environment: str, result: Outcome) -> None:
    attempts(result)
    ui.result(f"{environment}: released {result.attempt.digest}")


def status(report: StatusReport, output_format: str) -> None:
    if output_format == "json":
        ui.result(json.dumps(dataclasses.asdict(report), indent=2))
        return
    ui.result(f"{report.environment} ({report.account}, {report.region})  endpoint {report.endpoint}")
    ui.result(f"  image            {report.current or 'none released'}"
              + ("" if report.verified else "  UNVERIFIED: it never passed the health gate (an interrupted or failed release)"))
    ui.result(f"  last known good  {report.last_known_good or 'none'}")
    ui.result(f"  tasks            {report.running} running / {report.desired} desired / {report.pending} pending")
    if report.schedule:
        ui.result(f"  schedule         {report.schedule}")
    ui.result(f"  alarms in ALARM  {', '.join(report.alarms_in_alarm) or 'none'}")
    ui.table("deployments", ["id", "status", "rollout", "running", "desired", "failed", "task definition"],
             [(d.id, d.status, d.rollout_state, d.running, d.desired, d.failed, d.task_definition.rsplit("/", 1)[-1]) for d in report.deployments])
    ui.table("targets", ["target", "state", "reason"], [(t.id, t.state, t.reason) for t in report.targets])
    if report.workloads:
        ui.table("workloads beside the service", ["workload", "image", "tasks", "queue or schedule"],
                 [(w.name, w.image or "none released",
                   f"last run: {w.last_run}" if w.schedule is not None else f"{w.running} running / {w.desired} desired",
                   w.schedule if w.schedule is not None else
                   f"{w.queued} queued, {w.dead_letters} dead letters" if w.queued is not None else "") for w in report.workloads])
    ui.table("last releases", ["time", "kind", "verdict", "digest", "schema", "note"],
             [(r.time, r.kind, r.verdict, r.digest[:19] + (f" with {r.workloads}" if r.workloads else ""), r.schema, r.note)
              for r in report.releases])


def explained(environment: str, links: list[Link]) -> None:
    for link in links:
        ui.result(f"[{'BROKEN' if link.broken else 'past' if link.past else 'ok':6}] {link.link}: {link.detail}")
        if link.cause:
            ui.result(f"         likely cause: {link.cause}")
        if link.hint:
            ui.result(f"         hint: {link.hint}")
    broken = [link for link in links if link.broken]
    if broken:
        ui.result(f"first broken link: {broken[0].link}: {broken[0].detail.splitlines()[0]}")
    else:
        history = sum(1 for link in links if link.past)
        ui.result(f"{environment}: every link from the edge to the tasks is healthy now"
                  + (f"; {history} past failures above are history (marked past)" if history else ""))


def preview_deployed(report: DeployedPreview) -> None:
    for check in report.checks:
        (ui.info if check.passed else ui.error)(f"preview {report.name}: {'pass' if check.passed else 'FAIL'}: {check.title}: {check.detail}")
    ui.info(f"preview {report.name}: {'created' if report.created else 'updated'} in {report.seconds:.0f}s; expires {report.expires}")
    for workload, image in report.images.items():
        ui.result(f"preview {report.name}: {workload} runs {image}")
    ui.result(f"preview {report.name}: {report.url}")


def preview_destroyed(reports: list[DestroyedPreview]) -> None:
    if not reports:
        ui.result("no preview to destroy")
    for r in reports:
        ui.result(f"preview {r.name}: deleted {r.stack}, {r.files} site file versions, {r.images} images"
                  + (f" (kept {r.kept_images} the base environment runs)" if r.kept_images else ""))


def previews(found: list[Preview], monthly: float | None) -> None:
    now = datetime.now(UTC)

    def age(preview: Preview) -> str:
        span = preview.age(now)
        return f"{span.total_seconds() / 3600:.1f} h" if span is not None else "?"

    ui.table("previews", ["name", "stack", "status", "age", "expires", "monthly cost"],
             [(p.name, p.stack, p.status, age(p), format_time(p.expires) + (" (expired)" if p.expired(now) else ""),
               f"${monthly:.2f}" if monthly is not None else "?") for p in found])
    if not found:
        ui.result("no previews")
