"""What a package ships to be deployed: the Dockerfile, compose file and Kubernetes manifests
parse and say what a platform needs; and the Dockerfile's own install and start commands,
run in a fresh virtual environment, give an answering service.

No image is built here (no registry for base images): the Dockerfile is read as Docker reads
it, and its commands are run as a container would run them.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

import httpx
import pytest
import yaml

from tests.deployment.cluster import INBOUND_TOKEN, ROOT, SEED, UPSTREAM_KEY, WorkersAi
from tests.support.service import free_port

PROJECT = ROOT / "generated" / "workers_ai_ai_inference"
CHAT = "/v1/accounts/acct-7/ai/run/@cf/meta/llama-3.1-8b-instruct"


def _seed_secrets() -> set[str]:
    """What the seed spec binds from the environment, read from its YAML."""
    spec = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    return {
        key for bind in spec["binds"] if "location" not in bind for key in bind["keys"].values()
    }


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    joined, current = [], ""
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\").strip() + " " if line.endswith("\\") else line.strip()
        if not line.endswith("\\"):
            joined.append(current)
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in joined]


def _env(arguments: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in shlex.split(arguments))


def test_dockerfile_is_slim_non_root_cached_and_checks_health() -> None:
    steps = _instructions(PROJECT / "Dockerfile")
    kinds = [kind for kind, _ in steps]
    assert steps[0][0] == "FROM" and steps[0][1].startswith("python:") and "slim" in steps[0][1]
    copies = [args for kind, args in steps if kind == "COPY"]
    # the dependency layer comes before the code, so a code change reuses it
    assert copies.index("requirements.txt ./") < copies.index(". .")
    first_install = kinds.index("RUN")
    assert (
        steps[first_install][1].startswith("pip install")
        and "requirements.txt" in steps[first_install][1]
    )
    assert first_install < [args for _, args in steps].index(". .")
    user = next(args for kind, args in steps if kind == "USER")
    assert user not in ("root", "0")
    assert kinds.index("USER") > max(i for i, kind in enumerate(kinds) if kind == "RUN")
    health = next(args for kind, args in steps if kind == "HEALTHCHECK")
    assert "/healthz" in health and "PORT" in health
    env = {}
    for kind, args in steps:
        if kind == "ENV":
            env.update(_env(args))
    assert env["HOST"] == "0.0.0.0" and env["PORT"].isdigit()
    assert ("EXPOSE", env["PORT"]) in steps
    requirements = (PROJECT / "requirements.txt").read_text().split("\n")
    pyproject = (PROJECT / "pyproject.toml").read_text()
    for requirement in (r for r in requirements if r and not r.startswith("#")):
        assert f'"{requirement}"' in pyproject  # the same dependencies as the package's
    ignored = (PROJECT / ".dockerignore").read_text().split("\n")
    assert {".git", ".venv", ".env"} <= set(ignored)


def test_compose_passes_every_secret_from_the_environment() -> None:
    compose = yaml.safe_load((PROJECT / "compose.yaml").read_text())
    (service,) = compose["services"].values()
    assert service["build"] == "."
    environment = service["environment"]
    port = environment["PORT"]
    assert service["ports"] == [f"{port}:{port}"]
    for secret in _seed_secrets() | {"WORKERS_AI_AI_INFERENCE_API_TOKEN"}:
        assert environment[secret] == f"${{{secret}:?set {secret}}}"  # required, never written
    grace = float(environment["WORKERS_AI_AI_INFERENCE_DRAIN_GRACE"])
    # the drain lasts the grace plus the total upstream deadline (60 s by default) and more
    assert int(service["stop_grace_period"].rstrip("s")) > grace + 60


def test_kubernetes_manifests_have_probes_resources_and_a_grace_longer_than_the_drain() -> None:
    manifests = {
        path.name: yaml.safe_load(path.read_text())
        for path in (PROJECT / "kubernetes").glob("*.yaml")
    }
    assert set(manifests) == {"deployment.yaml", "service.yaml", "hpa.yaml"}
    deployment = manifests["deployment.yaml"]
    assert deployment["apiVersion"] == "apps/v1" and deployment["kind"] == "Deployment"
    pod = deployment["spec"]["template"]["spec"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (container,) = pod["containers"]
    env = {item["name"]: item["value"] for item in container["env"]}
    (port,) = container["ports"]
    assert str(port["containerPort"]) == env["PORT"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    grace = float(env["WORKERS_AI_AI_INFERENCE_DRAIN_GRACE"])
    assert pod["terminationGracePeriodSeconds"] > grace + 60
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["envFrom"] == [{"secretRef": {"name": deployment["metadata"]["name"]}}]
    service = manifests["service.yaml"]
    assert service["kind"] == "Service" and service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]
    hpa = manifests["hpa.yaml"]
    assert hpa["apiVersion"] == "autoscaling/v2" and hpa["kind"] == "HorizontalPodAutoscaler"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    readme = (PROJECT / "README.md").read_text()
    for walk in (
        "docker build -t",
        "docker run",
        "docker compose up",
        "kubectl create secret",
        "kubectl apply -f kubernetes/",
    ):
        assert walk in readme


@pytest.mark.integration
def test_the_dockerfile_commands_install_and_start_an_answering_service(tmp_path: Path) -> None:
    """Its RUN commands (the pip ones; creating a system user needs root), in a fresh venv,
    in a copy of the build context; then its CMD, with its ENV, answers its HEALTHCHECK."""
    context = tmp_path / "context"
    shutil.copytree(PROJECT, context, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            str(ROOT / "runtime"),
            "-w",
            str(context / "wheels"),
        ],
        check=True,
        capture_output=True,
    )  # the runtime is not on PyPI: wheels/ is where the Dockerfile looks (README)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    steps = _instructions(context / "Dockerfile")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    for kind, args in steps:
        if kind == "ENV":
            env.update(_env(args))
        elif kind == "RUN" and args.startswith("pip "):
            run = subprocess.run(
                args, shell=True, cwd=context, env=env, capture_output=True, text=True
            )  # the Dockerfile's own shell command
            assert run.returncode == 0, run.stderr[-2000:]
    command = json.loads(next(args for kind, args in steps if kind == "CMD"))
    health = next(args for kind, args in steps if kind == "HEALTHCHECK")
    probe = json.loads(health[health.index("CMD") + 3 :].strip())
    with WorkersAi() as upstream:
        port = str(free_port())
        runtime_env = {  # what `docker run -e ...` passes (README)
            **env,
            "CLOUDFLARE_API_KEY": UPSTREAM_KEY,
            "WORKERS_AI_AI_INFERENCE_BASE_URL": f"{upstream.url}/client/v4",
            "WORKERS_AI_AI_INFERENCE_API_TOKEN": INBOUND_TOKEN,
            "PORT": port,
        }
        service = subprocess.Popen(
            command, cwd=tmp_path, env=runtime_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            while subprocess.run(probe, env=runtime_env, capture_output=True).returncode != 0:
                assert service.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
            url = f"http://127.0.0.1:{port}"
            answer = httpx.post(
                f"{url}{CHAT}",
                json={"prompt": "hi"},
                headers={"Authorization": f"Bearer {INBOUND_TOKEN}"},
                timeout=10,
            )
            assert (
                answer.status_code == 200
                and answer.json()["result"]["response"] == "answer for acct-7"
            )
            installed = subprocess.run(
                [str(bin_dir / "python"), "-c", "import workers_ai_ai_inference, sys; print(workers_ai_ai_inference.__file__)"],
                capture_output=True, text=True, cwd=tmp_path, env=runtime_env,
            )  # fmt: skip
            assert str(env_dir) in installed.stdout  # served from the installed package
        finally:
            service.terminate()
            service.wait(timeout=30)


def test_the_shipped_allowed_hosts_admit_cluster_names_only() -> None:
    """`<name>.*` admitted `<name>.attacker.example` (DNS rebinding from a page on that
    domain, issue 21): the manifests list the Service's cluster names instead."""
    from capgen_runtime.web.hosts import HostPolicy

    compose = yaml.safe_load((PROJECT / "compose.yaml").read_text())
    deployment = yaml.safe_load((PROJECT / "kubernetes" / "deployment.yaml").read_text())
    ((name, service),) = compose["services"].items()
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    variable = "WORKERS_AI_AI_INFERENCE_ALLOWED_HOSTS"
    shipped = {service["environment"][variable]} | {
        e["value"] for e in container["env"] if e["name"] == variable
    }
    (patterns,) = shipped
    policy = HostPolicy(tuple(patterns.split(",")))
    for host in (name, f"{name}.default.svc", f"{name}.prod.svc.cluster.local:80", "localhost"):
        assert policy.host_allowed(host), host
    for host in (f"{name}.attacker.example", f"{name}.evil.com:8080", f"x{name}", "evil.example"):
        assert not policy.host_allowed(host), host
