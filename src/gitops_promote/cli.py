"""The `gitops` command line: options in, one command call, a renderer, an exit code.

Command modules, renderers and heavy libraries are imported inside the callbacks so that
`gitops --help` stays fast (tests/test_import_budget.py pins what it may import). Every exit
code is decided in `_run` (docs/exit-codes.md).

No `from __future__ import annotations` here, unlike everywhere else: Typer reads every
callback's annotations, and string annotations cost it an `eval` each (about 15 ms of every
start-up for these ~100 parameters); evaluated once at definition time they cost almost nothing.
"""

import atexit
import enum
import gc
import io
import os
import sys
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import click
import typer
import typer.main
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandInfo

from gitops_promote import ISSUES_URL, __version__

OUTPUT_VARIABLE = "GITOPS_OUTPUT"

# Options a user of other tools types first, and the option of ours they mean.
_FAMILIAR_OPTIONS = {"--format": "--output", "--json": "--output json", "-f": "--output"}


class _Group(TyperGroup):
    """The `gitops` group: its commands are made when first looked up (`_Commands`), and a
    mistyped one is suggested once (click 8.4 suggests one itself, Typer adds its own on top)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands(_commands.registered_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order they are defined, without making them

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return click.Group.resolve_command(self, ctx, args)
        except click.UsageError as exc:
            if args and not getattr(exc, "possibilities", None) and "Did you mean" not in exc.message:
                from gitops_promote.core.lookup import closest

                close = closest(args[0], self.commands)
                if close:
                    raise click.UsageError(f"{exc.message.rstrip('.')}. Did you mean {close!r}?", ctx) from None
            raise


class _Commands(MutableMapping[str, click.Command]):
    """The group's commands by name, each made into a click command on its first lookup.

    Typer makes every command of an app before parsing the command line: their ~150
    parameters cost every run 5 ms, and a run uses one command (--help still makes them all,
    to list them). The commands are registered on `_commands`, not on `app`, so that Typer
    leaves them to this mapping.
    """

    def __init__(self, registered: list[CommandInfo]) -> None:
        self._entries: dict[str, CommandInfo | click.Command] = {_command_name(c): c for c in registered}

    def __getitem__(self, name: str) -> click.Command:
        entry = self._entries[name]
        if isinstance(entry, CommandInfo):
            entry = self._entries[name] = typer.main.get_command_from_info(
                entry, pretty_exceptions_short=app.pretty_exceptions_short, rich_markup_mode=app.rich_markup_mode
            )
        return entry

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._entries[name] = command

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries  # without making the command

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def _command_name(info: CommandInfo) -> str:
    """The name Typer gives a registered command: its own, or its function's."""
    assert info.callback is not None
    return info.name or typer.main.get_command_name(info.callback.__name__)


