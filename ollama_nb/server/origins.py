"""Which browsers' pages and which Host names may use the practice server, as Ollama decides.

A learner's laptop runs the practice server while its browser visits other sites. Without
these checks any page could change the store (copy over a model, pull, create) through the
browser; Ollama refuses them, and so does this module, with the same rules
(`server/routes.go`, `envconfig/config.go` in `ollama/ollama`):

- CORS: a request whose `Origin` is not allowed gets 403 before any handler runs; one without
  `Origin` (curl, the `ollama` library, kernels) passes. Allowed: `OLLAMA_ORIGINS` (or
  `--origins`), then `http(s)://localhost`, `127.0.0.1`, `0.0.0.0` with any port, and the
  `app://`, `file://`, `tauri://`, `vscode-webview://`, `vscode-file://` schemes, and browser
  extensions. A same-origin request (Origin equal to `http://` + Host) passes as gin-contrib/cors
  lets it.
- Host (stops DNS rebinding), only when bound to a loopback address: the Host name must be
  empty, `localhost`, this machine's hostname, end in `.localhost`, `.local` or `.internal`,
  or be an IP that is loopback, private, unspecified or one of this machine's own.

Neither is authentication: anything that reaches the port without a browser can do anything.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

ENV_VAR = "OLLAMA_ORIGINS"
DEFAULT_HOSTS = ("localhost", "127.0.0.1", "0.0.0.0")
DEFAULT_SCHEMES = ("app", "file", "tauri", "vscode-webview", "vscode-file")
# gin-contrib/cors AllowBrowserExtensions
EXTENSION_SCHEMES = (
    "chrome-extension",
    "safari-extension",
    "moz-extension",
    "ms-browser-extension",
)
ALLOW_METHODS = "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"
ALLOW_HEADERS = (
    "Origin,Content-Length,Content-Type,Authorization,User-Agent,Accept,X-Requested-With,"
    "OpenAI-Beta,x-stainless-arch,x-stainless-async,x-stainless-custom-poll-interval,"
    "x-stainless-helper-method,x-stainless-lang,x-stainless-os,x-stainless-package-version,"
    "x-stainless-poll-helper,x-stainless-retry-count,x-stainless-runtime,"
    "x-stainless-runtime-version,x-stainless-timeout"
)
MAX_AGE = "43200"  # gin-contrib/cors DefaultConfig: 12 hours


def default_origins(extra: Iterable[str] = ()) -> list[str]:
    """Ollama's `AllowedOrigins()`: the extra ones first, then the built-in list."""
    origins = [o.strip() for o in extra if o.strip()]
    for host in DEFAULT_HOSTS:
        origins += [f"http://{host}", f"https://{host}", f"http://{host}:*", f"https://{host}:*"]
    origins += [f"{scheme}://*" for scheme in DEFAULT_SCHEMES]
    return origins


def origins_from_env(value: str | None = None) -> list[str]:
    """The comma-separated `OLLAMA_ORIGINS` (or `--origins`) value as a list."""
    text = os.environ.get(ENV_VAR, "") if value is None else value
    return [part.strip() for part in text.split(",") if part.strip()]


@dataclass
class AccessPolicy:
    """The Origin list and whether Host names are checked (only when bound to loopback)."""

    origins: list[str] = field(default_factory=default_origins)
    check_host: bool = True

    def __post_init__(self) -> None:
        rules = [o.lower() for o in self.origins]
        self._any = "*" in rules
        self._exact = {o for o in rules if "*" not in o}
        self._wild = [tuple(o.split("*", 1)) for o in rules if "*" in o and o != "*"]

    def origin_allowed(self, origin: str, host: str = "") -> bool:
        """gin-contrib/cors `validateOrigin`, with wildcards and browser extensions allowed."""
        if not origin:
            return True
        if host and origin in (f"http://{host}", f"https://{host}"):
            return True  # same origin: gin-contrib/cors does not treat it as CORS
        if self._any:
            return True
        low = origin.lower()
        if low in self._exact:
            return True
        if any(low.startswith(f"{s}://") for s in EXTENSION_SCHEMES):
            return True
        return any(
            len(low) >= len(pre) + len(post) and low.startswith(pre) and low.endswith(post)
            for pre, post in self._wild
        )

    def host_allowed(self, host_header: str) -> bool:
        """Ollama's `allowedHostsMiddleware` (only applied when bound to loopback)."""
        if not self.check_host:
            return True
        host = _host_name(host_header)
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return _allowed_name(host)
        return (
            address.is_loopback
            or address.is_private
            or address.is_unspecified
            or str(address) in _local_addresses()
        )

    def cors_headers(self, origin: str) -> dict[str, str]:
        """Headers every answer to an allowed cross-origin request carries."""
        if not origin:
            return {}
        return {"Access-Control-Allow-Origin": "*" if self._any else origin, "Vary": "Origin"}

    def preflight_headers(self, origin: str) -> dict[str, str]:
        """The 204 answer to an OPTIONS preflight from an allowed origin."""
        return {
            **self.cors_headers(origin),
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": MAX_AGE,
        }


def policy_for(bind_host: str, extra_origins: Iterable[str] | None = None) -> AccessPolicy:
    """The policy of a server bound to `bind_host` (Host checked only on loopback)."""
    extra = origins_from_env() if extra_origins is None else list(extra_origins)
    return AccessPolicy(default_origins(extra), check_host=_is_loopback_bind(bind_host))


def _is_loopback_bind(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _host_name(header: str) -> str:
    """Go's `net.SplitHostPort`, falling back to the whole header when there is no port."""
    text = header.strip()
    if text.startswith("["):
        end = text.find("]")
        if end != -1 and (end + 1 == len(text) or text[end + 1] == ":"):
            return text[1:end] if end + 1 < len(text) else text
        return text
    if text.count(":") == 1:
        return text.split(":", 1)[0]
    return text


def _allowed_name(host: str) -> bool:
    name = host.lower()
    if name in ("", "localhost") or name == _hostname():
        return True
    return name.endswith((".localhost", ".local", ".internal"))


@lru_cache(maxsize=1)
def _hostname() -> str:
    return socket.gethostname().lower()


@lru_cache(maxsize=1)
def _local_addresses() -> frozenset[str]:
    """This machine's own addresses (Go's `isLocalIP`), as far as the resolver tells."""
    found: set[str] = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            found.add(str(ipaddress.ip_address(info[4][0].split("%")[0])))
    except (OSError, ValueError):
        pass
    return frozenset(found)
