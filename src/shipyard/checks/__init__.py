"""Policy checks: cdk-nag's AwsSolutions pack, cfn-lint, and shipyard's own rules (one per file in rules/)."""
