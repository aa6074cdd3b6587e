"""``alerts status`` and ``alerts test``: where alerts go, the last ones sent, and a test alert to every saved
destination (see ``sync_core.engine.alerts``)."""

from __future__ import annotations

import argparse
import json

from sync_core.domain.alerts import kind_label
from sync_core.engine.alerts import alert_setup, recent_alerts, send_test_alert
from sync_core.engine.workspace import Workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    group = subparsers.add_parser("alerts", help="alerts by email and to a Slack-compatible webhook")
    commands = group.add_subparsers(dest="alerts_command", metavar="ACTION")
    commands.required = True
    status = commands.add_parser("status", help="say where alerts go and list the last ones sent")
    status.add_argument("--json", action="store_true", help="the same as JSON (no secret)")
    status.set_defaults(handler=run_status)
    test = commands.add_parser("test", help="send a test alert to every destination and say whether it arrived")
    test.set_defaults(handler=run_test)


def run_status(args: argparse.Namespace) -> int:
    workspace = Workspace()
    setup = alert_setup(workspace)
    recent = recent_alerts(workspace, limit=10)
    if args.json:
        document = setup.as_dict()
        document["recent"] = [
            {
                "at": alert.at.isoformat(),
                "kind": alert.kind,
                "count": alert.count,
                "link": alert.link,
                "test": alert.test,
                "deliveries": alert.deliveries,
            }
            for alert in recent
        ]
        print(json.dumps(document, indent=2))
        return 0
    print(f"Alerts are {'on' if setup.enabled else 'off'}.")
    print(f"  Email to: {', '.join(setup.emails) or 'nobody'}")
    print(f"  Mail server: {setup.mail_server}")
    print(f"  Slack-compatible webhook: {setup.webhook}")
    print(f"  An alert when under {setup.threshold:.0%} of contacts sync well in the recent runs.")
    if not setup.ready:
        print("  No destination is complete yet: alerts have nowhere to go.")
    if not recent:
        print("No alert sent yet.")
    for alert in recent:
        label = kind_label(alert.kind)
        delivered = sum(1 for delivery in alert.deliveries if delivery.get("delivered"))
        print(f"{alert.at:%Y-%m-%d %H:%M} UTC  {label}: delivered to {delivered} of {len(alert.deliveries)}")
    return 0


def run_test(args: argparse.Namespace) -> int:
    deliveries = send_test_alert(Workspace())
    if not deliveries:
        print(
            "No destination is set: save an email address and a mail server, or a Slack-compatible webhook, on "
            "the Connection page (or set SYNC_STUDIO_ALERT_EMAIL and SYNC_STUDIO_SMTP_URL, or "
            "SYNC_STUDIO_ALERT_SLACK_URL)."
        )
        return 1
    for delivery in deliveries:
        print(delivery.words())
    return 0 if all(delivery.delivered for delivery in deliveries) else 1
