"""The embedded AWS: moto's server in-process, plus CloudFormation handlers for the
resource types the blueprint emits that moto's CloudFormation would skip."""
