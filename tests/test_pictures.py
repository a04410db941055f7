"""Pictures and share posters (issue 17, point 3): every upload is stored as a bounded copy,
old pictures are bounded by a command, the pixel cap answers with a form error, posters are
drawn once per content and the poster route is rate-limited."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from referrals.services import poster as poster_module
from referrals.services import poster_cache
from shop.audit.models import AuditEntry
from shop.catalog.images import upload_dir
from shop.catalog.models import ProductImage
from shop.extensions import db
from tests.conftest import CsrfClient, login


@pytest.fixture
def ops(client, operator) -> CsrfClient:
    return login(client, operator)


def picture(size, fmt="PNG", color=(30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def upload(client, product, data: bytes):
    return client.post_form(
        f"/ops/products/{product.id}/images",
        {"image": (io.BytesIO(data), "photo")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_large_picture_is_stored_as_a_bounded_copy(app, ops, product, fmt):
    data = picture((3200, 2000), fmt)
    assert "Picture added." in upload(ops, product, data).get_data(as_text=True)
    image = db.session.scalar(select(ProductImage))
    assert (image.width, image.height) == (1600, 1000)
    with Image.open(upload_dir() / image.filename) as stored:
        assert stored.size == (1600, 1000) and stored.format == fmt


def test_a_picture_beyond_the_pixel_cap_is_refused_with_a_clear_message(app, ops, product, monkeypatch):
    monkeypatch.setitem(app.config, "IMAGE_MAX_PIXELS", 1_000_000)
    before = set(upload_dir().iterdir())
    html = upload(ops, product, picture((1100, 1000))).get_data(as_text=True)
    assert "The picture is 1100 × 1000 pixels; pictures of up to 1 megapixels are accepted." in html
    assert db.session.scalar(select(ProductImage)) is None and set(upload_dir().iterdir()) == before


def test_bound_pictures_command_bounds_old_pictures_with_progress(app, product):
    big, small = "old-big.png", "old-small.png"
    (upload_dir() / big).write_bytes(picture((4000, 2000)))
    (upload_dir() / small).write_bytes(picture((40, 20)))
    db.session.add_all(
        [
            ProductImage(product=product, filename=big, width=4000, height=2000, position=0),
            ProductImage(product=product, filename=small, width=40, height=20, position=1),
        ]
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["shop", "bound-pictures"])
    assert result.exit_code == 0, result.output
    assert "[1/2] picture" in result.output and "4000x2000 -> 1600x800" in result.output
    assert "[2/2] picture" in result.output and "kept" in result.output
    assert "bounded 1 of 2 picture(s)" in result.output
    db.session.expire_all()
    first, second = db.session.scalars(select(ProductImage).order_by(ProductImage.position))
    assert (first.width, first.height) == (1600, 800) and first.filename != big
    assert not (upload_dir() / big).exists() and (upload_dir() / first.filename).exists()
    assert second.filename == small
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "product.image_bound"))
    assert entry.before == {"image": big, "size": [4000, 2000]}
    again = app.test_cli_runner().invoke(args=["shop", "bound-pictures"])
    assert "bounded 0 of 2 picture(s)" in again.output


@pytest.fixture
def decodes(monkeypatch) -> list[Path]:
    """Every decode of a product picture by the poster (the project's own ``open_picture``)."""
    seen: list[Path] = []
    real = poster_module.open_picture

    def spy(source):
        seen.append(source)
        return real(source)

    monkeypatch.setattr(poster_module, "open_picture", spy)
    return seen


@pytest.fixture
def pictured(admin, product):
    from shop.catalog.services import add_image

    add_image(admin, product, picture((800, 600)))
    db.session.commit()
    return product


def poster_of(client, product) -> bytes:
    response = client.get(f"/share/p/{product.slug}/poster.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    return response.get_data()


def test_two_poster_requests_for_one_link_decode_the_picture_once(caches_on, app, client, employee, pictured, decodes):
    login(client, employee)
    before = (poster_cache.posters.hits, poster_cache.posters.misses)
    first = poster_of(client, pictured)
    second = poster_of(client, pictured)
    assert first == second
    assert len(decodes) == 1
    assert (poster_cache.posters.hits, poster_cache.posters.misses) == (before[0] + 1, before[1] + 1)
    with app.test_request_context():
        assert poster_cache.posters.entries() == 1


def test_the_cached_poster_changes_with_the_product_the_user_and_the_language(
    caches_on, app, client, employee, pictured, decodes
):
    login(client, employee)
    first = poster_of(client, pictured)
    pictured.name = "Renamed tea set"
    db.session.commit()
    renamed = poster_of(client, pictured)
    assert renamed != first and len(decodes) == 2
    employee.name = "Erin Renamed"
    db.session.commit()
    assert poster_of(client, pictured) != renamed and len(decodes) == 3
    response = client.get(f"/share/p/{pictured.slug}/poster.png", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200 and len(decodes) == 4  # another language is another poster


@pytest.mark.parametrize(
    "switch", [("CACHES_DISABLED", ["posters"]), ("POSTER_CACHE_SECONDS", 0), ("CACHES_ENABLED", False)]
)
def test_the_poster_cache_can_be_switched_off(caches_on, app, client, employee, pictured, decodes, monkeypatch, switch):
    monkeypatch.setitem(app.config, *switch)
    login(client, employee)
    counters = (poster_cache.posters.hits, poster_cache.posters.misses)
    poster_of(client, pictured)
    poster_of(client, pictured)
    assert len(decodes) == 2  # drawn each time
    assert (poster_cache.posters.hits, poster_cache.posters.misses) == counters  # the cache was not asked
    assert not list((Path(app.instance_path) / "cache" / "posters").glob("*.png"))  # nor written


def test_the_poster_cache_is_forgotten_after_the_commit_like_any_other(
    caches_on, app, client, employee, pictured, decodes
):
    login(client, employee)
    poster_of(client, pictured)
    with app.test_request_context():
        poster_cache.posters.forget_after_commit()
        assert poster_cache.posters.entries() == 1  # not before the commit
        db.session.commit()
        assert poster_cache.posters.entries() == 0
    poster_of(client, pictured)
    assert len(decodes) == 2  # drawn again


def test_operators_see_the_poster_cache_with_its_counters(caches_on, client, employee, operator, pictured):
    login(client, employee)
    poster_of(client, pictured)
    poster_of(client, pictured)
    login(client, operator)
    page = client.get("/ops/caches").get_data(as_text=True)
    row = page.split("<td><code>posters</code></td>", 1)[1].split("</tr>", 1)[0]
    cells = [cell.split("</td>", 1)[0] for cell in row.split("<td>")[1:]]
    assert cells[1:] == ["yes", "1", str(poster_cache.posters.hits), str(poster_cache.posters.misses)]
    assert poster_cache.posters.hits >= 1 and poster_cache.posters.misses >= 1


def test_the_poster_cache_is_pruned_least_recently_used_first(caches_on, app, monkeypatch):
    monkeypatch.setitem(app.config, "POSTER_CACHE_FILES", 10)
    folder = Path(app.instance_path) / "cache" / "posters"
    with app.test_request_context():
        for n in range(11):
            poster_cache.cached({"n": n}, lambda n=n: f"poster {n}".encode())
    left = sorted(path.read_bytes() for path in folder.glob("*.png"))
    assert len(left) == 9 and b"poster 10" in left and b"poster 0" not in left


def test_the_poster_route_is_rate_limited_per_member(app, client, employee, product, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_POSTER", "2 per minute")
    login(client, employee)
    codes = [client.get(f"/share/p/{product.slug}/poster.png").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
