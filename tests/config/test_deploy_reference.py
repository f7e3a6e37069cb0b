"""deploy/ agrees with the code: every setting is documented in deploy/CONFIG.md and nothing
else is, every YAML file parses, and the process definitions (compose, Kubernetes, Dockerfiles,
Procfile, README) run commands that exist on queues the Celery app has."""

from __future__ import annotations

import ast
import json
import re
import shlex
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SETTINGS = ROOT / "config" / "settings" / "base.py"
CONFIG_MD = DEPLOY / "CONFIG.md"
COMPOSE = DEPLOY / "docker-compose.yml"
K8S_DIRS = [DEPLOY / "k8s", DEPLOY / "k8s-overlays"]
TUBELET_IMAGES = {"tubelet", "tubelet-gpu"}
OUTSIDE_SETTINGS = "Read outside the settings"
BY_LIBRARIES = "Read by libraries"
YAML_FILES = sorted([*DEPLOY.rglob("*.yml"), *DEPLOY.rglob("*.yaml")])


def _yaml() -> Any:
    return pytest.importorskip(
        "yaml", reason="PyYAML is not installed in this environment: the deploy YAML checks need it"
    )


@cache
def settings_variables() -> frozenset[str]:
    """Names passed to the config.env helpers in config/settings/base.py."""
    tree = ast.parse(SETTINGS.read_text())
    helpers = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "config.env"
        for alias in node.names
    }
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in helpers:
            first = node.args[0] if node.args else None
            value = first.value if isinstance(first, ast.Constant) else None
            if not isinstance(value, str):
                raise AssertionError(
                    f"base.py line {node.lineno}: a name that is not a literal cannot be documented"
                )
            names.add(value)
    return frozenset(names)


