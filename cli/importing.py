"""`kb import FORMAT SITE --to DIR`: an existing documentation site as polykb articles."""

from __future__ import annotations

from pathlib import Path

import click

from cli.options import reports_errors
from kb.importing.run import FORMATS


@click.command(name="import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(sorted(FORMATS)))
@click.argument("site", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--to", "to", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Articles folder to write (created if missing; re-running updates only what changed).")
@click.option("--locales", default=None, help="Only these locales besides the default, comma-separated (zh-CN,ru).")
@click.option("--owner", default=None, help="`owner:` for new articles (kept ones keep theirs).")
@click.option("--lang", "default_lang", default=None, help="html: the language of pages that do not say theirs.")
@click.option("--overwrite", is_flag=True, help="Take upstream's text for articles also edited in polykb.")
@click.option("--prune", is_flag=True, help="Delete articles whose upstream file is gone (unedited ones only).")
@click.option("--quiet", "-q", is_flag=True, help="Print the summary only, not each warning.")
@reports_errors
def import_cmd(fmt, site, to, locales, owner, default_lang, overwrite, prune, quiet):
    """Import a Docusaurus, MkDocs or Hugo site (a checkout) or exported HTML pages into an articles folder.

    Every construct dropped or left unconverted is printed as FILE:LINE; untranslated copies are
    reported per locale and not imported. Then: kb index --articles DIR.
    """
    from kb.importing.run import import_site

    wanted = {x.strip() for x in locales.split(",") if x.strip()} if locales else None
    report = import_site(fmt, site, to, locales=wanted, owner=owner, overwrite=overwrite, prune=prune,
                         default_lang=default_lang)
    if not quiet:
        for note in report.notes:
            click.echo(f"warning: {note}", err=True)
    for line in report.lines():
        click.echo(line)
    click.echo(f"next: kb index --articles {to}")
