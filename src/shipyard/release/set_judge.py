"""The verdict on each workload of a set, reached beside the service stack's update rather than after it.

A release moves [service] and every workload in one stack update, and CloudFormation returns only when every
deployment has ended: a blue/green one after its bake and drain. Judged after that, a worker's bake would come on top,
and the set's verdict would take minutes longer than [service]'s. So each workload whose image changes is judged in
a thread of its own as soon as its deployment allows, exactly as it would be afterwards:

- a web service by its own health gate during its own bake (bake_gate.BakeGate, on the workload's service), while
  its previous revision still runs;
- a backend by its rollout, which ECS completes once its containers' health checks pass;
- a worker by its rollout and then its bake (worker_watch.py);
- a job by its state machine and task definition, and with --smoke by one run (job_run.py).

A workload whose image did not change has no deployment: it is judged by its rollout (and a web service by its gate)
after the stack update, which takes a moment. finish() stops the threads (a failed [service] gate or stack update ends
the release before them) and returns every workload's reasons.
"""

from __future__ import annotations

import threading
import time

from shipyard.aws import Aws
from shipyard.config import Environment
from shipyard.deploy.state import health_url, task_definition_of
from shipyard.release.attempt import Attempt, ReleaseOptions, Workload
from shipyard.release.bake_gate import BakeGate, gate_failure, run_gate
from shipyard.release.images import Image
from shipyard.release.job_run import judge_job
from shipyard.release.rollout_watch import wait_for_rollout
from shipyard.release.worker_watch import watch_worker

WorkloadImages = dict[str, tuple[Image | None, Workload]]  # workload name -> (its image, or None for none; the workload)


class SetJudge:
    def __init__(self, aws: Aws, env: Environment, workloads: WorkloadImages, moved: set[str], options: ReleaseOptions, *,
                 since: str) -> None:
        """Call before the stack update: it notes each moved workload's task definition revision as it was."""
        self.aws, self.env, self.workloads, self.options, self.since = aws, env, workloads, options, since
        self.moved = {name for name in moved if workloads[name][0] is not None}
        self.before = {name: task_definition_of(aws, env.workload_view(name), env.workload_view(name).names.task_family)
                       for name in self.moved}
        self.reasons: dict[str, list[str]] = {}
        self.judged_at: dict[str, float] = {}
        self.stopping = threading.Event()
        self.stack_done = threading.Event()  # the stack update ended: a revision not replaced by then never will be
        self.started = time.monotonic()
        self.threads = [threading.Thread(target=self._judge_moved, args=(name,), daemon=True, name=f"judge-{name}")
                        for name in sorted(self.moved)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> list[str]:
        """After the stack update: the moved workloads' verdicts (waited for), then the others', all in set order."""
        self.stack_done.set()
        for thread in self.threads:
            thread.join(timeout=self.options.rollout_timeout)
        for name, (own, workload) in self.workloads.items():
            if own is not None and name not in self.moved:
                self.reasons[name] = judge_workload(self.aws, self.env.workload_view(name), workload, self.options,
                                                    since=self.since, moved=False)
        return [reason for name in self.workloads for reason in self.reasons.get(name, [])]

    def stop(self) -> None:
        """The release ended before the workloads' verdicts (a failed [service] gate or stack update)."""
        self.stopping.set()

    def _judge_moved(self, name: str) -> None:
        view, workload = self.env.workload_view(name), self.workloads[name][1]
        task_definition = self._new_revision(view, self.before[name])
        if task_definition is None:
            self.reasons[name] = [] if self.stopping.is_set() else [f"{name}: its new task definition never appeared"]
            return
        replaced = task_definition != self.before[name]  # not where the image is what the service ran (a rollback)
        if workload.kind == "web" and workload.health_path and replaced:
            gate = self._gate_in_bake(view, workload.health_path)
            if gate is not None:
                self.reasons[name] = gate
                self.judged_at[name] = time.monotonic() - self.started
                return
        self.reasons[name] = judge_workload(self.aws, view, workload, self.options, since=self.since, moved=replaced,
                                            task_definition=task_definition)
        self.judged_at[name] = time.monotonic() - self.started

    def _new_revision(self, view: Environment, before: str) -> str | None:
        """The workload's task definition once the stack update has replaced it, or the one it has when the update
        ended without replacing it (its image is the one the service ran); None if the release stopped first."""
        deadline = time.monotonic() + self.options.rollout_timeout
        while not self.stopping.is_set() and time.monotonic() < deadline:
            ended = self.stack_done.is_set()
            current = task_definition_of(self.aws, view, view.names.task_family)
            if current != before or ended:
                return current
            time.sleep(self.aws.target.lasts(2, at_least=0.1))
        return None

    def _gate_in_bake(self, view: Environment, path: str) -> list[str] | None:
        """A web workload's gate during its own bake (reasons, empty when it passed); None if no bake was seen."""
        url = health_url(self.aws, view, None, path)
        gate = BakeGate(self.aws, view, url, self.options, Attempt(""), judge_without_url=False)
        deadline = time.monotonic() + self.options.rollout_timeout
        while gate.result is None and not self.stopping.is_set() and time.monotonic() < deadline:
            gate("")
            if gate.result is None:
                time.sleep(self.aws.target.lasts(2, at_least=0.1))
        if gate.result is None:
            return None
        return [] if gate.result.passed else [f"{view.names.workload}: {gate_failure(url, gate.result, self.options)}"]


def judge_workload(aws: Aws, view: Environment, workload: Workload, options: ReleaseOptions, *, since: str, moved: bool,
                   task_definition: str | None = None) -> list[str]:
    """A workload of the set: its own rollout (ECS, with a web service's targets or a backend's container health checks),
    then a web service's health path through the edge, or a worker's bake (worker_watch.py) where its image changed
    (one that kept its image had no deployment to bake)."""
    name = workload.name
    task_definition = task_definition or task_definition_of(aws, view, view.names.task_family)
    if workload.kind == "job":
        return judge_job(aws, view, task_definition, smoke=options.smoke and moved, timeout=options.rollout_timeout)
    rollout = wait_for_rollout(aws, view, task_definition, timeout=options.rollout_timeout)
    if not rollout and workload.kind == "worker" and moved:
        rollout = watch_worker(aws, view, task_definition, since=since)
    if rollout or workload.kind != "web" or workload.health_path is None:
        return [f"{name}: {reason}" for reason in rollout]
    url = health_url(aws, view, None, workload.health_path)
    gate = run_gate(aws, url, options, f"{view.name} {name}: health gate on {url}")
    return [] if gate.passed else [f"{name}: {gate_failure(url, gate, options)}"]
