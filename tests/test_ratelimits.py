"""shop/ratelimits.py: Flask-Limiter's request filter skips the views without limits, never a limited one."""

import pytest

from shop.ratelimits import _view_without_limits


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/login"),  # two limits stacked
        ("POST", "/signup"),
        ("POST", "/reset"),
        ("POST", "/account/password"),  # the limit under login_required
        ("POST", "/r/somecode"),
        ("GET", "/share/p/some-product/poster.png"),
        ("GET", "/share/invite/poster.png"),  # the same view on a second route
    ],
)
def test_views_with_limits_are_checked(app, method, path):
    with app.test_request_context(path, method=method, base_url="http://localhost"):
        assert not _view_without_limits()


@pytest.mark.parametrize("path", ["/", "/p/some-product", "/c/some-category", "/cart/", "/healthz"])
def test_views_without_limits_are_skipped(app, path):
    with app.test_request_context(path, base_url="http://localhost"):
        assert _view_without_limits()


def test_a_path_without_a_view_is_left_to_flask_limiter(app):
    with app.test_request_context("/no-such-page", base_url="http://localhost"):
        assert not _view_without_limits()
