"""The Content-Security-Policy: pages load scripts, styles and images from this server only."""

import re

import pytest

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    directives = [part.strip().split() for part in response["Content-Security-Policy"].split(";")]
    return {name: sources for name, *sources in directives}


@pytest.mark.parametrize(
    "url", ["/api/v1/incidents/", "/api/v1/incidents/removed/", "/api/v1/nope/", "/admin/login/", "/healthz"]
)
def test_every_response_carries_a_policy_allowing_only_this_server(client, url):
    response = client.get(url)
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'self'"]
    assert all(
        source in ("'self'", "'none'") or source.startswith("'nonce-") for s in directives.values() for source in s
    )


def test_the_admin_pages_have_no_inline_script_and_their_inline_styles_carry_the_nonce(admin_client):
    for url in ["/admin/", "/admin/casualties/incident/add/", "/admin/sources/report/"]:
        response = admin_client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        nonce = [s for s in policy(response)["style-src"] if s.startswith("'nonce-")]
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
        assert all(f"'nonce-{n}'" in nonce for n in re.findall(r'<style nonce="([^"]+)"', html))
        assert re.findall(r"<style(?![^>]*\bnonce=)[^>]*>", html) == []
        assert " style=" not in html
        assert " onclick=" not in html


def test_the_api_docs_page_loads_its_script_from_a_file_and_its_one_style_carries_the_nonce(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    [nonce] = [s.removeprefix("'nonce-").removesuffix("'") for s in policy(response)["style-src"] if "nonce" in s]
    assert re.findall(r"<style[^>]*>", html) == [f'<style nonce="{nonce}">']
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert len(scripts) == 3
    init = client.get(scripts[-1].replace("&amp;", "&"))
    assert init.status_code == 200
    assert init["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in init.content.decode()
