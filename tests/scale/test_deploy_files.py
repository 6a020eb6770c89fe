"""deploy/compose.yaml, deploy/nginx.conf and deploy/k8s use only what the framework has.

Docker and Kubernetes do not run here: the files are parsed, and every command, path and
setting they name is looked up in the framework (its console commands, the health paths'
defaults, the settings read from ``FRAMEWORK__SECTION__KEY`` variables, the environment
variables gunicorn.conf.py reads).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from framework.console import main as framework_command
from tests.liveserver import REPO

DEPLOY = Path(REPO) / "deploy"
#: The health paths DESIGN.md names ([health] live_path, ready_path).
LIVE_PATH, READY_PATH = "/healthz", "/readyz"
SETTING = re.compile(r"^FRAMEWORK__([A-Z0-9_]+?)__([A-Z0-9_]+)$")


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _k8s() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        if path.name == "kustomization.yaml":  # kustomize's list of the others
            continue
        docs.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return docs


def _named(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in _k8s() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["spec"]["template"]["spec"]["containers"]


def _commands() -> list[list[str]]:
    commands = [svc["command"] for svc in _compose()["services"].values() if "command" in svc]
    for doc in _k8s():
        if doc["kind"] in ("Deployment", "Job"):
            commands.extend(c["command"] for c in _containers(doc))
    return commands


def _framework_subcommands() -> set[str]:
    return {cmd[1] for cmd in _commands() if cmd[0] == "framework"}


@pytest.mark.parametrize("name", ["beat", "migrate", "worker"])
def test_each_framework_command_the_deployments_run_exists(name):
    assert name in _framework_subcommands()
    assert name in framework_command.commands


def test_the_only_commands_are_framework_and_gunicorn_on_the_project_entry_point():
    servers = {tuple(cmd) for cmd in _commands() if cmd[0] != "framework"}
    assert servers <= {("gunicorn", "wsgi:app"), ("redis-server", "--save", "", "--appendonly", "no")}
    assert ("gunicorn", "wsgi:app") in servers
    # what the image runs: the repository's project, gunicorn reading its gunicorn.conf.py
    assert "\napp = create_app(" in (Path(REPO) / "wsgi.py").read_text()
    assert (Path(REPO) / "gunicorn.conf.py").is_file()
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'CMD ["gunicorn", "wsgi:app"]' in dockerfile and "[postgres,celery]" in dockerfile


def test_compose_topology():
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "app", "worker", "beat", "nginx"}
    assert services["app"]["deploy"]["replicas"] >= 2
    assert services["beat"]["deploy"]["replicas"] == 1
    assert services["migrate"]["command"] == ["framework", "migrate"]
    assert services["migrate"]["restart"] == "no"
    for name in ("app", "worker", "beat"):
        needs = services[name]["depends_on"]
        assert needs["migrate"] == {"condition": "service_completed_successfully"}, name
    assert services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    # only nginx is published; it mounts the nginx.conf next to compose.yaml
    published = {name for name, svc in services.items() if svc.get("ports")}
    assert published == {"nginx"}
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in services["nginx"]["volumes"]
    assert services["app"]["healthcheck"]["test"][-1].count(LIVE_PATH) == 1
    for name in ("migrate", "app", "worker", "beat"):
        env = services[name]["environment"]
        assert env["FRAMEWORK__REDIS__URL"].startswith("redis://redis:6379/"), name
        assert "@postgres:5432/" in env["FRAMEWORK__DATABASE__URI"], name
        assert env["FRAMEWORK__NETWORKING__TRUSTED_PROXIES"] == "1", name


def test_nginx_balances_the_app_service_and_passes_the_client_and_request_id():
    conf = (DEPLOY / "nginx.conf").read_text()
    app = _compose()["services"]["app"]
    port = app["environment"]["GUNICORN_BIND"].rsplit(":", 1)[1]
    upstream = re.search(r"upstream (\w+) \{(.*?)\}", conf, re.S)
    assert upstream is not None
    assert re.search(rf"^\s*server app:{port}\b", upstream.group(2), re.M)
    assert f"proxy_pass http://{upstream.group(1)};" in conf
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "proxy_set_header X-Request-ID $request_id_out;" in conf
    assert re.search(r'map \$http_x_request_id \$request_id_out \{[^}]*""\s+\$request_id;', conf)
    # one proxy in front: what [networking] trusted_proxies = 1 trusts
    assert conf.count("proxy_pass") == 1


def test_kubernetes_sketch():
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in _k8s())
    assert kinds == [
        ("ConfigMap", "mysite-config"),
        ("Deployment", "mysite-beat"),
        ("Deployment", "mysite-web"),
        ("Deployment", "mysite-worker"),
        ("Job", "mysite-migrate"),
        ("Secret", "mysite-secrets"),
        ("Service", "mysite-web"),
    ]
    web = _named("Deployment", "mysite-web")
    (container,) = _containers(web)
    assert container["livenessProbe"]["httpGet"]["path"] == LIVE_PATH
    assert container["readinessProbe"]["httpGet"]["path"] == READY_PATH
    service = _named("Service", "mysite-web")
    assert service["spec"]["selector"] == web["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["ports"][0]["targetPort"] == container["ports"][0]["name"]
    beat = _named("Deployment", "mysite-beat")
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"
    job = _named("Job", "mysite-migrate")
    assert _containers(job)[0]["command"] == ["framework", "migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # every container reads the configuration from the ConfigMap and the Secret
    for doc in _k8s():
        if doc["kind"] in ("Deployment", "Job"):
            refs = [next(iter(ref.values()))["name"] for ref in _containers(doc)[0]["envFrom"]]
            assert refs == ["mysite-config", "mysite-secrets"], doc["metadata"]["name"]
    listed = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(
        p.name for p in (DEPLOY / "k8s").glob("*.yaml") if p.stem != "kustomization"
    )


def test_the_health_paths_are_the_frameworks_defaults():
    from framework import health

    assert health.DEFAULT_LIVE_PATH == LIVE_PATH
    assert health.DEFAULT_READY_PATH == READY_PATH


def _settings() -> dict[tuple[str, str], str]:
    """Each ``(section, key)`` the files set through ``FRAMEWORK__SECTION__KEY``, with a value
    they give it (one without compose's ``${...}`` interpolation where there is one)."""
    variables: dict[str, str] = {}
    for svc in _compose()["services"].values():
        for name, value in (svc.get("environment") or {}).items():
            if "${" not in str(value) or name not in variables:
                variables[name] = str(value)
    for doc in _k8s():
        for name, value in {**(doc.get("data") or {}), **(doc.get("stringData") or {})}.items():
            variables.setdefault(name, str(value))
    found = {}
    for name, value in variables.items():
        match = SETTING.match(name)
        if match:
            found[(match.group(1).lower(), match.group(2).lower())] = value
    return found


class _Recording(dict):
    """A configuration section that notes each key the framework looks up in it."""

    def __init__(self, section: str, values: dict[str, Any], reads: set[tuple[str, str]]) -> None:
        super().__init__(values)
        self.section, self.reads = section, reads

    def __getitem__(self, key: str) -> Any:
        self.reads.add((self.section, key))
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.reads.add((self.section, key))
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.reads.add((self.section, str(key)))
        return super().__contains__(key)


def test_every_setting_variable_names_a_setting_the_framework_reads(monkeypatch, tmp_path):
    """The repository's project is built with the files' variables set (its database and
    Redis swapped for local ones) and asked for its health: every setting they name is
    looked up in the loaded configuration on the way, and a ``[flask]`` one is in
    ``app.config``."""
    from framework import create_app, extension

    settings = _settings()
    assert {("database", "uri"), ("redis", "url"), ("flask", "secret_key")} <= set(settings)
    settings[("database", "uri")] = f"sqlite:///{tmp_path / 'deploy.sqlite3'}"
    settings[("redis", "url")] = "redis://127.0.0.1:1/0"  # nothing listens: /readyz answers 503
    settings[("flask", "secret_key")] = "deploy-test-" + "k" * 40
    for (section, key), value in settings.items():
        monkeypatch.setenv(f"FRAMEWORK__{section.upper()}__{key.upper()}", value)
    reads: set[tuple[str, str]] = set()
    load_config = extension.load_config

    def recording_load_config(*args: Any, **kwargs: Any) -> dict[str, Any]:
        loaded = load_config(*args, **kwargs)
        return {name: _Recording(name, values, reads) for name, values in loaded.items()}

    monkeypatch.setattr(extension, "load_config", recording_load_config)
    app = create_app(REPO)
    with app.test_client() as client:
        assert client.get(LIVE_PATH).status_code == 200
        assert client.get(READY_PATH).status_code == 503
    with app.app_context():
        for engine in app.extensions["sqlalchemy"].engines.values():
            engine.dispose()
    for (section, key), value in settings.items():
        if section == "flask":  # [flask] is copied, upper-cased, into app.config
            assert str(app.config[key.upper()]) == value, key
        else:
            assert (section, key) in reads, f"[{section}] {key} is read nowhere"


def test_every_server_variable_is_one_gunicorn_conf_reads():
    conf = (Path(REPO) / "gunicorn.conf.py").read_text() + (
        Path(REPO) / "framework" / "serving.py"
    ).read_text()
    names: set[str] = set()
    for svc in _compose()["services"].values():
        names.update(n for n in svc.get("environment") or {} if not n.startswith("FRAMEWORK__"))
    for doc in _k8s():
        if doc["kind"] in ("Deployment", "Job"):
            names.update(e["name"] for e in _containers(doc)[0].get("env") or [])
    names -= {"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD"}  # the postgres image's
    assert {"GUNICORN_BIND", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS"} <= names
    for name in names:
        assert f'"{name}"' in conf, name
