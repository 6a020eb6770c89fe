"""Templates from the apps' template_dirs."""

from __future__ import annotations

import pytest

from framework.templating import Template


def _app_files(label: str) -> dict[str, str]:
    return {
        "templates/page.html": f"<p>{label}: {{{{ value }}}}</p>",
        f"templates/only_{label}.html": f"only {label}",
        "handlers.py": f"""
            from framework.router import Routes
            from framework.response import HTML
            from framework.templating import Template
            routes = Routes()

            @routes.get('/{label}/async')
            async def render_async(request):
                return HTML(await Template('page.html').render({{'value': request.params.get('v')}}))

            @routes.get('/{label}/sync')
            def render_sync(request):
                return HTML(Template('page.html').render({{'value': request.params.get('v')}}))

            @routes.get('/{label}/other')
            def other(request):
                return HTML(Template(request.params['name']).render())
        """,
        "main.py": "from framework.app import App\nfrom .handlers import routes\n"
        "app = App(routes=[routes], template_dirs=['templates'])\n",
    }


@pytest.fixture
def app(project):
    a = project.app_module("alpha", _app_files("alpha"))
    b = project.app_module("beta", _app_files("beta"))
    project.config(f"[apps]\nactive =\n    {a}\n    {b}\n")
    return project.create_app()


def test_calling_apps_folder_comes_first(app):
    client = app.test_client()
    assert client.get("/alpha/async?v=1").text == "<p>alpha: 1</p>"
    assert client.get("/beta/async?v=2").text == "<p>beta: 2</p>"
    assert client.get("/beta/sync?v=3").text == "<p>beta: 3</p>"


def test_other_apps_templates_are_found_too(app):
    client = app.test_client()
    assert client.get("/alpha/other?name=only_beta.html").text == "only beta"


def test_autoescape_is_on(app):
    response = app.test_client().get("/alpha/sync", query_string={"v": "<script>x</script>"})
    assert "<script>" not in response.text
    assert "&lt;script&gt;" in response.text


def test_missing_or_escaping_template_names_are_404(app):
    client = app.test_client()
    for name in ["nope.html", "../main.py", "../../../etc/passwd"]:
        response = client.get("/alpha/other", query_string={"name": name})
        assert response.status_code == 404, name
        assert response.json["code"] == 1001


def test_render_outside_a_request_uses_the_calling_module(app, project):
    module = project.module(
        "beta/render_here.py",
        """
        from framework.templating import Template
        def render():
            return Template('page.html').render({'value': 'x'})
    """,
    )
    import importlib

    with app.app_context():
        assert importlib.import_module(module).render() == "<p>beta: x</p>"
        assert Template("page.html").render({"value": "y"}).startswith("<p>")


def test_hello_home_page(hello_client):
    response = hello_client.get("/home")
    assert response.status_code == 200
    assert "<h1>Hello World!</h1>" in response.text
