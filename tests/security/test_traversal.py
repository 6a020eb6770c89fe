"""Path traversal in File and in template names: 404 in the envelope, the secret never sent."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from .conftest import assert_envelope

FILE_ATTACKS = [
    "../secret.txt",
    "../../etc/passwd",
    "sub/../../secret.txt",
    "..%2Fsecret.txt",
    "%2e%2e/secret.txt",
    "%2e%2e%2fsecret.txt",
    "..\\secret.txt",
    "/etc/passwd",
    "{project}/secret.txt",
    "escape.txt",
    "rootlink/secret.txt",
    "rootlink/media/hello.txt/../../secret.txt",
    "sub",
    ".",
    "",
    "hello.txt\x00",
    "./../secret.txt",
    "sub/./../../secret.txt",
    "//etc/passwd",
    "~/.bashrc",
]


@pytest.mark.parametrize("attack", FILE_ATTACKS)
def test_file_outside_media_is_404(client, project, attack):
    path = attack.format(project=project)
    response = client.get("/file?path=" + quote(path, safe=""))
    assert_envelope(response, 404, 1001)
    assert b"SECRET" not in response.get_data()


@pytest.mark.parametrize(
    "attack", ["..", "..%2Fsecret.txt", "%2E%2E%2Fsecret.txt", "escape.txt", "%00", "..%5Csecret.txt"]
)
def test_file_from_url_variable_outside_media_is_404(client, attack):
    response = client.get("/media/" + attack)
    assert_envelope(response, 404, 1001)
    assert b"SECRET" not in response.get_data()


@pytest.mark.parametrize(
    "good,content",
    [
        ("hello.txt", b"hello from media"),
        ("sub/inner.txt", b"inner file"),
        ("sub/../hello.txt", b"hello from media"),
    ],
)
def test_files_inside_media_are_served(client, good, content):
    response = client.get("/file?path=" + quote(good, safe=""))
    try:
        assert response.status_code == 200 and response.get_data() == content
    finally:
        response.close()


TEMPLATE_ATTACKS = [
    "../outside.html",
    "../../outside.html",
    "pages/../../outside.html",
    "pages/../page.html",
    "/etc/passwd",
    "{project}/outside.html",
    "..\\outside.html",
    "pages\\..\\..\\outside.html",
    "page.html\x00",
    "",
    "..",
]


@pytest.mark.parametrize("attack", TEMPLATE_ATTACKS)
def test_template_name_escaping_the_folders_is_404(client, project, attack):
    name = attack.format(project=project)
    response = client.get("/page?name=" + quote(name, safe=""))
    assert_envelope(response, 404, 1001)
    assert b"SECRET" not in response.get_data()


def test_templates_inside_the_folders_render_escaped(client):
    response = client.get("/page?name=page.html&who=%3Cscript%3E")
    assert response.status_code == 200
    assert response.get_data() == b"<p>Hello &lt;script&gt;</p>"
    assert client.get("/page?name=pages/inner.html").get_data() == b"<p>inner</p>"
