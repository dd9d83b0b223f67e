"""Systems Manager Parameter Store: the image parameters, the release history and the release lock."""

from __future__ import annotations

from shipyard.aws.session import AwsError, ServiceApi


class Ssm(ServiceApi):
    service = "ssm"

    def get(self, name: str) -> str | None:
        """A parameter's value, or None when it does not exist."""
        answer = self._found("GetParameter", Name=name)
        return answer["Parameter"]["Value"] if answer else None

    def under(self, path: str) -> dict[str, str]:
        """The String parameters directly under a path, by name (GetParametersByPath, every page)."""
        return {p["Name"]: p["Value"] for p in self._pages("GetParametersByPath", "Parameters", Path=path, Recursive=False)}

    def exists(self, name: str) -> bool:
        """Whether the parameter exists (its metadata only: a SecureString's value is not read)."""
        found = self._call("DescribeParameters", ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}])
        return bool(found.get("Parameters"))

    def put(self, name: str, value: str, *, description: str | None = None) -> None:
        """Write (or overwrite) a String parameter."""
        self._put(name, value, overwrite=True, description=description)

    def create(self, name: str, value: str, *, description: str) -> bool:
        """Write a parameter that must not exist yet; False when it does (a conditional write: PutParameter without
        overwrite fails with ParameterAlreadyExists, SSM API reference)."""
        try:
            self._put(name, value, overwrite=False, description=description)
        except AwsError as exc:
            if exc.already_exists:
                return False
            raise
        return True

    def _put(self, name: str, value: str, *, overwrite: bool, description: str | None) -> None:
        extra = {"Description": description} if description else {}
        self._call("PutParameter", Name=name, Value=value, Type="String", Overwrite=overwrite, **extra)

    def delete(self, name: str) -> None:
        self._call("DeleteParameter", Name=name)
