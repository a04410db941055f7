"""A festival's banner picture: checked and stored as a bounded copy like product pictures
(shop/catalog/images.py), shown on the home page's banner and at the top of the festival page."""

from __future__ import annotations

from shop.accounts.models import User
from shop.audit.services import record
from shop.catalog import page_cache
from shop.catalog.festival_models import Festival
from shop.catalog.images import delete_image_file, store_image
from shop.database import after_commit


def set_banner(actor: User, festival: Festival, data: bytes) -> Festival:
    """Give ``festival`` the picture in ``data`` as its banner. A file that is not a picture we
    can read raises ``ImageError`` before anything is written; the old banner's file goes once
    the change commits (its new file goes if it does not)."""
    filename, width, height = store_image(data)
    old = festival.banner_filename
    festival.banner_filename, festival.banner_width, festival.banner_height = filename, width, height
    record("festival.banner", festival, actor=actor, before={"banner": old}, after={"banner": filename})
    if old:
        after_commit(lambda: delete_image_file(old))
    page_cache.forget_after_commit()  # the home page's banner shows it at once
    return festival


def remove_banner(actor: User, festival: Festival) -> Festival:
    old = festival.banner_filename
    if old is None:
        return festival
    festival.banner_filename = festival.banner_width = festival.banner_height = None
    record("festival.banner", festival, actor=actor, before={"banner": old}, after={"banner": None})
    after_commit(lambda: delete_image_file(old))
    page_cache.forget_after_commit()
    return festival