class _Command(TyperCommand):
    """`--format`/`--json` (what other tools call it) point at `--output`, not at a look-alike;
    a GITOPS_OUTPUT this command has no such format for is ignored (see `_parse`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return self._parse(ctx, args)
        except click.NoSuchOption as exc:
            better = _FAMILIAR_OPTIONS.get(exc.option_name)
            if better is None or not any("--output" in p.opts for p in self.params):
                raise
            raise click.NoSuchOption(
                exc.option_name, message=f"No such option {exc.option_name!r}. Did you mean {better!r}?", ctx=ctx
            ) from None

    def _parse(self, ctx: click.Context, args: list[str]) -> list[str]:
        """GITOPS_OUTPUT is set for a whole CI job (`markdown` for the PR comment of `diff`), so a
        command without that format uses its own default; an explicit --output still errors."""
        output = next((p for p in self.params if p.name == "output"), None)
        wanted = os.environ.get(OUTPUT_VARIABLE, "")
        choices = getattr(output.type, "choices", None) if output is not None else None
        if output is None or not wanted or choices is None or wanted.lower() in {str(c).lower() for c in choices}:
            return super().parse_args(ctx, args)
        envvar, output.envvar = output.envvar, None
        try:
            return super().parse_args(ctx, args)
        finally:
            output.envvar = envvar


app = typer.Typer(
    name="gitops",
    cls=_Group,
    help="Promote a GitOps repository's content from one environment branch to the next.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: importing rich's help formatter costs more than the help
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=True,
)
# The commands (`@_commands.command`), made by `_Group` when a run looks one up.
_commands = typer.Typer()


class Output(str, enum.Enum):
    text = "text"
    json = "json"


class DiffOutput(str, enum.Enum):
    text = "text"
    brief = "brief"
    json = "json"
    markdown = "markdown"
    github = "github"


class PlanOutput(str, enum.Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


# ---- shared options ---------------------------------------------------------------------------

RegistryOpt = Annotated[
    Optional[Path],  # noqa: UP045 - Typer on Python 3.10 needs Optional here
    typer.Option(
        "--registry",
        envvar="GITOPS_REGISTRY",
        help="Read the environment registry from this file instead of the source branch.",
        dir_okay=False,
    ),
]
RemoteOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--remote",
        envvar="GITOPS_REMOTE",
        help="Remote to fetch from and push to [default: origin when the repository has it, else local branches].",
    ),
]
OverrideFreezeOpt = Annotated[
    bool,
    typer.Option(
        "--override-freeze", help="Write into a frozen environment anyway (needs --reason; recorded as a trailer)."
    ),
]
ReasonOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--reason", help="Why: recorded in the commit (Freeze-Override / Rollback-Reason trailers)."),
]
AppOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--app",
        help="Only this app (its directory, e.g. apps/api, or its name); repeat for several. "
        "Every other path of TARGET stays as it is.",
        show_default=False,
    ),
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Compute and show everything; write nothing.")]
FetchOpt = Annotated[
    bool,
    typer.Option(
        "--fetch/--no-fetch",
        envvar="GITOPS_FETCH",
        help="Fetch the environment branches first; --no-fetch works from the refs already fetched.",
    ),
]
OutputOpt = Annotated[
    Output, typer.Option("--output", "-o", envvar="GITOPS_OUTPUT", help="Output format.", case_sensitive=False)
]
VerboseOpt = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="List every kept env file in text output (JSON always lists them)."),
]
# ---- signing and attestations (docs/signing.md) ----
SignOpt = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(
        "--sign/--no-sign",
        envvar="GITOPS_SIGN",
        show_default=False,
        help="Sign the commit (git commit-tree -S), or not [default: as git commit would: commit.gpgSign].",
    ),
]
AttestOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--attest",
        dir_okay=False,
        help="Write an in-toto Statement v1 describing the promotion to FILE (docs/signing.md).",
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gitops-promote {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    directory: Annotated[
        Path, typer.Option("-C", envvar="GITOPS_DIR", help="Run as if started in this directory (like git -C).")
    ] = Path("."),
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    ctx.obj = directory


def _repo_path(ctx: click.Context) -> Path:
    """The directory given with -C (the root context's object), else the current one."""
    return ctx.obj if isinstance(ctx.obj, Path) else Path(".")


def _complete_environment(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion of environment names, from the registry the command would read."""
    from gitops_promote.adapters.git import Repository
    from gitops_promote.commands._context import bootstrap_registry
    from gitops_promote.errors import GitopsError

    try:
        with Repository(_repo_path(ctx.find_root())) as repo:
            registry = bootstrap_registry(repo, None, [])
    except GitopsError:
        return []  # completion must never print an error into the user's command line
    return [name for name in registry.order if name.startswith(incomplete)]


# ---- error handling ---------------------------------------------------------------------------


def _run(body: Callable[[], int | None], show_refused: Callable[[Any], None] | None = None) -> NoReturn:
    """Run a command body and leave with its exit code; expected failures become messages.

    A refusal that carries the command's result (drift, freeze, an invalid promoted tree) is
    shown through `show_refused` first: the JSON object still reaches stdout, a dry run still
    shows its changes.
    """
    from gitops_promote.errors import EXIT_INTERRUPTED, EXIT_OPERATIONAL, GitopsError
    from gitops_promote.render import console

    console.reset()
    try:
        code = body() or 0
    except GitopsError as exc:
        result = getattr(exc, "result", None)
        if result is not None and show_refused is not None:
            show_refused(result)
        console.error(str(exc))
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        console.message("interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except (typer.Exit, click.exceptions.ClickException, click.exceptions.Abort):
        raise
    except BrokenPipeError as exc:
        if not _stdout_reader_gone():
            _internal_error(exc)
        _drop_stdout()  # `gitops diff | head`: the output was cut, the work itself was not
        raise typer.Exit(EXIT_OPERATIONAL) from None
    except OSError as exc:
        if not _device_failure(exc):
            _internal_error(exc)
        _report_device_failure(exc)
        raise typer.Exit(EXIT_OPERATIONAL) from None
    except Exception as exc:  # noqa: BLE001 - the one place that turns a bug into exit code 4
        _internal_error(exc)
    raise typer.Exit(code)


def _device_failure(exc: OSError) -> bool:
    """A full disk or quota, a file over its size limit, a failing device: what the machine
    refused (stdout redirected onto a full disk), not a bug of ours."""
    import errno

    return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


def _report_device_failure(exc: OSError) -> None:
    from gitops_promote.render import console

    where = f"{console.visible(str(exc.filename))}" if exc.filename else "the output"
    try:
        sys.stdout.flush()  # what was written before the failure, if it fits now
    except OSError:
        _drop_stdout()  # it cannot go anywhere: not again when the process ends
    console.error(f"could not write {where}: {exc.strerror}\nhint: make room on the device, then run the command again")


def _stdout_reader_gone() -> bool:
    """Whether stdout is a pipe whose reader closed it: then a BrokenPipeError is what the
    reader chose (`| head`), not a bug. A pipe without a reader polls as an error."""
    import select

    try:
        fd = sys.stdout.fileno()
        poll = select.poll()
    except (AttributeError, OSError, ValueError):  # no file descriptor, or no poll (Windows)
        return False
    poll.register(fd, select.POLLOUT)
    return any(events & select.POLLERR for _fd, events in poll.poll(0))


def _drop_stdout() -> None:
    """stdout onto /dev/null: what is still buffered goes nowhere when the interpreter exits,
    instead of raising again there (and printing a second error)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _internal_error(exc: BaseException) -> NoReturn:
    import traceback  # only on this path: 5 ms of every start-up otherwise

    from gitops_promote.errors import EXIT_INTERNAL
    from gitops_promote.render import console

    # A plain traceback: rich's would print local variables, which may hold secrets.
    console.write_err("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    console.error(
        f"internal error ({type(exc).__name__}): this is a bug in gitops-promote {__version__}. "
        f"Please report it at {ISSUES_URL} with the command you ran and the traceback above."
    )
    raise typer.Exit(EXIT_INTERNAL)


def _emit(output: Output, result: Any, render_text: Callable[[Any], None]) -> None:
    if not _json(output, result):
        render_text(result)


def _json(output: Output, result: Any) -> bool:
    """Print `result` as JSON if that is the output asked for. The callers import their text
    renderer only when this says no: those renderers draw tables with rich; JSON needs none of it."""
    if output is not Output.json:
        return False
    from gitops_promote.render import console

    console.print_json(result.to_json())
    return True


# ---- commands ---------------------------------------------------------------------------------


@_commands.command(cls=_Command, short_help="The registry and each branch's head.")
def envs(
    ctx: typer.Context, registry: RegistryOpt = None, remote: RemoteOpt = None, output: OutputOpt = Output.text
) -> None:
    """Show the environment registry and each environment branch's head commit."""

    def body() -> None:
        from gitops_promote.commands import envs as command

        result = command.run(_repo_path(ctx), registry, remote)
        if not _json(output, result):
            from gitops_promote.render import envs as render

            render.text(result)

    _run(body)


@_commands.command(cls=_Command, short_help="Promote SOURCE into TARGET, one step.")
def promote(
    ctx: typer.Context,
    source: Annotated[
        Optional[str],  # noqa: UP045
        typer.Argument(
            help="Environment to promote from (e.g. dev); with --plan FILE, the plan names it.",
            autocompletion=_complete_environment,
            show_default=False,
        ),
    ] = None,
    target: Annotated[
        Optional[str],  # noqa: UP045
        typer.Argument(
            help="Environment to promote into (the next one, e.g. stg) [default: every environment of the "
            "next position, one commit each].",
            autocompletion=_complete_environment,
            show_default=False,
        ),
    ] = None,
    ref: Annotated[Optional[str], typer.Option(help="Promote this commit of SOURCE instead of its tip.")] = None,  # noqa: UP045
    dry_run: DryRunOpt = False,
    push: Annotated[bool, typer.Option("--push/--no-push", help="Push the promotion to the remote.")] = True,
    discard_drift: Annotated[
        bool, typer.Option("--discard-drift", help="Overwrite direct changes on TARGET that never existed upstream.")
    ] = False,
    override_freeze: OverrideFreezeOpt = False,
    reason: ReasonOpt = None,
    pr: Annotated[
        bool,
        typer.Option(
            "--pr",
            envvar="GITOPS_PR",
            help="Push the promotion commit to promote/SOURCE-to-TARGET for review instead of TARGET; "
            "print the compare URL and open or update the pull request with gh when it is logged in.",
        ),
    ] = False,
    plan: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--plan",
            dir_okay=False,
            help="Apply exactly this plan (saved by gitops plan --save); refuse if either branch moved since.",
        ),
    ] = None,
    app_names: AppOpt = None,
    sign: SignOpt = None,
    attest: AttestOpt = None,
    registry: RegistryOpt = None,
    remote: RemoteOpt = None,
    fetch: FetchOpt = True,
    output: OutputOpt = Output.text,
    verbose: VerboseOpt = False,
) -> None:
    """Promote SOURCE's content into TARGET (one step forward in promotion.order), or into every next one."""
    from gitops_promote.render import promote as render

    def body() -> int:
        from gitops_promote.commands import promote as command
        from gitops_promote.commands._engine import PromotionRequest, override_reason
        from gitops_promote.render import console
        from gitops_promote.results.promote import PromoteResult

        if attest is not None and not (target or plan):
            from gitops_promote.errors import UsageError

            raise UsageError(
                "--attest describes one promotion: name TARGET", hint="e.g. gitops promote stg prd --attest FILE"
            )
        freeze_reason = override_reason(override_freeze, reason)
        apps = tuple(app_names or ())
        options = command.PromoteOptions(
            dry_run=dry_run, push=push, discard_drift=discard_drift, pr=pr, plan_file=plan, sign=sign
        )

        def promote_one(into: str | None) -> PromoteResult:
            request = PromotionRequest(source or "", into or "", ref, registry, remote, fetch, freeze_reason, apps)
            activity = _promote_activity(source or "the plan's source", into or "its target", dry_run, push, pr)
            with console.status(activity):
                return command.run(_repo_path(ctx), request, options)

        # Without TARGET (and without a plan, which names it): every environment of the next position.
        targets = command.targets(_repo_path(ctx), source, registry) if source and not target and not plan else [target]
        if len(targets) == 1:
            result = promote_one(targets[0])
            _emit(output, result, lambda r: render.text(r, verbose))
            if attest is not None:
                _attest_promotion(ctx, result, attest, plan, registry)
            return 0
        from gitops_promote.core.fanout import promote_each
        from gitops_promote.render import fanout as render_fanout

        fanout = promote_each(source or "", [t for t in targets if t], promote_one)
        _emit(output, fanout, render_fanout.text)
        return fanout.exit_code

    _run(body, lambda result: _emit(output, result, lambda r: render.text(r, verbose)))


