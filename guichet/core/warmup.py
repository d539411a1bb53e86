"""What a process would otherwise do on its first requests, done once before it serves.

Django loads translation catalogues, compiles templates and builds the URL resolver lazily, on
the first request that needs each. In a gunicorn worker that costs the first requests several
times their usual time: at a deadline, eight applicants arriving together on freshly started or
recycled workers wait behind it. The gunicorn master runs this after loading the application
and before forking, so that every worker starts warm and shares these objects' memory pages
(they are frozen out of the garbage collector's reach, guichet/gunicorn_conf.py).

Nothing here touches the database: a connection opened in the master would be shared by the
forked workers.
"""

import logging
from pathlib import Path

from django.conf import settings
from django.forms.renderers import get_default_renderer
from django.template import TemplateDoesNotExist, TemplateSyntaxError, engines
from django.urls import get_resolver
from django.utils.translation import trans_real

logger = logging.getLogger(__name__)

TEMPLATE_SUFFIXES = frozenset({".html", ".txt", ".xml"})


def warm_up() -> dict[str, int]:
    """Load every catalogue, compile every template, build the URL resolver; what was done."""
    for code, _name in settings.LANGUAGES:
        trans_real.translation(code)
    get_resolver()._populate()
    compiled = sum(compile_templates(engine) for engine in template_engines())
    logger.info("warm-up: %d templates compiled", compiled)
    return {"languages": len(settings.LANGUAGES), "templates": compiled}


def template_engines() -> list:
    """The pages' engines and the form renderer's own (django-dsfr renders forms with a
    separate engine, guichet/core/forms.py)."""
    return [*engines.all(), get_default_renderer().engine]


def compile_templates(engine) -> int:
    """Compile every template the engine can find into its cached loader; how many.

    Some templates of installed applications cannot compile here (a tag library of an optional
    dependency that is not installed): they would fail the same way when asked for, so they
    are left for that moment."""
    compiled = 0
    directories = [directory for loader in engine.engine.template_loaders
                   for directory in loader.get_dirs()]
    for name in sorted(template_names(directories)):
        try:
            engine.get_template(name)
        except (TemplateSyntaxError, TemplateDoesNotExist, UnicodeDecodeError) as error:
            logger.debug("warm-up: %s left out (%s)", name, error)
            continue
        compiled += 1
    return compiled


def template_names(directories) -> set[str]:
    """Template names under `directories`, as the loaders look them up."""
    names = set()
    for directory in map(Path, directories):
        if directory.is_dir():
            names.update(path.relative_to(directory).as_posix()
                         for path in directory.rglob("*")
                         if path.suffix in TEMPLATE_SUFFIXES and path.is_file())
    return names
