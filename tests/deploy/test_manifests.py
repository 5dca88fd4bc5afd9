"""What an operator applies is valid and says what deploy/README.md says it does.

Containers cannot be built or run here (no Docker engine), so: every Kubernetes manifest validates
against the Kubernetes API's schemas (kubernetes-validate, strict: an unknown field is an error), the
compose file against the Compose Specification's JSON schema, and both are read for the properties
the issue asks of them (replicas, probes, migrate-before-serve, secrets from outside the repository).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
MANIFESTS = sorted(path for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")
# The oldest Kubernetes still commonly run by managed services, and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.29.0", kubernetes_validate.utils.latest_version())


def documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def by_kind() -> dict[str, dict]:
    return {doc["kind"]: doc for path in MANIFESTS for doc in documents(path)}


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Overrides tests/conftest.py's: no database here."""


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
def test_every_manifest_is_valid_kubernetes(path, version):
    for doc in documents(path):
        kubernetes_validate.validate(doc, version, strict=True)


def test_kustomization_applies_every_manifest_but_the_secret_example():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    assert listed == {path.name for path in MANIFESTS} - {"secret.example.yaml"}
    assert "secret.example.yaml" not in listed  # no secret value is ever applied from the repository


def test_the_web_deployment_has_probes_resources_and_secrets_from_a_secret():
    kinds = by_kind()
    deployment = kinds["Deployment"]
    assert deployment["spec"]["replicas"] >= 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"requests", "limits"} <= set(container["resources"])
    secret_refs = {ref["secretRef"]["name"] for ref in container["envFrom"] if "secretRef" in ref}
    assert secret_refs == {kinds["Secret"]["metadata"]["name"]}
    # Nothing secret sits in the ConfigMap.
    assert not {"SECRET_KEY", "KEY_ENCRYPTION_KEYS", "DATABASE_URL", "REDIS_URL", "EMAIL_HOST_PASSWORD"} \
        & set(kinds["ConfigMap"]["data"])
    # The Secret example holds placeholders only.
    assert all(value.startswith(("<", "postgres://elevstod:<", "rediss://:<"))
               for value in kinds["Secret"]["stringData"].values())


def test_the_cluster_pieces_point_at_each_other():
    kinds = by_kind()
    deployment, service, ingress = kinds["Deployment"], kinds["Service"], kinds["Ingress"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert kinds["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]
    assert kinds["Job"]["spec"]["template"]["spec"]["containers"][0]["command"][-2:] == ["migrate", "--noinput"]
    commands = {doc["metadata"]["name"]: doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
                ["command"] for path in MANIFESTS for doc in documents(path) if doc["kind"] == "CronJob"}
    assert ["python", "manage.py", "send_due_digest"] in commands.values()
    # PostgreSQL and Redis are external: nothing here runs them.
    images = [c["image"] for path in MANIFESTS for doc in documents(path) for c in _containers(doc)]
    assert images and set(images) == {"elevstod"}


def _containers(doc: dict) -> list[dict]:
    spec = doc.get("spec", {})
    spec = spec.get("jobTemplate", {}).get("spec", spec)
    return spec.get("template", {}).get("spec", {}).get("containers", [])


# -- compose -------------------------------------------------------------------------------------------

def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_file_follows_the_compose_specification():
    schema = json.loads((Path(__file__).parent / "compose-spec.json").read_text())
    validator = jsonschema.Draft201909Validator(schema)
    errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
              for error in validator.iter_errors(compose())]
    assert errors == []


def test_the_schema_would_catch_a_mistake():
    schema = json.loads((Path(__file__).parent / "compose-spec.json").read_text())
    broken = compose()
    broken["services"]["app"]["replicaz"] = 2
    assert not jsonschema.Draft201909Validator(schema).is_valid(broken)


def test_compose_runs_two_app_replicas_behind_caddy_after_the_migration():
    services = compose()["services"]
    assert {"app", "postgres", "redis", "caddy", "digest", "migrate"} <= set(services)
    app = services["app"]
    assert app["deploy"]["replicas"] == 2
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "/readyz" in " ".join(app["healthcheck"]["test"])
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    assert "send_due_digest" in services["digest"]["command"]
    # Only Caddy is reachable from outside.
    assert [name for name, service in services.items() if service.get("ports")] == ["caddy"]
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    assert re.search(r"dynamic a \{\s*name app\s*port 8000", caddyfile)


def test_the_env_example_holds_no_secret_value():
    values = dict(line.split("=", 1) for line in (DEPLOY / ".env.example").read_text().splitlines()
                  if line and not line.startswith("#"))
    for name in ("SECRET_KEY", "KEY_ENCRYPTION_KEYS", "POSTGRES_PASSWORD", "EMAIL_HOST_PASSWORD"):
        assert values[name] == "", name
    referenced = set(re.findall(r"\$\{([A-Z_]+)", (DEPLOY / "compose.yaml").read_text()))
    assert referenced - {"ELEVSTOD_IMAGE"} <= set(values)


# -- the image -----------------------------------------------------------------------------------------

def test_the_dockerfile_builds_in_two_stages_and_runs_as_a_non_root_user_without_compilers():
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    assert len(stages) == 2
    build, runtime = stages
    assert "build-essential" in build and "collectstatic" in build
    assert not re.search(r"build-essential|gcc|g\+\+|-dev\b", runtime)
    # The runtime stage installs only the shared libraries WeasyPrint loads (Pango) and a font.
    installed = re.findall(r"apt-get install -y --no-install-recommends ([^\\&\n]+)", runtime)
    assert all(package.startswith(("lib", "fonts-")) for line in installed for package in line.split())
    assert re.search(r"^USER 10001", runtime, re.M)
    assert 'CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py"' in runtime
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text()
    rules = [line for line in ignored.splitlines() if line and not line.startswith("#")]
    assert rules[0] == "**"  # nothing enters the image unless named (no deploy/.env, no var/, no .venv)
    assert "!deploy/gunicorn.conf.py" in rules
