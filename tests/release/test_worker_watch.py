"""judge_worker, the pure verdict of a worker's bake."""

from shipyard.aws.ecs import Container, Task
from shipyard.release.worker_watch import WorkerState, judge_worker


def _judge(running: int, stopped=(), dead: int = 0) -> list[str]:
    return judge_worker(WorkerState(running, 2, tuple(stopped), dead), dead_letters_before=1, dead_letter_queue="app-env-mailer-dlq")


def test_a_worker_whose_tasks_keep_running_and_that_dead_letters_nothing_passes():
    assert _judge(2, dead=1) == []  # the one dead letter was there before the bake


def test_a_crashed_task_is_named_with_its_exit_code_and_fewer_running_tasks_alone_fail_too():
    crashed = Task("arn:aws:ecs:eu-west-1:1:task/c/abc", "td:2", "STOPPED", "Essential container in task exited",
                   containers=(Container("web", 3),))
    assert _judge(1, [crashed]) == ["task abc stopped: Essential container in task exited (exit code 3)"]
    assert _judge(1) == ["1 of 2 tasks running"]


def test_dead_letters_added_during_the_bake_fail_it():
    [problem] = _judge(2, dead=4)
    assert problem.startswith("3 message(s) moved to the dead-letter queue app-env-mailer-dlq during the bake")


class _Moving:
    """SQS and ECS of a worker whose previous revision failed messages up to the redrive limit: SQS moves them to the
    dead-letter queue when the new revision first receives them, after the previous revision has stopped."""

    def __init__(self, counts: list[int]) -> None:
        self.counts = counts  # the dead-letter queue's count at each read; the last one stays

    def sqs(self, region):
        return self

    def ecs(self, region):
        return self

    def queue(self, name):
        from shipyard.aws.sqs import Queue

        if not name.endswith("-dlq"):
            return Queue("url", 0, 0, None, True, None, None, visibility_timeout=0)
        count = self.counts.pop(0) if len(self.counts) > 1 else self.counts[0]
        return Queue("url-dlq", count, 0, None, True, None, None)

    def task_arns(self, cluster, service, status):
        return []

    def tasks(self, cluster, arns):
        return []

    def service_of(self, cluster, name):
        from types import SimpleNamespace

        return SimpleNamespace(running=2, desired=2)


def test_what_the_previous_revision_failed_is_not_the_new_ones_doing():
    from types import SimpleNamespace

    from shipyard.aws.session import Target
    from shipyard.localaws.server import Controls
    from shipyard.release.worker_watch import watch_worker

    moving = _Moving([0, 2, 3, 3])  # two, then one more message move at the new revision's first receives
    moving.target = Target(endpoint="http://127.0.0.1:9", emulator=Controls("http://127.0.0.1:9"))
    names = SimpleNamespace(cluster="app-env", service="app-env-mailer", queue="app-env-mailer", dead_letter_queue="app-env-mailer-dlq")
    env = SimpleNamespace(name="staging", region="eu-west-1", names=names)
    assert watch_worker(moving, env, "td:2", since="2026-01-01") == []