def _attest_promotion(ctx: typer.Context, result: Any, attest: Path, plan: Path | None, registry: Path | None) -> None:
    """promote --attest FILE: the Statement of the commit just written (commands/attest.py)."""
    from gitops_promote.commands import attest as attest_command
    from gitops_promote.render import console

    written = attest_command.for_promotion(_repo_path(ctx), result.to_json(), plan, registry, attest)
    console.message(f"attestation written to {attest}" if written else "nothing was promoted: no attestation written")


def _promote_activity(source: str, target: str, dry_run: bool, push: bool, pr: bool) -> str:
    """The spinner's words: only the steps this run will really take."""
    if dry_run:
        return f"dry run of promoting {source} to {target}: fetching, planning (nothing is written)…"
    steps = "fetching, planning, writing the commit"
    if push:
        steps += ", pushing the review branch" if pr else ", pushing"
    return f"promoting {source} to {target}: {steps}…"


@_commands.command(cls=_Command, short_help="What a promotion would change (YAML diff).")
def diff(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(help="Environment to promote from (e.g. dev).", autocompletion=_complete_environment)
    ],
    target: Annotated[
        str,
        typer.Argument(help="Environment the promotion would change (e.g. stg).", autocompletion=_complete_environment),
    ],
    ref: Annotated[Optional[str], typer.Option(help="Diff the promotion of this commit of SOURCE.")] = None,  # noqa: UP045
    output: Annotated[
        Optional[DiffOutput],  # noqa: UP045
        typer.Option(
            "--output",
            "-o",
            envvar="GITOPS_OUTPUT",
            case_sensitive=False,
            help="Output format [default: text on a terminal, else brief].",
        ),
    ] = None,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit 1 when the promotion would change anything, 0 when not.")
    ] = False,
    show_secrets: Annotated[
        bool, typer.Option("--show-secrets", help="Show secret values instead of *** (they are masked by default).")
    ] = False,
    max_size: Annotated[
        int, typer.Option("--max-size", min=1000, help="Largest markdown report, in characters.")
    ] = 60_000,
    app_names: AppOpt = None,
    registry: RegistryOpt = None,
    remote: RemoteOpt = None,
    fetch: FetchOpt = True,
) -> None:
    """Show what promoting SOURCE into TARGET would change in TARGET (structural YAML diff)."""

    def body() -> int:
        import os

        from gitops_promote.commands import diff as command
        from gitops_promote.commands._engine import PromotionRequest
        from gitops_promote.render import console
        from gitops_promote.render import diffreport as render

        if show_secrets and os.environ.get("CI"):
            console.warning("--show-secrets in CI: secret values will appear in the job log")
        request = PromotionRequest(source, target, ref, registry, remote, fetch, apps=tuple(app_names or ()))
        chosen = output or (DiffOutput.text if sys.stdout.isatty() else DiffOutput.brief)
        streamed = chosen is DiffOutput.json  # each file compared as its record is written
        with console.status(f"diffing {source} against {target}: fetching, reading both trees…"):
            result = command.run(_repo_path(ctx), request, show_secrets=show_secrets, stream=streamed)
        if chosen is not DiffOutput.json:
            for warning in result.branch_warnings:
                console.warning(console.visible(warning.message))
        if chosen is DiffOutput.json:
            console.write_chunks(result.json_chunks())
        elif chosen is DiffOutput.brief:
            console.write(render.to_brief(result.report))
        elif chosen is DiffOutput.markdown:
            console.write(render.to_markdown(result.report, max_size=max_size))
        elif chosen is DiffOutput.github:
            console.write(render.to_github(result.report, os.environ.get("GITHUB_STEP_SUMMARY")))
        else:
            render.to_text(result.report, console.out())
        return 1 if exit_code and result.changes_target else 0

    _run(body)


