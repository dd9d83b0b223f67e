"""CloudFront Functions on the local edge run the function's own code in a JavaScript engine, with CloudFront's
event shape and its failure mode (a function that throws or never returns gives the viewer a 503)."""

from __future__ import annotations

import pytest

from shipyard.blueprint.edge import _preview_request, _viewer_request
from shipyard.localaws.cloudfront import edge_functions


def _run(code: str, path: str, host: str = "shop.example.com"):
    """(the path the request goes on with, the response the function made)."""
    return _run_with_headers(code, path, host)[:2]


def _run_with_headers(code: str, path: str, host: str = "shop.example.com"):
    return edge_functions.viewer_request(code, method="GET", path=path, headers={"Host": host}, client_ip="127.0.0.1",
                                         distribution_id="E1", domain="d1.cloudfront.net")


def test_the_blueprints_function_redirects_www_and_rewrites_app_routes():
    code = _viewer_request(spa=True, apex="shop.example.com")
    _, response = _run(code, "/cart?item=3", host="www.shop.example.com")
    assert response is not None and edge_functions.response_parts(response)[:2] == (
        301, {"location": "https://shop.example.com/cart"})
    assert _run(code, "/cart?item=3") == ("/index.html?item=3", None)
    assert _run(code, "/app.js") == ("/app.js", None)


def test_a_function_that_throws_or_never_returns_fails():
    with pytest.raises(edge_functions.FunctionFailed, match="boom"):
        _run("function handler(event) { throw new Error('boom'); }", "/")
    with pytest.raises(edge_functions.FunctionFailed, match="timed out"):
        _run("function handler(event) { while (true) {} }", "/")
    # The engine survives both and runs the next function.
    assert _run("function handler(event) { event.request.uri = '/x'; return event.request; }", "/") == ("/x", None)


def test_functions_have_no_require_or_network():
    with pytest.raises(edge_functions.FunctionFailed, match="require is not defined"):
        _run("function handler(event) { require('fs'); return event.request; }", "/")


def test_previews_functions_serve_each_previews_site_and_name_it_to_the_load_balancer():
    site = _viewer_request(spa=True, apex=None, previews=True)
    assert _run(site, "/pv/pr-7/") == ("/pv/pr-7/index.html", None)
    assert _run(site, "/pv/pr-7/cart") == ("/pv/pr-7/index.html", None)
    assert _run(site, "/pv/pr-7/app.js") == ("/pv/pr-7/app.js", None)
    _, response = _run(site, "/pv/pr-7")
    assert edge_functions.response_parts(response)[:2] == (301, {"location": "/pv/pr-7/"})
    assert _run(site, "/cart") == ("/index.html", None)  # the base's own routes as before
    api = _preview_request()
    path, response, headers = _run_with_headers(api, "/pv/pr-7/api/orders")
    assert (path, response) == ("/pv/pr-7/api/orders", None) and headers["x-shipyard-preview"] == "pr-7"
    # What no preview can be named never reaches the load balancer.
    _, response, _ = _run_with_headers(api, "/pv/..%2F/api/x")
    assert edge_functions.response_parts(response)[0] == 404


def test_with_a_domain_each_preview_has_a_host_that_goes_to_its_own_paths():
    from shipyard.blueprint.edge import _preview_host_request

    domain = "pv.staging.shop.example.com"
    site = _viewer_request(spa=True, apex=None, previews=True, preview_domain=domain)
    # Its site: the host's root is the preview's index, its files and app routes are its own.
    assert _run(site, "/", host=f"pr-7.{domain}") == ("/pv/pr-7/index.html", None)
    assert _run(site, "/app.js", host=f"PR-7.{domain}") == ("/pv/pr-7/app.js", None)
    assert _run(site, "/cart", host=f"pr-7.{domain}") == ("/pv/pr-7/index.html", None)
    assert _run(site, "/pv/pr-7/app.js", host=f"pr-7.{domain}") == ("/pv/pr-7/app.js", None)  # a link made with its prefix
    # The base's own host is untouched; a host that names no possible preview is a 404 at the edge.
    assert _run(site, "/cart", host="staging.shop.example.com") == ("/index.html", None)
    for hostile in (f"a.b.{domain}", f"-x.{domain}", f"{'a' * 13}.{domain}"):
        _, response = _run(site, "/", host=hostile)
        assert edge_functions.response_parts(response)[0] == 404, hostile
    # Its API: the preview's paths, with its name in the header its listener rules match.
    api = _preview_host_request(domain)
    path, response, headers = _run_with_headers(api, "/api/orders", host=f"pr-7.{domain}")
    assert (path, response) == ("/pv/pr-7/api/orders", None) and headers["x-shipyard-preview"] == "pr-7"
    path, response, headers = _run_with_headers(api, "/api/orders", host="staging.shop.example.com")
    assert (path, response) == ("/api/orders", None) and "x-shipyard-preview" not in headers
