"""The session cookie (shop/sessions.py): its serializer is kept, but never past a key change."""


def _mark(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("mark")


def test_a_rotated_secret_key_refuses_old_cookies_unless_listed_as_a_fallback(app):
    client = app.test_client()
    with client.session_transaction() as session:
        session["mark"] = "signed with the first key"
    assert _mark(client) == "signed with the first key"
    first = app.config["SECRET_KEY"]
    try:
        app.config["SECRET_KEY"] = "a-second-key-for-this-test"
        assert _mark(client) is None  # the kept serializer of the first key is not used
        app.config["SECRET_KEY_FALLBACKS"] = [first]
        assert _mark(client) == "signed with the first key"
        app.config["SECRET_KEY_FALLBACKS"] = []
        assert _mark(client) is None
    finally:
        app.config["SECRET_KEY"] = first
        app.config["SECRET_KEY_FALLBACKS"] = []
    assert _mark(client) == "signed with the first key"