@_commands.command(cls=_Command, short_help="What promote would do, without doing it.")
def plan(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(help="Environment to promote from (e.g. stg).", autocompletion=_complete_environment)
    ],
    target: Annotated[
        str, typer.Argument(help="Environment to promote into (e.g. prd).", autocompletion=_complete_environment)
    ],
    ref: Annotated[Optional[str], typer.Option(help="Plan the promotion of this commit of SOURCE.")] = None,  # noqa: UP045
    save: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--save", dir_okay=False, help="Write the plan (with both commit ids) to FILE for promote --plan."
        ),
    ] = None,
    app_names: AppOpt = None,
    registry: RegistryOpt = None,
    remote: RemoteOpt = None,
    fetch: FetchOpt = True,
    output: Annotated[
        PlanOutput, typer.Option("--output", "-o", envvar="GITOPS_OUTPUT", help="Output format.", case_sensitive=False)
    ] = PlanOutput.text,
    verbose: VerboseOpt = False,
) -> None:
    """Show everything promote would do (commits, files, drift, warnings) without doing it."""

    def body() -> None:
        from gitops_promote.commands import plan as command
        from gitops_promote.commands._engine import PromotionRequest
        from gitops_promote.render import console
        from gitops_promote.render import plan as render

        request = PromotionRequest(source, target, ref, registry, remote, fetch, apps=tuple(app_names or ()))
        with console.status(f"planning the promotion of {source} to {target}: fetching, comparing…"):
            result = command.run(_repo_path(ctx), request, save)
        if output is PlanOutput.json:
            console.print_json(result.to_json())
        elif output is PlanOutput.markdown:
            console.write(render.markdown(result))
        else:
            render.text(result, verbose)
        if save is not None:
            console.message(
                f"plan saved to {save}; apply it with: gitops promote {result.source} {result.target} --plan {save}"
                + "".join(f" --app {a}" for a in result.apps or ())
            )

    _run(body)


