"""shipyard.toml validation: the example is valid, and every bad input gets one clear line and exit 2."""

from __future__ import annotations

import re

import pytest

from shipyard.config import fargate_memory_options, load_config

from .conftest import EXAMPLE_CONFIG

BASE = EXAMPLE_CONFIG.read_text()


def mutate(old: str, new: str) -> str:
    assert old in BASE, f"example no longer contains {old!r}"
    return BASE.replace(old, new, 1)


STAGING = '[environments.staging]\naccount = "111111111111"\n'


@pytest.fixture(autouse=True)
def project_folders(tmp_path):
    """Configs written to tmp_path keep the example's site and [database] migrations folders, so only the mutation is wrong."""
    (tmp_path / "service" / "migrations").mkdir(parents=True)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<!doctype html><title>site</title>")

# (case id, shipyard.toml text, pattern the one-line error must match)
BAD_INPUTS = [
    ("unknown-app-key", mutate('repository = "acme/webapp"', 'repository = "acme/webapp"\nowner = "me"'),
     r"app\.owner: unknown key; valid keys: name, region, repository"),
    ("unknown-section", BASE + "\n[databases]\nengine = 'pg'\n", r"databases: unknown section; valid sections: app, service"),
    ("database-version", mutate('version = "16"', 'version = "9.6"'), r"database\.version: '9\.6' is not a supported major version; pin one of 14, 15, 16, 17"),
    ("database-engine", mutate('version = "16"', 'version = "16"\nengine = "mysql"'), r"database\.engine: .*'postgres'"),
    ("database-aurora-step", mutate('version = "16"', 'version = "16"\nengine = "aurora-postgresql"').replace(
        'database_backup_days = 1', 'database_backup_days = 1\ndatabase_max_capacity = 2.3'),
     r"environments\.staging\.database_max_capacity: 2\.3 is not an Aurora capacity; use a multiple of 0\.5 ACU"),
    ("database-aurora-range", mutate('database_backup_days = 1', 'database_backup_days = 1\ndatabase_min_capacity = 4'),
     r"environments\.staging: database_min_capacity \(4\) is above database_max_capacity \(2\)"),
    ("database-reserved-user", mutate('name = "app"', 'name = "app"\nusername = "rdsadmin"'), r"database\.username: 'rdsadmin' is reserved"),
    ("database-long-user", mutate('name = "app"', 'name = "app"\nusername = "application_owner"'),
     r"database\.username: 'application_owner' is not valid; .*\(at most 16\)"),
    ("database-class", mutate('database_instance_class = "db.t4g.micro"', 'database_instance_class = "db.t9.huge"'),
     r"environments\.staging\.database_instance_class: 'db\.t9\.huge' is not an instance class shipyard knows"),
    ("database-backups-zero", mutate('database_backup_days = 1', 'database_backup_days = 0'),
     r"environments\.staging\.database_backup_days: 0 is out of range; use 1 to 35"),
    ("migrations-outside", mutate('migrations = "service/migrations"', 'migrations = "../elsewhere"'),
     r"database\.migrations: '\.\./elsewhere' is outside the directory"),
    ("migrations-missing", mutate('migrations = "service/migrations"', 'migrations = "service/nope"'),
     r"database\.migrations: 'service/nope' is not a folder"),
    ("site-missing", mutate('directory = "site"', 'directory = "public"'), r"site\.directory: 'public' is not a folder next to shipyard\.toml"),
    ("access-key-in-environment", mutate('LOG_LEVEL = "info"', 'LOG_LEVEL = "info"\nUPSTREAM = "AKIAIOSFODNN7EXAMPLE"'),
     r"service\.environment: UPSTREAM looks like a credential.*\[service\.secrets\]"),
    ("secret-name-in-environment", mutate('LOG_LEVEL = "info"', 'LOG_LEVEL = "info"\nAWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"'),
     r"service\.environment: AWS_SECRET_ACCESS_KEY looks like a credential"),
    ("migrate-without-database", mutate('version = "16"\nname = "app"\nmigrations = "service/migrations"\n', '').replace("[database]\n", ""),
     r"release\.migrate: migrations need a \[database\]"),
    ("migrate-unclosed-quote", mutate('migrate = "python migrate.py"', "migrate = \"python 'migrate.py\""),
     r"release\.migrate: .*is not a command line"),
    ("unknown-env-key", mutate("waf = false", "waf = false\nwaff = true"), r"environments\.staging\.waff: unknown key; valid keys: .*waf_rate_limit"),
    ("unknown-defaults-key", mutate("cpu_target = 70", "cpu_target = 70\ntasks = 3"), r"defaults\.tasks: unknown key"),
    ("cpu-not-fargate", mutate("cpu = 256", "cpu = 300"), r"environments\.staging\.cpu: 300 is not a Fargate CPU size; use one of 256, 512"),
    ("memory-too-big-for-256", mutate("memory = 512", "memory = 4096"),
     r"environments\.staging\.memory: Fargate does not accept 4096 MiB with cpu 256; valid: 512, 1024, 2048"),
    ("memory-too-small-for-512", mutate("memory = 1024", "memory = 512"),
     r"environments\.production\.memory: Fargate does not accept 512 MiB with cpu 512; valid: 1024 to 4096 in steps of 1024"),
    ("memory-off-step-4096", mutate("cpu = 512\nmemory = 1024", "cpu = 4096\nmemory = 8500"),
     r"memory: Fargate does not accept 8500 MiB with cpu 4096; valid: 8192 to 30720 in steps of 1024"),
    ("memory-off-step-8192", mutate("cpu = 512\nmemory = 1024", "cpu = 8192\nmemory = 17408"),
     r"valid: 16384 to 61440 in steps of 4096"),
    ("desired-zero", mutate("desired_count = 2", "desired_count = 0"), r"environments\.staging\.desired_count: 0 is out of range; use at least 1"),
    ("desired-above-max", mutate("desired_count = 2", "desired_count = 5"),
     r"environments\.staging\.desired_count: 5 is above max_count 4"),
    ("account-short", mutate('account = "111111111111"', 'account = "12345"'),
     r"environments\.staging\.account: '12345' is not an AWS account id; use 12 digits"),
    ("account-as-number", mutate('account = "111111111111"', "account = 111111111111"),
     r"environments\.staging\.account: expected a string, got 111111111111"),
    ("account-missing", mutate(STAGING, "[environments.staging]\n"), r"environments\.staging\.account: required key is missing \(12-digit AWS account id\)"),
    ("region-unknown", mutate('region = "eu-west-1"', 'region = "mars-north-1"'),
     r"app\.region: 'mars-north-1' is not an AWS region"),
    ("env-region-unknown", mutate(STAGING, STAGING + 'region = "eu-nowhere-9"\n'),
     r"environments\.staging\.region: 'eu-nowhere-9' is not an AWS region"),
    ("env-name-uppercase", mutate("[environments.staging]", "[environments.Staging]"),
     r"environments\.Staging: environment name 'Staging' is not valid; use \[a-z\]\[a-z0-9-\]\*"),
    ("env-name-digit", mutate("[environments.staging]", "[environments.1stage]"), r"environment name '1stage' is not valid"),
    ("alb-name-too-long", mutate('name = "webapp"', 'name = "a-really-long-application-name"'),
     r"app\.name: derived load balancer name 'a-really-long-application-name-staging' for environment staging is 38 characters; AWS allows 32"),
    ("ecr-double-separator", mutate('name = "webapp"', 'name = "web--app"'),
     r"app\.name: derived ECR repository name 'web--app/staging' .* breaks ECR's rule"),
    ("bucket-reserved-prefix", mutate('name = "webapp"', 'name = "sthree-app"'),
     r"app\.name: derived S3 bucket name 'sthree-app-staging-site-111111111111' .* may not start with 'sthree-'"),
    ("alb-reserved-prefix", mutate('name = "webapp"', 'name = "internal-app"'),
     r"derived load balancer name 'internal-app-staging' .* may not start with 'internal-'"),
    ("app-name-invalid", mutate('name = "webapp"', 'name = "Web_App"'), r"app\.name: 'Web_App' is not valid; use lowercase letters"),
    ("repository-no-owner", mutate('repository = "acme/webapp"', 'repository = "webapp"'),
     r"app\.repository: 'webapp' is not a GitHub repository; use owner/repo"),
    ("repository-too-deep", mutate('repository = "acme/webapp"', 'repository = "acme/web/app"'), r"app\.repository: .* use owner/repo"),
    ("health-path-relative", mutate('health_check_path = "/healthz"', 'health_check_path = "healthz"'),
     r"service\.health_check_path: 'healthz' must be a URL path starting with '/'"),
    ("malformed-toml", mutate('name = "webapp"', 'name = "webapp'), r"line 5, column 15: invalid TOML"),
    ("architecture-unknown", mutate('architecture = "arm64"', 'architecture = "sparc"'),
     r"service\.architecture: 'sparc' is not valid; use 'x86_64' or 'arm64'"),
    ("waf-as-string", mutate("waf = true", 'waf = "yes"'), r"environments\.production\.waf: expected true or false, got 'yes'"),
    ("log-retention-unsupported", mutate("log_retention_days = 90", "log_retention_days = 10"),
     r"environments\.production\.log_retention_days: 10 is not a CloudWatch Logs retention; use one of 1, 3, 5"),
    ("defaults-retention-unsupported", mutate("log_retention_days = 30", "log_retention_days = 31"),
     r"defaults\.log_retention_days: 31 is not a CloudWatch Logs retention"),
    ("secret-plain-value", mutate('LOG_LEVEL = "info"', 'LOG_LEVEL = "info"\n\n[service.secrets]\nDB_PASSWORD = "hunter2"'),
     r"service\.secrets: DB_PASSWORD = 'hunter2' is not a secret reference; use 'secretsmanager:<name-or-arn>' or 'ssm:/parameter/name'"),
    ("secret-unknown-placeholder", mutate('LOG_LEVEL = "info"', 'LOG_LEVEL = "info"\n\n[service.secrets]\nKEY = "ssm:/copilot/{app}/key"'),
     r"service\.secrets: KEY = 'ssm:/copilot/\{app\}/key' is not a secret reference; .* \{environment\} in the name stands for its name"),
    ("secret-also-plain", mutate('LOG_LEVEL = "info"', 'LOG_LEVEL = "info"\n\n[service.secrets]\nLOG_LEVEL = "ssm:/webapp/level"'),
     r"service\.secrets\.LOG_LEVEL: also set in service\.environment"),
    ("env-var-name-invalid", mutate('LOG_LEVEL = "info"', '"1LEVEL" = "info"'), r"service\.environment: '1LEVEL' is not a valid environment variable name"),
    ("port-privileged", mutate("port = 8000", "port = 80"), r"service\.port: 80 is out of range; use 1024 to 65535"),
    ("cpu-target-too-high", mutate("cpu_target = 70", "cpu_target = 100"), r"defaults\.cpu_target: 100 is out of range; use 10 to 95"),
    ("price-class-unknown", mutate(STAGING, STAGING + 'price_class = "cheap"\n'),
     r"environments\.staging\.price_class: 'cheap' is not valid; use 'PriceClass_100', 'PriceClass_200' or 'PriceClass_All'"),
    ("shared-account-two-oidc", mutate('account = "222222222222"', 'account = "111111111111"'),
     r"environments\.production\.oidc_provider_arn: staging and production share account 111111111111"),
    ("missing-app-section", BASE.replace("[app]", "[application]"), r"application: unknown section"),
    ("no-environments", BASE.split("[environments.staging]")[0], r"\[environments\]: required section is missing"),
    ("stop-timeout-too-long", mutate("stop_timeout = 30", "stop_timeout = 600"), r"service\.stop_timeout: 600 is out of range; use 2 to 120"),
    ("production-not-said", mutate("production = true\n", ""),
     r"environments\.production\.production: say whether production takes real traffic: production = true"),
    ("production-suppresses-waf-rule", BASE + '\n[[checks.suppress]]\nid = "SY-E105"\nreason = "we accept the risk for now"\n',
     r"checks\.suppress\[1\]: SY-E105 \(production without a WAF web ACL\) cannot be suppressed in production environment production"),
    ("production-suppresses-public-bucket", BASE + '\n[[checks.suppress]]\nid = "SY-E101"\nenvironment = "prod*"\nreason = "a public bucket is fine"\n',
     r"checks\.suppress\[1\]: SY-E101 \(a public site bucket\) cannot be suppressed in production environment production"),
    ("site-outside-project", mutate('directory = "site"', 'directory = "../../../outside"'), r"site\.directory: '\.\./\.\./\.\./outside' is outside"),
    ("site-absolute-elsewhere", mutate('directory = "site"', 'directory = "/etc"'), r"site\.directory: '/etc' is outside"),
    ("domain-invalid", mutate(STAGING, STAGING + 'domain = "shop_example.com"\n'),
     r"environments\.staging\.domain: 'shop_example\.com' is not a domain name"),
    ("domain-zone-not-a-suffix", mutate(STAGING, STAGING + 'domain = "staging.shop.example.com"\nhosted_zone = "example.org"\n'),
     r"environments\.staging\.hosted_zone: 'example\.org' is not a suffix of domain 'staging\.shop\.example\.com'"),
    ("domain-shared", mutate(STAGING, STAGING + 'domain = "shop.example.com"\n').replace(
        '[environments.production]\naccount = "222222222222"\n', '[environments.production]\naccount = "222222222222"\ndomain = "shop.example.com"\n'),
     r"environments\.production\.domain: shop\.example\.com is also staging's; each environment needs its own domain"),
    ("domain-under-defaults", mutate("cpu_target = 70", 'cpu_target = 70\ndomain = "shop.example.com"'),
     r"defaults\.domain: unknown key"),
    ("zone-without-domain", mutate(STAGING, STAGING + 'hosted_zone = "example.com"\n'),
     r"environments\.staging\.domain: hosted_zone, hosted_zone_id, www and dns need a domain"),
    ("external-dns-with-zone", mutate(STAGING, STAGING + 'domain = "staging.shop.example.com"\ndns = "external"\nhosted_zone_id = "Z123"\n'),
     r"environments\.staging\.dns: is external, so shipyard manages no zone; remove hosted_zone and hosted_zone_id"),
    ("dns-unknown", mutate(STAGING, STAGING + 'domain = "staging.shop.example.com"\ndns = "cloudflare"\n'),
     r"environments\.staging\.dns: .*'route53' or 'external'"),
    ("public-dotfile-nested", mutate("spa_fallback = false", 'spa_fallback = false\npublic_dotfiles = ["assets/.env"]'),
     r"site\.public_dotfiles: 'assets/\.env' is not a dotfile name at the site's top"),
    ("spot-in-production", mutate("waf = true", "waf = true\nspot = true\narchitecture = \"x86_64\""), r"environments\.production\.spot: production is production"),
    ("awake-in-production", mutate("waf = true", 'waf = true\nawake = "Mon-Fri 07:00-20:00 UTC"'),
     r"environments\.production\.awake: production is production and takes traffic at any hour"),
    ("awake-zone", mutate('awake = "Mon-Fri 07:00-20:00 UTC"', 'awake = "Mon-Fri 07:00-20:00 Europe/Atlantis"'),
     r"environments\.staging\.awake: .*'Europe/Atlantis' is not an IANA time zone"),
    ("awake-order", mutate('awake = "Mon-Fri 07:00-20:00 UTC"', 'awake = "Mon-Fri 20:00-07:00 UTC"'),
     r"environments\.staging\.awake: .*the end 07:00 must be after the start 20:00"),
    ("awake-shape", mutate('awake = "Mon-Fri 07:00-20:00 UTC"', 'awake = "weekdays"'),
     r"environments\.staging\.awake: 'weekdays' is not a schedule; write days, hours and an IANA time zone"),
]


