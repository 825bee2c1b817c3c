"""Which HTTPS proxy, if any, applies to a host: the way the SSM Agent decides it.

`endpoints.proxy` wins; otherwise HTTPS_PROXY / https_proxy, minus hosts matched by NO_PROXY /
no_proxy (exact host, domain suffix with or without a leading dot, or `*`).
"""

from __future__ import annotations

from collections.abc import Mapping


def _bypassed(host: str, no_proxy: str) -> bool:
    host = host.lower().rstrip(".")
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        entry = entry.split(":")[0].lstrip("*").lstrip(".")
        if host == entry or host.endswith("." + entry):
            return True
    return False


def proxy_for(host: str, configured: str | None, env: Mapping[str, str]) -> str | None:
    no_proxy = env.get("NO_PROXY") or env.get("no_proxy") or ""
    if _bypassed(host, no_proxy):
        return None
    return configured or env.get("HTTPS_PROXY") or env.get("https_proxy") or None
