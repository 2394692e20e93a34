"""Flask names that extensions re-export: ``from flask_mail import current_app`` is Flask's proxy.

An extension that does ``from flask import current_app`` at the top of its public module makes
``flask_mail.current_app`` an importable alias of the proxy, and application code does import
it from there. Only the extensions' public modules (a package's ``__init__`` or a single-module
extension) are listed, with Flask's public names only, as their own sources show: read from
the sdists of the versions named (PyPI, 2026-12). A name an extension defines itself (its own
``current_user``, say) is not an alias and is not here.
"""

from __future__ import annotations

REEXPORTS: dict[str, frozenset[str]] = {
    module: frozenset(names.split())
    for module, names in {
        "flask_babel": "current_app g",  # 4.0.0
        "flask_bootstrap": "current_app url_for",  # 3.3.7.1
        "flask_caching": "current_app g request url_for",  # 2.5.1
        "flask_debugtoolbar": "current_app g request url_for",  # 0.16.0
        "flask_httpauth": "current_app g request session",  # 4.8.1
        "flask_login.utils": "current_app g has_request_context request session url_for",  # 0.6.3
        "flask_mail": "current_app",  # 0.10.0
        "flask_mailman": "current_app",  # 1.1.1
        "flask_migrate": "current_app g",  # 4.1.0
        "flask_moment": "current_app",  # 1.0.6
        "flask_principal": "current_app g request session",  # 0.4.0
        "flask_restful": "current_app request url_for",  # 0.3.10
        "flask_seasurf": "current_app g has_request_context request session",  # 2.0.0
        "flask_socketio": "has_request_context",  # 5.7.0
        "flask_sse": "current_app request stream_with_context",  # 1.0.0
    }.items()
}


def flask_name(qualname: str) -> str | None:
    """``flask.current_app`` for ``flask_mail.current_app``; None when it is no known alias."""
    module, _, name = qualname.rpartition(".")
    return f"flask.{name}" if name in REEXPORTS.get(module, ()) else None
