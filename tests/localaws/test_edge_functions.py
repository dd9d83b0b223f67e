"""CloudFront Functions on the local edge run the function's own code in a JavaScript engine, with CloudFront's
event shape and its failure mode (a function that throws or never returns gives the viewer a 503)."""

from __future__ import annotations

import pytest

from shipyard.blueprint.edge import _viewer_request
from shipyard.localaws.cloudfront import edge_functions


def _run(code: str, path: str, host: str = "shop.example.com"):
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