@pytest.mark.parametrize(("case", "text", "pattern"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_one_clear_line_and_exit_2(cli, tmp_path, case, text, pattern):
    path = tmp_path / "shipyard.toml"
    path.write_text(text)
    result = cli("--config", str(path), "validate")
    assert result.code == 2, result.err
    first = result.err.splitlines()[0]
    assert first.startswith(f"error: {path}: "), first
    assert re.search(pattern, first), f"{first!r} does not match {pattern!r}"
    assert result.out == ""


def test_bad_input_table_is_large_enough():
    assert len(BAD_INPUTS) >= 25


def test_missing_file(cli, tmp_path):
    result = cli("--config", str(tmp_path / "nope.toml"), "validate")
    assert result.code == 2
    assert "nope.toml: file not found" in result.err
    assert "hint: run `shipyard init`" in result.err


def test_synth_refuses_bad_config_before_cdk_runs(cli, tmp_path):
    path = tmp_path / "shipyard.toml"
    path.write_text(mutate("cpu = 256", "cpu = 300"))
    result = cli("--config", str(path), "synth", "--out", str(tmp_path / "out"))
    assert result.code == 2
    assert not (tmp_path / "out").exists()


def test_unknown_environment_lists_known_ones(cli, tmp_path):
    result = cli("--config", str(EXAMPLE_CONFIG), "synth", "prod", "--out", str(tmp_path))
    assert result.code == 2
    assert "environment 'prod': is not defined in shipyard.toml; known environments: staging, production" in result.err


def test_example_is_valid(cli):
    result = cli("--config", str(EXAMPLE_CONFIG), "validate")
    assert result.code == 0, result.err
    assert "staging (111111111111, eu-west-1)" in result.out
    assert "production (222222222222, eu-west-1)" in result.out


def test_defaults_apply_and_environment_wins():
    config = load_config(EXAMPLE_CONFIG)
    staging, production = config.environment("staging"), config.environment("production")
    assert staging.log_retention_days == 30  # from [defaults]
    assert production.log_retention_days == 90  # overridden
    assert staging.cpu_target == production.cpu_target == 70


def test_reference_numbers_in_example():
    config = load_config(EXAMPLE_CONFIG)
    staging, production = config.environment("staging"), config.environment("production")
    assert (staging.desired_count, staging.cpu, staging.memory, staging.waf) == (2, 256, 512, False)
    assert (production.desired_count, production.cpu, production.memory, production.waf) == (4, 512, 1024, True)
    assert (production.max_count, production.cpu_target) == (10, 70)
    assert staging.account != production.account


@pytest.mark.parametrize(("cpu", "memory", "ok"), [
    (256, 512, True), (256, 2048, True), (256, 3072, False), (512, 4096, True), (1024, 8192, True), (1024, 9216, False),
    (2048, 16384, True), (4096, 30720, True), (4096, 31744, False), (8192, 61440, True), (8192, 60000, False),
    (16384, 122880, True), (16384, 32768, True), (16384, 40000, False),
])
def test_fargate_table(cpu, memory, ok):
    assert (memory in fargate_memory_options(cpu)) is ok


def test_version(cli):
    result = cli("--version")
    assert result.code == 0
    assert result.out.startswith("shipyard ")


def test_debug_shows_traceback(cli, tmp_path):
    path = tmp_path / "shipyard.toml"
    path.write_text(mutate("cpu = 256", "cpu = 300"))
    result = cli("--debug", "--config", str(path), "validate")
    assert result.code == 2
    assert "Traceback" in result.err


def test_a_byte_order_mark_is_named(tmp_path):
    from shipyard.errors import ConfigError

    path = tmp_path / "shipyard.toml"
    path.write_bytes(b"\xef\xbb\xbf" + EXAMPLE_CONFIG.read_bytes())
    with pytest.raises(ConfigError, match="byte order mark"):
        load_config(path)


def test_every_problem_is_reported_in_one_run(cli, tmp_path):
    path = tmp_path / "shipyard.toml"
    text = mutate("cpu = 256", "cpu = 300").replace('account = "222222222222"', 'account = "42"').replace("port = 8000", "port = 80")
    path.write_text(text.replace('directory = "site"', 'directory = "/etc"'))
    result = cli("--config", str(path), "validate")
    assert result.code == 2
    lines = result.err.splitlines()
    assert all(line.startswith(f"error: {path}: ") for line in lines), lines
    for expected in ("environments.staging.cpu: 300", "environments.production.account: '42'", "service.port: 80", "site.directory: '/etc'"):
        assert sum(expected in line for line in lines) == 1, (expected, lines)
    assert len(lines) == 4, lines


def test_production_without_waf_is_refused_by_validate_and_synth(cli, tmp_path):
    path = tmp_path / "shipyard.toml"
    path.write_text(mutate("waf = true", "waf = false"))
    for command in ("validate", "synth"):
        result = cli("--config", str(path), command)
        assert result.code == 4, (command, result.err)
        assert "environments.production.waf: production is production (production = true) and needs waf = true" in result.err
    assert not (tmp_path / "cdk.out").exists()  # synth wrote no templates for what validate refuses


def test_production_is_what_the_config_says_not_the_name(tmp_path):
    path = tmp_path / "shipyard.toml"
    path.write_text('[app]\nname = "shop"\nregion = "eu-west-1"\nrepository = "acme/shop"\n'
                    '[environments.qa]\naccount = "111111111111"\n'
                    '[environments.live]\naccount = "222222222222"\nproduction = true\nwaf = true\n'
                    '[environments.prod]\naccount = "333333333333"\nproduction = false\n')
    config = load_config(path)
    assert [e.name for e in config.environments.values() if e.is_production] == ["live"]


def test_a_global_option_after_the_command_is_a_usage_error_that_says_where_it_goes(cli):
    result = cli("cost", "--config", "elsewhere.toml")
    assert result.code == 2 and "No such option: --config" in result.err
    assert "--config is a global option" in result.err and "put it before the command" in result.err


@pytest.mark.parametrize("text", ["Mon-Fri 07:00-20:00 UTC", "Mon,Wed,Sat 08:30-17:15 Europe/Berlin", "Sun 00:00-23:59 America/New_York"])
def test_an_awake_schedule_reads_back_from_its_two_crons(text):
    from shipyard.schedule import parse_schedule, schedule_of

    written = parse_schedule(text)
    read = schedule_of(written.wake_cron, written.sleep_cron, written.zone)
    assert read == written and read.text == text


def test_a_woken_environment_is_awake_until_the_next_scheduled_sleep_not_the_next_wake():
    """A release on a Saturday wakes staging; it runs until the next sleep action (Mon 20:00), which is what status says."""
    from datetime import UTC, datetime

    from shipyard.release.awake import describe

    env = load_config(EXAMPLE_CONFIG).environment("staging")  # awake = "Mon-Fri 07:00-20:00 UTC"
    saturday = datetime(2026, 12, 5, 11, 0, tzinfo=UTC)
    assert describe(env, sleeping=False, now=saturday) == "awake until Mon 20:00 (Mon-Fri 07:00-20:00 UTC)"
    assert describe(env, sleeping=True, now=saturday) == "asleep until Mon 07:00 (Mon-Fri 07:00-20:00 UTC)"
    tuesday_noon = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
    assert describe(env, sleeping=False, now=tuesday_noon) == "awake until Tue 20:00 (Mon-Fri 07:00-20:00 UTC)"
