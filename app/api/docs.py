"""The API docs, Swagger UI at /docs and ReDoc at /redoc, served from files installed with the product.

FastAPI's own docs pages load their scripts and styles from a CDN, so offline they are blank.
Here the pages are FastAPI's, pointed at the copies the `fastapi-offline` package ships
(Swagger UI's bundle and stylesheet, ReDoc's standalone script), mounted under /docs-assets;
ReDoc is told not to fetch Google's fonts. Its sidebar always shows Redocly's logo from their
CDN, so both pages carry a Content-Security-Policy that lets them load only from this server:
the browser then never asks for the logo, and no request leaves the machine.
Usage: `install(FastAPI(docs_url=None, redoc_url=None))`.
"""
from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).with_name("static")
MOUNT = "/docs-assets"
# The pages' own scripts are inline; ReDoc runs a worker from a blob and draws with data: images.
POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
          "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'")


def install(app: FastAPI, docs: str = "/docs", redoc: str = "/redoc") -> None:
    """Add the docs pages and their assets to `app` (made with docs_url=None, redoc_url=None)."""
    app.mount(MOUNT, StaticFiles(directory=ASSETS), name="docs-assets")
    redirect = app.swagger_ui_oauth2_redirect_url

    @app.get(docs, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _local(get_swagger_ui_html(openapi_url=root + app.openapi_url, title=f"{app.title} - Swagger UI",
                                   oauth2_redirect_url=root + redirect if redirect else None,
                                   swagger_js_url=f"{root}{MOUNT}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{root}{MOUNT}/swagger-ui.css",
                                   swagger_favicon_url=f"{root}{MOUNT}/favicon.png",
                                   swagger_ui_parameters=app.swagger_ui_parameters))

    if redirect:
        @app.get(redirect, include_in_schema=False)
        def swagger_ui_redirect() -> HTMLResponse:
            return get_swagger_ui_oauth2_redirect_html()

    @app.get(redoc, include_in_schema=False)
    def redoc_page(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _local(get_redoc_html(openapi_url=root + app.openapi_url, title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{root}{MOUNT}/redoc.standalone.js",
                              redoc_favicon_url=f"{root}{MOUNT}/favicon.png", with_google_fonts=False))


def _local(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = POLICY
    return page
