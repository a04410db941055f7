"""make run's port check (shop/devserver.py) and the fake Stripe's refusal of a taken port, in
this process (tests/test_make_run.py runs them for real through make)."""

from __future__ import annotations

import socket

import pytest

from shop import devserver
from shop.payments import fake_stripe


@pytest.fixture
def taken_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def test_free_ports_are_announced_with_where_each_part_listens(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("NEIGOU_INSTANCE_PATH", str(tmp_path))
    web, stripe = fake_stripe.free_port(), fake_stripe.free_port()
    assert devserver.main(["--web-port", str(web), "--fake-stripe-port", str(stripe), "--check-only"]) == 0
    assert capsys.readouterr().out == ""
    assert devserver.main(["--web-port", str(web), "--fake-stripe-port", str(stripe)]) == 0
    printed = capsys.readouterr().out
    assert f"http://127.0.0.1:{web}" in printed and f"http://127.0.0.1:{stripe}" in printed
    assert str(tmp_path) in printed and "worker" in printed


def test_a_taken_port_is_named_and_stops_the_run(capsys, taken_port):
    web = fake_stripe.free_port()
    assert devserver.main(["--web-port", str(web), "--fake-stripe-port", str(taken_port)]) == 1
    err = capsys.readouterr().err
    assert f"Port {taken_port} (fake Stripe) is not free: already in use" in err
    assert f"make run FAKE_STRIPE_PORT={taken_port + 1}" in err and f"Port {web}" not in err
    assert devserver.main(["--web-port", str(taken_port), "--fake-stripe-port", str(web)]) == 1
    assert f"Port {taken_port} (web) is not free" in capsys.readouterr().err
    assert devserver.main(["--web-port", str(web), "--fake-stripe-port", str(web)]) == 1


def test_the_fake_stripe_refuses_a_taken_port_instead_of_reusing_it(capsys, taken_port, tmp_path):
    log = tmp_path / "localstripe.log"
    assert fake_stripe.main(["--port", str(taken_port), "--log", str(log)]) == 1
    assert f"cannot listen on port {taken_port}" in capsys.readouterr().err
    assert not (tmp_path / "localstripe.pid").exists()
    with pytest.raises(SystemExit):
        fake_stripe.main(["--port", str(taken_port), "--webhook-url", "http://127.0.0.1:1/"])
