"""Deploy stage: plan (pure), change sets, execution with a verdict, root cause, live verification."""
