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