class ValidateOutput(str, enum.Enum):
    text = "text"
    json = "json"
    github = "github"


@_commands.command(cls=_Command, short_help="Create a new GitOps repository.")
def init(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Directory for the new repository (must be new or empty).")],
    apps: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--apps", help="Apps to scaffold, comma-separated or repeated [default: web,api].", show_default=False
        ),
    ] = None,
    envs: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--envs",
            help="Environments in promotion order, comma-separated; join environments fed by the same "
            "upstream with '+' (e.g. dev,stg,prd-eu+prd-us) [default: dev,stg,prd].",
            show_default=False,
        ),
    ] = None,
    remote: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--remote", help="Add this URL as origin and push every environment branch to it."),
    ] = None,
    repo_url: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--repo-url", help="URL Argo CD clones (spec.source.repoURL) [default: --remote, else a placeholder]."
        ),
    ] = None,
    output: OutputOpt = Output.text,
) -> None:
    """Create a GitOps repository: registry, Helm charts, Argo CD app of apps per environment, branches."""

    def body() -> None:
        from gitops_promote.commands import init as command
        from gitops_promote.core.scaffold_repo import DEFAULT_APPS
        from gitops_promote.render import init as render

        base = _repo_path(ctx)
        request = command.InitRequest(
            base / path, tuple(apps or DEFAULT_APPS), remote, repo_url, base, tuple(envs or ())
        )
        _emit(output, command.run(request), render.text)

    _run(body)


@_commands.command(cls=_Command, short_help="Check every environment branch.")
def validate(
    ctx: typer.Context,
    envs: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Argument(
            help="Environments to validate [default: all; with --worktree: the checked-out branch's].",
            show_default=False,
        ),
    ] = None,
    worktree: Annotated[
        bool,
        typer.Option(
            "--worktree", help="Validate the working tree's files (e.g. in a pre-commit hook) instead of branches."
        ),
    ] = False,
    fetch: Annotated[bool, typer.Option("--fetch/--no-fetch", help="Fetch the branches from the remote first.")] = True,
    registry: RegistryOpt = None,
    remote: RemoteOpt = None,
    output: Annotated[
        ValidateOutput,
        typer.Option("--output", "-o", envvar="GITOPS_OUTPUT", help="Output format.", case_sensitive=False),
    ] = ValidateOutput.text,
) -> None:
    """Check each environment branch: Argo CD schemas, branches tracked, Helm values (exit 1 on errors)."""

    def body() -> int:
        from gitops_promote.commands import validate as command
        from gitops_promote.render import console

        request = command.ValidateRequest(tuple(envs or ()), registry, remote, fetch, worktree)
        with console.status("validating: reading each environment's files…"):
            result = command.run(_repo_path(ctx), request)
        if output is ValidateOutput.json:
            console.print_json(result.to_json())
            return result.exit_code
        from gitops_promote.render import validate as render  # text and annotations only: it imports rich

        if output is ValidateOutput.github:
            render.github(result)
        else:
            render.text(result)
        return result.exit_code

    _run(body)


