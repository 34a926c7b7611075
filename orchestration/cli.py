"""The ``techledger`` command: the same jobs as the Dagster UI, plus the simulated company and the benchmarks."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import urllib.request
from pathlib import Path

from orchestration.config import ConfigError, check_secrets, config_path, load_config


def _dagster_log_level(args: argparse.Namespace) -> str:
    return "DEBUG" if args.verbose else "WARNING"


def _cmd_config_check(args: argparse.Namespace) -> int:
    loaded = load_config(Path(args.file) if args.file else None)
    check_secrets(loaded)
    print(f"{loaded.path}: OK (warehouse {loaded.warehouse_path})")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from orchestration.runner import run_pipeline
    from orchestration.summary import render

    loaded = load_config(Path(args.file) if args.file else None)
    check_secrets(loaded)
    report = run_pipeline(loaded, log_level=_dagster_log_level(args))
    if not report.succeeded:
        print(f"techledger: the {report.failed_step} step failed; see the log above", file=sys.stderr)
        return 1
    print(render(loaded.data_dir))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from orchestration.assets.dbt import prepare_manifest
    from orchestration.simulated import (
        free_port_or_any,
        load_simulated_config,
        running_simulated_company,
        simulation_settings,
    )

    base = load_simulated_config()
    if args.fresh and base.data_dir.exists():
        shutil.rmtree(base.data_dir)
    settings = simulation_settings(base, scale=args.scale)
    print(f"Simulated company: seed {settings.seed}, scale {settings.scale}, history up to {settings.anchor_date}")
    prepare_manifest(force=True)
    # A stable port keeps the URLs the fake APIs embed in payloads (Jira `self`, Jenkins job URLs) the same from
    # one demo to the next; `make dev` uses simulation.port, so the demo takes the next one.
    port = free_port_or_any(base.config.simulation.port + 1)
    with running_simulated_company(settings, port=port, billing_drop_dir=base.billing_drop_dir) as server:
        print(f"Fake APIs listening on {server.url}")
        from orchestration.runner import run_pipeline
        from orchestration.summary import render

        loaded = load_simulated_config()  # re-read: base URLs now point at the running server
        report = run_pipeline(loaded, log_level=_dagster_log_level(args))
    if not report.succeeded:
        print(f"techledger demo: the {report.failed_step} step failed; see the log above", file=sys.stderr)
        return 1
    print()
    print(render(loaded.data_dir))
    return 0


def _cmd_simulate_serve(args: argparse.Namespace) -> int:
    from orchestration.simulated import (
        DEFAULT_SIM_TOKEN,
        DEMO_HOURLY_QUOTA,
        deliver_simulated_bill,
        load_simulated_config,
        simulation_settings,
    )
    from simulation.company import generate_company
    from simulation.serve import serve_forever

    loaded = load_simulated_config()
    settings = simulation_settings(loaded, scale=args.scale)
    company = generate_company(seed=settings.seed, scale=settings.scale, anchor=settings.anchor)
    if deliver_simulated_bill(company, loaded.billing_drop_dir):
        print(f"Billing files dropped into {loaded.billing_drop_dir}")
    print(f"Token for the fake APIs: any non-empty value (make dev uses {DEFAULT_SIM_TOKEN!r})")
    serve_forever(
        seed=settings.seed,
        scale=settings.scale,
        port=args.port,
        host=args.host,
        anchor=settings.anchor,
        hourly_quota=DEMO_HOURLY_QUOTA,
    )
    return 0


def _cmd_simulate_advance(args: argparse.Namespace) -> int:
    request = urllib.request.Request(f"{args.url.rstrip('/')}/_sim/advance?days={args.days}", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        print(json.loads(response.read())["now"])
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from orchestration.bench import run_bench

    return run_bench(scale=args.scale, output=Path(args.output))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="techledger",
        description="Delivery metrics, cost attribution, priorities and trend alerts for a technology organisation.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the whole pipeline once against the simulated company")
    demo.add_argument("--fresh", action="store_true", help="delete the demo data folder first")
    demo.add_argument("--scale", type=float, default=None, help="company size knob (default from config: 1.0)")
    demo.set_defaults(func=_cmd_demo)

    run = sub.add_parser("run", help="ingest every configured source, build the models and publish")
    run.add_argument("--file", help=f"config file (default: $TECHLEDGER_CONFIG, ./techledger.yaml, {config_path()})")
    run.set_defaults(func=_cmd_run)

    config = sub.add_parser("config", help="configuration commands")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate the config file and that its secrets are set")
    check.add_argument("--file", help="config file to check")
    check.set_defaults(func=_cmd_config_check)

    simulate = sub.add_parser("simulate", help="the simulated company")
    simulate_sub = simulate.add_subparsers(dest="simulate_command", required=True)
    serve = simulate_sub.add_parser("serve", help="serve the fake APIs until Ctrl-C and print their base URLs")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--scale", type=float, default=None)
    serve.set_defaults(func=_cmd_simulate_serve)
    advance = simulate_sub.add_parser("advance", help="move a running simulated company's clock forward")
    advance.add_argument("--days", type=float, default=1.0)
    advance.add_argument("--url", default="http://127.0.0.1:8765")
    advance.set_defaults(func=_cmd_simulate_advance)

    bench = sub.add_parser("bench", help="measure ingestion and dbt build on the simulated company")
    bench.add_argument("--scale", type=float, default=3.0)
    bench.add_argument("--output", default=".bench/results.json")
    bench.set_defaults(func=_cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"techledger: configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
