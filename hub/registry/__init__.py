"""The registry: a thin layer over the network's capacity-building databases (projects,
opportunities, country needs, resources, reports). Records hold metadata, contacts and
links, not documents. Part of the hub core (DESIGN.md §2): it imports only `hub`, and no
other `hub` module imports it except the composition in `hub.views.init_app`.

Extension points it uses: the navigation, the Secretariat's desk, the home page, the
worker's periodic tasks, demo seeders, `hub.markup` preprocessors, the signal
`hub.events.proceedings_published`; and, when the forums provide it,
`app.extensions["hub_discuss"]`.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from hub import api as hub_api
from hub import events, markup


def init_app(app: Flask) -> None:
    from hub.registry import (
        actions,
        api,
        bitsets,
        cli,
        desk_views,  # noqa: F401  (its routes are on the registry blueprint)
        fields,
        follows,
        place_views,
        refs,
        seed,
        views,
    )
    from hub.views import nav_item

    app.register_blueprint(views.bp)
    app.register_blueprint(place_views.bp)
    hub_api.register(app, api.bp)
    cli.init_app(app)
    app.extensions["registry"] = {"scan_seconds": 3600}
    nav_item(app, "registry.browse", _l("Registry"), lambda _who: True, order=60)
    app.extensions["hub_desk"].append(("registry.review", _l("Registry: records to review")))
    app.extensions["hub_desk"].append(("places.focal_points", _l("Registry: national focal "
                                                                 "points")))
    app.extensions["hub_desk"].append(("registry.synthesis_builder", _l("Registry: synthesis "
                                                                "report")))
    app.extensions["hub_home"].append(("registry/_home.html", 60))
    app.extensions["hub_periodic"].append(follows.periodic)
    app.extensions["hub_periodic"].append(bitsets.periodic)
    app.extensions["hub_seeders"].append(seed.seed_registry)
    app.add_template_global(views.home_block, "registry_home")
    app.add_template_global(fields.record_languages, "record_languages")
    app.add_template_global(lambda code: fields.language_name(code, actions.current_locale()),
                            "language_name")
    markup.register_preprocessor(refs.expand_references)
    events.proceedings_published.connect(actions.file_proceedings)
