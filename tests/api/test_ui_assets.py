"""The web UI's page and files (/ui, /view, /assets, the icon): served
without the bearer token, gzip'd for clients that accept it, cached by
content, with the page's security headers."""

import gzip
import re

import pytest
import requests

from harness import HTTP_TIMEOUT, raw_request

TOKEN = "ui-s3cret"
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def ui(weft_factory):
    return weft_factory.start(env={"AUTH_TOKEN": TOKEN})


def assets_of(page):
    """The asset paths index.html links, relative to it ("assets/x.js")."""
    return re.findall(r'(?:src|href)="\./(assets/[^"]+)"', page)


def script_of(server):
    scripts = [a for a in assets_of(server.get("/ui/").text) if a.endswith(".js")]
    assert scripts, "index.html links no script"
    return scripts[0]


def plain(server, path, **headers):
    """The answer with no compression asked for (requests asks for gzip by default)."""
    return server.get(path, headers={"Accept-Encoding": "identity", **headers})


def raw_gzip(server, path):
    """The answer as sent to a client accepting gzip: (response, undecoded body)."""
    r = server.get(path, headers={"Accept-Encoding": "gzip"}, stream=True)
    return r, r.raw.read(decode_content=False)


def test_page_served_at_ui_and_view_without_token(ui):
    pages = {}
    for path in ("/ui", "/ui/", "/view", "/view?batch=0b7e9c1e-2f6a-4d8e-9a51-3c7f0d2e4b61"):
        r = plain(ui, path)
        assert r.status_code == 200, (path, r.status_code, r.text)
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "<div id=\"app\">" in r.text
        pages[path] = r.content
    assert len(set(pages.values())) == 1, "every page path answers the same index.html"
    # Data routes still want the token.
    assert ui.get("/v1/runs").status_code == 401
    assert ui.get("/batches").status_code == 401
    assert ui.get("/v1/runs", headers={"Authorization": "Bearer " + TOKEN}).status_code == 200


def test_assets_linked_by_page_resolve_from_ui_and_view(ui):
    page = plain(ui, "/ui/").text
    linked = assets_of(page)
    assert any(a.endswith(".js") for a in linked) and any(a.endswith(".css") for a in linked), linked
    for asset in linked:
        # "./assets/x" from /ui/ is /ui/assets/x; from /view or /ui it is /assets/x.
        a = plain(ui, "/ui/" + asset)
        b = plain(ui, "/" + asset)
        assert a.status_code == 200 and b.status_code == 200, asset
        assert a.content == b.content and len(a.content) > 0
        want = "text/javascript; charset=utf-8" if asset.endswith(".js") else "text/css; charset=utf-8"
        assert a.headers["Content-Type"] == want
        assert a.headers["Cache-Control"] == IMMUTABLE


def test_gzip_when_accepted_and_identical_bytes_otherwise(ui):
    asset = "/ui/" + script_of(ui)
    r, body = raw_gzip(ui, asset)
    assert r.status_code == 200
    assert r.headers["Content-Encoding"] == "gzip"
    assert r.headers["Vary"] == "Accept-Encoding"
    unzipped = gzip.decompress(body)

    p = plain(ui, asset)
    assert p.status_code == 200
    assert "Content-Encoding" not in p.headers
    assert p.headers["Vary"] == "Accept-Encoding"
    assert p.content == unzipped
    assert int(p.headers["Content-Length"]) == len(p.content) > len(body)

    # gzip refused by q=0, or only other codings: plain.
    for ae in ("gzip;q=0, identity", "br", "deflate"):
        r = ui.get(asset, headers={"Accept-Encoding": ae})
        assert "Content-Encoding" not in r.headers, ae
        assert r.content == unzipped, ae
    # "*" admits it.
    r, body = raw_gzip(ui, asset)
    r2 = ui.get(asset, headers={"Accept-Encoding": "*"}, stream=True)
    assert r2.headers.get("Content-Encoding") == "gzip"
    assert r2.raw.read(decode_content=False) == body


def test_etag_answers_304_and_differs_by_encoding(ui):
    for path, cache in (("/ui/", "no-cache"), ("/icon.png", "no-cache"), ("/ui/" + script_of(ui), IMMUTABLE)):
        p = plain(ui, path)
        assert p.headers["Cache-Control"] == cache, path
        tag = p.headers["ETag"]
        assert re.fullmatch(r'"[0-9a-f]{32}"', tag), tag       # strong
        again = plain(ui, path, **{"If-None-Match": tag})
        assert again.status_code == 304, path
        assert again.content == b""
        assert again.headers["ETag"] == tag
        assert plain(ui, path, **{"If-None-Match": '"other", W/' + tag}).status_code == 304
        assert plain(ui, path, **{"If-None-Match": '"other"'}).status_code == 200

        g, _ = raw_gzip(ui, path)
        assert g.headers["ETag"] != tag, "the gzip'd bytes are another representation"
        assert plain(ui, path, **{"If-None-Match": g.headers["ETag"]}).status_code == 200
        g304 = ui.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": g.headers["ETag"]})
        assert g304.status_code == 304


