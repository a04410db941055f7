"""The baseline for `make bench-browse`: the smallest Flask app, served by the same gunicorn settings."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello, World!"


@app.route("/healthz")
def healthz():
    return "ok"