@_commands.command(cls=_Command, short_help="Try it: a throwaway repo, one promotion.")
def demo(
    path: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Argument(help="Where to create the demo repository (default: a new temporary directory)."),
    ] = None,
) -> None:
    """Create a throwaway GitOps repository and promote dev to stg in it, step by step."""

    def body() -> None:
        from gitops_promote.commands import demo as command
        from gitops_promote.commands import plan, promote
        from gitops_promote.render import demo as render

        render.text(command.run(path, plan.run, lambda at, request: promote.run(at, request, promote.PromoteOptions())))

    _run(body)


class ParityOutput(str, enum.Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


@_commands.command(cls=_Command, short_help="Where every environment stands.")
def status(
    ctx: typer.Context,
    registry: RegistryOpt = None,
    remote: RemoteOpt = None,
    fetch: FetchOpt = True,
    output: OutputOpt = Output.text,
) -> None:
    """Where every environment stands: head, last promotion, pending, drift, freeze windows."""

    def body() -> None:
        from gitops_promote.commands import status as command
        from gitops_promote.render import console

        with console.status("reading every environment: fetching, comparing branches…"):
            result = command.run(_repo_path(ctx), registry, remote, fetch)
        if not _json(output, result):
            from gitops_promote.render import status as render

            render.text(result)

    _run(body)


@_commands.command(cls=_Command, short_help="Apps × environments: versions, drift.")
def parity(
    ctx: typer.Context,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when anything is pending, not only on drift.")
    ] = False,
    registry: RegistryOpt = None,
    remote: RemoteOpt = None,
    fetch: FetchOpt = True,
    output: Annotated[
        ParityOutput,
        typer.Option("--output", "-o", envvar="GITOPS_OUTPUT", help="Output format.", case_sensitive=False),
    ] = ParityOutput.text,
) -> None:
    """Apps × environments: versions, image tags, settings keys; pending vs drift (exit 1 on drift)."""

    def body() -> int:
        from gitops_promote.commands import parity as command
        from gitops_promote.render import console
        from gitops_promote.render import parity as render  # rich only for text: see render.parity.text

        with console.status("comparing every environment: fetching, reading each branch…"):
            report = command.run(_repo_path(ctx), registry, remote, fetch)
        if output is ParityOutput.json:
            render.print_json(report)
        elif output is ParityOutput.markdown:
            render.markdown(report)
        else:
            render.text(report)
        return report.exit_code(strict)

    _run(body)


@_commands.command(cls=_Command, short_help="Promotions into ENV, newest first.")
def history(
    ctx: typer.Context,
    env: Annotated[
        str, typer.Argument(help="Environment whose history to show (e.g. prd).", autocompletion=_complete_environment)
    ],
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show at most N entries (0: all).")] = 20,
    registry: RegistryOpt = None,
    remote: RemoteOpt = None,
    fetch: FetchOpt = True,
    output: OutputOpt = Output.text,
) -> None:
    """Promotions into ENV, newest first; rollbacks, hand merges and direct commits marked."""

    def body() -> None:
        from gitops_promote.commands import history as command
        from gitops_promote.render import console

        with console.status(f"reading the history of {env}…"):
            result = command.run(_repo_path(ctx), env, limit, registry, remote, fetch)
        if output is Output.json:
            # each entry's files as columns: a first commit's 140,000 are no 140,000 objects
            console.print_json(result.to_json(files=lambda files: console.Records(files.columns())))
        else:
            from gitops_promote.render import history as render

            render.text(result)

    _run(body)