def test_security_headers(ui):
    for path in ("/ui/", "/view", "/ui/" + script_of(ui), "/icon.png", "/ui/assets/missing.js"):
        h = plain(ui, path).headers
        assert h["X-Content-Type-Options"] == "nosniff", path
        assert h["X-Frame-Options"] == "DENY", path
        csp = dict(d.strip().split(" ", 1) for d in h["Content-Security-Policy"].split(";"))
        assert csp["default-src"] == "'self'"
        assert csp["script-src"] == "'self'", "no inline or foreign scripts"
        assert csp["connect-src"] == "'self'"
        assert csp["img-src"] == "'self' data:"
        assert csp["frame-ancestors"] == "'none'"


def test_icons(ui):
    png = plain(ui, "/icon.png")
    assert png.status_code == 200
    assert png.headers["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert plain(ui, "/ui/icon.png").content == png.content

    ico = plain(ui, "/favicon.ico")
    assert ico.status_code == 200
    assert ico.headers["Content-Type"] == "image/x-icon"
    assert ico.content[:4] == b"\x00\x00\x01\x00"       # ICO header, type 1 (icon)


def test_head_answers_headers_only(ui):
    # HEAD takes the GET route; sent outside the harness's route log, which
    # lists (method, route) pairs of the OpenAPI document.
    for path in ("/ui/", "/icon.png", "/ui/" + script_of(ui)):
        get = plain(ui, path)
        head = requests.head(ui.url(path), headers={"Accept-Encoding": "identity"}, timeout=HTTP_TIMEOUT)
        assert head.status_code == 200, path
        assert head.content == b""
        assert head.headers["Content-Length"] == str(len(get.content))
        assert head.headers["ETag"] == get.headers["ETag"]


def test_unknown_and_traversal_refused(ui):
    for path in ("/ui/assets/nope-123.js", "/assets/nope.css", "/ui/nope.png", "/ui/assets/.hidden",
                 "/ui/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/ui/assets/..%2F..%2Findex.html",
                 "/ui/%2e%2e", "/ui/assets/a%00b.js"):
        r = plain(ui, path)
        assert r.status_code == 404, (path, r.status_code)
        assert "root:" not in r.text
    # Dot segments sent as they are (a client library would remove them).
    for path in ("/ui/assets/../../etc/passwd", "/ui/assets/../index.html", "/assets/../ui"):
        status, body = raw_request(ui.port, "GET", path, b"")
        assert status == 404, (path, status, body[:200])
    # POST is not served on the page routes.
    assert ui.post("/ui/", data=b"").status_code in (401, 404)


def test_ui_dir_serves_from_disk(weft_factory, tmp_path):
    site = tmp_path / "site"
    (site / "assets").mkdir(parents=True)
    (site / "index.html").write_text('<!doctype html><div id="app"></div><script src="./assets/app-1.js"></script>')
    (site / "assets" / "app-1.js").write_text("console.log('from disk');\n")
    (site / "icon.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    (tmp_path / "secret.txt").write_text("root:x:0:0")

    for how in ({"args": ["--ui-dir", str(site)]}, {"env": {"WEFT_UI_DIR": str(site)}}):
        srv = weft_factory.start(**how)
        page = srv.get("/ui/")
        assert page.status_code == 200
        assert page.text == (site / "index.html").read_text()
        assert "Content-Encoding" not in page.headers
        assert page.headers["Cache-Control"] == "no-cache"
        js = srv.get("/assets/app-1.js", headers={"Accept-Encoding": "gzip"})
        assert js.text == "console.log('from disk');\n"
        assert js.headers["Cache-Control"] == IMMUTABLE
        assert srv.get("/ui/", headers={"If-None-Match": page.headers["ETag"]}).status_code == 304
        assert srv.get("/ui/assets/missing.js").status_code == 404
        assert srv.get("/ui/assets/%2e%2e%2f%2e%2e%2fsecret.txt").status_code == 404
        status, body = raw_request(srv.port, "GET", "/ui/assets/../../secret.txt", b"")
        assert status == 404 and b"root:" not in body
        # A rebuilt file shows at once: read on each request.
        (site / "assets" / "app-1.js").write_text("console.log('rebuilt');\n")
        assert srv.get("/ui/assets/app-1.js").text == "console.log('rebuilt');\n"
        (site / "assets" / "app-1.js").write_text("console.log('from disk');\n")
        srv.stop()