@cache
def documented() -> dict[str, list[str]]:
    """Variable names of the tables in CONFIG.md, by section heading."""
    sections: dict[str, list[str]] = {}
    heading = ""
    for line in CONFIG_MD.read_text().splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
        elif match := re.match(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", line):
            sections.setdefault(heading, []).append(match.group(1))
    return sections


def all_documented() -> set[str]:
    return {name for names in documented().values() for name in names}


def string_literals_in_code() -> set[str]:
    found = set()
    for folder in ("annotation", "tracking", "workers", "config"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found.add(node.value)
    return found


def load_all(path: Path) -> list[Any]:
    return [doc for doc in _yaml().safe_load_all(path.read_text()) if doc is not None]


def compose() -> dict[str, Any]:
    return load_all(COMPOSE)[0]


def tubelet_services() -> dict[str, dict[str, Any]]:
    """Compose services that run a Tubelet image (built from deploy/Dockerfile*)."""
    return {
        name: service
        for name, service in compose()["services"].items()
        if "Dockerfile" in str((service.get("build") or {}).get("dockerfile", ""))
    }


def k8s_documents() -> list[tuple[Path, dict[str, Any]]]:
    return [
        (path, doc)
        for folder in K8S_DIRS
        for path in sorted([*folder.rglob("*.yaml"), *folder.rglob("*.yml")])
        for doc in load_all(path)
        if isinstance(doc, dict) and "kind" in doc and doc["kind"] != "Kustomization"
    ]


def tubelet_containers() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path, doc in k8s_documents():
        spec = doc.get("spec", {})
        pod = spec.get("template", {}).get("spec", {})
        for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
            if container.get("image") in TUBELET_IMAGES:
                found.append(
                    (f"{path.name}:{doc['metadata']['name']}/{container['name']}", container)
                )
    return found


def dockerfile_commands() -> dict[str, list[str]]:
    commands = {}
    for name in ("Dockerfile", "Dockerfile.gpu"):
        text = (DEPLOY / name).read_text().replace("\\\n", " ")
        match = re.search(r"^CMD\s+(\[.*\])\s*$", text, flags=re.MULTILINE)
        assert match, f"deploy/{name} has no CMD in exec form"
        commands[name] = json.loads(match.group(1))
    return commands


def text_commands() -> dict[str, list[str]]:
    """Celery worker lines of the Procfiles, the systemd units and README.md."""
    found = {}
    paths = [DEPLOY / "Procfile.embedded", DEPLOY / "Procfile", DEPLOY / "README.md"]
    for path in [*paths, *sorted((DEPLOY / "systemd").glob("*.service"))]:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = re.search(r"celery -A workers worker[^`\n|]*", line)
            # A worker command with its queues; a mention in prose without -Q is not one.
            if match and " -Q " in match.group(0):
                found[f"{path.name}:{number}"] = shlex.split(match.group(0).rstrip("\\ "))
    return found


def all_commands() -> dict[str, list[str]]:
    """Every command of a compose service, a Tubelet container and a Dockerfile's CMD."""
    commands = {
        f"compose:{name}": service["command"]
        for name, service in compose()["services"].items()
        if isinstance(service.get("command"), list)
    }
    commands |= {where: container["command"] for where, container in tubelet_containers()}
    return commands | {f"deploy/{name}": cmd for name, cmd in dockerfile_commands().items()}


def app_queues() -> set[str]:
    tree = ast.parse((ROOT / "workers" / "celery.py").read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "Queue"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def consumed_queues(command: list[str]) -> set[str]:
    if command[:4] != ["celery", "-A", "workers", "worker"]:
        return set()
    for flag in ("-Q", "--queues"):
        if flag in command:
            return set(command[command.index(flag) + 1].split(","))
    raise AssertionError(f"a worker with no -Q consumes only the default queue: {command}")


ALLOWED_COMMANDS = (
    ["celery", "-A", "workers", "worker"],
    ["celery", "-A", "workers", "beat"],
    ["gunicorn", "config.wsgi"],
    ["python", "manage.py", "migrate"],
)


def check_command(where: str, command: list[str]) -> None:
    if command[:2] == ["/bin/sh", "-c"]:
        # The init containers' wait loop: migrate --check until the migrate Job has run.
        assert command[2].startswith("until python manage.py migrate --check;"), where
        return
    if command[:2] == ["python", "-c"]:
        assert "checkpoint" in where, f"{where}: inline Python only to fetch a checkpoint"
        compile(command[2], where, "exec")
        return
    assert any(command[: len(prefix)] == prefix for prefix in ALLOWED_COMMANDS), (
        f"{where}: {shlex.join(command)}"
    )


# --- (a) CONFIG.md documents exactly the variables the settings read -----------------------------


def test_settings_read_the_variables_this_test_expects_to_find():
    assert {
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "S3_BUCKET",
        "TRACKER",
    } <= settings_variables()


def test_every_variable_the_settings_read_is_documented_in_config_md():
    missing = settings_variables() - all_documented()
    assert not missing, f"add to deploy/CONFIG.md: {sorted(missing)}"


def test_config_md_documents_no_setting_that_the_settings_do_not_read():
    settings_sections = {
        name
        for heading, names in documented().items()
        if heading not in (OUTSIDE_SETTINGS, BY_LIBRARIES)
        for name in names
    }
    assert settings_sections - settings_variables() == set()


def test_variables_documented_as_read_outside_the_settings_are_read_by_the_code():
    procfile = (DEPLOY / "Procfile.embedded").read_text() + (DEPLOY / "Procfile").read_text()
    literals = string_literals_in_code()
    stale = [
        name
        for name in documented().get(OUTSIDE_SETTINGS, [])
        if name not in literals and f"${{{name}" not in procfile
    ]
    assert stale == []


def test_variables_documented_as_read_by_libraries_are_set_by_the_deploy_files():
    deploy_text = COMPOSE.read_text() + (DEPLOY / "k8s" / "configmap.yaml").read_text()
    assert [n for n in documented().get(BY_LIBRARIES, []) if n not in deploy_text] == []


def test_config_md_documents_each_variable_once():
    names = [name for names in documented().values() for name in names]
    assert sorted({n for n in names if names.count(n) > 1}) == []


# --- (b) every YAML file parses ------------------------------------------------------------------


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_yaml_file_parses(path):
    assert load_all(path), f"{path} is empty"


def test_kustomization_lists_every_manifest_next_to_it_and_nothing_missing():
    kustomization = load_all(DEPLOY / "k8s" / "kustomization.yaml")[0]
    listed = set(kustomization["resources"])
    present = {
        p.name
        for p in (DEPLOY / "k8s").glob("*.yaml")
        if p.name != "kustomization.yaml" and not p.name.endswith(".example.yaml")
    }
    assert listed == present


# --- (c) compose and Kubernetes set documented variables and run real commands -------------------


def test_compose_tubelet_services_set_only_documented_variables():
    services = tubelet_services()
    assert {"web", "migrate", "beat", "worker-media", "worker-export"} <= set(services)
    undocumented = {
        name: sorted(set(service.get("environment", {})) - all_documented())
        for name, service in services.items()
    }
    assert {k: v for k, v in undocumented.items() if v} == {}


def test_compose_interpolates_only_variables_that_env_example_lists():
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE.read_text()))
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (DEPLOY / "env.example").read_text(), re.M))
    assert used - listed == set()