@_commands.command(cls=_Command, short_help="Restore an earlier promotion of ENV.")
def rollback(
    ctx: typer.Context,
    env: Annotated[
        str, typer.Argument(help="Environment to roll back (e.g. prd).", autocompletion=_complete_environment)
    ],
    to: Annotated[str | None, typer.Option("--to", help="Roll back to this earlier promotion commit of ENV.")] = None,  # noqa: UP045
    steps: Annotated[
        Optional[int], typer.Option("--steps", help="Roll back N promotions (default 1).")  # noqa: UP045
    ] = None,
    dry_run: DryRunOpt = False,
    push: Annotated[bool, typer.Option("--push/--no-push", help="Push the rollback to the remote.")] = True,
    with_env_files: Annotated[
        bool,
        typer.Option("--with-env-files", help="Restore ENV's environment-specific files too (default: keep them)."),
    ] = False,
    reason: ReasonOpt = None,
    override_freeze: OverrideFreezeOpt = False,
    sign: SignOpt = None,
    registry: RegistryOpt = None,
    remote: RemoteOpt = None,
    fetch: FetchOpt = True,
    output: OutputOpt = Output.text,
) -> None:
    """Add a commit on ENV restoring the content of an earlier promotion (history is kept)."""

    def body() -> None:
        from gitops_promote.commands import rollback as command

        request = command.RollbackRequest(env, to, steps, registry, remote, fetch)
        options = command.RollbackOptions(dry_run, push, with_env_files, reason, override_freeze, sign)
        result = command.run(_repo_path(ctx), request, options)
        if not _json(output, result):
            from gitops_promote.render import rollback as render

            render.text(result)

    _run(body)


@_commands.command(cls=_Command, short_help="Bring ENV's hotfixes home to dev, one commit.")
def backport(
    ctx: typer.Context,
    env: Annotated[
        str,
        typer.Argument(
            help="Environment whose direct changes (hotfixes) to bring home (e.g. prd).",
            autocompletion=_complete_environment,
        ),
    ],
    to: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--to",
            help="Environment to apply them on [default: the first environment of the order].",
            autocompletion=_complete_environment,
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    push: Annotated[bool, typer.Option("--push/--no-push", help="Push the backport to the remote.")] = True,
    pr: Annotated[
        bool,
        typer.Option("--pr", help="Push the backport commit to backport/ENV-to-TO for review instead of TO."),
    ] = False,
    registry: RegistryOpt = None,
    remote: RemoteOpt = None,
    fetch: FetchOpt = True,
    output: OutputOpt = Output.text,
) -> None:
    """Apply ENV's drift (direct commits since its last promotion) on the first environment, three-way."""

    def body() -> None:
        from gitops_promote.commands import backport as command

        request = command.BackportRequest(env, to, registry, remote, fetch)
        options = command.BackportOptions(dry_run, push, pr)
        result = command.run(_repo_path(ctx), request, options)
        if not _json(output, result):
            from gitops_promote.render import backport as render

            render.text(result)

    _run(body)


# ---- verify and attest (docs/commands/verify.md, docs/commands/attest.md) ----------------------


@_commands.command(cls=_Command, short_help="Audit ENV's promotions and signatures.")
def verify(
    ctx: typer.Context,
    env: Annotated[
        str, typer.Argument(help="Environment whose branch to audit (e.g. prd).", autocompletion=_complete_environment)
    ],
    since: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--since", help="Audit the commits made since DATE (ISO 8601)."),
    ] = None,
    depth: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--depth", help="Audit the newest N commits [default: back to the first promotion]."),
    ] = None,
    registry: RegistryOpt = None,
    remote: RemoteOpt = None,
    fetch: FetchOpt = True,
    output: OutputOpt = Output.text,
) -> None:
    """Audit ENV's history: promotions recomputed and their signatures checked, drift found (exit 1 on findings)."""

    def body() -> int:
        from gitops_promote.commands import verify as command

        result = command.run(_repo_path(ctx), command.VerifyRequest(env, since, depth, registry, remote, fetch))
        if not _json(output, result):
            from gitops_promote.render import verify as render

            render.text(result)
        return result.exit_code

    _run(body)


@_commands.command(cls=_Command, short_help="An in-toto Statement for a promotion.")
def attest(
    ctx: typer.Context,
    env: Annotated[
        str, typer.Argument(help="Environment of the promotion (e.g. prd).", autocompletion=_complete_environment)
    ],
    commit: Annotated[
        Optional[str],  # noqa: UP045
        typer.Argument(help="A promotion commit of ENV [default: its newest promotion].", show_default=False),
    ] = None,
    file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--file", "-f", dir_okay=False, help="Write the Statement to FILE [default: stdout]."),
    ] = None,
    registry: RegistryOpt = None,
    remote: RemoteOpt = None,
    fetch: FetchOpt = True,
) -> None:
    """Write an in-toto Statement v1 for an existing promotion commit of ENV (JSON)."""

    def body() -> None:
        from gitops_promote.commands import attest as command
        from gitops_promote.render import console

        result = command.run(_repo_path(ctx), command.AttestRequest(env, commit, registry, remote, fetch))
        if file is None:
            console.print_json(result.to_json())
        else:
            command.write_statement(result.to_json(), file)
            console.message(f"attestation written to {file}")

    _run(body)


def _redeliver_interrupt(unraisable: Any) -> None:
    """A Ctrl-C that lands in a finalizer (e.g. Popen.__del__) is not lost or shown as a traceback.

    Python cannot raise from `__del__`: it prints "Exception ignored in ..." and carries on.
    Deliver the interrupt again, from another thread so that it is raised once the finalizer
    has returned, in ordinary code, and ends the run (130).
    """
    if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
        import _thread
        import threading

        timer = threading.Timer(0.02, _thread.interrupt_main)
        timer.daemon = True
        timer.start()
        return
    sys.__unraisablehook__(unraisable)


