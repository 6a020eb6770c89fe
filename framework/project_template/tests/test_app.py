"""The project as a whole: its configuration loads and its apps answer."""

import logging


def test_hello_world(client):
    response = client.get("/hello-world")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "Hello World!"


def test_home_page_renders_the_template(client):
    response = client.get("/home")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "<h1>Hello World!</h1>" in response.get_data(as_text=True)


def test_startup_hook_runs_before_the_first_request(client, caplog):
    with caplog.at_level(logging.INFO):
        client.get("/hello-world")
    assert "hello app ready" in caplog.messages


def test_unknown_path_answers_in_the_error_envelope(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.get_json()["code"] == 1001