def test_kubernetes_sets_only_documented_variables():
    keys = set()
    for _, doc in k8s_documents():
        if doc["kind"] in ("ConfigMap", "Secret") and doc["metadata"]["name"].startswith("tubelet"):
            keys |= set(doc.get("data", {})) | set(doc.get("stringData", {}))
    for _, container in tubelet_containers():
        keys |= {item["name"] for item in container.get("env", [])}
    assert "SECRET_KEY" in keys
    assert keys - all_documented() == set()


def test_every_process_definition_runs_a_command_that_exists():
    assert (ROOT / "config" / "wsgi.py").is_file()
    assert (ROOT / "workers" / "celery.py").is_file()
    assert (ROOT / "manage.py").is_file()
    commands = {f"compose:{name}": s["command"] for name, s in tubelet_services().items()}
    commands |= {where: c["command"] for where, c in tubelet_containers()}
    commands |= {f"deploy/{name}": cmd for name, cmd in dockerfile_commands().items()}
    assert len(commands) > 10
    for where, command in commands.items():
        check_command(where, command)


def test_exactly_one_beat_in_compose_and_kubernetes():
    beats = [n for n, s in tubelet_services().items() if s["command"][:4] == ALLOWED_COMMANDS[1]]
    assert beats == ["beat"]
    deployments = [
        doc
        for path, doc in k8s_documents()
        if path.parent == DEPLOY / "k8s"
        and doc["kind"] == "Deployment"
        and any(
            c["command"][:4] == ALLOWED_COMMANDS[1]
            for c in doc["spec"]["template"]["spec"]["containers"]
        )
    ]
    assert [(d["spec"]["replicas"], d["spec"]["strategy"]["type"]) for d in deployments] == [
        (1, "Recreate")
    ]


# --- (d) queues ----------------------------------------------------------------------------------


def test_the_celery_app_has_the_three_queues():
    assert app_queues() == {"media", "gpu", "export"}


def test_every_queue_consumed_anywhere_in_deploy_is_a_queue_of_the_celery_app():
    commands = all_commands() | text_commands()
    consumed = {where: consumed_queues(cmd) for where, cmd in commands.items()}
    unknown = {where: sorted(q - app_queues()) for where, q in consumed.items() if q - app_queues()}
    assert unknown == {}


@pytest.mark.parametrize("source", ["compose", "kubernetes", "Procfile", "systemd"])
def test_every_queue_of_the_celery_app_has_a_consumer(source):
    if source == "compose":
        commands = [s["command"] for s in tubelet_services().values()]
    elif source == "kubernetes":
        commands = [c["command"] for _, c in tubelet_containers()]
    else:
        prefix = "Procfile:" if source == "Procfile" else "tubelet-"
        commands = [c for where, c in text_commands().items() if where.startswith(prefix)]
    assert set().union(*(consumed_queues(c) for c in commands)) == app_queues()


def test_gpu_queue_workers_use_threads_so_one_model_serves_clicks_during_a_propagation():
    gpu_workers = {w: c for w, c in all_commands().items() if consumed_queues(c) == {"gpu"}}
    assert len(gpu_workers) >= 4
    for where, command in gpu_workers.items():
        assert command[command.index("-P") + 1] == "threads", where
        assert command[command.index("-c") + 1] == "2", where


# --- images --------------------------------------------------------------------------------------


def test_both_images_ignore_the_same_files():
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text()
    assert (DEPLOY / "Dockerfile.gpu.dockerignore").read_text() == ignore
    assert {".venv", "var", ".git", "frontend/node_modules"} <= set(ignore.split())