def _closed_outputs_to_devnull() -> None:
    """`gitops ... >&-`: started with stdout (or stderr) closed, Python has no sys.stdout at
    all. What would be written there is discarded, as into /dev/null, which also holds the
    descriptor, so that no file the run opens takes its number."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        if getattr(sys, name) is None:
            devnull = os.open(os.devnull, os.O_WRONLY)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
            setattr(sys, name, open(fd, "w", encoding="utf-8", closefd=False))  # noqa: SIM115 - for the whole run


def _byte_exact_stdout() -> None:
    """Write non-UTF-8 file names back as the bytes they were, as git does.

    They reach us as surrogate escapes; with a strict stdout (a UTF-8 locale, or
    PYTHONIOENCODING=utf-8) printing one would end the run with UnicodeEncodeError (exit 4).
    """
    if isinstance(sys.stdout, io.TextIOWrapper) and sys.stdout.errors == "strict":
        sys.stdout.reconfigure(errors="surrogateescape")


# A run builds hundreds of thousands of objects that live until it ends (tree records and
# entries, parsed files) and almost no reference cycles. At Python's default thresholds
# (700, 10, 10) the collector walks them again and again: five full collections, 0.34 s of
# a 20,000-app diff. Young objects are collected every 10,000 allocations instead (0.11 s);
# cycles still go, a little later.
COLLECTOR_THRESHOLDS = (10_000, 10, 10)


def main() -> NoReturn:
    """Console-script entry point: runs the command, then ends the process (`_leave`)."""
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    sys.unraisablehook = _redeliver_interrupt
    _closed_outputs_to_devnull()
    _byte_exact_stdout()
    try:
        status = _run_app()
    finally:
        _sweep_private_dirs()
    _leave(status)


def _run_app() -> int:
    """The command's exit status, as the interpreter would make it of the SystemExit that
    Typer raises (a message instead of a number is printed, and is exit 1)."""
    try:
        app()
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        sys.stderr.write(f"{exc.code}\n")
        return 1
    except KeyboardInterrupt:
        from gitops_promote.errors import EXIT_INTERRUPTED

        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except OSError as exc:  # click's own output (--help, --version, usage), outside `_run`
        return _output_failure_status(exc)
    return 0


def _output_failure_status(exc: OSError) -> int:
    """Exit 3 for output that could not be written, as `_run` decides it; anything else is
    re-raised."""
    from gitops_promote.errors import EXIT_OPERATIONAL

    if isinstance(exc, BrokenPipeError) and _stdout_reader_gone():
        _drop_stdout()
    elif _device_failure(exc):
        _report_device_failure(exc)
    else:
        raise exc
    return EXIT_OPERATIONAL


def _leave(status: int) -> NoReturn:
    """End the process without the interpreter's teardown, which frees every object of the
    run one by one, and every module: 15 ms of a 150 ms promotion of 2,000 apps, more for a
    big one; the system takes the memory back at once. What the teardown does that matters
    is done here: the exit functions run and both outputs are flushed (a failed flush is
    reported, `_flushed_status`). A thread still running gets the ordinary exit, which waits
    for it."""
    run_exit_functions = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_functions is None or _other_threads_running():
        sys.exit(status)
    run_exit_functions()
    os._exit(_flushed_status(status))


def _other_threads_running() -> bool:
    threading = sys.modules.get("threading")  # not loaded: no other thread was started
    if threading is None:
        return False
    current = threading.current_thread()
    return any(t is not current and not t.daemon and t.is_alive() for t in threading.enumerate())


def _flushed_status(status: int) -> int:
    """`status`, once stdout and stderr are flushed. Output that cannot be written is exit 3
    (unless the run already failed): quietly when stdout's reader closed it (`| head`, as in
    `_run`), else said on stderr (a full disk), where the interpreter would print "Exception
    ignored" and exit 120."""
    from gitops_promote.errors import EXIT_OPERATIONAL

    try:
        if sys.stdout is not None:  # None: started with stdout closed (`gitops ... >&-`)
            sys.stdout.flush()
    except OSError as exc:
        if not _stdout_reader_gone():
            _report_device_failure(exc)
        status = status or EXIT_OPERATIONAL
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
    except OSError:
        pass  # nowhere left to say so
    return status


def _sweep_private_dirs() -> None:
    """Remove the git adapter's leftover private directories, if this run loaded it at all:
    importing it only to find nothing would cost `--help` a third of its time."""
    git = sys.modules.get("gitops_promote.adapters.git")
    if git is not None:
        git.remove_private_dirs()
