"""The GitHub Actions pipeline of an app, generated from its shipyard.toml: one workflow, jobs chained by `needs`.

  test            service tests and `shipyard check` (no credentials)
  build (matrix)  each architecture on its own runner: build, Trivy scan, SBOM; on the release branch push by
                  digest with the image-push role and attest the SBOM
  image           the manifest list of the architectures' digests, its provenance attested; its digest is released
  <env> ...       one job per environment in promotion order, each in its GitHub environment with its deploy role:
                  the first releases the digest, each next one promotes it from the one before
  rollback        by hand: the previous good release of one environment

Every action is pinned to a commit with its version beside it; tools are installed from hash-locked files
(.github/*.lock) before any credential exists; no `workflow_run` (zizmor: dangerous-triggers). Text is written
line by line, so the pins keep their version comments and `init --check` can compare byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.config import Config, Environment

ACTIONS = {
    "checkout": "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
    "setup-python": "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0",
    "upload-sarif": "github/codeql-action/upload-sarif@8aad20d150bbac5944a9f9d289da16a4b0d87c1e # v4.36.2",
    "setup-buildx": "docker/setup-buildx-action@37fe631027851001ddb9b187196cc803df7f5f0e # v4.3.0",
    "build-push": "docker/build-push-action@53b7df96c91f9c12dcc8a07bcb9ccacbed38856a # v7.3.0",
    # v0.36.0, after the March 2026 incident in which the action's tags were force-pushed to a malicious release.
    "trivy": "aquasecurity/trivy-action@ed142fd0673e97e23eac54620cfb913e5ce36c25 # v0.36.0",
    "aws-credentials": "aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c # v6.2.3",
    "ecr-login": "aws-actions/amazon-ecr-login@03f1aad4c6c7ffd436567f42f9384779290529bd # v2.1.7",
    "upload-artifact": "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0",
    "download-artifact": "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1",
    "attest": "actions/attest@1e69f48acb82d1966a394da916b4c1698aa569d6 # v4.2.2",
}

# GitHub-hosted runners per architecture: arm64 builds natively, no emulation.
RUNNERS = (("amd64", "linux/amd64", "ubuntu-24.04"), ("arm64", "linux/arm64", "ubuntu-24.04-arm"))
SHIPYARD_LOCK = ".github/shipyard.lock"
TEST_LOCK = ".github/test.lock"
WORKFLOW = ".github/workflows/pipeline.yml"


@dataclass(frozen=True)
class Roles:
    push: str
    deploy: dict[str, str]


def roles(config: Config) -> Roles:
    first = next(iter(config.environments.values()))
    return Roles(push=f"arn:aws:iam::{first.account}:role/{first.names.push_role}",
                 deploy={e.name: f"arn:aws:iam::{e.account}:role/{e.names.deploy_role}" for e in config.environments.values()})


def _scalar(value: str) -> str:
    """A YAML plain scalar where it stays one, otherwise single-quoted."""
    if value.startswith(("${{", "'", '"')) or value in ("true", "false") or not any(
            marker in value for marker in (": ", " #", "{", "}", "[", "]", "&", "*", "!", "|", ">", "%", "@", "`")):
        return value
    return "'" + value.replace("'", "''") + "'"


class _Text:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, indent: int = 0, text: str = "") -> None:
        self.lines.append(("  " * indent + text) if text else "")

    def step(self, indent: int, name: str, *, uses: str | None = None, run: str | None = None, condition: str | None = None,
             with_: dict[str, str] | None = None, env: dict[str, str] | None = None, id: str | None = None) -> None:
        self(indent, f"- name: {_scalar(name)}")
        for key, value in (("id", id), ("if", condition)):
            if value:
                self(indent + 1, f"{key}: {value}")
        if uses:
            self(indent + 1, f"uses: {ACTIONS[uses]}")
        for block, items in (("with", with_), ("env", env)):
            if items:
                self(indent + 1, f"{block}:")
                for key, value in items.items():
                    self(indent + 2, f"{key}: {_scalar(value)}")
        if run:
            if "\n" in run:
                self(indent + 1, "run: |")
                for line in run.splitlines():
                    self(indent + 2, line)
            else:
                self(indent + 1, f"run: {_scalar(run)}")


def _checkout(t: _Text) -> None:
    t.step(3, "Check out", uses="checkout", with_={"persist-credentials": "false"})


def _install(t: _Text, python: str, *locks: str) -> None:
    t.step(3, "Set up Python", uses="setup-python", with_={"python-version": f'"{python}"'})
    files = " ".join(f"-r {lock}" for lock in locks)
    t.step(3, "Install from the hash-locked files (before any credential)", run=f"python -m pip install --require-hashes --no-deps {files}")


def _credentials(t: _Text, role: str, *, condition: str | None = None) -> None:
    t.step(3, "AWS credentials by OIDC", uses="aws-credentials", condition=condition,
           with_={"role-to-assume": role, "aws-region": "${{ env.AWS_REGION }}"})


@dataclass(frozen=True)
class BuiltImage:
    """One image CI builds: [service]'s, or a workload's from its own directory into its own repository."""

    name: str  # "service" for [service], else the workload's name
    context: str
    repository: str


def built_images(config: Config) -> list[BuiltImage]:
    first = next(iter(config.environments.values()))
    return [BuiltImage("service", config.service.directory, first.names.repository),
            *(BuiltImage(name, workload.directory, first.names.workload(name).repository)
              for name, workload in config.workloads.items())]


def render(config: Config, *, python: str) -> str:
    """pipeline.yml for every environment of `config`, in promotion order."""
    envs = list(config.environments.values())
    first = envs[0]
    images = built_images(config)
    role = roles(config)
    branch = config.app.branch
    publish = (f"github.ref == 'refs/heads/{branch}' && (github.event_name == 'push' || "
               "(github.event_name == 'workflow_dispatch' && inputs.action == 'release'))")
    t = _Text()
    t(0, "# Generated by `shipyard init` from shipyard.toml; `shipyard init --check` fails when it is stale.")
    t(0, "# Regenerate with `shipyard init --from shipyard.toml` instead of editing by hand.")
    t(0, "name: pipeline")
    t()
    t(0, "on:")
    t(1, "pull_request:")
    t(1, "push:")
    t(2, f"branches: [{branch}]")
    t(1, "workflow_dispatch:")
    t(2, "inputs:")
    t(3, "action:")
    t(4, f"description: release (build on {branch}, then every environment in order) or rollback (one environment)")
    t(4, "type: choice")
    t(4, "options: [release, rollback]")
    t(4, "default: release")
    t(3, "environment:")
    t(4, "description: environment to roll back")
    t(4, "type: choice")
    t(4, f"options: [{', '.join(e.name for e in envs)}]")
    t(4, f"default: {first.name}")
    t()
    t(0, "permissions: {}")
    t()
    t(0, "concurrency:")
    t(1, "group: pipeline-${{ github.ref }}")
    t(1, "cancel-in-progress: ${{ github.event_name == 'pull_request' }}")
    t()
    t(0, "env:")
    t(1, f"AWS_REGION: {first.region}")
    t(1, f"ECR_REPOSITORY: {first.names.repository}")
    t()
    t(0, "jobs:")
    _test_job(t, python)
    _build_job(t, role, publish, images)
    _image_job(t, role, publish, images)
    for before, env in zip([None, *envs[:-1]], envs, strict=True):
        _environment_job(t, env, before, role, python, images, smoke=bool(config.jobs) and before is None)
    _rollback_job(t, envs, role, python)
    return "\n".join(t.lines).rstrip() + "\n"


def _test_job(t: _Text, python: str) -> None:
    t(1, "test:")
    t(2, "name: Service tests and policy checks")
    t(2, "if: github.event_name != 'workflow_dispatch' || inputs.action == 'release'")
    t(2, "runs-on: ubuntu-24.04")
    t(2, "permissions:")
    t(3, "contents: read  # check out the code")
    t(3, "security-events: write  # upload the policy findings as SARIF")
    t(2, "steps:")
    _checkout(t)
    _install(t, python, TEST_LOCK)
    t.step(3, "Service tests", run="python -m pytest service/tests")
    t.step(3, "Policy checks (cdk-nag, cfn-lint, shipyard rules)", run="shipyard check --format sarif --output shipyard.sarif")
    t.step(3, "Upload policy findings", uses="upload-sarif", condition="always()",
           with_={"sarif_file": "shipyard.sarif", "category": "shipyard-check"})


@dataclass(frozen=True)
class _Legs:
    """How the build and image jobs name what they build: one image (the single service's workflow, unchanged), or
    each image of a set (a matrix over images too)."""

    single: bool

    @property
    def context(self) -> str:
        return "service" if self.single else "${{ matrix.context }}"

    @property
    def repository(self) -> str:
        return "${{ env.ECR_REPOSITORY }}" if self.single else "${{ matrix.repository }}"

    @property
    def local(self) -> str:
        return "scan/app:${{ matrix.arch }}" if self.single else "scan/${{ matrix.image }}:${{ matrix.arch }}"

    @property
    def leg(self) -> str:
        return "${{ matrix.arch }}" if self.single else "${{ matrix.image }}-${{ matrix.arch }}"

    @property
    def variable(self) -> str:  # the leg's name in the step that keeps the digest
        return "ARCH" if self.single else "LEG"


def _build_job(t: _Text, role: Roles, publish: str, images: list[BuiltImage]) -> None:
    """Every image for every architecture, natively: each scanned and given its SBOM before its push."""
    legs = _Legs(single=len(images) == 1)
    t()
    t(1, "build:")
    t(2, "name: Build and scan (${{ matrix.arch }})" if legs.single else "name: Build and scan ${{ matrix.image }} (${{ matrix.arch }})")
    t(2, "needs: test")
    t(2, "strategy:")
    t(3, "matrix:")
    t(4, "include:")
    for image in images:
        for arch, platform, runner in RUNNERS:
            if legs.single:
                t(5, f"- arch: {arch}")
            else:
                t(5, f"- image: {image.name}")
                t(6, f"context: {image.context}")
                t(6, f"repository: {image.repository}")
                t(6, f"arch: {arch}")
            t(6, f"platform: {platform}")
            t(6, f"runner: {runner}")
    t(2, "runs-on: ${{ matrix.runner }}")
    t(2, "permissions:")
    t(3, "contents: read  # check out the code")
    t(3, "security-events: write  # upload the image scan as SARIF")
    t(3, "id-token: write  # OIDC: the image-push role, and Sigstore for the SBOM attestation")
    t(3, "attestations: write  # store the SBOM attestation")
    t(3, "artifact-metadata: write  # record the attested image")
    t(2, "steps:")
    _checkout(t)
    t.step(3, "Set up Buildx", uses="setup-buildx")
    t.step(3, "Build the image for this architecture", uses="build-push",
           with_={"context": legs.context, "platforms": "${{ matrix.platform }}", "load": "true", "push": "false",
                  "provenance": "false", "tags": legs.local})
    t.step(3, "Scan the image just built (fails on HIGH and CRITICAL)", uses="trivy",
           with_={"image-ref": legs.local, "severity": "HIGH,CRITICAL", "ignore-unfixed": "true",
                  "exit-code": '"1"', "format": "sarif", "output": f"trivy-{legs.leg}.sarif"})
    t.step(3, "Upload image findings", uses="upload-sarif", condition="always()",
           with_={"sarif_file": f"trivy-{legs.leg}.sarif", "category": f"trivy-{legs.leg}"})
    t.step(3, "Software bill of materials", uses="trivy",
           with_={"image-ref": legs.local, "format": "cyclonedx", "output": f"sbom-{legs.leg}.cdx.json"})
    _credentials(t, role.push, condition=publish)
    t.step(3, "Log in to ECR", uses="ecr-login", id="ecr", condition=publish)
    t.step(3, "Push by digest (from the builder's cache: the bytes just scanned)", uses="build-push", id="push", condition=publish,
           with_={"context": legs.context, "platforms": "${{ matrix.platform }}", "provenance": "false",
                  "outputs": f"type=image,name=${{{{ steps.ecr.outputs.registry }}}}/{legs.repository},"
                             "push-by-digest=true,name-canonical=true,push=true"})
    t.step(3, "Attest the SBOM", uses="attest", condition=publish,
           with_={"subject-name": f"${{{{ steps.ecr.outputs.registry }}}}/{legs.repository}",
                  "subject-digest": "${{ steps.push.outputs.digest }}", "sbom-path": f"sbom-{legs.leg}.cdx.json",
                  "push-to-registry": "true"})
    t.step(3, "Keep the digest", condition=publish, env={"DIGEST": "${{ steps.push.outputs.digest }}", legs.variable: legs.leg},
           run=f'mkdir -p digests && echo "$DIGEST" > "digests/${legs.variable}"')
    t.step(3, "Hand the digest to the image job", uses="upload-artifact", condition=publish,
           with_={"name": f"digest-{legs.leg}", "path": f"digests/{legs.leg}", "retention-days": "1"})


def _image_job(t: _Text, role: Roles, publish: str, images: list[BuiltImage]) -> None:
    """Each image's architectures merged into one manifest list and attested; a set hands each digest on as an
    artifact (a matrix job's outputs would overwrite each other), a single image as the job's output."""
    legs = _Legs(single=len(images) == 1)
    t()
    t(1, "image:")
    t(2, "name: Multi-architecture image" if legs.single else "name: Multi-architecture image of ${{ matrix.image }}")
    t(2, "needs: build")
    t(2, f"if: {publish}")
    if not legs.single:
        t(2, "strategy:")
        t(3, "matrix:")
        t(4, "include:")
        for image in images:
            t(5, f"- image: {image.name}")
            t(6, f"repository: {image.repository}")
    t(2, "runs-on: ubuntu-24.04")
    t(2, "permissions:")
    t(3, "id-token: write  # OIDC: the image-push role, and Sigstore for the provenance attestation")
    t(3, "attestations: write  # store the provenance attestation")
    t(3, "artifact-metadata: write  # record the attested image")
    if legs.single:
        t(2, "outputs:")
        t(3, "digest: ${{ steps.index.outputs.digest }}")
    t(2, "steps:")
    t.step(3, "Digests of the architectures", uses="download-artifact",
           with_={"pattern": "digest-*" if legs.single else "digest-${{ matrix.image }}-*", "path": "digests", "merge-multiple": "true"})
    _credentials(t, role.push)
    t.step(3, "Log in to ECR", uses="ecr-login", id="ecr")
    t.step(3, "Set up Buildx", uses="setup-buildx")
    keep = "" if legs.single else 'mkdir -p index && echo "$digest" > "index/$NAME"\n'
    t.step(3, "Merge them into one manifest list", id="index",
           env={"IMAGE": f"${{{{ steps.ecr.outputs.registry }}}}/{legs.repository}",
                **({} if legs.single else {"NAME": "${{ matrix.image }}"})},
           run='tag="$IMAGE:git-$GITHUB_SHA-$GITHUB_RUN_ATTEMPT"\n'
               'docker buildx imagetools create -t "$tag" $(sed "s|^|$IMAGE@|" digests/*)\n'
               "digest=\"$(docker buildx imagetools inspect \"$tag\" --format '{{json .Manifest}}' | jq -r .digest)\"\n"
               'echo "digest=$digest" >> "$GITHUB_OUTPUT"\n' + keep +
               ('echo "Image: \\`$IMAGE@$digest\\`" >> "$GITHUB_STEP_SUMMARY"' if legs.single else
                'echo "$NAME: \\`$IMAGE@$digest\\`" >> "$GITHUB_STEP_SUMMARY"'))
    t.step(3, "Attest its build provenance", uses="attest",
           with_={"subject-name": f"${{{{ steps.ecr.outputs.registry }}}}/{legs.repository}",
                  "subject-digest": "${{ steps.index.outputs.digest }}", "push-to-registry": "true"})
    if not legs.single:
        t.step(3, "Hand the digest to the release jobs", uses="upload-artifact",
               with_={"name": "index-${{ matrix.image }}", "path": "index/${{ matrix.image }}", "retention-days": "7"})


def _environment_job(t: _Text, env: Environment, before: Environment | None, role: Roles, python: str,
                     images: list[BuiltImage], *, smoke: bool) -> None:
    """smoke: the first environment's release runs each changed job once (--smoke); the next ones promote what passed."""
    t()
    t(1, f"{env.name}:")
    t(2, f"name: {'Release to' if before is None else 'Promote to'} {env.name}")
    t(2, f"needs: {'image' if before is None else f'[image, {before.name}]'}")
    t(2, "runs-on: ubuntu-24.04")
    note = "  # required reviewers approve here" if env.is_production else ""
    t(2, f"environment: {env.name}{note}")
    t(2, "concurrency:")
    t(3, f"group: deploy-{env.name}")
    t(3, "cancel-in-progress: false")
    t(2, "permissions:")
    t(3, "contents: read  # check out shipyard.toml and the site")
    t(3, f"id-token: write  # OIDC: {env.name}'s deploy role, trusted only for this GitHub environment")
    t(2, "steps:")
    _checkout(t)
    _install(t, python, SHIPYARD_LOCK)
    _credentials(t, role.deploy[env.name])
    yes = " --yes" if env.is_production else ""
    if len(images) > 1:
        # The set's digests, one file per image (the image job's matrix hands them on as artifacts).
        t.step(3, "Digests of the set", uses="download-artifact", with_={"pattern": "index-*", "path": "index", "merge-multiple": "true"})
        digest = '"$(cat index/service)"'
        workloads = "".join(f' --workload "{image.name}=$(cat index/{image.name})"' for image in images[1:])
        command = (f"shipyard release {env.name} --aws{yes}{' --smoke' if smoke else ''} --image {digest}{workloads}" if before is None else
                   f"shipyard promote {before.name} {env.name} --aws{yes} --digest {digest}{workloads}")
        t.step(3, "Release the set (health gates and automatic rollback included)" if before is None else
               f"Promote the set {before.name} released", run=command)
    else:
        if before is None:
            command = f'shipyard release {env.name} --aws{yes} --image "$DIGEST"'
        else:
            command = f'shipyard promote {before.name} {env.name} --aws{yes} --digest "$DIGEST"'
        t.step(3, "Release (health gate and automatic rollback included)" if before is None else
               f"Promote the digest {before.name} released", env={"DIGEST": "${{ needs.image.outputs.digest }}"}, run=command)
    t.step(3, "Publish the site", run=f"shipyard publish-site {env.name} --aws")


def _rollback_job(t: _Text, envs: list[Environment], role: Roles, python: str) -> None:
    chosen = " || ".join(f"inputs.environment == '{e.name}' && '{role.deploy[e.name]}'" for e in envs)
    t()
    t(1, "rollback:")
    t(2, "name: Roll back ${{ inputs.environment }}")
    t(2, "if: github.event_name == 'workflow_dispatch' && inputs.action == 'rollback'")
    t(2, "runs-on: ubuntu-24.04")
    t(2, "environment: ${{ inputs.environment }}")
    t(2, "concurrency:")
    t(3, "group: deploy-${{ inputs.environment }}")
    t(3, "cancel-in-progress: false")
    t(2, "permissions:")
    t(3, "contents: read  # check out shipyard.toml")
    t(3, "id-token: write  # OIDC: the chosen environment's deploy role")
    t(2, "steps:")
    _checkout(t)
    _install(t, python, SHIPYARD_LOCK)
    _credentials(t, f"${{{{ {chosen} }}}}")
    t.step(3, "Roll back to the previous good release", env={"ENVIRONMENT": "${{ inputs.environment }}"},
           run='shipyard rollback "$ENVIRONMENT" --aws --yes')


PREVIEW_WORKFLOW = ".github/workflows/previews.yml"
SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository"


PRUNE_SCHEDULE = "23 4 * * *"  # GitHub runs schedules on the default branch, in UTC, often some minutes late


def render_previews(config: Config, *, python: str) -> str:
    """previews.yml: a pull request from a branch of this repository gets a preview (built, scanned, pushed by digest
    with the preview role, deployed, its URL posted on the pull request) and loses it when closed. A pull request from
    a fork reaches no job with a credential: both jobs require the head repository to be this one, and GitHub gives a
    fork's run no id-token anyway. A daily schedule destroys expired previews with the prune role."""
    assert config.previews is not None
    base = config.environment(config.previews.base)
    role = f"arn:aws:iam::{base.account}:role/{base.names.preview_role}"
    arch = "arm64" if base.architecture == "arm64" else "amd64"
    _, platform, runner = next(r for r in RUNNERS if r[0] == arch)
    images = [BuiltImage("web" if image.name == "service" else image.name, image.context,
                         base.names.repository if image.name == "service" else base.names.workload(image.name).repository)
              for image in built_images(config)]
    t = _Text()
    t(0, "# Generated by `shipyard init` from shipyard.toml ([previews]); `shipyard init --check` fails when it is stale.")
    t(0, "name: previews")
    t()
    t(0, "on:")
    t(1, "pull_request:")
    t(2, "types: [opened, synchronize, reopened, closed]")
    t(1, "schedule:")
    t(2, f"- cron: \"{PRUNE_SCHEDULE}\"  # daily: destroy the expired previews")
    t()
    t(0, "permissions: {}")
    t()
    t(0, "concurrency:")
    t(1, "group: preview-${{ github.event.pull_request.number || 'prune' }}")
    t(1, "cancel-in-progress: false")
    t()
    t(0, "env:")
    t(1, f"AWS_REGION: {base.region}")
    t(1, "PREVIEW: pr-${{ github.event.pull_request.number }}")
    t()
    t(0, "jobs:")
    t(1, "deploy:")
    t(2, "name: Preview of the pull request")
    t(2, f"if: github.event_name == 'pull_request' && github.event.action != 'closed' && {SAME_REPOSITORY}")
    t(2, f"runs-on: {runner}")
    t(2, "permissions:")
    t(3, "contents: read  # check out the code")
    t(3, "id-token: write  # OIDC: the preview role, which trusts this repository's pull-request runs only")
    t(3, "pull-requests: write  # post the preview's URL")
    t(2, "steps:")
    _checkout(t)
    _install(t, python, SHIPYARD_LOCK)
    t.step(3, "Set up Buildx", uses="setup-buildx")
    for image in images:
        local = f"scan/{image.name}:preview"
        t.step(3, f"Build {image.name}", uses="build-push",
               with_={"context": image.context, "platforms": platform, "load": "true", "push": "false", "provenance": "false",
                      "tags": local})
        t.step(3, f"Scan {image.name} (fails on HIGH and CRITICAL)", uses="trivy",
               with_={"image-ref": local, "severity": "HIGH,CRITICAL", "ignore-unfixed": "true", "exit-code": '"1"'})
    _credentials(t, role)
    t.step(3, "Log in to ECR", uses="ecr-login", id="ecr")
    for image in images:
        t.step(3, f"Push {image.name} by digest", uses="build-push", id=f"push-{image.name}",
               with_={"context": image.context, "platforms": platform, "provenance": "false",
                      "outputs": f"type=image,name=${{{{ steps.ecr.outputs.registry }}}}/{image.repository},"
                                 "push-by-digest=true,name-canonical=true,push=true"})
    given = " ".join(f'--image "{image.name}=$REGISTRY/{image.repository}@$DIGEST_{image.name.upper().replace("-", "_")}"'
                     for image in images)
    t.step(3, "Destroy expired previews, then deploy this one", env={
        "REGISTRY": "${{ steps.ecr.outputs.registry }}",
        **{f"DIGEST_{image.name.upper().replace('-', '_')}": f"${{{{ steps.push-{image.name}.outputs.digest }}}}" for image in images}},
        run=f"shipyard preview prune --aws\nshipyard preview deploy \"$PREVIEW\" --aws {given} | tee preview.out")
    t.step(3, "Post its URL on the pull request", env={"GH_TOKEN": "${{ github.token }}", "NUMBER": "${{ github.event.pull_request.number }}"},
           run='url="$(sed -n \'s/^preview [a-z0-9-]*: \\(https:.*\\)$/\\1/p\' preview.out | tail -n 1)"\n'
               'gh pr comment "$NUMBER" --repo "$GITHUB_REPOSITORY" --edit-last --create-if-none --body "Preview: $url"')
    t()
    t(1, "destroy:")
    t(2, "name: Destroy the pull request's preview")
    t(2, f"if: github.event_name == 'pull_request' && github.event.action == 'closed' && {SAME_REPOSITORY}")
    t(2, "runs-on: ubuntu-24.04")
    t(2, "permissions:")
    t(3, "contents: read  # check out shipyard.toml")
    t(3, "id-token: write  # OIDC: the preview role")
    t(2, "steps:")
    _checkout(t)
    _install(t, python, SHIPYARD_LOCK)
    _credentials(t, role)
    t.step(3, "Destroy it (stack, site files, images)", run='shipyard preview destroy "$PREVIEW" --aws')
    t()
    t(1, "prune:")
    t(2, "name: Destroy expired previews")
    t(2, "if: github.event_name == 'schedule'")
    t(2, "runs-on: ubuntu-24.04")
    t(2, "permissions:")
    t(3, "contents: read  # check out shipyard.toml")
    t(3, f"id-token: write  # OIDC: the prune role, which trusts runs on {config.app.branch} only")
    t(2, "steps:")
    _checkout(t)
    _install(t, python, SHIPYARD_LOCK)
    _credentials(t, f"arn:aws:iam::{base.account}:role/{base.names.preview_prune_role}")
    t.step(3, "Destroy every preview past its expiry", run="shipyard preview prune --aws")
    return "\n".join(t.lines).rstrip() + "\n"
