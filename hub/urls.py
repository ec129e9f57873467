"""URLs for lists of things, without a `url_for` per row.

`url_for` costs some 15 µs (the URL map, the request's adapter, defaults, escaping); a
board page links each of its 30 topics several times, a topic page each of its posts.
Links that differ only in whole numbers (ids, pages) share a shape: `fast_url` builds
each shape once per request with `url_for` and stamps the numbers in. Other values go
to `url_for` as usual, so the result is always what `url_for` would give.

Imports Flask only.
"""

from __future__ import annotations

from typing import Any

from flask import g, url_for

# Numbers no real id reaches, each a distinct placeholder in the built shape.
_STAMPS = (7_919_104_729, 7_919_104_731, 7_919_104_733, 7_919_104_737)


def fast_url(endpoint: str, **values: Any) -> str:
    """`url_for(endpoint, **values)` for site-relative links, the shape kept per request."""
    numbers = [k for k, v in values.items() if type(v) is int]
    if not numbers or len(numbers) > len(_STAMPS):
        return url_for(endpoint, **values)
    others = tuple(sorted((k, v) for k, v in values.items() if type(v) is not int))
    key = (endpoint, tuple(sorted(numbers)), others)
    shapes = g.get("_hub_url_shapes")
    if shapes is None:
        shapes = g._hub_url_shapes = {}
    shape = shapes.get(key)
    if shape is None:
        names = sorted(numbers)
        built = url_for(endpoint, **dict(others),
                        **{name: stamp for name, stamp in zip(names, _STAMPS, strict=False)})
        for name, stamp in zip(names, _STAMPS, strict=False):
            built = built.replace(str(stamp), "{" + name + "}")
        shape = shapes[key] = built
    return shape.format_map({k: values[k] for k in numbers})
