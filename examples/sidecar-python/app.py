#!/usr/bin/env python3
"""py-orders: a micro service written in Python (standard library only) behind `micro sidecar`.

It serves Orders.Create and Orders.Get, calls the TypeScript `pricing` service, keeps
orders as state (with ETags), publishes `orders.created`, appends to the durable `orders`
stream, and subscribes to `prices.changed`. Start order (any order works):

    micro sidecar --name py-orders --app-port 5000     # API on 127.0.0.1:3500
    python3 app.py                                     # serves 127.0.0.1:5000

The sidecar registers py-orders once GET /health answers; this app waits for the
sidecar's GET /v1/healthz/outbound before its own start-up calls (never inside /health).
"""
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

APP_PORT = int(os.environ.get("APP_PORT", "5000"))
SIDECAR = os.environ.get("MICRO_SIDECAR", "http://127.0.0.1:3500")
SERVICE = "py-orders"

# What the sidecar registers: the endpoints (with JSON Schemas for `micro describe`) ...
ENDPOINTS = [
    {
        "name": "Orders.Create",
        "path": "/orders/create",
        "request": {
            "type": "object",
            "properties": {"item": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}},
            "required": ["item", "quantity"],
        },
    },
    {"name": "Orders.Get", "idempotent": True},
    {"name": "Orders.Received", "idempotent": True},
]
# ... and the subscriptions, delivered as POST <route>.
SUBSCRIPTIONS = [{"topic": "prices.changed", "route": "/events/prices-changed", "retryLimit": 2}]

received = []  # prices.changed messages delivered to this app
received_lock = threading.Lock()
settings = {"currency": "EUR"}


class AppError(Exception):
    """An error answered as micro's error JSON {id, code, detail}: the sidecar keeps the code."""

    def __init__(self, code, detail):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def sidecar(method, path, body=None, headers=None, timeout=5.0):
    """One call to the sidecar's API; returns (status, headers, parsed JSON body or None)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(SIDECAR + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            raw = res.read()
            return res.status, res.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        raw = err.read()
        return err.code, err.headers, json.loads(raw) if raw else None


def passed_on(headers):
    """What a call made while serving one carries on: the deadline left and the trace context."""
    out = {}
    for name in ("Micro-Timeout", "traceparent", "tracestate"):
        if headers.get(name):
            out[name] = headers[name]
    return out


def create_order(req, headers):
    item, quantity = req.get("item"), req.get("quantity")
    if not isinstance(item, str) or not isinstance(quantity, int) or quantity < 1:
        raise AppError(400, "an order needs an item (string) and a quantity (whole number above 0)")
    # A TypeScript service, through the sidecar: its errors come back with their code.
    status, _, quote = sidecar("POST", "/v1/invoke/pricing/Pricing.Quote", {"item": item, "quantity": quantity},
                               passed_on(headers))
    if status != 200:
        raise AppError(status, "pricing: " + quote["detail"])
    order = {"id": str(uuid.uuid4()), "item": item, "quantity": quantity, "total": quote["total"],
             "currency": settings["currency"]}
    # State with optimistic concurrency: If-None-Match: * creates, never overwrites.
    status, res_headers, body = sidecar("POST", "/v1/state/order:" + order["id"], order, {"If-None-Match": "*"})
    if status != 204:
        raise AppError(status, "saving the order: " + body["detail"])
    order["etag"] = res_headers["ETag"]
    sidecar("POST", "/v1/publish/orders.created", order)
    sidecar("POST", "/v1/events/orders", order)
    return order


def get_order(req, _headers):
    status, res_headers, body = sidecar("GET", "/v1/state/order:" + str(req.get("id", "")))
    if status == 204:
        raise AppError(404, "no order " + str(req.get("id")))
    return dict(body, etag=res_headers["ETag"])


def list_received(_req, _headers):
    with received_lock:
        return {"prices": list(received)}


def on_price_changed(message, headers):
    with received_lock:
        received.append({"message": message, "attempt": headers.get("Micro-Attempt")})
    return {"status": "SUCCESS"}


ROUTES = {
    "/orders/create": create_order,
    "/Orders.Get": get_order,
    "/Orders.Received": list_received,
    "/events/prices-changed": on_price_changed,
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the sidecar reuses its connections

    def log_message(self, *_args):
        pass

    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, {"status": "ok"})
        if self.path == "/micro/endpoints":
            return self.reply(200, ENDPOINTS)
        if self.path == "/micro/subscribe":
            return self.reply(200, SUBSCRIPTIONS)
        self.reply(404, {"id": SERVICE, "code": 404, "detail": "no " + self.path})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        route = ROUTES.get(self.path)
        if route is None:
            return self.reply(404, {"id": SERVICE, "code": 404, "detail": "no " + self.path})
        try:
            req = json.loads(raw) if raw else {}
            self.reply(200, route(req, self.headers))
        except AppError as err:
            self.reply(err.code, {"id": SERVICE, "code": err.code, "detail": err.detail})
        except json.JSONDecodeError:
            self.reply(400, {"id": SERVICE, "code": 400, "detail": "the body is not JSON"})
        except Exception as err:  # noqa: BLE001 - any bug is a 500 with the message, never a trace
            self.reply(500, {"id": SERVICE, "code": 500, "detail": str(err)})

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def wait_for(path):
    """Poll the sidecar until `path` answers 204 (it may start after this app)."""
    while True:
        try:
            status, _, _ = sidecar("GET", path, timeout=2.0)
            if status == 204:
                return
        except OSError:
            pass  # the sidecar is not listening yet
        time.sleep(0.1)


def start_up():
    # Outbound calls work before the service is registered: read the config first ...
    wait_for("/v1/healthz/outbound")
    status, _, value = sidecar("GET", "/v1/config/orders/currency")
    if status == 200:
        settings["currency"] = value
    # ... then wait until the sidecar has registered us (it has seen /health answer).
    wait_for("/v1/healthz")
    print(f"{SERVICE} ready: registered through the sidecar at {SIDECAR} (currency {settings['currency']})",
          flush=True)


def main():
    server = ThreadingHTTPServer(("127.0.0.1", APP_PORT), Handler)
    server.daemon_threads = True
    # Serve /health at once: the sidecar registers the service only once it answers.
    threading.Thread(target=start_up, daemon=True).start()
    print(f"{SERVICE} app listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
